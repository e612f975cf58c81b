# Parse-time setup and input functions.  Runs at every parse of the workflow, i.e. also
# once per cluster/cloud job: it only validates the config and reads the manifest TSV
# (the source is listed only by the main process, and only when the manifest is stale).
import os
import shlex
import sys

from snakemake.logging import logger

from camhd_motion.errors import CamhdError
from camhd_motion.pipeline.config import (
    ConfigError,
    load_schema,
    motion_args,
    regions_args,
    validate_config,
)
from camhd_motion.pipeline.workflow import bad_video_note, make_plan, use_workflow_tools

try:
    config.update(
        validate_config(
            config, load_schema(os.path.join(workflow.basedir, "config/schema.yaml"))
        )
    )
    # with a default storage (gs://), the bucket holds a copy of the manifest
    PLAN = make_plan(
        config,
        main_process=workflow.is_main_process,
        notify=logger.info,
        storage_settings=workflow.storage_settings,
    )
except CamhdError as err:  # one line, before any job
    print(err if isinstance(err, ConfigError) else f"error: {err}", file=sys.stderr)
    sys.exit(1)

# rules run the camhd-motion of the environment snakemake runs from (even if it is not
# activated), or of their conda env with --sdm conda
use_workflow_tools(workflow.basedir)

RESULTS = PLAN.results
LOGS = PLAN.logs
MOTION_ARGS = motion_args(config)
REGIONS_ARGS = regions_args(config)
REUSE = "" if config["reuse_motion"] else "--no-reuse"
RES = config["resources"]


wildcard_constraints:
    vid=r"\d{4}/\d{2}/\d{2}/CAMHDA\d{3}-\d{8}T\d{6}Z?(_\d{2})?",


def get_final_outputs():
    """The aggregate's outputs and every video's two files: the per-video files are
    targets themselves, so a deleted one is made again (snakemake would otherwise accept
    a missing intermediate file below an up-to-date aggregate)."""
    per_video = [
        path
        for rel in PLAN.videos
        for path in (PLAN.motion_json(rel), PLAN.regions_json(rel))
    ]
    if PLAN.shard:  # its videos only: concurrent shards must not share an output (lock)
        return per_video
    return [
        f"{RESULTS}/regions.csv",
        f"{RESULTS}/summary.tsv",
        f"{RESULTS}/report.md",
    ] + per_video


def motion_output(vid):
    """update(): a rerun may reuse the motion file.  Not with a default storage (gs://):
    snakemake 9.27.1 then fails to back up an update() output that is only in the bucket
    (FileNotFoundError), so there the motion is recomputed."""
    path = PLAN.motion_json(vid)
    return path if workflow.storage_settings.default_storage_provider else update(path)


def get_video_input(wildcards):
    """The local video or its download; nothing for a streamed URL."""
    return PLAN.video_input(wildcards.vid)


def get_video_location(wildcards):
    """What the job reads: a local path, a URL, or the downloaded copy."""
    return PLAN.location(wildcards.vid)


def get_download_url(wildcards):
    return PLAN.video(wildcards.vid).url


def get_download_md5(wildcards):
    md5 = PLAN.video(wildcards.vid).md5
    return f"--md5 {md5}" if md5 else ""


def get_all_regions(wildcards):
    return [PLAN.regions_json(rel) for rel in PLAN.videos]


def get_all_motion(wildcards):
    """Inputs too, so that a job without the shared results tree (gs:// storage) has them."""
    return [PLAN.motion_json(rel) for rel in PLAN.videos]


def selection_args():
    """The same selection for `camhd-motion aggregate` as for this run."""
    args = ["--pattern", config["pattern"]]
    for key in ("start", "end"):
        if config[key]:
            args += [f"--{key}", config[key]]
    return shlex.join(args)
