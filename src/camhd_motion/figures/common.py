"""What the figures share: a non-interactive backend, colours, atomic PNG writing."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on cluster nodes or in CI

STATUS_COLOURS = {"ok": "#2a9d4b", "dark": "#404040", "failed": "#d62728",
                  "missing": "#d9d9d9"}
STATIC_COLOUR = "#8fd19e"
INVALID_COLOUR = "#d62728"


def save_png(fig, path: str | os.PathLike, dpi: int = 100) -> None:
    """Write ``fig`` to ``path`` through a temporary name (never a half-written PNG)."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fig.savefig(tmp, dpi=dpi, format="png")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()


def clock(seconds: float) -> str:
    """``m:ss`` of a time in the video."""
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"
