"""The workflow end to end: real ``snakemake`` runs in temporary directories.

All runs read the session's synthetic archive (``synth_archive``: a few small ProRes
videos with exact ground truth, one of them lights-off) and are checked against that
truth: motion within 0.3 px (median) / 1.5 px (p95) and 1e-3 in scale, and every true
static region found with boundaries within one sample.  One full run on the local
archive is shared (module scope); tests that change it work on a copy.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from camhd_motion.archive.names import make_stem, parse_name
from camhd_motion.formats.optical_flow import read_optical_flow
from camhd_motion.formats.regions_csv import read_regions_csv
from camhd_motion.formats.regions_json import read_regions_json
from camhd_motion.pipeline.aggregate import read_summary
from camhd_motion.regions import find_regions
from camhd_motion.synth.truth import Truth

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
PREFIX = "RS03ASHS/PN03B/06-CAMHDA301"
METADATA = REPO.parent / "shared" / "data" / "movie_metadata.csv"


# -- helpers -----------------------------------------------------------------------------


def snakemake(workdir: Path, *args: str, config: str = "config.yaml",
              check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "-d", str(workdir),
           "--configfile", str(workdir / config), "--cores", "2", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    if check and proc.returncode != 0:
        pytest.fail(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n"
                    f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def write_config(workdir: Path, name: str = "config.yaml", **config) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / name).write_text(yaml.safe_dump(config))


def pending_jobs(workdir: Path, *args: str, config: str = "config.yaml") -> dict[str, str]:
    """``{rule:vid -> reason}`` of the jobs ``snakemake -n`` would run."""
    out = snakemake(workdir, "-n", *args, config=config).stdout
    jobs = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", out):
        m = re.match(r"(?:local)?rule (\w+):", block)
        if not m:
            continue
        vid = re.search(r"wildcards: vid=(\S+)", block)
        reason = re.search(r"reason: ([^:\n]+)", block)
        jobs[f"{m[1]}:{vid[1] if vid else ''}"] = reason[1] if reason else ""
    return jobs


def pending_table(workdir: Path, *args: str) -> list[list[str]]:
    proc = subprocess.run(
        [sys.executable, "-m", "camhd_motion", "pending", "-s", str(SNAKEFILE), "-d",
         str(workdir), "--configfile", str(workdir / "config.yaml"), *args],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split("\t") == ["stem", "date_time", "state", "steps", "reason"]
    return [line.split("\t") for line in lines[1:]]


def check_against_truth(results: Path, rel: str, truth: Truth) -> dict:
    """Assert one video's motion and regions files against the ground truth."""
    motion = read_optical_flow(results / f"{PREFIX}/{rel}_optical_flow.json")
    regions = read_regions_json(results / f"{PREFIX}/{rel}_optical_flow_regions.json")
    stride, offset = motion.params.stride, motion.params.pair_offset
    assert motion.movie.url == f"/{PREFIX}/{rel}.mov"
    assert motion.movie.num_frames == truth.num_frames
    true_samples = truth.samples(stride, offset)
    assert [s.frame for s in motion.samples] == [s.frame for s in true_samples]
    errors, scale_errors = [], []
    for got, want in zip(motion.samples, true_samples, strict=True):
        if got.valid and want.valid:
            errors.append(math.hypot(got.similarity.tx - want.similarity.tx,
                                     got.similarity.ty - want.similarity.ty))
            scale_errors.append(abs(got.similarity.scale - want.similarity.scale))
    n_true_valid = sum(s.valid for s in true_samples)
    stats = {"valid": len(errors), "true_valid": n_true_valid}
    if n_true_valid:
        assert len(errors) >= 0.9 * n_true_valid, stats
        stats.update(t_median=float(np.median(errors)), t_p95=float(np.percentile(errors, 95)),
                     s_median=float(np.median(scale_errors)))
        assert stats["t_median"] <= 0.3, stats
        assert stats["t_p95"] <= 1.5, stats
        assert stats["s_median"] <= 1e-3, stats
    else:
        assert not any(s.valid for s in motion.samples)  # lights off: nothing valid
    true_static = [r for r in find_regions(true_samples, stride) if r.type == "static"]
    found = [r for r in regions.regions if r.type == "static"]
    for r in true_static:
        assert any(abs(r.start_frame - f.start_frame) <= stride
                   and abs(r.end_frame - f.end_frame) <= stride for f in found), (
            f"{rel}: true static region {r.start_frame}-{r.end_frame} not found in "
            f"{[(f.start_frame, f.end_frame) for f in found]}")
    stats["static"] = len(true_static)
    return stats


