"""The station routine: a sequence of labelled steps and the per-frame camera poses.

Like CamHD's pre-programmed routine: lights off, lights on, holds at stations joined by
pans/tilts/diagonal moves and zooms, slow drifts, lights off.  Moves speed up and slow down
smoothly (raised-cosine ramps).  Segment boundaries are then nudged frame by frame until no
sampled pair ``(f-5, f+5)``, ``f = 1, 11, ...`` lies near the static thresholds, so the
truth's static/moving verdict of every sample is unambiguous.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from camhd_motion.geometry import Similarity
from camhd_motion.motion.model import MotionSample, RegionParams
from camhd_motion.regions import find_regions, is_stable
from camhd_motion.synth.camera import view_half_extent
from camhd_motion.synth.presets import Preset
from camhd_motion.synth.scene import WATER_MAX
from camhd_motion.synth.steps import (
    FPS,
    STRIDE,
    Segment,
    Step,
    integrate,
    pair_truth,
    sample_pairs,
)
from camhd_motion.synth.thresholds import (
    MAX_STRETCH,
    STATIC_T,
    ZOOM_S,
    fix_margins,
    labelled_clearly,
)

MAX_ROLL = math.radians(1.0)
LIGHT_MIN = 0.3  # lamps start from this level: the first lit frame is far from "dark"
ZOOM_JITTER = 0.02  # zoom moves end within this (relative) of the next level
ZOOM_SLACK = 1.15  # poses may overshoot the outer zoom levels by this factor

MOVE_KINDS = ("zoom_in", "zoom_out", "N", "NE", "E", "SE", "S", "SW", "W", "NW")
_OPPOSITE = {"zoom_in": "zoom_out", "zoom_out": "zoom_in", "N": "S", "S": "N", "E": "W", "W": "E",
             "NE": "SW", "SW": "NE", "NW": "SE", "SE": "NW"}
# Direction of image *content* motion: tx > 0 is "W", ty > 0 is "N".
_DIRS = {"W": (1, 0), "E": (-1, 0), "N": (0, 1), "S": (0, -1),
         "NW": (1, 1), "NE": (-1, 1), "SW": (1, -1), "SE": (-1, -1)}


@dataclass
class Routine:
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    roll: np.ndarray
    light: np.ndarray
    segments: list[Segment]
    world_size: tuple[int, int]

    @property
    def num_frames(self) -> int:
        return len(self.x)

    def pose(self, frame: int) -> tuple[float, float, float, float]:
        i = frame - 1
        return (float(self.x[i]), float(self.y[i]), float(self.z[i]), float(self.roll[i]))


def _velocity(kind: str, per_pair: float) -> tuple[float, float]:
    """Content velocity (px per frame) of a pan of ``per_pair`` px per pair towards ``kind``."""
    ux, uy = _DIRS[kind]
    speed = per_pair / STRIDE
    return (speed * ux / math.hypot(ux, uy), speed * uy / math.hypot(ux, uy))


class _Planner:
    def __init__(self, preset: Preset, seed: int):
        self.p = preset
        self.rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x2077]))
        self.world = (round(preset.width * preset.world_factor),
                      round(preset.height * preset.world_factor))
        self.steps: list[Step] = []
        wx, wy = self.world
        z0 = preset.zoom_levels[0] * self.rng.uniform(1 - ZOOM_JITTER, 1 + ZOOM_JITTER)
        self.start = (wx / 2 + self.rng.uniform(-0.05, 0.05) * wx,
                      wy * 0.55 + self.rng.uniform(-0.05, 0.05) * wy, z0, 0.0)
        self.pose = self.start

    def frames(self, seconds: float) -> int:
        return int(round(seconds * FPS))

    def add(self, step: Step) -> None:
        x, y, z, r = integrate(self.pose, [step])
        self.pose = (x[-1], y[-1], z[-1], r[-1])
        self.steps.append(step)

    def hold(self, seconds: float | None = None) -> Step:
        s = seconds if seconds is not None else self.rng.uniform(*self.p.hold_s)
        return Step("hold", "static", self.frames(s))

    def in_bounds(self, pose, margin: float = 80.0) -> bool:
        x, y, z, _ = pose
        levels = self.p.zoom_levels
        if not levels[0] / ZOOM_SLACK <= z <= levels[-1] * ZOOM_SLACK:
            return False
        hx, hy = view_half_extent(self.p.width, self.p.height, z, MAX_ROLL)
        wx, wy = self.world
        # Keep the view centre below the horizon: water fills parts of frames, never all.
        y_min = max(hy, (WATER_MAX + 0.03) * wy) + margin
        return hx + margin <= x <= wx - hx - margin and y_min <= y <= wy - hy - margin

    def move(self, kind: str) -> Step | None:
        """A random move of ``kind`` from the current pose, or None if it cannot fit."""
        for _ in range(4):
            drawn = self._draw_move(kind)
            if drawn is None:
                return None
            make, cruise, zoom_room = drawn
            # Lengthen until the original's gap label is right whatever the sample phase.
            for _ in range(30):
                if cruise > zoom_room or labelled_clearly(self.pose, make(cruise)):
                    break
                cruise += 5
            if cruise > zoom_room or not labelled_clearly(self.pose, make(cruise)):
                continue
            step = make(cruise)
            x, y, z, r = integrate(self.pose, [step])
            # Room for the margin fix to lengthen the cruise.
            margin = 80.0 + MAX_STRETCH * math.hypot(*step.vel) / z[-1]
            if self.in_bounds((x[-1], y[-1], z[-1], r[-1]), margin):
                return step
        return None

    def _draw_move(self, kind: str):
        """(step maker taking the cruise length, initial cruise, largest cruise), or None
        when no move of ``kind`` fits."""
        rng, p = self.rng, self.p
        if kind in ("zoom_in", "zoom_out"):
            # The faster half of CamHD's 1.06-1.08 / 0.91-0.94 per pair: slower zooms would
            # need very long moves before the original's gap label (mean scale beyond
            # 1.05 / 0.95) is certain.
            per_pair = rng.uniform(*(p.zoom_in_rate if kind == "zoom_in" else p.zoom_out_rate))
            zeta = math.log(per_pair) / STRIDE
            ramp = int(rng.integers(4, 7))
            # From the current zoom level to the next one up or down.
            levels = np.array(p.zoom_levels)
            level = int(np.argmin(np.abs(np.log(levels / self.pose[2]))))
            level += 1 if kind == "zoom_in" else -1
            if not 0 <= level < len(levels):
                return None
            goal = levels[level] * rng.uniform(1 - ZOOM_JITTER, 1 + ZOOM_JITTER)
            cruise = int(round(math.log(goal / self.pose[2]) / zeta)) - ramp
            label, vel = kind, (0.0, 0.0)
            if p.pan_zoom_prob and rng.random() < p.pan_zoom_prob:
                # A pan during the zoom: the original labels the gap by the translation.
                label = str(rng.choice(list(_DIRS)))
                vel = _velocity(label, rng.uniform(*p.pan_zoom_px))
            return ((lambda c: Step("move", label, c, ramp, vel=vel, zoom=zeta)), cruise,
                    cruise)
        ramp = int(rng.integers(6, 11))
        fast = p.diagonal_px if len(kind) == 2 else p.pan_px  # diagonals: both axes > 10
        vel = _velocity(kind, rng.uniform(*fast))
        cruise = int(rng.integers(p.pan_cruise_frames[0], p.pan_cruise_frames[1] + 1))
        d_roll = rng.uniform(-0.2, 0.2) * math.pi / 180
        d_roll = float(np.clip(self.pose[3] + d_roll, -MAX_ROLL * 0.8, MAX_ROLL * 0.8)
                       - self.pose[3])
        make = lambda c: Step("move", kind, c, ramp, vel=vel, roll=d_roll / (c + ramp))  # noqa: E731
        return make, cruise, 10**9

    def drift(self) -> Step | None:
        rng, p = self.rng, self.p
        speed = rng.uniform(*p.drift_px) / STRIDE  # below 10 px per pair
        angle = rng.uniform(0, 2 * math.pi)
        ramp = int(rng.integers(10, 16))
        cruise = max(1, self.frames(rng.uniform(*p.drift_s)) - 2 * ramp)
        step = Step("drift", "static", cruise, ramp,
                    vel=(speed * math.cos(angle), speed * math.sin(angle)))
        if p.drift_zoom_prob and rng.random() < p.drift_zoom_prob:
            # A slow zoom instead: |scale - 1| per pair below the 0.01 of the static rule.
            rate = rng.uniform(*p.drift_zoom) * rng.choice([-1.0, 1.0])
            step = replace(step, vel=(0.0, 0.0), zoom=math.log1p(rate) / STRIDE)
        x, y, z, r = integrate(self.pose, [step])
        return step if self.in_bounds((x[-1], y[-1], z[-1], r[-1])) else None

    def next_move(self, deck: list[str]) -> Step:
        for kind in list(deck):
            step = self.move(kind)
            if step is not None:
                deck.remove(kind)
                return step
        # Nothing left in the deck fits here: first the opposite moves, which make room for
        # the deck's kinds (zoom in before a zoom out, pan east before another pan west).
        enablers = [_OPPOSITE[k] for k in deck if _OPPOSITE[k] not in deck]
        for kind in [*self.rng.permutation(enablers), *self.rng.permutation(MOVE_KINDS)]:
            for _ in range(5):
                step = self.move(str(kind))
                if step is not None:
                    return step
        raise RuntimeError("synthetic routine: no move fits inside the scene")


def _light(n: int, steps: list[Step], preset: Preset) -> np.ndarray:
    light = np.zeros(n)
    if not preset.lights:
        return light
    starts = np.cumsum([0] + [s.frames for s in steps])
    lit = [i for i, s in enumerate(steps) if s.kind != "dark"]
    first, last = starts[lit[0]], starts[lit[-1] + 1]
    light[first:last] = 1.0
    n_on = max(1, round(preset.ramp_on_s * FPS))
    n_off = max(1, round(preset.ramp_off_s * FPS))
    u = np.arange(1, n_on + 1) / n_on
    light[first:first + n_on] = LIGHT_MIN + (1 - LIGHT_MIN) * (0.5 - 0.5 * np.cos(math.pi * u))
    u = np.arange(1, n_off + 1) / n_off
    light[last - n_off:last] = 1.0 - (1 - LIGHT_MIN) * (0.5 - 0.5 * np.cos(math.pi * u))
    return light


def make_routine(preset: Preset, seed: int, duration: float | None = None) -> Routine:
    """The routine of one video.  ``duration`` (s) overrides the preset's; with
    ``preset.all_kinds`` the video is at least as long as needed to show every move."""
    plan = _Planner(preset, seed)
    duration = preset.duration if duration is None else duration
    target = int(round(duration * FPS)) if duration is not None else None
    if not preset.lights:
        n = target or plan.frames(6.0)
        steps = [Step("dark", "dark", n)]
        return _finish(plan, steps, preset)

    dark_end = plan.frames(preset.dark_end_s)
    plan.add(Step("dark", "dark", plan.frames(preset.dark_start_s)))
    plan.add(plan.hold())
    deck = list(plan.rng.permutation(MOVE_KINDS))
    drifts_at = set()
    if preset.min_drifts:
        drifts_at = set(plan.rng.choice(np.arange(1, 9), preset.min_drifts, replace=False))
    hold_min = plan.frames(preset.hold_s[0])
    longest_move = max(preset.pan_cruise_frames[1] + 20, 130)  # zooms: up to ~120 frames

    def room() -> int | None:  # frames left before the final darkness
        return None if target is None else target - sum(s.frames for s in plan.steps) - dark_end

    station = 0
    short_holds: list[int] = []  # indices of the short stops in plan.steps
    while True:
        must_go_on = preset.all_kinds and deck
        left = room()
        if not must_go_on and (left is None or left < longest_move + 2 * hold_min):
            break
        if not deck:  # later decks: more zooms, so that every zoom level gets visited
            deck = list(plan.rng.permutation([*MOVE_KINDS, "zoom_in", "zoom_out"]))
        plan.add(plan.next_move(deck))
        if preset.short_hold_prob and plan.rng.random() < preset.short_hold_prob:
            # A short stop (2-3 static samples, fitted below), then straight on.
            short_holds.append(len(plan.steps))
            plan.add(Step("hold", "static", 15))
            continue
        hold = plan.hold()
        if target is not None:  # leave room for the final hold
            hold = replace(hold, cruise=max(hold_min, min(hold.cruise, room() - hold_min)))
        plan.add(hold)
        station += 1
        if station in drifts_at or plan.rng.random() < preset.drift_prob:
            step = plan.drift()
            if step is not None and (target is None or room() - step.frames >= hold_min):
                plan.add(step)
    if plan.steps[-1].kind != "hold":
        plan.add(plan.hold())
    short_holds = [i for i in short_holds if i < len(plan.steps) - 1]  # the last one is not
    if short_holds:
        steps = _fit_short_holds(plan, short_holds, plan.frames(preset.hold_s[0]))
    else:
        steps = fix_margins(plan.start, plan.steps)
    if target is not None:
        # The last hold (at most a normal hold; it keeps room for the lamp ramps and a
        # second of full light) and the final darkness fill the remaining time.  Changing
        # them moves no sample pair of the moves.
        shortest = plan.frames(preset.ramp_on_s + preset.ramp_off_s + 1.0)
        room = target - sum(s.frames for s in steps[:-1]) - dark_end
        steps[-1] = replace(steps[-1], cruise=int(np.clip(room, shortest,
                                                          plan.frames(preset.hold_s[1]))))
        dark_end = max(dark_end, target - sum(s.frames for s in steps))
    steps.append(Step("dark", "dark", dark_end))
    return _finish(plan, steps, preset)


def _truth_samples(start, steps: list[Step]) -> list[MotionSample]:
    x, y, z, roll = integrate(start, steps)
    f, a, b = sample_pairs(len(x))
    scale, theta, tx, ty = pair_truth(x, y, z, roll, a, b)
    return [MotionSample(int(f[i]), int(a[i]), int(b[i]),
                         Similarity(float(scale[i]), float(theta[i]), float(tx[i]),
                                    float(ty[i])), valid=True) for i in range(len(f))]


def _stable_run(samples: list[MotionSample], first: int, last: int) -> int:
    """Length of the run of static samples through the middle of frames first..last."""
    params = RegionParams()
    stable = [is_stable(s, params) for s in samples]
    i = ((first + last) // 2 - 1) // STRIDE
    if not stable[i]:
        return 0
    lo, hi = i, i
    while lo > 0 and stable[lo - 1]:
        lo -= 1
    while hi + 1 < len(stable) and stable[hi + 1]:
        hi += 1
    return hi - lo + 1


def _labels_clear(samples: list[MotionSample], first: int, last: int,
                  margin: float = 0.1) -> bool:
    """The motion regions of the original's find_regions over frames first..last (with
    the squash: a short stop between two moves is merged with them) have their means
    clear of the label thresholds."""
    lo_t, hi_t = STATIC_T * (1 - margin), STATIC_T * (1 + margin)
    for r in find_regions(samples, STRIDE):
        if r.type == "static" or r.end_frame < first or r.start_frame > last:
            continue
        st = r.stats
        if r.type in ("short", "unknown") or any(lo_t < abs(v) < hi_t
                                                  for v in (st.tx_mean, st.ty_mean)):
            return False
        if ZOOM_S * (1 - margin) < abs(st.scale_mean - 1) < ZOOM_S * (1 + margin):
            return False
    return True


def _fit_short_holds(plan: _Planner, short: list[int], normal: int) -> list[Step]:
    """Lengths of the short stops giving 2 or 3 static samples each (drawn), with the
    labels of the merged moves around them clear; a stop that cannot have both becomes a
    normal hold.  Returns the steps after :func:`fix_margins`."""
    base = list(plan.steps)
    for i in short:
        want = int(plan.rng.integers(2, 4))
        for cruise in [*range(2, 40), normal]:
            base[i] = replace(base[i], cruise=cruise)
            steps = fix_margins(plan.start, base)
            first = sum(s.frames for s in steps[:i]) + 1
            samples = _truth_samples(plan.start, steps)
            last = first + steps[i].frames - 1
            run = _stable_run(samples, first, last)
            if cruise == normal or (run == want and _labels_clear(samples, first, last)):
                break
            if run > want:
                base[i] = replace(base[i], cruise=normal)
                break
    return fix_margins(plan.start, base)


def _finish(plan: _Planner, steps: list[Step], preset: Preset) -> Routine:
    x, y, z, roll = integrate(plan.start, steps)
    segments, frame = [], 1
    for s in steps:
        segments.append(Segment(s.kind, frame, frame + s.frames - 1, s.label))
        frame += s.frames
    routine = Routine(x, y, z, roll, _light(len(x), steps, preset), segments, plan.world)
    for i in range(0, len(x), 5):
        if not plan.in_bounds(routine.pose(i + 1), margin=2.0):
            raise RuntimeError(f"synthetic routine leaves the scene at frame {i + 1}")
    return routine
