"""The project's image (envs/Dockerfile), run for real with podman.

Needs podman and the image that ``bash .ci/build-image.sh`` builds
(``localhost/camhd-motion:test``, or ``$CAMHD_TEST_IMAGE``).  Without them the tests are
skipped, saying why -- unless ``CAMHD_REQUIRE_IMAGE=1`` (CI), where that is a failure.

- ``camhd-motion`` in the image on a synthetic video: both engines, against the truth.
- Google Batch, played locally (``tests/fixtures/googlebatch.py``): ``snakemake --profile
  profiles/gcp`` with the real googlebatch executor plugin.  Every Batch job the plugin
  creates runs as Batch runs it on a Container-Optimized OS VM: the plugin's setup script
  writes the container's entrypoint, then the image runs that entrypoint against the GCS
  emulator (``--network host``), in a fresh directory, sharing no filesystem with the
  controller or the other jobs.  The whole workflow's results land in the bucket; each
  job's container exits 0, and a batch holding a bad video exits non-zero (so Batch, and
  then snakemake, see it fail).  The Batch job requests are checked too: COS boot image,
  disk size, machine type, preemptible, network, pinned image.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from camhd_motion.formats.optical_flow import read_optical_flow
from camhd_motion.pipeline.aggregate import read_summary
from tests.fixtures.googlebatch import DEFAULT_PODMAN, RUN_FLAGS, load_jobs

REPO = Path(__file__).resolve().parents[1]
IMAGE = os.environ.get("CAMHD_TEST_IMAGE", "localhost/camhd-motion:test")
PODMAN = shlex.split(os.environ.get("CAMHD_PODMAN", DEFAULT_PODMAN))
PREFIX = "RS03ASHS/PN03B/06-CAMHDA301"
BUCKET = "camhd-container-test"
COS_IMAGE = "projects/batch-custom-image/global/images/family/batch-cos-stable-official"
NETWORK = "projects/test/global/networks/camhd"
SUBNETWORK = "projects/test/regions/us-west1/subnetworks/camhd-us-west1"
# not part of the workflow that snakemake packs for the jobs
NOT_WORKFLOW = {"tests", "src", "native", "bench", "docs", ".ci", "data"}

# The digest of what the image's package is built from, computed the same way here and in
# the image (which keeps its build sources in /opt/camhd-motion).
SOURCES_DIGEST = """
import hashlib, pathlib, sys
root = pathlib.Path(sys.argv[1])
files = sorted(p for p in (root / "src").rglob("*.py") if "__pycache__" not in p.parts)
files += [root / "pyproject.toml", root / "envs" / "constraints.txt"]
h = hashlib.sha256()
for p in files:
    h.update(p.relative_to(root).as_posix().encode() + b"\\0" + p.read_bytes())
