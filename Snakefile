# The CamHD motion pipeline: for every archive video selected in the config, its camera
# motion (rule motion: <stem>_optical_flow.json) and static sections (rule regions:
# <stem>_optical_flow_regions.json), after a download for read_mode: download,
# mirrored under results/RS03ASHS/PN03B/06-CAMHDA301/YYYY/MM/DD/, then results/regions.csv,
# results/summary.tsv and results/report.md over all of them.  See README.md.
from snakemake.utils import min_version

from camhd_motion.pipeline.config import workflow_configfile
from camhd_motion.pipeline.workflow import keep_going_in_group_jobs

min_version("9.0")


# the run directory's config/config.yaml (-d DIR), else the workflow's own; --configfile
# files are merged over it.  A file that is not valid YAML is named with its line.
configfile: workflow_configfile(workflow.current_basedir)


report: "report/workflow.rst"


include: "rules/common.smk"


# A group job (profiles slurm, gcp: 16 videos per cluster job) runs its members in an
# inner snakemake that the executor plugins start without --keep-going: one bad video
# would stop the rest of its group.  docs/PROFILES.md ("The cost of groups").
keep_going_in_group_jobs(workflow)


# --sdm apptainer: every rule runs in the project's image (config container: a .sif file
# or docker://REGISTRY/camhd-motion@sha256:...; docs/CONTAINER.md).  Ignored without it.
container: config["container"]


include: "rules/download.smk"
include: "rules/motion.smk"
include: "rules/regions.smk"
include: "rules/aggregate.smk"


rule all:
    default_target: True
    input:
        get_final_outputs(),


# Failed jobs: say which videos were bad, and write the archive tables over what the run
# has (the aggregate rule, waiting for every video, did not run).
onerror:
    note = bad_video_note(PLAN)
    if note:
        logger.warning(note)
    from camhd_motion.pipeline.aggregate import aggregate_after_errors

    done = aggregate_after_errors(PLAN, config)
    if done:
        logger.warning(done)
