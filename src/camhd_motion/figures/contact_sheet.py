"""One thumbnail per static section of a video, from the frame at its middle, with its
index and time: what the camera looked at on each station.

The frames are read like the motion step reads them -- by byte range from the movie's
index, through the same byte sources (local, HTTP, GCS) -- and decoded alone (every ProRes
frame is a key frame): a contact sheet costs a few frames, not the video.
"""

from __future__ import annotations

import math

import numpy as np

from camhd_motion.figures.common import clock
from camhd_motion.figures.motion_plot import frame_seconds
from camhd_motion.motion.model import Region

THUMB_WIDTH = 320
COLUMNS = 4


def middle_frame(region: Region) -> int:
    return (region.start_frame + region.end_frame) // 2


def read_thumbnails(location: str, frames: list[int], width: int = THUMB_WIDTH
                    ) -> dict[int, np.ndarray]:
    """8-bit grey thumbnails (``width`` px wide) of 1-based ``frames`` of the video."""
    import cv2

    from camhd_motion.errors import VideoError
    from camhd_motion.sources import open_source
    from camhd_motion.video.decoder import FrameDecodeError, ProResDecoder
    from camhd_motion.video.grey import grey_lut
    from camhd_motion.video.movindex import IndexError_, read_index

    out: dict[int, np.ndarray] = {}
    source = open_source(location)
    try:
        try:
            index = read_index(source)
            decoder = ProResDecoder(index.codec_tag, index.width, index.height)
        except (IndexError_, FrameDecodeError) as err:
            raise VideoError(location, str(err)) from None
        wanted = sorted({f for f in frames if 1 <= f <= index.num_frames})
        ranges = [index.frame_range(f) for f in wanted]
        height = round(index.height * width / index.width)
        for frame, data in zip(wanted, source.read_many(ranges), strict=True):
            try:
                luma, depth = decoder.decode_luma(data)
            except FrameDecodeError:
                continue  # the sheet shows the section without a picture
            # limited-range luma -> full-range grey, the table the motion step uses
            grey = grey_lut(1, depth)[luma]
            out[frame] = cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA)
    finally:
        source.close()
    return out


def contact_sheet_figure(title: str, statics: list[Region], thumbs: dict[int, np.ndarray],
                         frame_rate: float):
    """The figure: a grid of thumbnails, each titled ``#i  m:ss-m:ss (frames a-b)``."""
    from matplotlib.figure import Figure

    n = max(1, len(statics))
    cols = min(COLUMNS, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(3.2 * cols, 2.2 * rows + 0.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes:
        ax.set_axis_off()
    if not statics:
        axes[0].text(0.5, 0.5, "no static section", ha="center", va="center")
    for i, (ax, region) in enumerate(zip(axes, statics, strict=False)):
        mid = middle_frame(region)
        image = thumbs.get(mid)
        if image is not None:
            ax.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest",
                      gid=f"thumb:{i}:{mid}")
        else:
            ax.text(0.5, 0.5, f"frame {mid}\nunreadable", ha="center", va="center")
        start = clock(frame_seconds(region.start_frame, frame_rate))
        end = clock(frame_seconds(region.end_frame, frame_rate))
        ax.set_title(f"#{i}  {start}-{end}  (frames {region.start_frame}-{region.end_frame})",
                     fontsize=8)
    fig.suptitle(title, fontsize=10)
    return fig


def write_contact_sheet(location: str, motion, regions, path) -> list[int]:
    """The contact sheet of ``regions`` (static sections only) of the video at
    ``location``, saved as PNG at ``path``; returns the frames shown."""
    from camhd_motion.figures.common import save_png

    statics = [r for r in regions.regions if r.type == "static"]
    frames = [middle_frame(r) for r in statics]
    thumbs = read_thumbnails(location, frames) if frames else {}
    name = motion.movie.url.rsplit("/", 1)[-1]
    title = f"{name}: {len(statics)} static sections, middle frames"
    save_png(contact_sheet_figure(title, statics, thumbs, motion.movie.frame_rate), path)
    return frames
