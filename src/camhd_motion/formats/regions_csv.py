"""``regions.csv``: the static regions of many videos, one row each (``docs/FORMATS.md``).

``mov_basename,date_time,start_frame,end_frame,scene_tag`` with a header line, ``\\n`` line
ends (as the original's ``regions_to_csv.py``), rows sorted by (date_time, mov_basename,
start_frame).  ``date_time`` is the scheduled start parsed from the name (ISO 8601, UTC, no
zone suffix), not the real start; ``scene_tag`` is empty when the region is untagged.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass

from camhd_motion.archive.names import parse_name
from camhd_motion.formats.common import FormatError, atomic_write_text, movie_stem
from camhd_motion.motion.model import RegionsResult

HEADER = ("mov_basename", "date_time", "start_frame", "end_frame", "scene_tag")


@dataclass(frozen=True, order=True)
class StaticRow:
    date_time: str  # first, so that the natural order is the file's order
    mov_basename: str
    start_frame: int
    end_frame: int
    scene_tag: str | None = None


def static_rows(result: RegionsResult) -> list[StaticRow]:
    """One row per static region of one video.  Raises ``ValueError`` if the movie's name
    is not a CamHD name (the date comes from the name)."""
    stem = movie_stem(result.movie)
    when = parse_name(stem).date_time_iso
    return [
        StaticRow(date_time=when, mov_basename=stem, start_frame=r.start_frame,
                  end_frame=r.end_frame, scene_tag=r.scene_tag)
        for r in result.regions
        if r.type == "static"
    ]


def write_regions_csv(results: Iterable[RegionsResult], path: str | os.PathLike) -> int:
    """Write the static regions of all ``results``, sorted, atomically; returns the rows."""
    rows = [row for result in results for row in static_rows(result)]
    return write_rows(rows, path)


def write_rows(rows: Iterable[StaticRow], path: str | os.PathLike) -> int:
    rows = sorted(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    for r in rows:
        writer.writerow(
            [r.mov_basename, r.date_time, r.start_frame, r.end_frame, r.scene_tag or ""]
        )
    atomic_write_text(path, buf.getvalue())
    return len(rows)


def read_regions_csv(path: str | os.PathLike) -> list[StaticRow]:
    """Rows of a regions CSV (``\\n`` or ``\\r\\n`` line ends).  Raises ``FormatError``."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None or tuple(h.strip() for h in header) != HEADER:
                raise FormatError(path, f"header is not {','.join(HEADER)}")
            rows = []
            for n, rec in enumerate(reader, start=2):
                if not rec:
                    continue
                if len(rec) != len(HEADER):
                    raise FormatError(path, f"line {n}: expected 5 fields, got {len(rec)}")
                try:
                    row = StaticRow(date_time=rec[1], mov_basename=rec[0],
                                    start_frame=int(rec[2]), end_frame=int(rec[3]),
                                    scene_tag=rec[4] or None)
                    rows.append(row)
                except ValueError:
                    raise FormatError(path, f"line {n}: bad frame number") from None
    except FileNotFoundError:
        raise FormatError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise FormatError(path, f"cannot read: {err}") from None
    return rows
