"""The manifest in snakemake's default storage (``--default-storage-provider gcs``).

With a default storage (profiles/gcp, or desktops sharing a bucket) every input and
output of a rule lives in the bucket, and a cloud job starts in an empty directory.  The
manifest is the one file the workflow reads at parse time, outside snakemake's storage
handling, so it is mirrored here: a process without a local copy (a cloud job, or a
controller on another machine) downloads it, and the main process uploads it after
listing -- only when its content changed, since its time stamp in the bucket is an input
time of the aggregate.  It is stored where snakemake maps the aggregate's manifest input:
``<default-storage-prefix>/<manifest path>``.  Only GCS is supported.

The bad videos' records are kept in the bucket too, next to the outputs
(``<default-storage-prefix>/<results>/failed/YYYY/MM/DD/<stem>.txt``): a cloud job's disk
disappears with its VM.  A job writes its record as one object (the one-line reason, also
kept as the object's ``reason`` metadata); the main process, every job's parse and the
aggregate read them all with one prefix listing (:func:`read_records`).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Mapping

from camhd_motion.errors import SourceError, UserError

log = logging.getLogger(__name__)


def manifest_url(config: Mapping, storage) -> str | None:
    """The manifest's ``gs://`` URL, or ``None`` without a default storage.

    ``storage`` is snakemake's ``workflow.storage_settings`` (or ``None``)."""
    return stored_url(config["manifest"], storage)


def stored_url(path: str, storage) -> str | None:
    """Where snakemake's default storage keeps ``path`` (``<prefix>/<path>``), or ``None``
    without a default storage."""
    provider = getattr(storage, "default_storage_provider", None)
    prefix = getattr(storage, "default_storage_prefix", None)
    if not provider or not prefix:
        return None
    if provider != "gcs":
        raise UserError(f"default storage {provider!r}: the workflow keeps its manifest "
                        "only in gcs (docs/PROFILES.md)")
    return f"{prefix.rstrip('/')}/{path}"


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


REASON_KEY = "reason"  # the record's one line, also as metadata: listed without a download


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 300 else text[:297] + "..."


def write_record(url: str, text: str) -> None:
    """Write a bad video's record ``url`` (``gs://``): one upload of ``text``."""
    line = " ".join(text.split())
    try:
        from google.cloud.storage.retry import DEFAULT_RETRY

        blob = _blob(url)
        if len(line) <= 2000:  # custom metadata: 8 KiB in all
            blob.metadata = {REASON_KEY: line}
        blob.upload_from_string(line + "\n", content_type="text/plain; charset=utf-8",
                                retry=DEFAULT_RETRY)
    except UserError:
        raise
    except Exception as err:  # noqa: BLE001 - one line, whatever the client raised
        raise SourceError(f"{url}: cannot write the bad video's record: "
                          f"{_one_line(err)}") from None


def delete_record(url: str) -> None:
    """Remove the record ``url`` (``gs://``) if there is one: the video succeeded."""
    from google.api_core.exceptions import NotFound

    try:
        _blob(url).delete()
    except NotFound:
        pass
    except Exception as err:  # noqa: BLE001 - the output is written: warn, do not fail
        log.warning("%s: could not remove the bad video's record: %s", url, _one_line(err))


def read_records(url: str) -> dict[str, str]:
    """``stem -> one-line error`` of the records under ``url`` (``gs://.../failed``): one
    prefix listing (and a download only for a record without its ``reason`` metadata,
    e.g. one written by hand).  A missing bucket or prefix: none."""
    from google.api_core.exceptions import NotFound

    from camhd_motion.sources.gcs import make_client, parse_gs_url

    bucket, key = parse_gs_url(url)
    out = {}
    try:
        for blob in make_client().list_blobs(bucket, prefix=key.rstrip("/") + "/"):
            name = blob.name.rsplit("/", 1)[-1]
            if not name.endswith(".txt") or name.startswith("."):
                continue
            reason = (blob.metadata or {}).get(REASON_KEY)
            if reason is None:
                reason = blob.download_as_bytes().decode("utf-8", errors="replace")
            out[name[:-4]] = " ".join(reason.split())
    except NotFound:
        return {}
    except Exception as err:  # noqa: BLE001 - one line, whatever the client raised
        raise SourceError(f"{url}: cannot list the bad videos' records: "
                          f"{_one_line(err)}") from None
    return out