def copy_run(src: Path, dst: Path) -> Path:
    """A copy of a finished run (results, logs, snakemake metadata), mtimes kept."""
    shutil.copytree(src, dst, symlinks=True)
    return dst


# -- the shared run on the local archive -------------------------------------------------


@pytest.fixture(scope="module")
def videos(synth_archive) -> dict[str, tuple[Path, Truth]]:
    """``rel (YYYY/MM/DD/stem) -> (mov, truth)``: lit videos and a lights-off one."""
    found = {v.truth.path.split("/", 3)[3][: -len(".mov")]: (v.mov, v.truth)
             for v in synth_archive.videos}
    assert len(found) >= 3 and any(t.dark.all() for _, t in found.values())
    return found


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, synth_archive) -> Path:
    workdir = tmp_path_factory.mktemp("local-run")
    write_config(workdir, source=str(synth_archive.root))
    snakemake(workdir)
    return workdir


def test_local_archive_run_matches_truth(local_run, videos):
    results = local_run / "results"
    for rel, (_, truth) in videos.items():
        check_against_truth(results, rel, truth)
    # the aggregate: one summary row per video, regions.csv = the static regions of all
    rows = {r["stem"]: r for r in read_summary(results / "summary.tsv")}
    assert set(rows) == {truth.stem for _, truth in videos.values()}
    for _, truth in videos.values():
        row = rows[truth.stem]
        assert int(row["frames"]) == truth.num_frames
        assert row["status"] == ("dark" if truth.dark.all() else "ok")
    statics = read_regions_csv(results / "regions.csv")
    n_static = 0
    for rel in videos:
        regions = read_regions_json(results / f"{PREFIX}/{rel}_optical_flow_regions.json")
        n_static += sum(r.type == "static" for r in regions.regions)
    assert len(statics) == n_static == sum(int(r["static_regions"]) for r in rows.values())
    assert "static regions: " + str(n_static) in (results / "report.md").read_text()
    # each lit video's job log shows its progress through the video
    for rel, (_, truth) in videos.items():
        if not truth.dark.all():
            log = (local_run / f"logs/motion/{rel}.log").read_text()
            assert re.search(r": motion 50% \(\d+/\d+ samples\)", log), log[-500:]
    # no temporary or partial file left behind
    assert not [p for p in results.rglob("*") if p.name.startswith(".") and "tmp" in p.name]


def test_rerun_has_nothing_to_do(local_run):
    out = snakemake(local_run, "-n").stdout
    assert "Nothing to be done" in out


def test_deleted_output_makes_exactly_that_video_pending(local_run, videos, tmp_path):
    work = copy_run(local_run, tmp_path / "run")
    rel = sorted(videos)[1]
    stem = rel.rsplit("/", 1)[1]
    regions = work / f"results/{PREFIX}/{rel}_optical_flow_regions.json"
    motion = regions.with_name(f"{stem}_optical_flow.json")
    motion_bytes = motion.read_bytes()
    regions.unlink()
    jobs = pending_jobs(work)
    assert set(jobs) == {f"regions:{rel}", "aggregate:", "all:"}
    table = pending_table(work)
    assert [(row[0], row[2], row[3]) for row in table] == [(stem, "pending", "regions")]
    assert table[0][4] == "missing"
    assert len(pending_table(work, "--all")) == len(videos)
    # the rerun computes only the regions: the motion file is left as it is
    snakemake(work)
    assert motion.read_bytes() == motion_bytes
    assert regions.exists()
    assert "Nothing to be done" in snakemake(work, "-n").stdout
    # a deleted motion file: its motion, then its regions (updated input)
    motion.unlink()
    jobs = pending_jobs(work)
    assert set(jobs) == {f"motion:{rel}", f"regions:{rel}", "motion_samples:", "aggregate:",
                         "all:"}
    assert [row[3] for row in pending_table(work)] == ["motion,regions"]


