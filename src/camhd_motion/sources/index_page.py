"""Directory index pages in the style of the OOI raw-data archive (Apache autoindex).

Each entry is a link whose ``href`` equals its text; directories end in ``/``.  The page
also carries the links real Apache pages have and a crawler must skip: the column-sort
links (``?C=N;O=D``) and "Parent Directory".  Served by :mod:`camhd_motion.sources.serve`;
read back by the archive listing (``camhd_motion.archive.sources.index_links``).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import urllib.parse


def human_size(n: int) -> str:
    """Apache's short size: ``875``, ``1.2K``, ``14G``."""
    for unit in ("", "K", "M", "G", "T"):
        if n < 1024 or unit == "T":
            if unit == "" or n >= 10:
                return f"{n:.0f}{unit}"
            return f"{n:.1f}{unit}"
        n /= 1024
    raise AssertionError("unreachable")


def render_index(url_path: str, directory: str) -> bytes:
    """The HTML index of ``directory`` served at ``url_path`` (ending in ``/``)."""
    rows = []
    with os.scandir(directory) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        is_dir = entry.is_dir()
        name = entry.name + ("/" if is_dir else "")
        st = entry.stat()
        mtime = dt.datetime.fromtimestamp(st.st_mtime, dt.UTC).strftime("%Y-%m-%d %H:%M")
        size = "  - " if is_dir else human_size(st.st_size)
        href = urllib.parse.quote(name)
        icon = "folder.gif\" alt=\"[DIR]" if is_dir else "unknown.gif\" alt=\"[   ]"
        rows.append(
            f'<tr><td valign="top"><img src="/icons/{icon}"></td>'
            f'<td><a href="{href}">{html.escape(name)}</a></td>'
            f'<td align="right">{mtime}  </td><td align="right">{size}</td>'
            f"<td>&nbsp;</td></tr>"
        )
    title = html.escape(f"Index of {url_path.rstrip('/') or '/'}")
    parent = ""
    if url_path.strip("/"):
        up = urllib.parse.quote(url_path.rstrip("/").rsplit("/", 1)[0] + "/")
        parent = (
            '<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td>'
            f'<td><a href="{up}">Parent Directory</a></td><td>&nbsp;</td>'
            '<td align="right">  - </td><td>&nbsp;</td></tr>\n'
        )
    page = (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<html>\n <head>\n'
        f"  <title>{title}</title>\n </head>\n <body>\n<h1>{title}</h1>\n  <table>\n"
        '   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th>'
        '<th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th>'
        '<th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>\n'
        '   <tr><th colspan="5"><hr></th></tr>\n'
        + parent
        + "\n".join(rows)
        + '\n   <tr><th colspan="5"><hr></th></tr>\n</table>\n</body></html>\n'
    )
    return page.encode("utf-8")
