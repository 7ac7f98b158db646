"""Event photos: the type told by the bytes (never by a name or a header), a size limit, and
storage under ``GRIDHOUSE_DATA_DIR/events/photos/<event id>/``.

>>> sniff_image(b"\\x89PNG\\r\\n\\x1a\\n" + b"\\x00" * 8 + b"IEND\\xaeB`\\x82")
('image/png', 'png')
>>> sniff_image(b"GIF89a...")
Traceback (most recent call last):
gis.errors.InvalidInput: photo: not a JPEG, PNG or WebP image (its first bytes say otherwise)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from gis.errors import InvalidInput
from gis.private_files import write_private_bytes

MAX_PHOTO_BYTES = 750_000
"""The largest photo accepted: base64-encoded in JSON it stays under the 1 MiB request body
limit (the map scales photos down to fit before sending them)."""
MIN_PHOTO_BYTES = 16
MAX_PHOTOS_PER_EVENT = 20


def sniff_image(data: bytes) -> tuple[str, str]:
    """``(content type, extension)`` of a JPEG, PNG or WebP image, from its bytes: the magic
    number at the start and the end marker (a truncated upload is refused)."""
    if data.startswith(b"\xff\xd8\xff"):
        if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
            raise InvalidInput("the JPEG image is truncated (no end marker)", field="photo")
        return "image/jpeg", "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        if b"IEND" not in data[-12:]:
            raise InvalidInput("the PNG image is truncated (no IEND chunk)", field="photo")
        return "image/png", "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        if int.from_bytes(data[4:8], "little") + 8 != len(data):
            raise InvalidInput("the WebP image is truncated (its size disagrees)", field="photo")
        return "image/webp", "webp"
    raise InvalidInput(
        "not a JPEG, PNG or WebP image (its first bytes say otherwise)", field="photo"
    )


@dataclass(frozen=True)
class StoredPhoto:
    relative_path: str
    content_type: str
    size_bytes: int
    sha256: str


def decode_base64(text: str) -> bytes:
    """The bytes of a photo sent as base64 text (refused when it is not base64)."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("not base64 text", field="content_base64") from None


def check_photo(data: bytes) -> tuple[str, str]:
    """Refuse empty, oversized and non-image uploads; return the type and extension."""
    if len(data) < MIN_PHOTO_BYTES:
        raise InvalidInput("the photo is empty or too small to be an image", field="photo")
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidInput(
            f"the photo has {len(data):,} bytes; at most {MAX_PHOTO_BYTES:,} are accepted",
            field="photo",
        )
    return sniff_image(data)


def store_photo(data: bytes, *, data_dir: Path, event_id: int) -> StoredPhoto:
    """Write a checked photo under ``data_dir`` (a new name each time, written to a temporary
    file and renamed, so a reader never sees half a photo)."""
    content_type, extension = check_photo(data)
    relative = Path("events") / "photos" / str(event_id) / f"{uuid.uuid4().hex}.{extension}"
    target = data_dir / relative
    partial = target.with_suffix(".partial")
    write_private_bytes(partial, data)  # a photo may show people and places: the owner only
    partial.replace(target)
    return StoredPhoto(
        relative_path=relative.as_posix(),
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def read_photo(relative_path: str, *, data_dir: Path) -> bytes:
    """The bytes of a stored photo."""
    return (data_dir / relative_path).read_bytes()
