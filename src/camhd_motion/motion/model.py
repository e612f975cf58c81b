"""In-memory results of the motion step and the static-section step.

The JSON formats (:mod:`camhd_motion.formats`) serialise exactly these objects.
Frame numbers are 1-based, like QuickTime and the original system.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from camhd_motion.geometry import Similarity


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
    """Parameters of the motion step.  Defaults are the original system's."""

    stride: int = 10  # a sample every `stride` frames: 1, 1+stride, ...
    pair_offset: int = 5  # sample f compares f-offset and f+offset (clamped)
    img_scale: float = 0.25  # working resolution (block average of 1/img_scale pixels)
    dark_threshold: float = 5.0  # mean grey < this (0-255) on either frame -> invalid
    max_corners: int = 200
    min_inliers: int = 12  # fewer RANSAC inliers -> invalid ("too few points")
    # RANSAC inlier threshold, working-resolution px.  0.5 rather than 1: slow marine snow
    # within 1 px biased holds by ~0.2 full-res px on the synthetic videos (measured).
    ransac_threshold: float = 0.5


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
    """Thresholds of ``find_regions``; defaults are the original's."""

    max_translation_sq: float = 100.0  # stable when tx^2 + ty^2 < this (full-res px per pair)
    max_scale_dev: float = 0.01  # and |scale - 1| < this
    gap_factor: float = 1.01  # consecutive when frame gap <= gap_factor * stride
    min_run: int = 2  # runs shorter than this many samples are dropped
    zoom_in: float = 1.05  # gap label zoom_in when mean scale > this
    zoom_out: float = 0.95
    move_px: float = 10.0  # gap direction when |mean t| component > this
    squash_frames: int = 30  # regions of <= this many frames are squashed into neighbours


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
