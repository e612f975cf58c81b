"""In-memory results of the motion step and the static-section step.

The JSON formats (:mod:`camhd_motion.formats`) serialise exactly these objects.
Frame numbers are 1-based, like QuickTime and the original system.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from camhd_motion.errors import UserError
from camhd_motion.geometry import Similarity
from camhd_motion.params import param


@dataclass
class MotionSample:
    """Motion between ``from_frame`` and ``to_frame`` (the pair of sample ``frame``)."""

    frame: int
    from_frame: int
    to_frame: int
    similarity: Similarity = field(default_factory=Similarity)
    valid: bool = False
    # Why an invalid sample is invalid: "dark", "unreadable: <cause>", "too few points", ...
    reason: str | None = None
    # Confidence: corners tracked between the pair and RANSAC inliers of the fit.
    tracked: int = 0
    inliers: int = 0
    # Mean grey (0-255) of the from/to frames at working resolution; None if not decoded.
    mean_grey: tuple[float, float] | None = None


@dataclass
class MotionParams:
    """Parameters of the motion step.  Defaults are the original system's.

    Each field's default, doc and bounds are declared here once (:mod:`camhd_motion.params`):
    the CLI options, the workflow config schema and the checks are made from them."""

    stride: int = param(10, "frames between samples: 1, 1+stride, ...", minimum=1)
    pair_offset: int = param(5, "sample f compares frame f-offset with f+offset (clamped)",
                             minimum=1)
    img_scale: float = param(0.25, "working resolution, 1/k for an integer k in 1..8 (block "
                             "average; 0.25 = 480x270 for 1080p)", exclusive_minimum=0,
                             maximum=1)
    dark_threshold: float = param(5.0, "mean grey (0-255) below which a frame is dark "
                                  "(its samples invalid)", minimum=0, maximum=255)
    # 120 rather than 200 (issue 10): as accurate on every scene family measured, and LK,
    # the largest cost after decoding, is proportional to it (docs/ENGINE.md).
    max_corners: int = param(120, "corners tracked per pair at most", minimum=1)
    min_inliers: int = param(12, "fewer RANSAC inliers -> invalid sample", minimum=3)
    # 0.5 rather than 1: slow marine snow within 1 px biased holds by ~0.2 full-res px on
    # the synthetic videos (measured, docs/ENGINE.md).
    ransac_threshold: float = param(0.5, "RANSAC inlier threshold, working-resolution px",
                                    exclusive_minimum=0)
    # Marine snow drifting on its own took the corners and locked the fit on itself in the
    # hard scenes of issue 10 (measured, docs/ENGINE.md).
    snow_size: int = param(7, "marine snow removal: bright specks narrower than this "
                           "(working px) are removed before tracking (0 = off)", minimum=0)
    # How frames become working images: "partial" reads the 1/4 (or 1/8) picture straight
    # out of the ProRes bitstream, FFmpeg's full decode where it cannot (docs/PRORES.md),
    # for frames of faint texture and for a second look at the pairs that picture does not
    # settle (estimator step 9); "ffmpeg" decodes every frame in full.  Recorded in the
    # output (analysis.params).  Partial by default: 3-4x cheaper per lit video, and the
    # full decode's numbers in dark water (BENCHMARKS.md).
    decoder: str = param("partial", "frame decoder: partial (1/4 or 1/8 picture straight "
                         "from the ProRes bitstream; FFmpeg where it cannot, for faint "
                         "frames and second looks) or ffmpeg (full decode)",
                         choices=("partial", "ffmpeg"))

    def extra_checks(self) -> None:
        from camhd_motion.video.grey import factor_for_scale

        try:
            factor_for_scale(self.img_scale)
        except ValueError:
            raise UserError(f"img_scale: {self.img_scale} is not 1/k for an integer k in "
                            "1..8 (0.25, 0.5, ...)") from None


@dataclass
class MovieInfo:
    """What is known of the movie.  ``url`` is archive-relative with a leading ``/``."""

    url: str
    num_frames: int
    duration: float  # seconds
    cache_url: str = ""  # where the bytes were actually read from
    width: int = 1920
    height: int = 1080
    frame_rate: float = 30000 / 1001
    creation_time: str | None = None  # ISO 8601 UTC from mvhd, if present


@dataclass
class MotionResult:
    movie: MovieInfo
    params: MotionParams
    samples: list[MotionSample]
    engine: str = "python"
    engine_version: str = ""
    performance: dict = field(default_factory=dict)

    @property
    def center(self) -> tuple[float, float]:
        return (-self.movie.width / 2.0, -self.movie.height / 2.0)


@dataclass
class RegionStats:
    scale_mean: float
    tx_mean: float
    ty_mean: float
    size: int  # number of samples


@dataclass
class Region:
    start_frame: int
    end_frame: int
    type: str  # static zoom_in zoom_out N NE E SE S SW W NW unknown short
    stats: RegionStats
    scene_tag: str | None = None
    extra: dict = field(default_factory=dict)  # keys read from files we do not interpret


REGION_TYPES = (
    "static",
    "zoom_in",
    "zoom_out",
    "N",
    "NE",
    "E",
    "SE",
    "S",
    "SW",
    "W",
    "NW",
    "unknown",
    "short",
)


@dataclass
class RegionParams:
    """Thresholds of ``find_regions``; defaults are the original's (declared once, as
    :class:`MotionParams`)."""

    max_translation_sq: float = param(100.0, "stable when tx^2+ty^2 < this (full-res px^2 "
                                      "per pair)", exclusive_minimum=0)
    max_scale_dev: float = param(0.01, "stable when |scale-1| < this", exclusive_minimum=0)
    gap_factor: float = param(1.01, "stable samples are consecutive when their frames differ "
                              "by <= this x stride", exclusive_minimum=0)
    min_run: int = param(2, "drop static runs of fewer samples than this", minimum=1)
    zoom_in: float = param(1.05, "label a move zoom_in when its mean scale > this",
                           exclusive_minimum=0)
    zoom_out: float = param(0.95, "label a move zoom_out when its mean scale < this",
                            exclusive_minimum=0)
    move_px: float = param(10.0, "label a move's direction when a mean translation "
                           "component exceeds this (full-res px)", exclusive_minimum=0)
    squash_frames: int = param(30, "squash interior regions spanning <= this many frames "
                               "into their neighbours", minimum=0)


@dataclass
class RegionsResult:
    movie: MovieInfo
    params: RegionParams
    regions: list[Region]
    stride: int
    depends: dict = field(default_factory=dict)
    performance: dict = field(default_factory=dict)
    # ``versions`` block of the file, e.g. {"findRegions": "1.1"}; tells which semantics made
    # the regions (findRegions 1.0 = the original's, whose ``size`` is not a sample count).
    versions: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # top-level keys read from files we do not interpret
