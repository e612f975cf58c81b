# The camera motion of one video: <stem>_optical_flow.json.  A local video is read in
# place, a remote one streamed (or its download read, read_mode: download).  A bad video
# (exit code 3) is recorded in <results>/failed/ and left out of later runs' targets
# (config retry_failed: true tries again); other failures are retried by the next run.


rule motion:
    input:
        video_input(),
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
        "camhd-motion motion {params.video:q} -o {output:q} --workers {threads}"
        " {params.motion} --failed-dir {params.failed_dir:q} > {log:q} 2>&1"