print(h.hexdigest())
"""


def unavailable(why: str):
    if os.environ.get("CAMHD_REQUIRE_IMAGE") == "1":
        pytest.fail(why + " (CAMHD_REQUIRE_IMAGE=1)")
    pytest.skip(why)


@pytest.fixture(scope="module")
def image() -> str:
    """The image by digest (``localhost/camhd-motion@sha256:...``): what the gcp profile
    requires, and what Batch would pull."""
    if not shutil.which(PODMAN[0]):
        unavailable("podman is not installed: bash .ci/build-image.sh installs it and "
                    "builds the image")
    inspect = subprocess.run([*PODMAN, "image", "inspect", "--format", "{{.Digest}}", IMAGE],
                             capture_output=True, text=True)
    if inspect.returncode != 0:
        unavailable(f"no image {IMAGE}: build it with bash .ci/build-image.sh "
                    f"({inspect.stderr.strip()[-200:]})")
    ref = IMAGE.rsplit(":", 1)[0] + "@" + inspect.stdout.strip()
    inside = subprocess.run([*PODMAN, "run", "--rm", *RUN_FLAGS, ref, "python3", "-c",
                             SOURCES_DIGEST, "/opt/camhd-motion"],
                            capture_output=True, text=True)
    here = subprocess.run([sys.executable, "-c", SOURCES_DIGEST, str(REPO)],
                          capture_output=True, text=True, check=True)
    if inside.stdout != here.stdout:
        unavailable(f"{IMAGE} was built from other sources than this tree (src/, "
                    "pyproject.toml, envs/constraints.txt): rebuild it with "
                    f"bash .ci/build-image.sh {inside.stderr[-200:]}")
    return ref


def run_in(image: str, *args: str, volumes: dict | None = None, timeout: int = 600):
    cmd = [*PODMAN, "run", "--rm", *RUN_FLAGS, "--network", "host"]
    for host, inside in (volumes or {}).items():
        cmd += ["-v", f"{host}:{inside}"]
    proc = subprocess.run([*cmd, image, *args], capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{shlex.join(args)}: {proc.stderr[-3000:]}"
    return proc


# --------------------------------------------------------------------------- the image


def test_image_holds_the_pinned_environment(image):
    """Both engines on PATH, and every Python package at its pinned version."""
    out = run_in(image, "bash", "-c", "camhd-motion --version && camhd-motion-native "
                 "--version && pip check && pip freeze --exclude-editable").stdout
    assert "camhd-motion 0.1.0" in out and "camhd-motion-native" in out

    def pinned(lines):
        return {re.sub(r"[-_.]+", "-", name).lower(): version
                for name, _, version in (line.strip().partition("==") for line in lines
                                         if "==" in line and not line.startswith("#"))}

    pins = pinned((REPO / "envs/constraints.txt").read_text().splitlines())
    frozen = pinned(out.splitlines())
    assert len(frozen) > 50
    for name, version in frozen.items():
        if name not in ("setuptools", "wheel", "camhd-motion"):
            assert pins.get(name) == version, f"{name} {version} in the image, not pinned"
    # the googlebatch hook leaves ordinary shells alone
    assert run_in(image, "bash", "-c", "type -t python3 pip; true").stdout.split() == [
        "file", "file"]


@pytest.mark.parametrize("job, status", [("true", 0), ("false", 1), ("(exit 3)", 3)])
def test_hook_keeps_the_job_status(image, tmp_path, job, status):
    """envs/googlebatch-hook.bash on an entrypoint shaped like the plugin's (the test below
    runs the plugin's own): the trailing pips install nothing and keep the job's status,
    the storage plugin deployment is a no-op, without any network."""
    script = tmp_path / "entrypoint.sh"
    script.write_text(
        "pip install --target '.snakemake/pip-deployments' snakemake-storage-plugin-gcs"
        f" && {job}\n\n# https://github.com/boto/botocore/issues/3111\n"
        "python3 -m pip install boto3==1.33.11\npython3 -m pip install urllib3==1.26.17\n")
    cmd = [*PODMAN, "run", "--rm", *RUN_FLAGS, "--network", "none", "-v",
           f"{tmp_path}:/tmp/workdir", "--workdir", "/tmp/workdir", "--entrypoint",
           "/bin/bash", image, "/tmp/workdir/entrypoint.sh"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == status, proc.stderr
    assert "not deployed again: snakemake-storage-plugin-gcs==" in proc.stderr
    assert proc.stderr.count(f"the task keeps the job's exit status {status}") == 2
    assert not (tmp_path / ".snakemake").exists()


def test_camhd_motion_in_image(image, synth_archive, tmp_path):
    """Both engines of the image on a lit synthetic video: the Python engine against the
    truth (the accuracy targets of test_motion_accuracy), the native engine within the
    stated tolerance of it, and the regions command."""
    video = synth_archive.lit[0]
    rel = video.mov.relative_to(synth_archive.root).as_posix()
    out = tmp_path / "out"
    out.mkdir()
    vols = {str(synth_archive.root): "/archive:ro", str(out): "/out"}
    run_in(image, "camhd-motion", "motion", f"/archive/{rel}", "-o", "/out/py.json",
           "--workers", "2", volumes=vols)
    run_in(image, "camhd-motion", "motion", f"/archive/{rel}", "-o", "/out/native.json",
           "--engine", "native", volumes=vols)
    run_in(image, "camhd-motion", "regions", "/out/py.json", "-o", "/out/regions.json",
           volumes=vols)

    py = read_optical_flow(out / "py.json")
    truth = video.truth.samples(py.params.stride, py.params.pair_offset)
    assert [s.frame for s in py.samples] == [t.frame for t in truth]
    err = np.array([math.hypot(e.similarity.tx - t.similarity.tx,
                               e.similarity.ty - t.similarity.ty)
                    for e, t in zip(py.samples, truth, strict=True) if e.valid and t.valid])
    assert len(err) > 100
    assert np.median(err) <= 0.3 and np.percentile(err, 95) <= 1.5, (
        np.median(err), np.percentile(err, 95))

    nat = read_optical_flow(out / "native.json")
    assert nat.engine == "native" and py.engine == "python"
    assert [(s.frame, s.valid) for s in nat.samples] == [(s.frame, s.valid) for s in py.samples]
    for a, b in zip(py.samples, nat.samples, strict=True):
        assert abs(a.similarity.tx - b.similarity.tx) < 0.01
        assert abs(a.similarity.ty - b.similarity.ty) < 0.01
    regions = json.loads((out / "regions.json").read_text())
    assert "static" in json.dumps(regions)


# --------------------------------------------------------------------------- Google Batch


def workflow_copy(dest: Path) -> Path:
    """The workflow part of this checkout (what git would give a controller), as a new
    git repository: snakemake packs the job's sources from the files git tracks."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    dest.mkdir(parents=True)
    for rel in listed:
        src = REPO / rel
        if rel.split("/", 1)[0] in NOT_WORKFLOW or not src.is_file():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    return dest


