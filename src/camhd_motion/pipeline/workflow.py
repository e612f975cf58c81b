"""What the Snakefile needs at parse time: the selected videos and their paths.

Everything here runs at every parse of the Snakefile, i.e. once per SLURM/Batch job too,
so it only reads the manifest TSV (and lists ``<results>/failed/``: in the bucket with a
default storage).  Listing the source
happens only in the main snakemake process, and only when the manifest is missing, does
not cover the selected date range, was made from another source, or is stale (a local
source's day directory or a manifest source file changed since), or when asked for with
``refresh_manifest``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from camhd_motion.archive.manifest import (
    Video,
    covers,
    parse_day,
    read_manifest,
    read_meta,
    select,
    write_manifest,
)
from camhd_motion.archive.names import ARCHIVE_PREFIX
from camhd_motion.errors import CamhdError, UserError

log = logging.getLogger(__name__)

MOTION_SUFFIX = "_optical_flow.json"
REGIONS_SUFFIX = "_optical_flow_regions.json"
MOTION_PLOT_SUFFIX = "_motion.png"
CONTACT_SHEET_SUFFIX = "_static_sections.png"
FAILED_DIR = "failed"


def source_id(source: str) -> str:
    """How a source is recorded in a manifest: URLs as given, paths made absolute."""
    if source.startswith(("http://", "https://", "gs://")):
        return source.rstrip("/")
    return os.path.abspath(source)


def manifest_status(config: Mapping) -> str | None:
    """Why the manifest must be (re)made, or ``None`` if it can be reused."""
    path = config["manifest"]
    meta = read_meta(path)
    if meta is None:
        return "missing" if not os.path.exists(path) else "not a manifest"
    if meta.get("source") != source_id(config["source"]):
        return f"made from another source ({meta.get('source')})"
    start, end = parse_day(config["start"], "start"), parse_day(config["end"], "end")
    if not covers(meta, start, end):
        return f"lists {meta.get('start')}..{meta.get('end')}, not the selected range"
    if meta.get("md5") is False and config["md5"]:
        return "made without md5 digests"
    if meta.get("empty"):  # never the truth: a server hiccup, or videos not there yet
        return "the last listing found no videos"
    from camhd_motion.archive.sources import newest_day_dir_mtime, source_kind

    kind = source_kind(config["source"])
    made = os.stat(path).st_mtime
    if kind == "manifest" and os.stat(config["source"]).st_mtime > made:
        return "the source file changed"
    if kind == "local" and newest_day_dir_mtime(config["source"], start, end) > made:
        return "the source directory changed"
    return None


def refresh_manifest(config: Mapping, path: str | None = None) -> int:
    """List the source for the selected range and write the manifest; returns the count."""
    import datetime as dt

    from camhd_motion.archive.sources import list_source, source_kind

    start, end = parse_day(config["start"], "start"), parse_day(config["end"], "end")
    videos = list_source(config["source"], start, end, md5=config["md5"],
                         base_url=config["base_url"], net=config.get("net"))
    meta = {
        "source": source_id(config["source"]),
        "kind": source_kind(config["source"]),
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "md5": bool(config["md5"]),
        "listed": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if not videos:
        # written (the run and its aggregate need a manifest), but marked: the next run
        # lists again instead of trusting an empty archive
        meta["empty"] = True
    return write_manifest(path or config["manifest"], videos, meta)


def empty_listing_warning(config: Mapping) -> str:
    start, end = config.get("start"), config.get("end")
    days = f" from {start or 'the first day'} to {end or 'the last'}" if start or end else ""
    return (f"warning: {config['source']}: no videos listed{days}; check the source and "
            "the dates (the next run lists it again: an empty listing is not kept)")


def selected_videos(config: Mapping, *, may_list: bool = True,
                    notify: Callable[[str], None] = log.info) -> list[Video]:
    """The manifest's videos selected by ``start``/``end``/``pattern``, listing the source
    first if needed and ``may_list`` (only the main process may: jobs must not crawl)."""
    if may_list:
        reason = "refresh requested" if config["refresh_manifest"] else manifest_status(config)
        if reason is not None:
            notify(f"Listing {config['source']} ({config['manifest']}: {reason})...")
            n = refresh_manifest(config)
            notify(f"Wrote {config['manifest']}: {n} videos")
            if n == 0:
                notify(empty_listing_warning(config))
    elif not os.path.exists(config["manifest"]):
        raise UserError(f"{config['manifest']}: no manifest (a job cannot list the source)")
    manifest = read_manifest(config["manifest"])
    return select(manifest.videos, parse_day(config["start"], "start"),
                  parse_day(config["end"], "end"), config["pattern"])


def failed_records(results: str) -> dict[str, str]:
    """``stem -> one-line error`` of the videos recorded as bad under ``<results>/failed/``
    (``YYYY/MM/DD/<stem>.txt``; usually an empty or missing directory)."""
    return read_failed_records(os.path.join(results, FAILED_DIR))


def read_failed_records(failed_dir: str) -> dict[str, str]:
    """:func:`failed_records` of a failed-records directory: a local one, or a ``gs://``
    prefix (a default storage: one listing, :func:`~camhd_motion.pipeline.storage.read_records`)."""
    if failed_dir.startswith("gs://"):
        from camhd_motion.pipeline.storage import read_records

        return read_records(failed_dir)
    out = {}
    for folder, _, names in os.walk(failed_dir):
        for name in names:
            if name.endswith(".txt") and not name.startswith("."):
                with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                    out[name[:-4]] = " ".join(f.read().split())
    return out


@dataclass
class Plan:
    """The videos a run covers and where their files go."""

    results: str
    logs: str = "logs"
    downloads: str = "downloads"
    read_mode: str = "stream"
    videos: dict[str, Video] = field(default_factory=dict)  # rel (YYYY/MM/DD/stem) -> video
    failed: dict[str, str] = field(default_factory=dict)  # stem -> error (left out)
    shard: str | None = None  # "i/n": only that shard's videos (pipeline/shard.py)
    _root: str | None = field(default=None, repr=False)  # cache of common_root()
    _months: dict | None = field(default=None, repr=False)  # cache of months()
    # rels of listed local videos whose file is missing; None: not checked (a job's parse)
    missing: set[str] | None = None
    local_outputs: bool = True  # False with a default storage (outputs in a bucket)
    failed_url: str | None = None  # gs://.../<results>/failed with a default storage

    @property
    def archive_dir(self) -> str:
        return f"{self.results}/{ARCHIVE_PREFIX}"

    def motion_json(self, rel: str) -> str:
        return f"{self.archive_dir}/{rel}{MOTION_SUFFIX}"

    def regions_json(self, rel: str) -> str:
        return f"{self.archive_dir}/{rel}{REGIONS_SUFFIX}"

    def motion_plot(self, rel: str) -> str:
        return f"{self.archive_dir}/{rel}{MOTION_PLOT_SUFFIX}"

    def contact_sheet(self, rel: str) -> str:
        return f"{self.archive_dir}/{rel}{CONTACT_SHEET_SUFFIX}"

    def download_path(self, rel: str) -> str:
        return f"{self.downloads}/{ARCHIVE_PREFIX}/{rel}.mov"

    @property
    def failed_dir(self) -> str:
        """Where bad videos are recorded: ``<results>/failed/YYYY/MM/DD/<stem>.txt``, in
        the bucket (``gs://...``) with a default storage."""
        return self.failed_url or f"{self.results}/{FAILED_DIR}"

    def failed_record(self, rel: str) -> str:
        return f"{self.failed_dir}/{rel}.txt"

    def video(self, rel: str) -> Video:
        try:
            return self.videos[rel]
        except KeyError:
            raise UserError(f"{rel}: not a selected video (outside start/end/pattern, or "
                            "recorded as failed)") from None

    def is_downloaded(self, video: Video) -> bool:
        return self.read_mode == "download" and video.is_remote

    def location(self, rel: str) -> str:
        """What ``camhd-motion motion`` reads: a local path, a URL, or the download."""
        video = self.video(rel)
        return self.download_path(rel) if self.is_downloaded(video) else video.url

    def months(self) -> dict[str, list[str]]:
        """``YYYY-MM -> [rel, ...]``: the selected videos by month (computed once)."""
        if self._months is None:
            self._months = {}
            for rel in self.videos:
                self._months.setdefault(f"{rel[:4]}-{rel[5:7]}", []).append(rel)
        return self._months

    def common_root(self) -> str | None:
        """The root every selected video lies under in the archive layout
        (``<root>/RS03ASHS/PN03B/06-CAMHDA301/YYYY/MM/DD/<stem>.mov``), if there is one,
        with all of them local or all remote.  Computed once per parse."""
        if self._root is None:
            self._root = ""
            roots = set()
            for video in self.videos.values():
                tail = "/" + video.archive_path
                if not video.url.endswith(tail) or len(roots) > 1:
                    return None
                roots.add((video.url[: -len(tail)], video.is_remote))
            if len(roots) == 1:
                self._root = next(iter(roots))[0]
        return self._root or None

    def location_pattern(self) -> str | None:
        """What ``motion`` reads, as a ``{vid}`` pattern -- when one fits every video.
        Rules use it instead of an input function: the same values, and a job graph of
        35,000 videos builds measurably faster (no function call per job)."""
        root = self.common_root()
        if root is None:
            return None
        if self.remote_videos() and self.read_mode == "download":
            return self.download_path("{vid}")
        return f"{root}/{ARCHIVE_PREFIX}/{{vid}}.mov"

    def input_pattern(self) -> list[str] | None:
        """:meth:`video_input` as a ``{vid}`` pattern, when :meth:`location_pattern` fits."""
        location = self.location_pattern()
        if location is None:
            return None
        if not self.remote_videos() and (self.missing is None or self.missing):
            return None  # some local files are missing (or unchecked): per video, below
        return [] if self.remote_videos() and self.read_mode != "download" else [location]

    def remote_videos(self) -> bool:
        """Whether the (first) selected video is remote; with :meth:`common_root`, all are."""
        return any(video.is_remote for video in list(self.videos.values())[:1])

    def video_input(self, rel: str) -> list[str]:
        """The job's file input: the local video or its download; none if streamed."""
        video = self.video(rel)
        if self.is_downloaded(video):
            return [self.download_path(rel)]
        if video.is_remote:
            return []
        # a listed file that is not there is not an input snakemake would stop the whole
        # run for: its motion job runs, fails alone and records it as a bad video
        if (rel in self.missing) if self.missing is not None else not os.path.exists(
                video.url):
            return []
        return [video.url]


def make_plan(config: Mapping, *, main_process: bool = True,
              notify: Callable[[str], None] = log.info, storage_settings=None) -> Plan:
    """``storage_settings``: snakemake's; with a default storage the manifest is
    mirrored in it (pipeline/storage.py)."""
    from camhd_motion.pipeline.shard import parse_shard, shard_index
    from camhd_motion.pipeline.storage import (
        fetch_manifest,
        manifest_url,
        publish_manifest,
        stored_url,
    )

    stored = manifest_url(config, storage_settings)
    if stored and not os.path.exists(config["manifest"]):
        fetch_manifest(stored, config["manifest"])
    shard = config.get("shard")
    part, parts = parse_shard(shard) if shard else (1, 1)  # once, not per video
    plan = Plan(config["results"], config["logs"], config["downloads"], config["read_mode"],
                shard=shard, local_outputs=not stored,
                # with a default storage, bad videos are recorded next to the outputs in
                # the bucket (a cloud VM's disk goes with it): gs://.../<results>/failed
                failed_url=stored_url(f"{config['results'].rstrip('/')}/{FAILED_DIR}",
                                      storage_settings))
    failed = {} if config["retry_failed"] else read_failed_records(plan.failed_dir)
    for video in selected_videos(config, may_list=main_process, notify=notify):
        if parts > 1 and shard_index(video.stem, parts) != part:
            continue
        if video.stem in failed:
            plan.failed[video.stem] = failed[video.stem]
        else:
            plan.videos[video.rel] = video
    if main_process:  # one stat per local video; a job's parse checks only its own video
        plan.missing = {rel for rel, video in plan.videos.items()
                        if not video.is_remote and not os.path.exists(video.url)}
        if plan.missing:
            first = plan.videos[min(plan.missing)].url
            notify(f"warning: {len(plan.missing)} listed video file(s) not found (e.g. "
                   f"{first}); their motion jobs will fail alone and record them in "
                   f"{plan.failed_dir}/")
    if stored and main_process:
        publish_manifest(config["manifest"], stored)
    return plan


def use_workflow_tools(workflow_dir: str | os.PathLike, native_bin: str | None = None) -> None:
    """Make the rules' ``camhd-motion`` the one of the Python running snakemake: its bin
    directory goes first on ``PATH`` (for a venv that is not activated).  Also tells
    ``envs/camhd-motion.post-deploy.sh`` (``--sdm conda``) where the package source is,
    and the jobs which native tool to run (``$CAMHD_NATIVE_BIN``) when one is configured."""
    if native_bin:
        os.environ["CAMHD_NATIVE_BIN"] = os.path.abspath(native_bin)
    bindir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if os.path.exists(os.path.join(bindir, "camhd-motion")) and not path.startswith(bindir):
        os.environ["PATH"] = bindir + os.pathsep + path
    os.environ["CAMHD_MOTION_WORKFLOW_DIR"] = os.path.abspath(workflow_dir)


def keep_going_in_group_jobs(workflow) -> None:
    """Make a cluster/cloud group job's own snakemake keep going after a failed job.

    The executor plugins (SLURM, Google Batch) run a group's jobs in an inner snakemake
    started without ``--keep-going`` and without profiles: one bad video would stop the
    other videos of its group.  The inner snakemake's execution settings are set only
    after the Snakefile is parsed, just before ``workflow.execute``: hence the wrapper.
    Only for the inner run (``workflow.remote_exec``); a no-op elsewhere."""
    if not workflow.remote_exec:
        return
    execute = workflow.execute

    def execute_keep_going(*args, **kwargs):
        workflow.execution_settings.keep_going = True
        return execute(*args, **kwargs)

    workflow.execute = execute_keep_going


def bad_video_note(plan: Plan) -> str | None:
    """After a failed run: what to say about the videos it recorded as bad (left out of
    the next run, which then writes the aggregate), and about those that failed without a
    record (transient: the next run tries them again)."""
    try:  # in snakemake's onerror: say what went wrong, never raise
        records = read_failed_records(plan.failed_dir)
    except CamhdError as err:
        return f"could not read the bad videos' records: {err}"
    new = sorted(v.stem for v in plan.videos.values() if v.stem in records)
    undone = [] if not plan.local_outputs else sorted(
        v.stem for rel, v in plan.videos.items()
        if v.stem not in records and not os.path.exists(plan.regions_json(rel)))

    def names(stems: list[str]) -> str:
        return ", ".join(stems[:3]) + (f" and {len(stems) - 3} more" if len(stems) > 3 else "")

    notes = []
    if new:
        notes.append(f"{len(new)} bad video(s) recorded in {plan.failed_dir}/ "
                     f"({names(new)}): the next run leaves them out and writes the aggregate "
                     "without them; --config retry_failed=true tries them again.")
    if undone and plan.local_outputs:
        notes.append(f"{len(undone)} video(s) not finished and not recorded ({names(undone)}): "
                     "failed for a reason that may pass (a server, a full disk: see their logs) "
                     "or not run; the next run tries them again.")
    return " ".join(notes) or None
