"""The manifest in snakemake's default storage (``--default-storage-provider gcs``).

With a default storage (profiles/gcp, or desktops sharing a bucket) every input and
output of a rule lives in the bucket, and a cloud job starts in an empty directory.  The
manifest is the one file the workflow reads at parse time, outside snakemake's storage
handling, so it is mirrored here: a process without a local copy (a cloud job, or a
controller on another machine) downloads it, and the main process uploads it after
listing -- only when its content changed, since its time stamp in the bucket is an input
time of the aggregate.  It is stored where snakemake maps the aggregate's manifest input:
``<default-storage-prefix>/<manifest path>``.  Only GCS is supported.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Mapping

from camhd_motion.errors import UserError

log = logging.getLogger(__name__)


def manifest_url(config: Mapping, storage) -> str | None:
    """The manifest's ``gs://`` URL, or ``None`` without a default storage.

    ``storage`` is snakemake's ``workflow.storage_settings`` (or ``None``)."""
    provider = getattr(storage, "default_storage_provider", None)
    prefix = getattr(storage, "default_storage_prefix", None)
    if not provider or not prefix:
        return None
    if provider != "gcs":
        raise UserError(f"default storage {provider!r}: the workflow keeps its manifest "
                        "only in gcs (docs/PROFILES.md)")
    return f"{prefix.rstrip('/')}/{config['manifest']}"


def _blob(url: str):
    from camhd_motion.sources.gcs import make_client, parse_gs_url

    bucket, key = parse_gs_url(url)
    return make_client().bucket(bucket).blob(key)


def fetch_manifest(url: str, path: str) -> bool:
    """Download ``url`` to ``path`` if it exists; returns whether it did."""
    blob = _blob(url)
    if not blob.exists():
        return False
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    blob.download_to_filename(tmp)
    os.replace(tmp, path)
    log.info("downloaded the manifest %s", url)
    return True


def publish_manifest(path: str, url: str) -> bool:
    """Upload ``path`` to ``url`` unless the stored copy has the same content."""
    with open(path, "rb") as f:
        md5 = base64.b64encode(hashlib.md5(f.read()).digest()).decode()
    blob = _blob(url)
    if blob.exists():
        blob.reload()
        if blob.md5_hash == md5:
            return False
    blob.upload_from_filename(path)
    log.info("uploaded the manifest to %s", url)
    return True