def link(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


@pytest.fixture
def batch_controller(image, tmp_path, gcs_emulator, archive_http_server):
    """``start(archive_root) -> run(*args)``: a controller (a workflow checkout) whose
    config reads ``archive_root`` over HTTP, running ``snakemake --profile profiles/gcp``
    on the local Batch, everything in the emulator's bucket."""
    if not shutil.which("git"):
        pytest.skip("git is needed to pack the workflow sources")
    gcs_emulator.bucket(BUCKET)

    def start(root: Path, name: str):
        server = archive_http_server(root)
        work = workflow_copy(tmp_path / name)
        (work / "run.yaml").write_text(yaml.safe_dump({"source": server.url}))
        batch = tmp_path / f"{name}-batch"
        batch.mkdir()
        env = dict(os.environ, CAMHD_GCP_PROJECT="test", CAMHD_GCP_REGION="us-west1",
                   CAMHD_GCP_BUCKET=f"gs://{BUCKET}/{name}", CAMHD_GCP_IMAGE=image,
                   CAMHD_GCP_NETWORK=NETWORK, CAMHD_GCP_SUBNETWORK=SUBNETWORK,
                   CAMHD_LOCAL_BATCH_DIR=str(batch), CAMHD_PODMAN=shlex.join(PODMAN),
                   PYTHONPATH=str(REPO))

        def run(*args: str) -> subprocess.CompletedProcess:
            cmd = ["timeout", "-s", "INT", "-k", "30", "1200", sys.executable,
                   "-m", "tests.fixtures.googlebatch",
                   "--configfile", "run.yaml", "--profile", "profiles/gcp",
                   # the jobs reach the emulator as they would reach GCS (real Batch VMs
                   # get credentials from the metadata server instead)
                   "--envvars", "STORAGE_EMULATOR_HOST",
                   "--seconds-between-status-checks", "2", *args]
            return subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)

        return work, batch, run

    return start


