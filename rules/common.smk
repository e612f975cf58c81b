# Parse-time setup and input functions.  Runs at every parse of the workflow, i.e. also
# once per cluster/cloud job: it only validates the config and reads the manifest TSV
# (the source is listed only by the main process, and only when the manifest is stale).
import os
import shlex
import sys
from pathlib import Path

from snakemake.logging import logger

from camhd_motion.errors import CamhdError
from camhd_motion.params import as_dict, cli_options
from camhd_motion.pipeline.config import (
    ConfigError,
    load_schema,
    motion_params,
    net_cli_options,
    region_params,
    validate_config,
)
from camhd_motion.pipeline.workflow import bad_video_note, make_plan, use_workflow_tools

# this workflow's own directory, also when it is used as a module of another workflow
# (workflow.basedir is then the including workflow's)
CAMHD_DIR = Path(workflow.current_basedir).parent

try:
    config.update(
        validate_config(
            config,
            load_schema(CAMHD_DIR / "config/schema.yaml"),
            given=workflow.config_settings.config,
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
# (motion.native_bin says how to run, not what: it reaches the jobs as $CAMHD_NATIVE_BIN,
# not as a param, so changing it reruns nothing)
use_workflow_tools(CAMHD_DIR, native_bin=config["motion"]["native_bin"])

RESULTS = PLAN.results
LOGS = PLAN.logs
# each step's parameters, built and checked once from the config, as the options of its
# command: a change of one reruns exactly the step that uses it (the params trigger)
MOTION_OPTIONS = f"--engine {config['motion']['engine']} " + cli_options(
    as_dict(motion_params(config))
)
REGION_OPTIONS = cli_options(as_dict(region_params(config)))
# how patient to be with servers (config net:, the values that differ from the defaults):
# part of the commands, not a param -- a timeout changes no result, so it reruns nothing
NET_OPTIONS = net_cli_options(config)

RES = config["resources"]
FIGURES = config["per_video_figures"]
REGIONS_COMMAND = (
    "camhd-motion regions {input.motion:q} -o {output.json:q} {params.regions}"
    + (
        " --plot {output.plot:q} --contact-sheet {output.sheet:q} --video {params.video:q}"
        if FIGURES
        else ""
    )
    + " > {log:q} 2>&1"
)


wildcard_constraints:
    vid=r"\d{4}/\d{2}/\d{2}/CAMHDA\d{3}-\d{8}T\d{6}Z?(_\d{2})?",
    month=r"\d{4}-\d{2}",


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
    return (
        [
            f"{RESULTS}/regions.csv",
            f"{RESULTS}/summary.tsv",
            f"{RESULTS}/report.md",
            f"{RESULTS}/tables/regions.parquet",
            f"{RESULTS}/figures/timeline.png",
            f"{RESULTS}/figures/static_sections.png",
        ]
        + [
            f"{RESULTS}/tables/motion_samples/{month}.parquet"
            for month in PLAN.months()
        ]
        + per_video
    )


def figure_outputs():
    """The regions job's figures (config per_video_figures), as report items."""
    if not FIGURES:
        return {}
    return {
        "plot": report(
            PLAN.motion_plot("{vid}"),
            caption="../report/motion_plot.rst",
            category="Videos",
            subcategory="motion",
            labels={"video": "{vid}"},
        ),
        "sheet": report(
            PLAN.contact_sheet("{vid}"),
            caption="../report/contact_sheet.rst",
            category="Videos",
            subcategory="static sections",
            labels={"video": "{vid}"},
        ),
    }


def get_video_input(wildcards):
    """The local video or its download; nothing for a streamed URL.  A local archive
    file stays local() with a default storage (gs://): it is not in the bucket."""
    video = PLAN.video(wildcards.vid)
    paths = PLAN.video_input(wildcards.vid)
    if workflow.storage_settings.default_storage_provider and not video.is_remote:
        return [local(path) for path in paths]
    return paths


def video_input():
    """The motion rule's input: a {vid} pattern when one fits every video (the usual
    archive layout; no function call per job), else the input function."""
    pattern = PLAN.input_pattern()
    if pattern is None:
        return get_video_input
    if workflow.storage_settings.default_storage_provider and not PLAN.remote_videos():
        return [local(path) for path in pattern]
    return pattern


def get_input_or_location(wildcards, input):
    """The job's video input when it has one (a local file or its download), else where
    the video is (a URL, or a missing local file: the job fails alone and records it).
    """
    return input.video if input.get("video") else PLAN.location(wildcards.vid)


def video_location():
    """What the motion job reads: a {vid} pattern for streamed remote videos (the large
    case: no function call per job), else the input itself (a param that repeats an
    input path is what `snakemake --lint` warns about)."""
    pattern = PLAN.location_pattern()
    if pattern and PLAN.remote_videos() and PLAN.read_mode != "download":
        return pattern
    return get_input_or_location


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


def get_month_motion(wildcards):
    """The motion files of one month's videos (YYYY-MM), for its samples table."""
    return [PLAN.motion_json(rel) for rel in PLAN.months()[wildcards.month]]


def get_failed_dir(wildcards, output):
    """Where the aggregate reads the bad videos' records: beside its outputs, or the
    bucket's (gs://) with a default storage, also on a cloud VM that has only its staged
    inputs.  (A function of the output: not a value of the params trigger.)"""
    return PLAN.failed_url or f"{os.path.dirname(output.regions) or '.'}/failed"


def selection_args():
    """The same selection for `camhd-motion aggregate` as for this run."""
    args = ["--pattern", config["pattern"]]
    for key in ("start", "end"):
        if config[key]:
            args += [f"--{key}", config[key]]
    return shlex.join(args)
