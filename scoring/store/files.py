"""Uploaded files, immutable and content-addressed.

A file is written once under ``<folder>/<sha256[:2]>/<sha256>.<kind>``, where ``kind`` comes from the
bytes (never from the name a browser sent), atomically (temporary file, fsync, rename). A file whose
database row was never committed (a failed upload) is harmless: nothing points at it, and the same
bytes uploaded again reuse it.
"""

from __future__ import annotations

import hashlib
import re
import os
import tempfile
from pathlib import Path

KINDS = ("yaml", "xlsx", "csv")


def sniff(data: bytes, accepted: tuple[str, ...] = KINDS) -> str | None:
    """The kind of an upload from its bytes (never its name): ``xlsx`` for a zip container, ``yaml`` or
    ``csv`` for UTF-8 text (a text accepted as both is YAML when its first line is ``key: value``), else None."""
    head = data[:8192]
    if head[:4] == b"PK\x03\x04":
        return "xlsx" if "xlsx" in accepted else None
    if not head or b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the end of the sample
            return None
        text = head[:exc.start].decode("utf-8-sig")
    kinds = [k for k in ("yaml", "csv") if k in accepted]
    if len(kinds) < 2:
        return kinds[0] if kinds else None
    first = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    return "yaml" if re.match(r"^[\w\-\s\"']+:(\s|$)", first) or first.startswith(("-", "---")) else "csv"


class FileStore:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def path(self, sha256: str, kind: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256) or kind not in KINDS:
            raise ValueError("not a stored file name")
        return self.folder / sha256[:2] / f"{sha256}.{kind}"

    def put(self, data: bytes, kind: str) -> tuple[str, Path]:
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha, kind)
        if target.is_file() and target.stat().st_size == len(data):
            return sha, target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha, target

    def read(self, sha256: str, kind: str) -> bytes:
        return self.path(sha256, kind).read_bytes()
