"""Helpers shared by the format modules: atomic writes, strict JSON, one-line format errors."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from camhd_motion.errors import UserError
from camhd_motion.motion.model import MovieInfo

T = TypeVar("T")


class FormatError(UserError):
    """An input file that is missing, unreadable or not in the expected format.

    The message names the file and the cause on one line.
    """

    def __init__(self, path: str | os.PathLike, cause: str):
        super().__init__(f"{os.fspath(path)}: {cause}")
        self.path = os.fspath(path)
        self.cause = cause


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` so that ``path`` is either absent/old or complete.

    The data goes to a hidden temporary file in the same directory (same filesystem, and a
    name no reader globs for), is fsynced, then renamed over ``path`` with ``os.replace``.
    On any failure the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; outputs are shared data
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def dumps(doc: Any) -> str:
    """Strict JSON (no NaN/Infinity: those are written as ``null`` by the callers),
    floats at full (shortest round-trip) precision."""
    return json.dumps(doc, indent=2, allow_nan=False, ensure_ascii=False, default=_scalar) + "\n"


def _scalar(obj: Any) -> Any:
    """NumPy scalars (e.g. in an engine's ``performance`` block) as Python numbers."""
    if hasattr(obj, "item") and getattr(obj, "shape", None) == ():
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def load_json(path: str | os.PathLike) -> dict:
    """Parse a JSON object from ``path``; any failure is a :class:`FormatError`."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise FormatError(path, "no such file") from None
    except IsADirectoryError:
        raise FormatError(path, "is a directory") from None
    except OSError as err:
        raise FormatError(path, f"cannot read: {err.strerror or err}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise FormatError(path, f"not valid JSON: {err}") from None
    if not isinstance(doc, dict):
        raise FormatError(path, "not a JSON object")
    return doc


def float_or_none(value: float) -> float | None:
    """NaN/inf -> ``None`` (JSON ``null``)."""
    value = float(value)
    return value if math.isfinite(value) else None


def float_or_nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def params_to_json(params: Any) -> dict:
    """A parameters dataclass as a camelCase JSON object."""
    return {camel(f.name): getattr(params, f.name) for f in dataclasses.fields(params)}


def params_from_json(cls: type[T], doc: dict | None) -> T:
    """Inverse of :func:`params_to_json`; missing keys keep the defaults, unknown keys are
    ignored (files written by a newer version with more parameters stay readable)."""
    doc = doc or {}
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        key = camel(f.name)
        if key in doc and doc[key] is not None:
            default = getattr(cls(), f.name)
            kwargs[f.name] = type(default)(doc[key]) if default is not None else doc[key]
    return cls(**kwargs)


# ``movie`` block, shared by the motion and regions files.  The first four keys are the
# original's; the rest are this project's (``contents.movie`` = "1.1").
MOVIE_VERSION = "1.1"


def movie_to_json(movie: MovieInfo) -> dict:
    doc = {
        "URL": movie.url,
        "NumFrames": int(movie.num_frames),
        "Duration": float_or_none(movie.duration),
        "cacheURL": movie.cache_url,
        "Width": int(movie.width),
        "Height": int(movie.height),
        "FrameRate": float_or_none(movie.frame_rate),
    }
    if movie.creation_time is not None:
        doc["CreationTime"] = movie.creation_time
    return doc


def movie_from_json(doc: Any, path: str | os.PathLike) -> MovieInfo:
    if not isinstance(doc, dict) or not isinstance(doc.get("URL"), str):
        raise FormatError(path, "missing movie.URL")
    defaults = MovieInfo(url="", num_frames=0, duration=0.0)
    try:
        return MovieInfo(
            url=doc["URL"],
            num_frames=int(doc.get("NumFrames", 0)),
            duration=float_or_nan(doc.get("Duration", 0.0)),
            cache_url=str(doc.get("cacheURL", "")),
            width=int(doc.get("Width", defaults.width)),
            height=int(doc.get("Height", defaults.height)),
            frame_rate=float_or_nan(doc.get("FrameRate", defaults.frame_rate)),
            creation_time=doc.get("CreationTime"),
        )
    except (TypeError, ValueError) as err:
        raise FormatError(path, f"bad movie block: {err}") from None


def movie_stem(movie: MovieInfo) -> str:
    """The movie's name without ``.mov`` (from its URL)."""
    base = movie.url.rstrip("/").rsplit("/", 1)[-1]
    return base[:-4] if base.lower().endswith(".mov") else base
