"""Errors a user can act on.  Each prints as one line naming the input and the cause.

The exit code says whether running again can help:

- 2 (:class:`UserError`): fix the command, the config or the environment first (a bad
  option, a missing input, an output directory that cannot be written);
- 3 (:class:`VideoError`, :class:`PermanentSourceError`): this video cannot be analysed as
  it is -- truncated, not a movie, not found (404), access refused (403), an HTML page in
  its place; the workflow records it in ``<results>/failed/`` and leaves it out of later
  runs;
- 4 (:class:`SourceError`, :class:`LocalIOError`): a transient failure -- a server that
  timed out, stalled or kept failing, a full disk; running again later can succeed, so the
  workflow records nothing and the next run retries.
"""

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

    def __reduce__(self):  # raised in worker processes: must survive pickling
        return type(self), (self.video, self.cause)


class SourceError(CamhdError):
    """A remote source misbehaved beyond what retries can fix for now (timed out, stalled,
    kept failing, no Range support, ...): running again later may succeed."""

    exit_code = 4


class PermanentSourceError(SourceError):
    """The source answered, definitely, that this file cannot be had: not found (404/410),
    access refused (401/403), or something that is not what was asked for (an HTML page
    instead of a movie).  Running again will not help; the workflow records the video."""

    exit_code = 3


class LocalIOError(CamhdError):
    """This machine could not write (disk full, quota, I/O error): transient."""

    exit_code = 4


def is_permanent(err: BaseException) -> bool:
    """Whether ``err`` says the video itself is bad or unavailable (record it)."""
    return isinstance(err, VideoError | PermanentSourceError)


def local_io_error(err: OSError, path=None) -> CamhdError:
    """One line for a failure to write ``path`` here: transient when the disk is full, a
    quota is reached or the device fails (:class:`LocalIOError`, exit 4: free space and
    run again), else the user's to fix (a read-only or forbidden directory: exit 2)."""
    where = err.filename or path
    return os_error(err, f"{where}: cannot write: {err.strerror or err}")


def os_error(err: OSError, message: str | None = None) -> CamhdError:
    """``err`` as one line (``<file>: <cause>``), exit 4 if running again later can help
    (disk full, quota, I/O error), else 2."""
    import errno

    if message is None:
        message = f"{err.filename}: {err.strerror or err}" if err.filename else str(err)
    if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG):
        return LocalIOError(message)
    return UserError(message)
