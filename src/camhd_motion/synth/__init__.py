"""Synthetic CamHD-like videos with exact ground truth.

A virtual camera flies a CamHD-like station routine over a procedural seafloor; frames are
encoded as ProRes 422 ``.mov`` files laid out like the archive, each with an ``.md5``
sibling and a ``<stem>.truth.json`` holding the exact per-frame camera poses.
"""

from camhd_motion.synth.archive import generate_archive
from camhd_motion.synth.co64 import chunk_offset_tables, rewrite_as_co64
from camhd_motion.synth.generate import build_video, generate_video
from camhd_motion.synth.presets import PRESETS, Preset, get_preset
from camhd_motion.synth.render import NO_EFFECTS, Effects
from camhd_motion.synth.truth import Truth, truth_path

__all__ = [
    "NO_EFFECTS",
    "PRESETS",
    "Effects",
    "Preset",
    "Truth",
    "build_video",
    "chunk_offset_tables",
    "generate_archive",
    "generate_video",
    "get_preset",
    "rewrite_as_co64",
    "truth_path",
]
