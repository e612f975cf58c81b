"""Figures over the archive: the timeline of scheduled videos and the static sections over
time, from the aggregate's tables (``summary`` and ``regions`` DataFrames)."""

from __future__ import annotations

import numpy as np

from camhd_motion.figures.common import STATUS_COLOURS, save_png

STATUSES = ("ok", "dark", "failed", "missing")


def timeline_cells(summary):
    """``(days, slots, status_grid, static_grid)``: one cell per scheduled slot (time of
    day of the video's scheduled start; ``_NN`` parts share their slot) and day.  Status
    codes index :data:`STATUSES`, -1 where no video was scheduled; static counts are NaN
    where none is known.  When a slot holds several parts the worst status shows."""
    import pandas as pd

    when = pd.to_datetime(summary["date_time"])
    days = sorted(when.dt.normalize().unique())
    slots = sorted(when.dt.strftime("%H:%M").unique())
    day_index = {d: i for i, d in enumerate(days)}
    slot_index = {s: i for i, s in enumerate(slots)}
    status = np.full((len(slots), len(days)), -1, dtype=int)
    statics = np.full((len(slots), len(days)), np.nan)
    rank = {"ok": 0, "dark": 1, "missing": 2, "failed": 3}  # worst wins in a shared slot
    for day, slot, st, n in zip(when.dt.normalize(), when.dt.strftime("%H:%M"),
                                summary["status"], summary["static_regions"], strict=True):
        i, j = slot_index[slot], day_index[day]
        code = STATUSES.index(st)
        if status[i, j] < 0 or rank[st] > rank[STATUSES[status[i, j]]]:
            status[i, j] = code
        if not pd.isna(n):
            statics[i, j] = (0 if np.isnan(statics[i, j]) else statics[i, j]) + int(n)
    return days, slots, status, statics


def timeline_figure(summary):
    """Two panels over the dates: each slot's status, and its number of static sections."""
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    days, slots, status, statics = timeline_cells(summary)
    fig = Figure(figsize=(12, 5.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    colours = ListedColormap([STATUS_COLOURS[s] for s in STATUSES])
    shown = np.ma.masked_less(status, 0)
    extent = (-0.5, len(days) - 0.5, len(slots) - 0.5, -0.5)
    top.imshow(shown, cmap=colours, vmin=0, vmax=len(STATUSES) - 1, aspect="auto",
               interpolation="nearest", extent=extent, gid="status")
    top.set_title("status of each scheduled video (blank: none scheduled)", fontsize=9)
    top.legend(handles=[Patch(color=STATUS_COLOURS[s], label=s) for s in STATUSES],
               loc="upper right", fontsize=8, ncols=4)
    image = bottom.imshow(np.ma.masked_invalid(statics), cmap="viridis", aspect="auto",
                          interpolation="nearest", extent=extent, gid="static")
    bottom.set_title("static sections per video", fontsize=9)
    fig.colorbar(image, ax=bottom, shrink=0.8)
    for ax in (top, bottom):
        ax.set_yticks(range(len(slots)), slots, fontsize=7)
        ax.set_ylabel("scheduled (UTC)")
    step = max(1, len(days) // 12)
    bottom.set_xticks(range(0, len(days), step),
                      [str(d)[:10] for d in days[::step]], rotation=30, fontsize=7)
    return fig


def static_stats_figure(regions, summary):
    """Static sections per analysed video and their durations (median, IQR), per day --
    or per video when the selection spans two weeks or less."""
    import pandas as pd
    from matplotlib.figure import Figure

    analysed = summary[summary["status"].isin(["ok", "dark"])].copy()
    when = pd.to_datetime(analysed["date_time"])
    per_day = len(when) > 0 and (when.max() - when.min()) > pd.Timedelta(days=14)
    analysed["at"] = when.dt.normalize() if per_day else when
    counts = analysed.groupby("at")["static_regions"].mean()
    statics = regions[regions["type"] == "static"].copy()
    at = pd.to_datetime(statics["date_time"])
    statics["at"] = at.dt.normalize() if per_day else at
    durations = statics.groupby("at")["duration_s"].quantile([0.25, 0.5, 0.75]).unstack()
    fig = Figure(figsize=(12, 5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(counts.index, counts.to_numpy(dtype=float), "o-", ms=3, gid="counts")
    top.set_ylabel("static sections\nper video")
    top.set_ylim(bottom=0)
    if len(durations):
        bottom.fill_between(durations.index, durations[0.25], durations[0.75], alpha=0.3,
                            label="25-75 %")
        bottom.plot(durations.index, durations[0.5], "o-", ms=3, label="median",
                    gid="durations")
        bottom.legend(fontsize=8)
    bottom.set_ylabel("static section\nduration (s)")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    if len(counts) and not per_day:
        pad = pd.Timedelta(hours=2)
        bottom.set_xlim(counts.index.min() - pad, counts.index.max() + pad)
    what = "day with analysed videos" if per_day else "analysed video"
    fig.suptitle(f"static sections over time (one point per {what})", fontsize=10)
    return fig


def write_timeline(summary, path) -> None:
    save_png(timeline_figure(summary), path)


def write_static_stats(regions, summary, path) -> None:
    save_png(static_stats_figure(regions, summary), path)
