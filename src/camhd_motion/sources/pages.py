"""Small pages from one web server -- the archive's index pages and ``.md5`` siblings --
for listing the archive, over shared keep-alive connections (thread-safe).

Each GET has its own retry budget (:mod:`~camhd_motion.sources.retry`): 5xx/429, drops
and timeouts are retried with backoff; 404 and other statuses fail at once, in one line
naming the URL.  Redirects are followed; pages on another server are refused.
"""

from __future__ import annotations

import urllib.parse

from camhd_motion.errors import SourceError
from camhd_motion.sources import httpclient
from camhd_motion.sources.options import NetOptions
from camhd_motion.sources.retry import Budget, call_retrying

# Connections kept per server: at least the listing's threads (8, archive/sources.py),
# as urllib3 discards (and warns about) connections beyond this.
CONNECTIONS = 16


class PageFetcher:
    """``PageFetcher(root_url).text(url)`` for pages on the server of ``root_url``."""

    def __init__(self, url: str, *, retries: int = 4, **net):
        self._netloc = urllib.parse.urlsplit(httpclient.check_url(url)).netloc
        self._options = NetOptions(retries=retries, **net)
        self._pool = httpclient.pool_manager(CONNECTIONS)

    def text(self, url: str) -> str:
        if urllib.parse.urlsplit(url).netloc != self._netloc:
            raise SourceError(f"{url}: not on {self._netloc}")
        return call_retrying(lambda budget: httpclient.get_text(self._pool, url, budget),
                             Budget(url, self._options))

    def close(self) -> None:
        self._pool.clear()
