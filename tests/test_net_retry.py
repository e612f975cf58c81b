"""The retry budget on its own: counts, time bound, waits (with a simulated clock)."""

from __future__ import annotations

import pytest

from camhd_motion.sources import retry
from camhd_motion.sources.options import NetOptions
from camhd_motion.sources.retry import Budget, Fault, GaveUp, read_resuming


class Clock:
    """Stands in for the ``time`` module: sleeping advances it, nothing waits."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(retry, "time", fake)
    return fake


def test_defaults_give_up_on_a_silent_server_well_under_a_minute(clock):
    """With the default options, a server that accepts and never answers costs each
    attempt its (capped) read timeout; the budget is spent in about half a minute."""
    options = NetOptions()
    assert (options.connect_timeout, options.read_timeout, options.give_up_after) == (
        10.0, 20.0, 30.0)
    budget = Budget("http://x/v.mov", options)
    attempts = 0
    with pytest.raises(GaveUp, match=r"http://x/v\.mov: timed out \(gave up: no progress"):
        while True:
            attempts += 1
            clock.now += budget.timeouts()[1]  # the attempt waits its read timeout out
            budget.failed(Fault("timed out"))
    assert clock.now <= 31.0 and attempts == 2


def test_retries_count_only_attempts_without_progress(clock):
    budget = Budget("u", NetOptions(retries=2, backoff=0.5))
    for _ in range(10):  # drops after some bytes: always resumed, at once
        budget.failed(Fault("dropped", received=100))
    assert clock.sleeps == []
    budget.failed(Fault("503"))
    budget.failed(Fault("503"))
    with pytest.raises(GaveUp, match=r"u: 503 \(gave up after 2 retries\)"):
        budget.failed(Fault("503"))
    # urllib3's schedule: the first retry at once, then backoff x 2 (+ up to backoff jitter)
    assert clock.sleeps[0] == 0 and 1.0 <= clock.sleeps[1] <= 1.5


def test_a_slow_attempt_is_not_progress(clock):
    budget = Budget("u", NetOptions(retries=1))
    budget.failed(Fault("too slow", received=5000, slow=True))
    with pytest.raises(GaveUp):
        budget.failed(Fault("too slow", received=5000, slow=True))


def test_read_resuming_keeps_what_arrived(clock):
    data = bytes(range(256)) * 40
    asked = []

    def fetch(view, offset, budget):  # delivers at most 1000 bytes, then "drops"
        asked.append((offset, len(view)))
        n = min(1000, len(view))
        view[:n] = data[offset : offset + n]
        if n < len(view):
            raise Fault("dropped", received=n)

    assert read_resuming(fetch, 500, 3000, Budget("u", NetOptions())) == data[500:3500]
    assert asked == [(500, 3000), (1500, 2000), (2500, 1000)]


def test_timeout_shorthand_and_checks():
    assert NetOptions(timeout=5).connect_timeout == NetOptions(timeout=5).read_timeout == 5
    with pytest.raises(ValueError):
        NetOptions(read_timeout=0)
    with pytest.raises(TypeError):
        NetOptions(socket_timeout=3)  # a misspelt option is an error, not ignored
