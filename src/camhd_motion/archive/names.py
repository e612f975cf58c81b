"""CamHD file names and the archive layout.

Names look like ``CAMHDA301-20160101T000000Z.mov`` (2015-16, ``Z`` suffix),
``CAMHDA301-20190104T121500.mov`` (later) and may carry a part suffix ``_01`` .. ``_NN``.
The stem (name without ``.mov``) is kept exactly as it is everywhere: outputs are named
``<stem>_optical_flow.json``.  Files live under
``RS03ASHS/PN03B/06-CAMHDA301/YYYY/MM/DD/`` in the archive.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

ARCHIVE_PREFIX = "RS03ASHS/PN03B/06-CAMHDA301"

_NAME_RE = re.compile(
    r"^(?P<instrument>CAMHDA\d{3})-(?P<date>\d{8})T(?P<time>\d{6})(?P<z>Z?)(?:_(?P<part>\d{2}))?$"
)


@dataclass(frozen=True)
class VideoName:
    """A parsed CamHD video name."""

    stem: str
    instrument: str
    start: dt.datetime  # scheduled start, UTC (naive)
    z_suffix: bool
    part: int | None

    @property
    def filename(self) -> str:
        return f"{self.stem}.mov"

    @property
    def date_dir(self) -> str:
        """``YYYY/MM/DD``"""
        return self.start.strftime("%Y/%m/%d")

    @property
    def archive_dir(self) -> str:
        """Archive-relative directory, e.g. ``RS03ASHS/PN03B/06-CAMHDA301/2016/01/01``."""
        return f"{ARCHIVE_PREFIX}/{self.date_dir}"

    @property
    def archive_path(self) -> str:
        """Archive-relative path of the ``.mov``."""
        return f"{self.archive_dir}/{self.filename}"

    @property
    def date_time_iso(self) -> str:
        return self.start.isoformat()


def parse_name(name: str) -> VideoName:
    """Parse a file name, stem, path or URL ending in a CamHD video name.

    Raises ``ValueError`` naming the input when it is not a CamHD name.
    """
    base = name.rstrip("/").rsplit("/", 1)[-1]
    stem = base[:-4] if base.lower().endswith(".mov") else base
    m = _NAME_RE.match(stem)
    if not m:
        raise ValueError(f"not a CamHD video name: {name!r}")
    start = dt.datetime.strptime(m["date"] + m["time"], "%Y%m%d%H%M%S")
    part = int(m["part"]) if m["part"] else None
    return VideoName(stem, m["instrument"], start, bool(m["z"]), part)


def is_video_name(name: str) -> bool:
    try:
        parse_name(name)
    except ValueError:
        return False
    return True


def make_stem(start: dt.datetime, *, z_suffix: bool = False, part: int | None = None,
              instrument: str = "CAMHDA301") -> str:
    """The stem the archive uses for a video starting at ``start``."""
    stem = f"{instrument}-{start:%Y%m%dT%H%M%S}{'Z' if z_suffix else ''}"
    if part is not None:
        stem += f"_{part:02d}"
    return stem
