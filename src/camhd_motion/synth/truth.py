"""Ground truth of a synthetic video: ``<stem>.truth.json`` and the :class:`Truth` reader.

Poses are stored as full-precision floats, so the similarities computed from the file are
exactly the ones the frames were rendered with.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from camhd_motion.geometry import Similarity
from camhd_motion.motion.model import MotionSample
from camhd_motion.synth.camera import similarity_between
from camhd_motion.synth.steps import Segment

FORMAT = "camhd-synth-truth"
VERSION = 1
DARK_THRESHOLD = 5.0  # mean grey (0-255) below which a frame counts as lights-off


def truth_path(mov: str | os.PathLike) -> Path:
    """``<dir>/<stem>.truth.json`` for ``<dir>/<stem>.mov``."""
    mov = Path(mov)
    return mov.with_name(mov.name[: -len(".mov")] + ".truth.json" if mov.suffix == ".mov"
                         else mov.name + ".truth.json")


@dataclass
class Truth:
    stem: str
    path: str  # archive-relative path of the .mov
    preset: str
    seed: int
    scene_seed: int
    width: int
    height: int
    num_frames: int
    start_time: str  # ISO 8601 UTC
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    roll: np.ndarray
    light: np.ndarray
    mean_grey: np.ndarray  # of the rendered frame, before encoding
    dark: np.ndarray  # bool per frame: mean_grey < DARK_THRESHOLD
    segments: list[Segment]
    world_size: tuple[int, int] = (0, 0)
    frame_rate: tuple[int, int] = (30000, 1001)
    extra: dict = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frame_rate[0] / self.frame_rate[1]

    def _check(self, frame: int) -> int:
        if not 1 <= frame <= self.num_frames:
            raise IndexError(f"frame {frame} outside 1..{self.num_frames}")
        return frame - 1

    def pose(self, frame: int) -> tuple[float, float, float, float]:
        i = self._check(frame)
        return (float(self.x[i]), float(self.y[i]), float(self.z[i]), float(self.roll[i]))

    def is_dark(self, frame: int) -> bool:
        return bool(self.dark[self._check(frame)])

    def similarity(self, from_frame: int, to_frame: int) -> Similarity:
        """Exact motion ``from_frame -> to_frame`` (1-based), per :mod:`camhd_motion.geometry`."""
        return similarity_between(self.pose(from_frame), self.pose(to_frame))

    def samples(self, stride: int = 10, offset: int = 5) -> list[MotionSample]:
        """What a perfect motion step would report: samples at 1, 1+stride, ..., each
        comparing ``f-offset`` and ``f+offset`` clamped to the video.  Invalid (reason
        "dark") when either frame is dark; the similarity is the truth either way."""
        out = []
        for f in range(1, self.num_frames + 1, stride):
            a, b = max(1, f - offset), min(self.num_frames, f + offset)
            valid = not (self.is_dark(a) or self.is_dark(b))
            out.append(MotionSample(
                frame=f, from_frame=a, to_frame=b, similarity=self.similarity(a, b),
                valid=valid, reason=None if valid else "dark",
                mean_grey=(float(self.mean_grey[a - 1]), float(self.mean_grey[b - 1])),
            ))
        return out

    def segment_at(self, frame: int) -> Segment:
        self._check(frame)
        for seg in self.segments:
            if seg.start_frame <= frame <= seg.end_frame:
                return seg
        raise LookupError(frame)  # segments cover every frame

    # -- file format ---------------------------------------------------------------------

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "stem": self.stem,
            "path": self.path,
            "preset": self.preset,
            "seed": self.seed,
            "scene_seed": self.scene_seed,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "frame_rate": list(self.frame_rate),
            "num_frames": self.num_frames,
            "start_time": self.start_time,
            "world_size": list(self.world_size),
            "dark_threshold": DARK_THRESHOLD,
            # Camera model: pixel p shows world point P + R(roll) (p - c) / Z.
            "poses": {k: getattr(self, k).tolist() for k in ("x", "y", "z", "roll")},
            "light": np.round(self.light, 6).tolist(),
            "mean_grey": np.round(self.mean_grey, 4).tolist(),
            "dark": self.dark.astype(int).tolist(),
            "segments": [asdict(s) for s in self.segments],
            **({"extra": self.extra} if self.extra else {}),
        }

    def save(self, path: str | os.PathLike) -> None:
        from camhd_motion.synth.encode import write_text_atomic

        write_text_atomic(Path(path), json.dumps(self.to_json(), separators=(",", ":")) + "\n")

    @classmethod
    def from_json(cls, doc: dict) -> Truth:
        if doc.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file (format={doc.get('format')!r})")
        if doc.get("version") != VERSION:
            raise ValueError(f"unsupported {FORMAT} version {doc.get('version')!r}")
        poses = doc["poses"]
        return cls(
            stem=doc["stem"], path=doc["path"], preset=doc["preset"], seed=int(doc["seed"]),
            scene_seed=int(doc["scene_seed"]), width=int(doc["width"]),
            height=int(doc["height"]), num_frames=int(doc["num_frames"]),
            start_time=doc["start_time"],
            x=np.asarray(poses["x"], float), y=np.asarray(poses["y"], float),
            z=np.asarray(poses["z"], float), roll=np.asarray(poses["roll"], float),
            light=np.asarray(doc["light"], float),
            mean_grey=np.asarray(doc["mean_grey"], float), dark=np.asarray(doc["dark"], bool),
            segments=[Segment(**s) for s in doc["segments"]],
            world_size=tuple(doc.get("world_size", (0, 0))),
            frame_rate=tuple(doc.get("frame_rate", (30000, 1001))),
            extra=doc.get("extra", {}),
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> Truth:
        return cls.from_json(json.loads(Path(path).read_text()))
