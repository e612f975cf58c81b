# Whole-file download of a remote video, for read_mode: download.  The file is temp(): it
# is deleted as soon as the video's motion job has read it.  Transient faults are retried
# inside `camhd-motion download` (resuming the .part file); job-level retries belong in
# the profiles (a rule-level `retries:` would rerun inside the same SLURM job).  A file
# that cannot be had (404/403, an HTML page or anything not a movie: exit 3) is recorded
# in <results>/failed/ like a bad video (in the bucket with a default storage).


rule download:
    output:
        temp(PLAN.download_path("{vid}")),
    log:
        f"{LOGS}/download/{{vid}}.log",
    conda:
        "../envs/camhd-motion.yaml"
    threads: 1
    resources:
        mem_mb=RES["download_mem_mb"],
        runtime=RES["download_runtime"],
    params:
        url=get_download_url,
        md5=get_download_md5,
        failed_dir=PLAN.failed_dir,
    shell:
        f"camhd-motion download {{params.url:q}} -o {{output:q}} {{params.md5}}"
        f" --failed-dir {{params.failed_dir:q}} {NET_OPTIONS} > {{log:q}} 2>&1"
