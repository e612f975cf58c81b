# All videos of the run: static regions (regions.csv), one summary row per video
# (summary.tsv: frames, samples, valid fraction, static count, seconds, status) and a short
# report.  Bad videos recorded in <results>/failed/ appear with status "failed".


rule aggregate:
    input:
        manifest=config["manifest"],
        regions=get_all_regions,
        motion=get_all_motion,
    output:
        regions=f"{RESULTS}/regions.csv",
        summary=f"{RESULTS}/summary.tsv",
        report=f"{RESULTS}/report.md",
    log:
        f"{LOGS}/aggregate.log",
    conda:
        "../envs/camhd-motion.yaml"
    threads: 1
    resources:
        mem_mb=RES["aggregate_mem_mb"],
        runtime=RES["aggregate_runtime"],
    params:
        results=lambda wildcards, output: os.path.dirname(output.regions) or ".",
        selection=selection_args(),
    shell:
        "camhd-motion aggregate --manifest {input.manifest:q} --results {params.results:q} "
        "{params.selection} --regions-csv {output.regions:q} --summary {output.summary:q} "
        "--report {output.report:q} > {log:q} 2>&1"