def container_exit(job: dict, attempt: int = -1) -> int | None:
    """The exit code of the container runnable (the snakemake job) of one attempt."""
    codes = [c for c in job["attempts"][attempt] if c["kind"] == "container"]
    return codes[0]["exit_code"] if codes else None


def entrypoint(job: dict) -> str:
    return (job["home"] / "attempt-0/vm/tmp/workdir/entrypoint.sh").read_text()


def task_log(job: dict, attempt: int = 0) -> str:
    return "".join(p.read_text(errors="replace")
                   for p in sorted((job["home"] / f"attempt-{attempt}").glob("runnable-*.log")))


def is_video_batch(job: dict) -> bool:
    return "vid=" in entrypoint(job)


def test_workflow_on_google_batch_in_image(batch_controller, synth_archive, gcs_emulator,
                                           image):
    """The whole workflow through the googlebatch plugin, every job in the image with no
    shared filesystem; every Batch task exits 0 and the results are the workflow's."""
    work, batch, run = batch_controller(synth_archive.root, "ok")
    proc = run("--group-components", "videos=2", "--jobs", "3")
    assert proc.returncode == 0, proc.stderr[-5000:]
    jobs = load_jobs(batch)

    # 3 videos in batches of 2 (2 Batch jobs), then the aggregate (1 Batch job)
    videos = [j for j in jobs if is_video_batch(j)]
    assert len(videos) == 2 and len(jobs) == 3
    for job in jobs:
        assert job["state"] == "SUCCEEDED", task_log(job)
        assert len(job["attempts"]) == 1
        assert container_exit(job) == 0
        script = entrypoint(job)
        # the plugin's own entrypoint: the job, then (0.5.1) its pip trailer, which the
        # image turns into no-ops that keep the job's status
        assert "-m snakemake --deploy-sources gs://" in script
        if "python3 -m pip install" in script:
            assert "the task keeps the job's exit status 0" in task_log(job)
        assert "already installed, not deployed again: snakemake-storage-plugin-gcs==" in (
            task_log(job))

    # what was asked of Batch (the profile as shipped, through the plugin's own code)
    for job in jobs:
        spec = job["spec"]
        policy = spec["allocation_policy"]["instances"][0]["policy"]
        assert policy["machine_type"] == "e2-standard-4"
        assert policy["boot_disk"]["image"] == COS_IMAGE  # COS, also with a disk size set
        assert int(policy["boot_disk"]["size_gb"]) == 30
        net = spec["allocation_policy"]["network"]["network_interfaces"][0]
        assert (net["network"], net["subnetwork"]) == (NETWORK, SUBNETWORK)
        container = spec["task_groups"][0]["task_spec"]["runnables"][3]["container"]
        assert container["image_uri"] == image
        assert spec["labels"]["app"] == "camhd-motion"
        # plugin 0.5.1: PREEMPTIBLE (not SPOT) for the video batches, the default for the rest
        expected = "PREEMPTIBLE" if job in videos else "PROVISIONING_MODEL_UNSPECIFIED"
        assert policy["provisioning_model"] == expected
        task = spec["task_groups"][0]["task_spec"]
        assert int(task["max_retry_count"]) == 1
        if job in videos:  # per video side by side: 1 vCPU, 2000 MiB (the motion job's)
            n = min(len(set(re.findall(r"vid=([^' ]+)", entrypoint(job)))), 4)
            assert (int(task["compute_resource"]["cpu_milli"]),
                    int(task["compute_resource"]["memory_mib"])) == (1000 * n, 2000 * n)

    # every result in the bucket, none on the controller
    blobs = {b.name for b in gcs_emulator.client.list_blobs(BUCKET, prefix="ok/")}
    for v in synth_archive.videos:
        for suffix in ("_optical_flow.json", "_optical_flow_regions.json"):
            assert f"ok/results/{PREFIX}/2016/01/01/{v.truth.stem}{suffix}" in blobs
    assert {"ok/results/summary.tsv", "ok/results/regions.csv", "ok/results/report.md"} <= blobs
    assert not [p for p in (work / "results").rglob("*")
                if p.is_file() and p.name != "manifest.tsv"]
    summary = work.parent / "summary.tsv"
    gcs_emulator.client.bucket(BUCKET).blob("ok/results/summary.tsv").download_to_filename(
        summary)
    rows = {r["stem"]: r for r in read_summary(summary)}
    for v in synth_archive.videos:
        assert rows[v.truth.stem]["status"] == ("dark" if v.truth.dark.all() else "ok")
        assert int(rows[v.truth.stem]["frames"]) == v.truth.num_frames
    # the plugin fetched each job's log from "Cloud Logging"
    logs = list((work / ".snakemake/googlebatch_logs").rglob("*.log"))
    assert len(logs) == 3 and all("--deploy-sources" in p.read_text() for p in logs)

    assert "Nothing to be done" in run("-n").stdout