def test_parameter_changes_rerun_what_they_affect(local_run, videos, tmp_path):
    work = copy_run(local_run, tmp_path / "run")
    config = yaml.safe_load((work / "config.yaml").read_text())
    # a region threshold: every video's regions job reruns, no motion job
    write_config(work, "regions.yaml", **config, regions={"min_run": 3})
    jobs = pending_jobs(work, config="regions.yaml")
    assert set(jobs) == {f"regions:{r}" for r in videos} | {"aggregate:", "all:"}
    assert all(r.startswith("Params have changed") for j, r in jobs.items()
               if j.startswith("regions:"))
    motions = {rel: work / f"results/{PREFIX}/{rel}_optical_flow.json" for rel in videos}
    before = {rel: p.read_bytes() for rel, p in motions.items()}
    snakemake(work, config="regions.yaml")
    assert {rel: p.read_bytes() for rel, p in motions.items()} == before
    for rel in videos:
        regions = read_regions_json(work / f"results/{PREFIX}/{rel}_optical_flow_regions.json")
        assert regions.params.min_run == 3
    # a motion parameter: every video's motion is recomputed with it
    write_config(work, "motion.yaml", **config, regions={"min_run": 3}, motion={"stride": 20})
    table = pending_table(work, "--configfile", str(work / "motion.yaml"))
    assert len(table) == len(videos) and {row[4] for row in table} == {"params changed"}
    assert {row[3] for row in table} == {"motion,regions"}
    snakemake(work, config="motion.yaml")
    for rel, (_, truth) in videos.items():
        motion = read_optical_flow(motions[rel])
        assert motion.params.stride == 20
        assert len(motion.samples) == len(range(1, truth.num_frames + 1, 20))
    assert "Nothing to be done" in snakemake(work, "-n", config="motion.yaml").stdout


def test_invalid_config_fails_before_any_job(tmp_path, synth_archive):
    write_config(tmp_path, source=str(synth_archive.root), motion={"stride": -1})
    proc = snakemake(tmp_path, check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1] == (
        "config error: motion.stride: -1 is less than the minimum of 1")
    assert "config error" not in proc.stdout
    assert not (tmp_path / "results").exists() and not (tmp_path / "logs").exists()
    write_config(tmp_path, source=str(tmp_path / "nowhere"))
    proc = snakemake(tmp_path, check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1].startswith("error: source ")


def test_bad_video_does_not_stop_the_others(tmp_path, videos):
    """A truncated video fails alone, is recorded, and is reported; the rest completes."""
    dark_rel, (dark_mov, _) = next((r, v) for r, v in videos.items() if v[1].dark.all())
    day = tmp_path / "archive" / PREFIX / dark_rel.rsplit("/", 1)[0]
    day.mkdir(parents=True)
    (day / dark_mov.name).symlink_to(dark_mov)
    name = parse_name(dark_mov.name)
    bad_stem = make_stem(name.start.replace(hour=23, minute=59), z_suffix=name.z_suffix)
    (day / f"{bad_stem}.mov").write_bytes(dark_mov.read_bytes()[:50_000])
    work = tmp_path / "run"
    write_config(work, source=str(tmp_path / "archive"))
    first = snakemake(work, check=False)
    assert first.returncode != 0
    results = work / "results" / PREFIX
    bad_rel = f"{dark_rel.rsplit('/', 1)[0]}/{bad_stem}"
    assert (results / f"{dark_rel}_optical_flow_regions.json").exists()
    assert not list(results.rglob(f"{bad_stem}*"))  # nothing that looks like a result
    record = work / f"results/failed/{bad_rel}.txt"
    assert bad_stem in record.read_text() and len(record.read_text().splitlines()) == 1
    # the next run leaves the bad video out and aggregates the others
    snakemake(work)
    rows = {r["stem"]: r for r in read_summary(work / "results/summary.tsv")}
    assert rows[bad_stem]["status"] == "failed" and bad_stem in rows[bad_stem]["error"]
    assert rows[dark_mov.name[:-4]]["status"] == "dark"
    assert "Nothing to be done" in snakemake(work, "-n").stdout
    # retry_failed puts it back among the targets
    write_config(work, "retry.yaml", source=str(tmp_path / "archive"), retry_failed=True)
    assert f"motion:{bad_rel}" in pending_jobs(work, config="retry.yaml")


def two_videos(videos) -> dict:
    """The first video with lights and its neighbour: enough for a second source."""
    keys = sorted(videos)
    lit = [k for k in keys if not videos[k][1].dark.all()]
    return {k: videos[k] for k in lit[:2]}


