"""The native engine: ``camhd-motion-native`` (``native/``, ``docs/NATIVE.md``) as a subprocess.

The C++ tool implements the same spec as the Python engine (sampling, grey, darkness gate,
estimator, fit, units) and writes the same ``<stem>_optical_flow.json`` (``analysis.engine``
= ``"native"``).  This module finds the binary, runs it and turns its one-line errors into
this package's errors.  The binary is looked up, in order, at:

1. the path given explicitly (``--native-bin``);
2. ``$CAMHD_NATIVE_BIN``;
3. ``native/build/camhd-motion-native`` in the source tree this package runs from;
4. ``camhd-motion-native`` on ``PATH`` (the container image installs it there).

An explicit path (1 or 2) that does not exist is an error; it is never silently replaced.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from camhd_motion.errors import CamhdError, UserError, VideoError
from camhd_motion.motion.model import MotionParams, MotionResult

log = logging.getLogger(__name__)

BINARY_NAME = "camhd-motion-native"
ENV_VAR = "CAMHD_NATIVE_BIN"
BUILD_HINT = "cmake -S native -B native/build && cmake --build native/build"
REMOTE_PREFIXES = ("http://", "https://", "gs://")


class NativeEngineError(CamhdError):
    """The native tool failed for a reason other than its input (crash, output not writable)."""

    exit_code = 1


def repo_binary() -> Path:
    """``native/build/camhd-motion-native`` of the source tree (editable installs)."""
    return Path(__file__).resolve().parents[2] / "native" / "build" / BINARY_NAME


def _missing(path: str | os.PathLike) -> UserError:
    return UserError(
        f"native engine selected but {BINARY_NAME} not found at {os.fspath(path)}; "
        f"build it with: {BUILD_HINT}"
    )


def find_native_binary(explicit: str | os.PathLike | None = None) -> Path:
    """The native binary to run; raises :class:`UserError` if there is none."""
    for configured in (explicit, os.environ.get(ENV_VAR) or None):
        if configured:
            path = Path(configured).expanduser()
            if path.is_file() and os.access(path, os.X_OK):
                return path
            raise _missing(path)
    path = repo_binary()
    if path.is_file() and os.access(path, os.X_OK):
        return path
    on_path = shutil.which(BINARY_NAME)
    if on_path:
        return Path(on_path)
    raise _missing(path)


def native_available(explicit: str | os.PathLike | None = None) -> bool:
    try:
        find_native_binary(explicit)
    except UserError:
        return False
    return True


def native_command(
    binary: str | os.PathLike,
    video: str,
    output: str | os.PathLike,
    params: MotionParams,
    workers: int = 1,
    movie_url: str | None = None,
) -> list[str]:
    cmd = [
        os.fspath(binary), video, "-o", os.fspath(output), "--quiet",
        "--workers", str(workers),
        "--stride", str(params.stride),
        "--pair-offset", str(params.pair_offset),
        "--img-scale", repr(float(params.img_scale)),
        "--dark-threshold", repr(float(params.dark_threshold)),
        "--max-corners", str(params.max_corners),
        "--min-inliers", str(params.min_inliers),
        "--ransac-threshold", repr(float(params.ransac_threshold)),
        "--snow-size", str(params.snow_size),
        "--decoder", params.decoder,
    ]
    if movie_url is not None:
        cmd += ["--movie-url", movie_url]
    return cmd


def run_native(
    video: str,
    output: str | os.PathLike,
    params: MotionParams | None = None,
    workers: int = 1,
    movie_url: str | None = None,
    binary: str | os.PathLike | None = None,
    source_options: dict | None = None,
) -> None:
    """Run the native engine on ``video``, writing ``output``.  A remote video (http(s),
    gs) is read by the Python reader, which hands the tool the sampled frames' bytes in a
    sparse local file (:mod:`camhd_motion.native_stage`); ``source_options`` (timeouts,
    retries, ... as for :func:`camhd_motion.sources.open_source`) apply to that reading.

    Raises :class:`UserError` (bad arguments, missing file, no binary),
    :class:`VideoError` (the video cannot be read) or :class:`NativeEngineError`.
    """
    params = params or MotionParams()
    if video.startswith(REMOTE_PREFIXES):
        from camhd_motion.archive.names import parse_name
        from camhd_motion.native_stage import stage_remote_video

        if movie_url is None:
            try:
                movie_url = "/" + parse_name(video).archive_path
            except ValueError:
                movie_url = "/" + video.rstrip("/").rsplit("/", 1)[-1]
        with tempfile.TemporaryDirectory(prefix="camhd-native-stage-") as tmp:
            staged, fetched = stage_remote_video(video, params, tmp, source_options)
            log.info("%s: %d frame bytes staged for the native engine", video, fetched)
            run_native(os.fspath(staged), output, params, workers, movie_url, binary)
        return
    exe = find_native_binary(binary)
    cmd = native_command(exe, video, output, params, workers, movie_url)
    log.debug("running %s", " ".join(cmd))
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, errors="replace")
    except OSError as err:
        raise NativeEngineError(f"cannot run {exe}: {err.strerror or err}") from None
    if proc.returncode == 0:
        return
    message = _error_line(proc.stderr, proc.returncode)
    if proc.returncode == 2:
        raise UserError(message)
    if proc.returncode == 3:
        prefix = f"{video}: "
        raise VideoError(video, message[len(prefix):] if message.startswith(prefix) else message)
    raise NativeEngineError(f"{video}: native engine failed: {message}")


def _error_line(stderr: str, returncode: int) -> str:
    """The cause from the tool's ``camhd-motion-native: error: ...`` line."""
    marker = f"{BINARY_NAME}: error: "
    lines = [line for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(marker):
            return line[len(marker):]
    if returncode < 0:
        return f"killed by signal {-returncode}"
    return lines[-1] if lines else f"exit code {returncode}"


def analyze_video_native(
    video: str,
    params: MotionParams | None = None,
    workers: int = 1,
    movie_url: str | None = None,
    binary: str | os.PathLike | None = None,
    source_options: dict | None = None,
) -> MotionResult:
    """Like :func:`camhd_motion.motion.analyze.analyze_video`, with the native engine."""
    from camhd_motion.formats.optical_flow import read_optical_flow

    with tempfile.TemporaryDirectory(prefix="camhd-native-") as tmp:
        out = Path(tmp) / "motion.json"
        run_native(video, out, params, workers, movie_url, binary, source_options)
        result = read_optical_flow(out)
    result.movie.cache_url = video  # where the bytes came from, not the staged copy
    return result
