# The per-video job: camera motion, then static regions (`camhd-motion analyze`).
#
# One job per video, not a motion rule and a regions rule: it halves the DAG (35,000
# videos) and the number of cluster jobs.  The motion file is an update() output, so a
# change of the region thresholds reruns every video's job but each job reuses its motion
# file (same motion parameters, same movie) and only recomputes the regions.  A bad video
# (exit code 3) is recorded in <results>/failed/ and left out of later runs' targets
# (config retry_failed: true tries again); other failures are retried on the next run.


rule analyze:
    input:
        get_video_input,
    output:
        motion=motion_output("{vid}"),
        regions=PLAN.regions_json("{vid}"),
    log:
        f"{LOGS}/analyze/{{vid}}.log",
    conda:
        "../envs/camhd-motion.yaml"
    threads: config["motion"]["workers"]
    resources:
        mem_mb=RES["analyze_mem_mb"],
        runtime=RES["analyze_runtime"],
    params:
        video=get_video_location,
        motion=MOTION_ARGS,
        regions=REGIONS_ARGS,
        failed=PLAN.failed_record("{vid}"),
        reuse=REUSE,
    shell:
        "camhd-motion analyze {params.video:q} --motion-json {output.motion:q}"
        " --regions-json {output.regions:q} --failed-record {params.failed:q}"
        " --workers {threads} {params.motion} {params.regions} {params.reuse} > {log:q} 2>&1"
