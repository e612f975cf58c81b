"""The pending view: one line per video that a run would (re)analyse, and why.

Built on ``snakemake --summary``, not on a comparison of the manifest with the results
directory: only snakemake knows every rerun trigger it will act on (missing output,
changed motion/regions parameters, a newer input, a changed software env), and its
answer is the same on a local disk, on SLURM and with ``gs://`` storage.  The cost is one
DAG build, restricted to the date range asked for (``--config start=... end=...``), so a
day or a month is answered in seconds; the whole 35,000-video archive in about as long as
a dry run (see BENCHMARKS.md).
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from camhd_motion.errors import UserError

# what each per-video output is called in the table
_VIDEO_FILE = re.compile(
    r"(?P<rel>\d{4}/\d{2}/\d{2}/(?P<stem>CAMHDA\d{3}-(?P<d>\d{8})T(?P<t>\d{6})Z?(?:_\d{2})?))"
    r"(?P<kind>_optical_flow\.json|_optical_flow_regions\.json|\.mov)$"
)
_ORDER = ("download", "motion", "regions")


@dataclass
class VideoStatus:
    stem: str
    date_time: str
    steps: dict[str, str] = field(default_factory=dict)  # pending rule -> snakemake status

    @property
    def pending(self) -> bool:
        return bool(self.steps)

    def line(self) -> str:
        steps = sorted(self.steps, key=lambda s: (_ORDER.index(s) if s in _ORDER else 99, s))
        reason = "; ".join(dict.fromkeys(self.steps[s] for s in steps if self.steps[s]))
        return "\t".join((self.stem, self.date_time, "pending" if steps else "done",
                          ",".join(steps) or "-", reason or "-"))


HEADER = "\t".join(("stem", "date_time", "state", "steps", "reason"))


def parse_summary(text: str) -> dict[str, VideoStatus]:
    """Videos (by stem) found in ``snakemake --summary`` output, with their pending steps."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.startswith("output_file\t")), None)
    if start is None:
        raise UserError("snakemake --summary printed no table")
    reader = csv.DictReader(io.StringIO("\n".join(lines[start:])), delimiter="\t")
    videos: dict[str, VideoStatus] = {}
    for row in reader:
        m = _VIDEO_FILE.search(row.get("output_file") or "")
        if not m:
            continue
        d, t = m["d"], m["t"]
        iso = f"{d[:4]}-{d[4:6]}-{d[6:]}T{t[:2]}:{t[2:4]}:{t[4:]}"
        video = videos.setdefault(m["stem"], VideoStatus(m["stem"], iso))
        if (row.get("plan") or "").strip() == "update pending":
            rule = (row.get("rule") or "").strip() or "?"
            status = (row.get("status") or "").strip()
            known = video.steps.setdefault(rule, "")
            if status and status != "ok" and status not in known:
                video.steps[rule] = f"{known}, {status}" if known else status
    return videos


def summary_command(*, snakefile: str | None = None, directory: str | None = None,
                    configfiles: Sequence[str] = (), start: str | None = None,
                    end: str | None = None, pattern: str | None = None,
                    extra: Sequence[str] = ()) -> list[str]:
    cmd = [sys.executable, "-m", "snakemake", "--summary", "--cores", "1", "--quiet", "all"]
    if snakefile:
        cmd += ["--snakefile", snakefile]
    if directory:
        cmd += ["--directory", directory]
    if configfiles:
        cmd += ["--configfile", *configfiles]
    overrides = [f"{k}={v}" for k, v in (("start", start), ("end", end), ("pattern", pattern))
                 if v]
    if overrides:
        cmd += ["--config", *overrides]
    return cmd + list(extra)


def pending_videos(**kwargs) -> list[VideoStatus]:
    """Run ``snakemake --summary`` (see :func:`summary_command`) and parse it, in time order."""
    cmd = summary_command(**kwargs)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        last = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        raise UserError(f"snakemake --summary failed: {last[-1] if last else proc.returncode}")
    videos = parse_summary(proc.stdout)
    return sorted(videos.values(), key=lambda v: (v.date_time, v.stem))
