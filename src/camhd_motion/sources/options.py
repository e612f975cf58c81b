"""How patient a network transfer is: timeouts, retries, the slowest acceptable rate.

One set of knobs for HTTP streaming, GCS streaming, downloads and archive listings, so a
config key can later set them all in one place.  The defaults are chosen so that a healthy
archive never trips them, while a broken one fails within about half a minute instead of
holding a cluster job: a server that accepts the connection and never answers is given up
after ``give_up_after`` (30 s), and one that trickles a byte now and then is cut once it
delivers less than ``min_rate`` over a ``read_timeout`` window (see docs/NETWORK.md).
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass


@dataclass
class NetOptions:
    connect_timeout: float = 10.0  # s to open a connection (TCP + TLS)
    read_timeout: float = 20.0  # s of silence tolerated: before the response, between bytes
    retries: int = 6  # attempts in a row without progress before giving up
    backoff: float = 0.5  # s; retry waits are 0, 2x, 4x, 8x ... this, at most 30 s
    # bytes/s: an attempt slower than this over a read_timeout window is cut and counts as
    # one without progress, so a trickle cannot keep a job alive forever
    min_rate: float = 10_000.0
    give_up_after: float = 30.0  # s without progress, whatever the retries left
    # shorthand: both timeouts at once (the CLI's --timeout, older callers)
    timeout: InitVar[float | None] = None

    def __post_init__(self, timeout: float | None) -> None:
        if timeout is not None:
            self.connect_timeout = self.read_timeout = float(timeout)
        if min(self.connect_timeout, self.read_timeout, self.give_up_after) <= 0:
            raise ValueError("timeouts must be positive")
        if self.retries < 0 or self.backoff < 0 or self.min_rate < 0:
            raise ValueError("retries, backoff and min_rate must not be negative")
