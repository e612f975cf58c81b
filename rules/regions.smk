# The static sections of one video from its motion file: <stem>_optical_flow_regions.json.
# A change of the thresholds (config regions:) reruns only these jobs, never the motion.


rule regions:
    input:
        PLAN.motion_json("{vid}"),
    output:
        PLAN.regions_json("{vid}"),
    log:
        f"{LOGS}/regions/{{vid}}.log",
    benchmark:
        f"{LOGS}/benchmarks/regions/{{vid}}.tsv"
    conda:
        "../envs/camhd-motion.yaml"
    threads: 1
    resources:
        mem_mb=RES["regions_mem_mb"],
        runtime=RES["regions_runtime"],
    params:
        regions=REGION_OPTIONS,
    shell:
        "camhd-motion regions {input:q} -o {output:q} {params.regions} > {log:q} 2>&1"
