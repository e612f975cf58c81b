"""One synthetic video: routine -> rendered frames -> ProRes ``.mov`` + ``.md5`` + truth.

Outputs appear atomically and in an order that makes the ``.mov`` the completion mark:
truth and ``.md5`` are renamed into place first, the ``.mov`` last.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from camhd_motion.archive.names import make_stem, parse_name
from camhd_motion.errors import UserError
from camhd_motion.synth.co64 import rewrite_as_co64
from camhd_motion.synth.encode import (
    ProResWriter,
    file_md5,
    md5_line,
    temp_name,
    write_text_atomic,
)
from camhd_motion.synth.presets import Preset, get_preset
from camhd_motion.synth.render import Effects, Renderer, grey_mean
from camhd_motion.synth.routine import Routine, make_routine
from camhd_motion.synth.scene import Scene, make_scene
from camhd_motion.synth.truth import DARK_THRESHOLD, Truth, truth_path

log = logging.getLogger(__name__)

@dataclass
class Video:
    """Everything needed to render a video's frames, without writing anything."""

    preset: Preset
    seed: int
    scene_seed: int
    routine: Routine
    renderer: Renderer

    def frame(self, frame: int) -> np.ndarray:
        """Rendered BGR frame number ``frame`` (1-based)."""
        return self.renderer.render(frame, self.routine.pose(frame),
                                    float(self.routine.light[frame - 1]))


def build_video(preset: str | Preset = "test", seed: int = 1, duration: float | None = None,
                *, scene_seed: int | None = None, effects: Effects | None = None,
                width: int | None = None, height: int | None = None) -> Video:
    """The routine, scene and renderer of one video.  ``effects``: the preset's (its
    families') unless given (e.g. ``NO_EFFECTS`` for clean renders)."""
    if not isinstance(preset, Preset):
        preset = get_preset(preset, width=width, height=height)
    scene_seed = seed if scene_seed is None else scene_seed
    effects = preset.effects if effects is None else effects
    routine = make_routine(preset, seed, duration)
    if routine.light.max() > 0:
        scene = make_scene(*routine.world_size, scene_seed, water=preset.water,
                           contrast=preset.contrast)
    else:  # lights never on: the scene is never seen
        scene = Scene(np.zeros((2, 2, 3), np.uint8), scene_seed)
    renderer = Renderer(scene, preset.width, preset.height, seed, effects)
    if preset.lit_grey is not None and routine.light.max() > 0:
        renderer.exposure = _exposure(renderer, routine, preset.lit_grey, seed)
    return Video(preset, int(seed), int(scene_seed), routine, renderer)


