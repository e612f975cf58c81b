"""``shard: "i/n"``: the part of the archive one of several machines works on.

A video belongs to shard ``i`` of ``n`` when a hash of its stem, modulo ``n``, is ``i - 1``.
The hash is SHA-256, not Python's ``hash()`` (salted per process), and it depends on the
stem alone, not on the video's position in the manifest: a shard keeps its videos when
the archive grows, and every machine computes the same split without talking to the
others.  Shards of one ``n`` are disjoint and together cover every video.
"""

from __future__ import annotations

import hashlib
import re

from camhd_motion.pipeline.config import ConfigError

_SHARD = re.compile(r"^([1-9]\d*)/([1-9]\d*)$")


def parse_shard(shard: str) -> tuple[int, int]:
    """``"2/3"`` -> ``(2, 3)``; a one-line :class:`ConfigError` otherwise."""
    m = _SHARD.match(str(shard).strip())
    if not m or int(m[1]) > int(m[2]):
        raise ConfigError(f"config error: shard: {shard!r} is not i/n with 1 <= i <= n "
                        "(e.g. 2/3)")
    return int(m[1]), int(m[2])


def shard_index(stem: str, n: int) -> int:
    """The 1-based shard of ``stem`` among ``n``."""
    digest = hashlib.sha256(stem.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n + 1


def in_shard(stem: str, shard: str | None) -> bool:
    """Whether the video ``stem`` belongs to ``shard`` (``None``: no sharding, all do)."""
    if not shard:
        return True
    i, n = parse_shard(shard)
    return shard_index(stem, n) == i
