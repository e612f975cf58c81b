"""Where a video's bytes come from: a local file, HTTP(S) or Google Cloud Storage.

Every source is a :class:`~camhd_motion.sources.base.ByteSource` (a size, exact byte
ranges, several in flight), chosen from the location by :func:`open_source` and nowhere
else.  The modules:

- ``base``: the ByteSource interface; ``local``: a file; ``http``, ``gcs``: streaming;
- ``options``: timeouts and retry settings; ``retry``: the retry budget and resuming;
- ``httpclient``: urllib3, set up once; ``pages``: index pages for the archive listing;
- ``download``: download mode (a whole file, resumable, md5-checked);
- ``serve``, ``index_page``: the plain archive web server of ``camhd-motion serve``.

The remote modules are imported only when a remote location is opened.
"""

from __future__ import annotations

from camhd_motion.sources.base import ByteSource
from camhd_motion.sources.local import LocalFileSource

__all__ = ["ByteSource", "LocalFileSource", "open_source"]


def open_source(location: str, **options) -> ByteSource:
    """Open a path or URL as a byte source (``http(s)://`` and ``gs://`` stream ranges).

    ``options`` go to the remote sources (``concurrency``, ``on_no_range``, the
    :class:`~camhd_motion.sources.options.NetOptions` fields, ...); a local file needs none.
    """
    if location.startswith(("http://", "https://")):
        from camhd_motion.sources.http import HttpRangeSource

        return HttpRangeSource(location, **options)
    if location.startswith("gs://"):
        from camhd_motion.sources.gcs import GcsRangeSource

        return GcsRangeSource(location, **options)
    if location.startswith("file://"):
        location = location[len("file://") :]
    return LocalFileSource(location)