def _exposure(renderer: Renderer, routine: Routine, lit_grey: tuple[float, float],
              seed: int) -> float:
    """The scene brightness that puts the fully lit frames' mean grey at a level drawn in
    ``lit_grey`` (measured on a few frames of the video, without snow and noise)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xE4B0]))
    want = rng.uniform(*lit_grey)
    lit = np.flatnonzero(routine.light >= 1.0)
    probe = Renderer(renderer.scene, renderer.width, renderer.height, renderer.seed,
                     replace(renderer.effects, particles=0, noise_sigma=0.0, flicker=0.0,
                             flicker_uniform=0.0, lamp_flicker=0.0))
    frames = lit[np.linspace(0, len(lit) - 1, 9).astype(int)] + 1
    mean = float(np.mean([grey_mean(probe.render(int(f), routine.pose(int(f)), 1.0))
                          for f in frames]))
    return want / max(mean, 1e-6)


def _extra(video: Video) -> dict:
    """What the truth file records of the scene families (nothing for plain presets)."""
    p, r = video.preset, video.renderer
    if not p.families:
        return {}
    extra: dict = {"families": list(p.families), "exposure": round(r.exposure, 6)}
    if r.snow_drift is not None:
        extra["snowDrift"] = {"pxPerPair": round(r.snow_drift[0], 4),
                              "angle": round(r.snow_drift[1], 6)}
    return extra


def outputs(mov: Path) -> tuple[Path, Path, Path]:
    """``(.mov, .mov.md5, .truth.json)`` of a video."""
    return mov, mov.with_name(mov.name + ".md5"), truth_path(mov)


def is_complete(mov: Path) -> bool:
    return all(p.exists() for p in outputs(mov))


def generate_video(out_root: str | os.PathLike, start_datetime: dt.datetime,
                   preset: str | Preset = "test", seed: int = 1,
                   duration: float | None = None, *, scene_seed: int | None = None,
                   z_suffix: bool = False, part: int | None = None,
                   width: int | None = None, height: int | None = None,
                   effects: Effects | None = None, co64: bool = False, threads: int = 0,
                   force: bool = False) -> Path:
    """Render one video into ``out_root/RS03ASHS/PN03B/06-CAMHDA301/YYYY/MM/DD/``.

    Returns the ``.mov`` path.  Complete existing outputs are kept unless ``force``;
    outputs made with another preset or seed raise :class:`UserError` instead.
    ``co64`` rewrites the index with 64-bit chunk offsets like real (> 4 GB) files.
    """
    name = parse_name(make_stem(start_datetime, z_suffix=z_suffix, part=part))
    mov = Path(out_root) / name.archive_path
    if not isinstance(preset, Preset):
        preset = get_preset(preset, width=width, height=height)
    scene_seed = seed if scene_seed is None else scene_seed
    if is_complete(mov) and not force:
        old = Truth.load(truth_path(mov))
        want = (preset.name, int(seed), int(scene_seed), preset.width, preset.height,
                make_routine(preset, seed, duration).num_frames)
        have = (old.preset, old.seed, old.scene_seed, old.width, old.height, old.num_frames)
        if have != want:
            raise UserError(f"{mov} exists with other parameters (preset {old.preset!r}, seed "
                            f"{old.seed}, {old.num_frames} frames); use --force to replace it")
        log.info("%s: complete, skipped", mov)
        return mov

    t0 = time.perf_counter()
    video = build_video(preset, seed, duration, scene_seed=scene_seed, effects=effects)
    p, routine = video.preset, video.routine
    n = routine.num_frames
    log.info("%s: %s preset, %d frames, seed %d (setup %.1f s)", mov.name, p.name, n, seed,
             time.perf_counter() - t0)

    mov.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(mov)
    mean_grey = np.zeros(n)
    t_render = t_encode = 0.0
    try:
        with ProResWriter(tmp, p.width, p.height, creation_time=name.start,
                          threads=threads) as out:
            for f in range(1, n + 1):
                t1 = time.perf_counter()
                img = video.frame(f)
                mean_grey[f - 1] = grey_mean(img)
                t2 = time.perf_counter()
                out.write(img)
                t_encode += time.perf_counter() - t2
                t_render += t2 - t1
                if f % 1000 == 0:
                    log.debug("%s: frame %d/%d", mov.name, f, n)
        if co64:
            rewrite_as_co64(tmp, tmp)
        digest = file_md5(tmp)
        truth = Truth(
            stem=name.stem, path=name.archive_path, preset=p.name, seed=int(seed),
            scene_seed=video.scene_seed, width=p.width, height=p.height, num_frames=n,
            start_time=name.start.isoformat() + "Z",
            x=routine.x, y=routine.y, z=routine.z, roll=routine.roll, light=routine.light,
            mean_grey=mean_grey, dark=mean_grey < DARK_THRESHOLD, segments=routine.segments,
            world_size=routine.world_size, extra=_extra(video),
        )
        _, md5_path, truth_file = outputs(mov)
        truth.save(truth_file)
        write_text_atomic(md5_path, md5_line(digest, mov.name))
        os.replace(tmp, mov)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("%s: done in %.1f s (render %.1f ms/frame, encode %.1f ms/frame)", mov.name,
             time.perf_counter() - t0, 1000 * t_render / n, 1000 * t_encode / n)
    return mov
