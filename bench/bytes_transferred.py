"""Bytes transferred and wall time of streaming a video over HTTP, against the ideal.

Serves a 1920x1080 ProRes video with the local archive server (127.0.0.1) and runs the
motion analysis at stride 10 (the default) and stride 1 (every frame) over HTTP and from
the local file.  Prints, per stride: bytes the server sent, the ideal (sizes of the
needed frames + moov + top-level atom headers) and their ratio; wall time over HTTP and
locally.  Then reads (and decodes) the stride-10 frames with a simulated round trip
(``--latency``, a delay before every response) at concurrency 1 and 4, to show what
keeping several requests in flight buys.

    python bench/bytes_transferred.py                 # generates a 10 s synthetic video
    python bench/bytes_transferred.py --video X.mov   # any ProRes .mov
"""

from __future__ import annotations

import argparse
import datetime as dt
import struct
import sys
import tempfile
import time
from pathlib import Path

# the tests' archive server (accounting, simulated latency) lives in tests/fixtures
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from camhd_motion.motion.analyze import analyze_video  # noqa: E402
from camhd_motion.motion.model import MotionParams  # noqa: E402
from camhd_motion.motion.sampling import needed_frames, sample_pairs  # noqa: E402
from camhd_motion.sources.http import HttpRangeSource  # noqa: E402
from camhd_motion.sources.local import LocalFileSource  # noqa: E402
from camhd_motion.video.movindex import read_index  # noqa: E402
from camhd_motion.video.reader import FrameReader  # noqa: E402
from tests.fixtures.archive_server import ArchiveServer  # noqa: E402


def make_video(root: Path, duration: float) -> Path:
    from camhd_motion.synth.generate import generate_video

    print(f"generating a {duration:g} s 1920x1080 synthetic video (co64) ...", flush=True)
    return generate_video(root, dt.datetime(2016, 1, 1), preset="hd", duration=duration,
                          co64=True)


def top_level_atoms(path: Path) -> int:
    n, pos, size = 0, 0, path.stat().st_size
    with open(path, "rb") as fh:
        while pos + 8 <= size:
            fh.seek(pos)
            head = fh.read(16)
            length = struct.unpack(">I", head[:4])[0]
            if length == 1:
                length = struct.unpack(">Q", head[8:16])[0]
            pos, n = pos + (length or size - pos), n + 1
    return n


def ideal_bytes(index, path: Path, stride: int, offset: int) -> int:
    frames = needed_frames(sample_pairs(index.num_frames, stride, offset))
    return (int(sum(int(index.sizes[f - 1]) for f in frames)) + index.moov_size
            + 16 * top_level_atoms(path))


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def read_frames(url: str, frames: list[int], concurrency: int) -> None:
    with HttpRangeSource(url, concurrency=concurrency) as src:
        reader = FrameReader(src, 4)
        for g in reader.grey_frames(frames):
            assert g.image is not None, g.error


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--video", type=Path, help="a ProRes .mov (default: generate one)")
    ap.add_argument("--duration", type=float, default=10.0, help="generated video, seconds")
    ap.add_argument("--latency", type=float, default=0.05, help="simulated round trip, s")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="camhd-bench-") as tmp:
        video = args.video or make_video(Path(tmp), args.duration)
        video = video.resolve()
        with LocalFileSource(video) as src:
            index = read_index(src)
        print(f"{video.name}: {index.width}x{index.height}, {index.num_frames} frames, "
              f"{index.file_size / 1e6:.1f} MB, moov {index.moov_size / 1e3:.1f} kB, "
              f"mean frame {index.sizes.mean() / 1e3:.0f} kB")
        with ArchiveServer(video.parent) as server:
            url = server.url + video.name
            print(f"\n{'stride':>6} {'sent MB':>9} {'ideal MB':>9} {'ratio':>7} "
                  f"{'% file':>7} {'http s':>7} {'local s':>8} {'same':>5}")
            for stride in (10, 1):
                params = MotionParams(stride=stride)
                local, t_local = timed(lambda p=params: analyze_video(str(video), p,
                                                                      workers=args.workers))
                server.reset_stats()
                remote, t_http = timed(lambda p=params: analyze_video(url, p,
                                                                      workers=args.workers))
                ideal = ideal_bytes(index, video, stride, params.pair_offset)
                sent = server.bytes_sent
                same = local.samples == remote.samples
                print(f"{stride:>6} {sent / 1e6:>9.2f} {ideal / 1e6:>9.2f} "
                      f"{sent / ideal:>7.4f} {100 * sent / index.file_size:>6.1f}% "
                      f"{t_http:>7.2f} {t_local:>8.2f} {str(same):>5}")

            frames = needed_frames(sample_pairs(index.num_frames, 10, 5))
            print(f"\nread + decode the {len(frames)} stride-10 frames "
                  f"(no motion estimation):")
            with LocalFileSource(video) as src:
                _, t_local = timed(lambda: list(FrameReader(src, 4).grey_frames(frames)))
            print(f"  local file                              {t_local:6.2f} s")
            for latency in (0.0, args.latency):
                server.faults.delay = latency
                for conc in (1, 4):
                    _, t = timed(lambda c=conc: read_frames(url, frames, c))
                    print(f"  http, {1000 * latency:3.0f} ms per request, "
                          f"concurrency {conc}   {t:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
