"""Errors a user can act on.  Each prints as one line naming the video and the cause."""

from __future__ import annotations


class CamhdError(Exception):
    """Base class: a clear, one-line, user-facing failure."""

    exit_code = 2


class UserError(CamhdError):
    """Bad arguments, bad config, a missing input."""

    exit_code = 2


class VideoError(CamhdError):
    """A video that cannot be read or analysed (missing, truncated, not ProRes, ...)."""

    exit_code = 3

    def __init__(self, video: str, cause: str):
        super().__init__(f"{video}: {cause}")
        self.video = video
        self.cause = cause


class SourceError(CamhdError):
    """A remote source misbehaved beyond what retries can fix (no Range support, 404, ...)."""

    exit_code = 4
