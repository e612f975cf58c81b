"""Figures, tables and the Snakemake report of a real run, checked against the data behind
them: the shaded spans of a motion plot are the static sections, a contact sheet's
thumbnails are the middle frames of the static sections (decoded independently), the
Parquet tables hold exactly what the JSON files hold, the timeline's cells are the summary.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from camhd_motion.figures.archive import STATUSES, timeline_cells
from camhd_motion.figures.contact_sheet import contact_sheet_figure, middle_frame
from camhd_motion.figures.motion_plot import frame_seconds, motion_figure
from camhd_motion.formats.optical_flow import read_optical_flow
from camhd_motion.formats.regions_json import read_regions_json
from camhd_motion.pipeline.aggregate import read_summary

REPO = Path(__file__).resolve().parents[1]
PREFIX = "RS03ASHS/PN03B/06-CAMHDA301"


def snakemake(work: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(work),
           "--configfile", str(work / "config.yaml"), "--cores", "2", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def run(tmp_path_factory, synth_archive) -> Path:
    work = tmp_path_factory.mktemp("figures-run")
    (work / "config.yaml").write_text(yaml.safe_dump({"source": str(synth_archive.root)}))
    snakemake(work)
    return work


def video_files(run: Path, synth_archive) -> list[tuple[str, Path]]:
    out = []
    for v in synth_archive.videos:
        rel = v.truth.path.split("/", 3)[3][: -len(".mov")]
        out.append((rel, run / "results" / PREFIX / rel))
    return out


def test_motion_plot_draws_the_motion_and_shades_the_static_sections(run, synth_archive):
    for _, base in video_files(run, synth_archive):
        motion = read_optical_flow(f"{base}_optical_flow.json")
        regions = read_regions_json(f"{base}_optical_flow_regions.json")
        assert Path(f"{base}_motion.png").stat().st_size > 10_000
        fig = motion_figure(motion, regions)
        rate = motion.movie.frame_rate
        statics = [(frame_seconds(r.start_frame, rate), frame_seconds(r.end_frame, rate))
                   for r in regions.regions if r.type == "static"]
        valid = [s for s in motion.samples if s.valid]
        for ax, key in zip(fig.axes, ("tx", "ty", "scale"), strict=True):
            spans = sorted((p.get_x(), p.get_x() + p.get_width()) for p in ax.patches)
            assert len(spans) == len(statics)
            assert np.allclose(np.ravel(spans), np.ravel(sorted(statics)))
            dots = next(line for line in ax.lines if line.get_label() == "valid")
            y = dots.get_ydata()
            want = [s.similarity.scale - 1 if key == "scale" else getattr(s.similarity, key)
                    for s in valid]
            assert np.allclose(y, want)
            assert np.allclose(dots.get_xdata(), [frame_seconds(s.frame, rate) for s in valid])
            crosses = [line for line in ax.lines if line.get_label() == "invalid"]
            n_invalid = len(motion.samples) - len(valid)
            assert (len(crosses[0].get_xdata()) if crosses else 0) == n_invalid
        labels = sorted(t.get_gid() for t in fig.axes[0].texts)
        assert labels == sorted(f"move:{r.start_frame}:{r.end_frame}:{r.type}"
                                for r in regions.regions if r.type != "static")


def test_contact_sheet_shows_the_middle_frame_of_each_static_section(run, synth_archive):
    import av
    import cv2

    from camhd_motion.figures.contact_sheet import THUMB_WIDTH, read_thumbnails

    lit = synth_archive.lit[0]
    rel = lit.truth.path.split("/", 3)[3][: -len(".mov")]
    base = run / "results" / PREFIX / rel
    assert Path(f"{base}_static_sections.png").stat().st_size > 10_000
    motion = read_optical_flow(f"{base}_optical_flow.json")
    regions = read_regions_json(f"{base}_optical_flow_regions.json")
    statics = [r for r in regions.regions if r.type == "static"]
    assert statics
    frames = [middle_frame(r) for r in statics]
    thumbs = read_thumbnails(str(lit.mov), frames)
    fig = contact_sheet_figure("t", statics, thumbs, motion.movie.frame_rate)
    images = [im for ax in fig.axes for im in ax.images]
    assert [im.get_gid() for im in images] == [f"thumb:{i}:{f}" for i, f in enumerate(frames)]
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert all(t.startswith(f"#{i} ") and f"frames {r.start_frame}-{r.end_frame}" in t
               for i, (t, r) in enumerate(zip(titles, statics, strict=True)))
    # each thumbnail is that frame, decoded here by PyAV's demuxer, not by our reader
    with av.open(str(lit.mov)) as container:
        decoded = {i + 1: f.to_ndarray(format="gray") for i, f in
                   enumerate(container.decode(video=0)) if i + 1 in set(frames)}
    for frame, image in zip(frames, images, strict=True):
        ref = decoded[frame]
        ref = cv2.resize(ref, (THUMB_WIDTH, image.get_array().shape[0]),
                         interpolation=cv2.INTER_AREA).astype(float)
        got = np.asarray(image.get_array(), dtype=float)
        # ours is full-range grey, PyAV's limited-range: compare after a linear fit
        a, b = np.polyfit(ref.ravel(), got.ravel(), 1)
        assert np.abs(a * ref + b - got).mean() < 2.0, frame
        assert np.corrcoef(ref.ravel(), got.ravel())[0, 1] > 0.99, frame


def test_parquet_tables_hold_what_the_json_files_hold(run, synth_archive):
    results = run / "results"
    regions = pd.read_parquet(results / "tables/regions.parquet")
    samples = pd.read_parquet(results / "tables/motion_samples")  # the monthly tables
    for rel, base in video_files(run, synth_archive):
        stem = rel.rsplit("/", 1)[1]
        want = read_regions_json(f"{base}_optical_flow_regions.json").regions
        got = regions[regions["stem"] == stem].sort_values("index")
        assert list(got["type"]) == [r.type for r in want]
        assert list(got["start_frame"]) == [r.start_frame for r in want]
        assert list(got["end_frame"]) == [r.end_frame for r in want]
        assert np.allclose(got["tx_mean"], [r.stats.tx_mean for r in want], equal_nan=True)
        motion = read_optical_flow(f"{base}_optical_flow.json")
        got = samples[samples["stem"] == stem].sort_values("frame")
        assert list(got["frame"]) == [s.frame for s in motion.samples]
        assert list(got["valid"]) == [s.valid for s in motion.samples]
        assert np.allclose(got["tx"], [s.similarity.tx for s in motion.samples])
        assert np.allclose(got["scale"], [s.similarity.scale for s in motion.samples])
    static = regions[regions["type"] == "static"]
    csv = pd.read_csv(results / "regions.csv")
    assert len(csv) == len(static)


def test_timeline_cells_are_the_summary(run):
    summary = pd.DataFrame(read_summary(run / "results/summary.tsv"))
    summary["static_regions"] = pd.to_numeric(summary["static_regions"])
    days, slots, status, statics = timeline_cells(summary)
    for row in summary.itertuples():
        i = slots.index(row.date_time[11:16])
        j = [str(d)[:10] for d in days].index(row.date_time[:10])
        assert STATUSES[status[i, j]] == row.status
        assert statics[i, j] == row.static_regions
    assert (run / "results/figures/timeline.png").stat().st_size > 10_000
    assert (run / "results/figures/static_sections.png").stat().st_size > 10_000


def test_report_holds_every_figure(run, synth_archive):
    """``snakemake --report``: one HTML file with every figure and table, captioned."""
    snakemake(run, "--report", str(run / "report.html"))
    html = (run / "report.html").read_text()
    names = ["timeline.png", "static_sections.png", "summary.tsv", "regions.csv"]
    for v in synth_archive.videos:
        names += [f"{v.truth.stem}_motion.png", f"{v.truth.stem}_static_sections.png"]
    for name in names:
        assert f'"{name}"' in html, name
    assert "Every scheduled video by day" in html  # a caption


CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# as root, in a closed network: no sandbox, no background connections (env/python.md)
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def test_report_shows_every_figure_in_a_browser(run, synth_archive, tmp_path):
    """The report opened in Debian's chromium: every PNG the run made is listed under its
    category and, when its eye button is clicked, shown as an image the browser decoded."""
    selenium = pytest.importorskip("selenium", reason="selenium not installed (dev extra)")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("Debian's chromium and chromium-driver are not installed (.ci/run does)")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    report = tmp_path / "report.html"
    snakemake(run, "--report", str(report))
    options = selenium.webdriver.ChromeOptions()
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    options.binary_location = CHROMIUM
    browser = selenium.webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.implicitly_wait(5)

    def open_list(category: str, sub: str):
        browser.get(report.as_uri())
        browser.find_element(By.LINK_TEXT, category).click()
        browser.find_element(By.LINK_TEXT, sub).click()
        return [r for r in browser.find_elements(By.CSS_SELECTOR, "tr")
                if r.find_elements(By.CSS_SELECTOR, "a[iconname=eye]")]

    shown = set()
    try:
        for category, subs in (("Archive", ("figures",)),
                               ("Videos", ("motion", "static sections"))):
            for sub in subs:
                for i in range(len(open_list(category, sub))):
                    row = open_list(category, sub)[i]
                    row.find_element(By.CSS_SELECTOR, "a[iconname=eye]").click()
                    image = browser.find_element(By.CSS_SELECTOR, "img[src^='data:image/png']")
                    assert browser.execute_script(
                        "return arguments[0].complete && arguments[0].naturalWidth", image) > 0
                    name = image.get_attribute("src").split("filename=", 1)[1].split(";")[0]
                    shown.add(name)
    finally:
        browser.quit()
    pngs = {p.name for p in (run / "results").rglob("*.png")}
    assert pngs and shown == pngs
