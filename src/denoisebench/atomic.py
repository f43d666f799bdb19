"""Atomic file writes: every file the project writes (shards, manifests, models, metrics,
reports, user outputs) goes through here, so a reader never sees a half-written file."""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def atomic_write_bytes(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file to ``path``.

    The temporary file sits in the same folder (same filesystem) under a dot-name that no
    reader globs; it is removed if ``write`` fails, so ``path`` is either absent, the old file,
    or the complete new file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # like mkstemp, but created with 0o666 & ~umask (mkstemp's 0o600 would make every shard,
    # manifest and model unreadable to the rest of a shared project)
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_npz(path: Path, arrays: Mapping[str, Any]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` atomically (no object arrays: it loads with
    ``allow_pickle=False``)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(Path(path), lambda tmp: tmp.write_bytes(buf.getvalue()))
