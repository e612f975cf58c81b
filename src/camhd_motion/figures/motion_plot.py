"""The motion of one video against time: tx, ty and scale - 1 per sample, invalid samples
marked, static sections shaded, each move between them labelled with its type."""

from __future__ import annotations

import numpy as np

from camhd_motion.figures.common import INVALID_COLOUR, STATIC_COLOUR
from camhd_motion.motion.model import MotionResult, RegionsResult


def frame_seconds(frame: float, rate: float) -> float:
    """Time (s) of 1-based ``frame`` at ``rate`` frames per second."""
    return (frame - 1) / rate if rate > 0 else float(frame - 1)


def motion_figure(motion: MotionResult, regions: RegionsResult):
    """The figure: three panels sharing the time axis (s)."""
    from matplotlib.figure import Figure

    rate = motion.movie.frame_rate or 30000 / 1001
    t = np.array([frame_seconds(s.frame, rate) for s in motion.samples])
    valid = np.array([s.valid for s in motion.samples], dtype=bool)
    values = {
        "tx (px)": np.array([s.similarity.tx for s in motion.samples]),
        "ty (px)": np.array([s.similarity.ty for s in motion.samples]),
        "scale - 1": np.array([s.similarity.scale - 1.0 for s in motion.samples]),
    }
    fig = Figure(figsize=(12, 6.5), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    for ax, (label, y) in zip(axes, values.items(), strict=True):
        for r in regions.regions:
            if r.type == "static":
                ax.axvspan(frame_seconds(r.start_frame, rate), frame_seconds(r.end_frame, rate),
                           color=STATIC_COLOUR, alpha=0.6, lw=0, label="_static")
        ax.plot(t[valid], y[valid], ".", ms=3, color="#1f4e9c", label="valid")
        if (~valid).any():
            # invalid samples have no motion: drawn on the zero line, in red
            ax.plot(t[~valid], np.zeros(int((~valid).sum())), "x", ms=3,
                    color=INVALID_COLOUR, label="invalid")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    top = axes[0]
    for r in regions.regions:
        if r.type != "static":
            mid = frame_seconds((r.start_frame + r.end_frame) / 2, rate)
            top.annotate(r.type, (mid, 1.0), xycoords=("data", "axes fraction"),
                         ha="center", va="bottom", fontsize=8, color="#444444",
                         gid=f"move:{r.start_frame}:{r.end_frame}:{r.type}")
    axes[-1].set_xlabel("time in the video (s)")
    n_static = sum(r.type == "static" for r in regions.regions)
    fig.suptitle(f"{motion.movie.url.rsplit('/', 1)[-1]}: {int(valid.sum())} of {len(valid)} "
                 f"samples valid, {n_static} static sections (shaded)", fontsize=10)
    if len(t):
        axes[-1].set_xlim(0, max(t[-1], 1.0))
    return fig


def write_motion_plot(motion: MotionResult, regions: RegionsResult, path) -> None:
    from camhd_motion.figures.common import save_png

    save_png(motion_figure(motion, regions), path)
