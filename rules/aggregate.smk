# All videos of the run: static regions (regions.csv), every region (regions.parquet), one
# summary row per video (summary.tsv: frames, samples, valid fraction, static count,
# seconds, status), a short report and the archive figures; and, per month, every motion
# sample (tables/motion_samples/YYYY-MM.parquet).  Bad videos recorded in
# <results>/failed/ (in the bucket with a default storage) appear with status "failed".


rule aggregate:
    input:
        manifest=config["manifest"],
        regions=get_all_regions,
        motion=get_all_motion,
    output:
        regions=report(
            f"{RESULTS}/regions.csv",
            caption="../report/regions_csv.rst",
            category="Archive",
            subcategory="tables",
        ),
        summary=report(
            f"{RESULTS}/summary.tsv",
            caption="../report/summary.rst",
            category="Archive",
            subcategory="tables",
        ),
        report=f"{RESULTS}/report.md",
        regions_parquet=f"{RESULTS}/tables/regions.parquet",
        timeline=report(
            f"{RESULTS}/figures/timeline.png",
            caption="../report/timeline.rst",
            category="Archive",
            subcategory="figures",
        ),
        static_stats=report(
            f"{RESULTS}/figures/static_sections.png",
            caption="../report/static_sections.rst",
            category="Archive",
            subcategory="figures",
        ),
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
        failed_dir=get_failed_dir,
        selection=selection_args(),
    shell:
        "camhd-motion aggregate --manifest {input.manifest:q} --results {params.results:q} "
        "--failed-dir {params.failed_dir:q} {params.selection} "
        "--regions-csv {output.regions:q} --summary {output.summary:q} "
        "--report {output.report:q} --regions-parquet {output.regions_parquet:q} "
        "--timeline {output.timeline:q} --static-stats {output.static_stats:q} "
        "> {log:q} 2>&1"


# A light job (reading the month's JSON files): it runs where snakemake runs, not as a
# cluster or cloud job of its own.
rule motion_samples:
    input:
        get_month_motion,
    output:
        f"{RESULTS}/tables/motion_samples/{{month}}.parquet",
    log:
        f"{LOGS}/motion_samples/{{month}}.log",
    localrule: True
    conda:
        "../envs/camhd-motion.yaml"
    threads: 1
    resources:
        mem_mb=RES["aggregate_mem_mb"],
        runtime=RES["aggregate_runtime"],
    shell:
        "camhd-motion samples -o {output:q} {input:q} > {log:q} 2>&1"
