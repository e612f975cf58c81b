"""How patient a network transfer is: timeouts, retries, the slowest acceptable rate, and
the time one video may take.

One set of knobs for HTTP streaming, GCS streaming, downloads and archive listings, declared
once here with their defaults, docs and bounds (:func:`camhd_motion.params.param`): the
workflow config's ``net:`` keys, the command-line options (``--connect-timeout`` ...) and
their checks are all made from this declaration, like the motion parameters.

The defaults are chosen so that a healthy archive never trips them, while a broken one
fails within about half a minute instead of holding a cluster job: a server that accepts
the connection and never answers is given up after ``give_up_after`` (30 s), one that
trickles a byte now and then is cut once it delivers less than ``min_rate`` over a
``read_timeout`` window, and whatever happens, the reads of one video stop at ``deadline``
(see docs/NETWORK.md).  Every such failure is transient (exit code 4): the workflow does
not record it, and the next run tries the video again.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass

from camhd_motion.errors import UserError
from camhd_motion.params import check, param


class BadOption(UserError, ValueError):
    """A network option outside its bounds (one line naming it; also a ValueError)."""


@dataclass
class NetOptions:
    connect_timeout: float = param(
        10.0, "seconds to open a connection (TCP + TLS) before the attempt fails",
        exclusive_minimum=0)
    read_timeout: float = param(
        20.0, "seconds of silence tolerated: waiting for a response, and between body bytes",
        exclusive_minimum=0)
    retries: int = param(
        6, "attempts in a row without progress before giving up (progress resets it)",
        minimum=0)
    backoff: float = param(
        0.5, "seconds: retry waits are 0, 2x, 4x, 8x ... this, at most 30 s", minimum=0)
    min_rate: float = param(
        10_000.0, "bytes/s: an attempt slower than this over a read_timeout window is cut "
        "and counts as one without progress, so a trickle cannot hold a job (0: no minimum)",
        minimum=0)
    give_up_after: float = param(
        30.0, "seconds without progress after which a transfer is given up, whatever the "
        "retries left", exclusive_minimum=0)
    deadline: float = param(
        7200.0, "seconds one video's network reads may take in all (streaming, or its "
        "download), from opening it; then the job fails as transient (0: no deadline)",
        minimum=0)
    # shorthand: both timeouts at once (the download command's --timeout, older callers)
    timeout: InitVar[float | None] = None

    def __post_init__(self, timeout: float | None) -> None:
        if timeout is not None:
            self.connect_timeout = self.read_timeout = float(timeout)
        try:
            check(self)  # one line naming the option, as for the CLI and the config
        except UserError as err:
            raise BadOption(str(err)) from None
