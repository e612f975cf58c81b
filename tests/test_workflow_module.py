"""The workflow as a Snakemake module of another workflow (``module`` + ``use rule *``).

A consumer workflow in a temporary directory includes this repository's ``Snakefile``
with its own config and a rule of its own that reads the module's summary; the run's
results are checked against the synthetic archive's truth like the workflow's own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from camhd_motion.formats.regions_json import read_regions_json
from camhd_motion.pipeline.aggregate import read_summary
from tests.test_workflow import PREFIX, check_against_truth

REPO = Path(__file__).resolve().parents[1]

CONSUMER = f"""\
configfile: "consumer.yaml"


module camhd:
    snakefile:
        "{REPO / "Snakefile"}"
    config:
        config["camhd"]


use rule * from camhd as camhd_*


rule all:
    default_target: True
    input:
        rules.camhd_all.input,
        "video_count.txt",


rule count_videos:
    input:
        "results/summary.tsv",
    output:
        "video_count.txt",
    shell:
        "tail -n +2 {{input}} | wc -l > {{output}}"
"""


def test_consumer_workflow_runs_the_module(tmp_path, synth_archive):
    (tmp_path / "Snakefile").write_text(CONSUMER)
    config = {"camhd": {"source": str(synth_archive.root), "regions": {"min_run": 3}}}
    (tmp_path / "consumer.yaml").write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "-d", str(tmp_path),
           "-s", str(tmp_path / "Snakefile")]
    dry = subprocess.run([*cmd, "-n", "-q", "rules"], capture_output=True, text=True,
                         timeout=600)
    assert dry.returncode == 0, dry.stderr[-3000:]
    n = len(synth_archive.videos)
    for rule, count in (("camhd_motion", n), ("camhd_regions", n), ("camhd_aggregate", 1),
                        ("count_videos", 1)):
        assert any(line.split() == [rule, str(count)] for line in dry.stdout.splitlines()), (
            rule, dry.stdout)
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-3000:]
    results = tmp_path / "results"
    assert (tmp_path / "video_count.txt").read_text().strip() == str(n)
    rows = {r["stem"]: r for r in read_summary(results / "summary.tsv")}
    for v in synth_archive.videos:
        rel = v.truth.path.split("/", 3)[3][: -len(".mov")]
        check_against_truth(results, rel, v.truth)
        assert rows[v.truth.stem]["status"] == ("dark" if v.truth.dark.all() else "ok")
        regions = read_regions_json(results / f"{PREFIX}/{rel}_optical_flow_regions.json")
        assert regions.params.min_run == 3  # the consumer's config reached the module
        assert (tmp_path / f"logs/motion/{rel}.log").exists()
        assert (tmp_path / f"logs/benchmarks/motion/{rel}.tsv").exists()
