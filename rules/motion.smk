# The camera motion of one video: <stem>_optical_flow.json.  A local video is read in
# place, a remote one streamed (or its download read, read_mode: download).  A bad or
# unavailable video (missing, not a movie, 404/403: exit code 2 or 3) is recorded in
# <results>/failed/ (in the bucket with a default storage: PLAN.failed_dir is then a gs://
# URL, as a cloud VM's disk disappears with it) and left out of later runs' targets
# (config retry_failed: true tries again); transient failures (exit 4: a failing server, a
# full disk) are retried by the next run.  docs/FAILURES.md.


rule motion:
    input:
        video=video_input(),
    output:
        PLAN.motion_json("{vid}"),
    log:
        f"{LOGS}/motion/{{vid}}.log",
    benchmark:
        f"{LOGS}/benchmarks/motion/{{vid}}.tsv"
    conda:
        "../envs/camhd-motion.yaml"
    threads: config["motion"]["workers"]
    resources:
        mem_mb=RES["motion_mem_mb"],
        runtime=RES["motion_runtime"],
    params:
        # what the result depends on: a change reruns the motion (snakemake's params trigger)
        motion=MOTION_OPTIONS,
        video=video_location(),
        failed_dir=PLAN.failed_dir,
    shell:
        # (NET_OPTIONS: config net, how long to wait; part of the command, not a param)
        f"camhd-motion motion {{params.video:q}} -o {{output:q}} --workers {{threads}}"
        f" {{params.motion}} --failed-dir {{params.failed_dir:q}} {NET_OPTIONS} > {{log:q}} 2>&1"
