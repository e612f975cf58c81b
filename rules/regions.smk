# The static sections of one video from its motion file: <stem>_optical_flow_regions.json,
# and (config per_video_figures) its motion plot and the contact sheet of its static
# sections, read from a few frames of the video.  A change of the thresholds (config
# regions:) reruns only these jobs, never the motion.


rule regions:
    input:
        motion=PLAN.motion_json("{vid}"),
        video=video_input() if FIGURES else [],
    output:
        **figure_outputs(),
        json=PLAN.regions_json("{vid}"),
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
        video=video_location() if FIGURES else "",
    shell:
        REGIONS_COMMAND
