"""Files that hold personal data (ID numbers, phones, names): readable by their owner only.

The people import's rejects list, an exchange file and a people export carry full ID numbers,
an event's photo may show people and their homes;
with the default umask they were written ``0644`` in a ``0755`` folder, readable by every
account on the machine. These helpers create them ``0600`` (a folder made for a photo ``0700``;
an output file named by the user must be in a folder that exists), like the people key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from gis.errors import InvalidInput

OWNER_ONLY = 0o600


def check_new_file(path: Path, *, field: str = "--out") -> None:
    """Refuse, before any work, an output file that exists or whose folder does not: a typo in
    the path must not put personal data in a folder made for it somewhere unexpected."""
    if path.exists():
        raise InvalidInput(f"{path} exists: remove it or choose another file", field=field)
    _require_folder(path, field=field)


def _require_folder(path: Path, *, field: str) -> None:
    if not path.parent.is_dir():
        raise InvalidInput(f"the folder {path.parent} does not exist", field=field)


def open_private(path: Path, *, exclusive: bool = False, encoding: str = "utf-8") -> TextIO:
    """``path`` opened for writing text, created (or narrowed) to ``0600``; with ``exclusive``
    an existing file is refused (InvalidInput on ``--out``) rather than overwritten. The folder
    must exist (no folder is made for it)."""
    _require_folder(path, field="--out")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    try:
        descriptor = os.open(path, flags, OWNER_ONLY)
    except FileExistsError:
        raise InvalidInput(
            f"{path} exists: remove it or choose another file", field="--out"
        ) from None
    os.fchmod(descriptor, OWNER_ONLY)  # a file that existed keeps its mode otherwise
    return os.fdopen(descriptor, "w", encoding=encoding, newline="")


def make_private(path: Path) -> None:
    """Narrow a file another library wrote (GDAL, pandas) to ``0600``."""
    path.chmod(OWNER_ONLY)


def write_private_bytes(path: Path, data: bytes) -> None:
    """``data`` into a new ``0600`` file (folders made for it ``0700``)."""
    path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    os.fchmod(descriptor, OWNER_ONLY)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
