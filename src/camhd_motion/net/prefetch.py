"""Several ranged reads in flight at once, results in request order.

One frame is one round trip; on a 50 ms link a sequential reader would spend more time
waiting than decoding.  Keeping ``window`` requests in flight hides the latency while
the decoder works on the frame at the head of the queue.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor


def ordered_prefetch(
    pool: ThreadPoolExecutor,
    fetch: Callable[[int, int], bytes],
    ranges: Iterable[tuple[int, int]],
    window: int,
) -> Iterator[bytes]:
    """``fetch(offset, size)`` of each range, up to ``window`` at a time, yielded in order.

    The first failure is raised when its turn comes; requests not yet started are
    cancelled when the consumer stops early or a fetch fails.
    """
    pending: deque[Future] = deque()
    it = iter(ranges)
    try:
        while True:
            while len(pending) < window:
                nxt = next(it, None)
                if nxt is None:
                    break
                pending.append(pool.submit(fetch, *nxt))
            if not pending:
                return
            yield pending.popleft().result()
    finally:
        for fut in pending:
            fut.cancel()