def test_bad_video_fails_its_batch_task(batch_controller, synth_archive, gcs_emulator,
                                        tmp_path):
    """A truncated video and a good (short, dark) one in one batch: the Batch task's
    container exits non-zero, Batch and snakemake see the job fail, what the good video
    finished is kept in the bucket, and so is the bad video's record."""
    from camhd_motion.archive.names import make_stem, parse_name

    root = tmp_path / "archive"
    good = synth_archive.black[0].mov
    day = root / good.parent.relative_to(synth_archive.root)
    day.mkdir(parents=True)
    link(good, day / good.name)
    name = parse_name(good.name)
    bad_stem = make_stem(name.start.replace(hour=23, minute=59), z_suffix=name.z_suffix)
    (day / f"{bad_stem}.mov").write_bytes(good.read_bytes()[:50_000])

    work, batch, run = batch_controller(root, "bad")
    # one attempt per Batch job and no resubmission: the exit status is the point here
    proc = run("--group-components", "videos=2", "--jobs", "2", "--preemptible-retries", "0",
               "--googlebatch-retry-count", "0")
    assert proc.returncode != 0
    jobs = load_jobs(batch)
    assert len(jobs) == 1, [j["id"] for j in jobs]  # the batch of 2; no aggregate
    job = jobs[0]
    assert job["state"] == "FAILED"
    assert [len(a) for a in job["attempts"]] == [3]  # setup, Snakefile, container
    code = container_exit(job)
    assert code not in (0, None), task_log(job)
    if "python3 -m pip install" in entrypoint(job):
        assert f"the task keeps the job's exit status {code}" in task_log(job)
    assert "failed" in proc.stderr.lower()

    blobs = {b.name for b in gcs_emulator.client.list_blobs(BUCKET, prefix="bad/")}
    # the good video's motion, done side by side with the bad one, is kept in the bucket
    # (keep-incomplete); the job stopped at the failure, before its regions
    rel = good.relative_to(synth_archive.root).with_suffix("").as_posix()
    assert f"bad/results/{rel}_optical_flow.json" in blobs
    assert not [b for b in blobs if bad_stem in b and "/results/RS03ASHS/" in b]

    # the bad video's record, written by the job in the container, is in the bucket (the
    # VM's disk is gone): the controller's note names it, and the next run leaves it out
    from camhd_motion.archive.manifest import rel_path

    record = gcs_emulator.client.bucket(BUCKET).get_blob(
        f"bad/results/failed/{rel_path(bad_stem)}.txt")
    assert record is not None, task_log(job)
    assert bad_stem in record.download_as_text() and "truncated" in record.download_as_text()
    assert f"recorded in gs://{BUCKET}/bad/results/failed/ ({bad_stem})" in proc.stderr
    dry = run("-n", "--group-components", "videos=2")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert bad_stem not in dry.stdout + dry.stderr
