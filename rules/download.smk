# Whole-file download of a remote video, for read_mode: download.  The file is temp(): it
# is deleted as soon as the video's motion job has read it.  Transient faults are retried
# inside `camhd-motion download` (resuming the .part file); job-level retries belong in
# the profiles (a rule-level `retries:` would rerun inside the same SLURM job).


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
    shell:
        "camhd-motion download {params.url:q} -o {output:q} {params.md5} > {log:q} 2>&1"