def test_manifest_source_run_matches_truth(tmp_path, videos):
    chosen = two_videos(videos)
    listing = tmp_path / "videos.csv"
    listing.write_text("path,note\n" + "".join(f"{mov},x\n" for mov, _ in chosen.values()))
    work = tmp_path / "run"
    write_config(work, source=str(listing))
    snakemake(work)
    manifest = (work / "results/manifest.tsv").read_text()
    assert manifest.count("\n") == 2 + len(chosen)
    for rel, (_, truth) in chosen.items():
        check_against_truth(work / "results", rel, truth)


def test_http_index_source_run_matches_truth(tmp_path, videos, synth_archive,
                                             archive_http_server):
    """Crawled from a real HTTP server's index pages, streamed by byte ranges."""
    chosen = two_videos(videos)
    server = archive_http_server(synth_archive.root)
    day = sorted(chosen)[0][:10]
    work = tmp_path / "run"
    write_config(work, source=server.url, start=day.replace("/", "-"),
                 end=day.replace("/", "-"))
    snakemake(work, *[f"results/{PREFIX}/{rel}_optical_flow_regions.json" for rel in chosen])
    manifest = (work / "results/manifest.tsv").read_text()
    for rel in videos:
        assert (f"{server.url}{PREFIX}/{rel}.mov" in manifest) == rel.startswith(day)
    for rel, (_, truth) in chosen.items():
        check_against_truth(work / "results", rel, truth)
    pages = {r.path for r in server.requests if r.path.endswith("/")}
    assert pages <= {f"/{PREFIX}/", f"/{PREFIX}/{day[:4]}/", f"/{PREFIX}/{day[:7]}/",
                     f"/{PREFIX}/{day}/"}
    sizes = sum(mov.stat().st_size for mov, _ in chosen.values())
    assert 0 < server.bytes_sent < sizes  # only the sampled frames' bytes
    assert not (work / "downloads").exists()


def test_download_mode_fetches_then_deletes_the_video(tmp_path, videos, synth_archive,
                                                      archive_http_server):
    """read_mode: download -- the download rule's file is temp(): gone after the job."""
    rel, (mov, truth) = next((r, v) for r, v in videos.items() if v[1].dark.all())
    server = archive_http_server(synth_archive.root)
    work = tmp_path / "run"
    write_config(work, source=server.url, read_mode="download", pattern=truth.stem)
    snakemake(work)
    assert f"{rel}.mov -> " in (work / f"logs/download/{rel}.log").read_text()
    assert not [p for p in (work / "downloads").rglob("*") if p.is_file()]
    files = [r for r in server.file_requests() if r.path.endswith(".mov")]
    assert sum(r.sent for r in files) == mov.stat().st_size  # the whole file, once
    check_against_truth(work / "results", rel, truth)
    rows = read_summary(work / "results/summary.tsv")
    assert [(r["stem"], r["status"]) for r in rows] == [(truth.stem, "dark")]


# -- the workflow's form and scale ------------------------------------------------------


def test_lint_and_format_are_clean(tmp_path, synth_archive):
    listing = tmp_path / "videos.txt"
    listing.write_text(f"https://example.org/{PREFIX}/2016/01/01/CAMHDA301-20160101T000000Z.mov\n")
    # streamed remote videos, their downloads, and local files (the embedded default)
    for name, config in [("stream", {"source": str(listing)}),
                         ("download", {"source": str(listing), "read_mode": "download"}),
                         ("local", {"source": str(synth_archive.root)})]:
        write_config(tmp_path / name, **config)
        lint = snakemake(tmp_path / name, "--lint", check=False)
        assert lint.returncode == 0, (name, lint.stdout + lint.stderr)
    fmt = subprocess.run([str(Path(sys.executable).with_name("snakefmt")), "--check",
                          str(SNAKEFILE), str(REPO / "rules")], capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.skipif(not METADATA.exists(), reason="shared data not present")
def test_dry_run_of_the_real_archive_listing(tmp_path):
    """The real archive listing (11,645 videos, Z and _NN names) as a manifest source."""
    write_config(tmp_path, source=str(METADATA), md5=False)
    out = snakemake(tmp_path, "-n", "-q", "rules").stdout
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", out, re.M))
    assert counts["motion"] == counts["regions"] == "11645" and counts["aggregate"] == "1"
    assert os.path.getsize(tmp_path / "results/manifest.tsv") > 1_000_000
