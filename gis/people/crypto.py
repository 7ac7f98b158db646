"""ID numbers and phones at rest: AES-256-GCM ciphertexts and HMAC-SHA256 lookup hashes.

One 32-byte master key lives in a file under ``GRIDHOUSE_DATA_DIR`` (``keys/people.key``, mode
600; never in the repository, never in the database). Two keys are derived from it with HKDF:
one encrypts, one computes the keyed hashes that make exact lookup possible without decrypting
(``WHERE id_number_hash = :h``). A plain SHA-256 of an ID number would be no protection: the
whole space of valid ID numbers for a region and decade can be enumerated in minutes.

A ciphertext is ``version (1) ‖ key id (4) ‖ nonce (12) ‖ AES-GCM(value) ‖ tag (16)``, with the
field name as associated data, so an ID ciphertext cannot be passed off as a phone; the key id
makes a wrong key fail loudly instead of answering garbage.
"""

from __future__ import annotations

import base64
import hmac
import os
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gis.errors import EnvironmentProblem, GisError

FORMAT_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_HEADER = "gridhouse people key v1"


class SealedField(StrEnum):
    """The encrypted fields; each name is bound into its ciphertexts and hashes."""

    ID_NUMBER = "id_number"
    PHONE = "phone"


class KeyMismatch(GisError):
    """A ciphertext was made with another key (or was altered)."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


class PeopleCipher:
    """Encrypts, decrypts and hashes the personal identifiers of ``people`` rows."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError(f"the master key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(_derive(master_key, b"gridhouse people aes-256-gcm v1"))
        self._hmac_key = _derive(master_key, b"gridhouse people hmac-sha256 v1")
        self.key_id = hmac.digest(self._hmac_key, b"key id", "sha256")[:4]
        self._prefix = bytes([FORMAT_VERSION]) + self.key_id

    def seal(self, value: str, *, field: SealedField) -> bytes:
        """The ciphertext of ``value`` (a fresh random nonce every time)."""
        nonce = os.urandom(NONCE_BYTES)
        return self._prefix + nonce + self._aead.encrypt(nonce, value.encode(), field.encode())

    def seal_many(self, values: Iterable[str | None], *, field: SealedField) -> list[bytes | None]:
        """:meth:`seal` over many values (``None`` stays ``None``), for bulk loads."""
        aad, prefix, encrypt = field.encode(), self._prefix, self._aead.encrypt
        sealed: list[bytes | None] = []
        append = sealed.append
        for value in values:
            if value is None:
                append(None)
                continue
            nonce = os.urandom(NONCE_BYTES)
            append(prefix + nonce + encrypt(nonce, value.encode(), aad))
        return sealed

    def open(self, blob: bytes, *, field: SealedField) -> str:
        """The plaintext of a ciphertext made by :meth:`seal` with this key."""
        blob = bytes(blob)
        if blob[:1] != bytes([FORMAT_VERSION]) or blob[1:5] != self.key_id:
            raise KeyMismatch(
                "this value was encrypted with another key: is GRIDHOUSE_DATA_DIR the right one?"
            )
        nonce, body = blob[5 : 5 + NONCE_BYTES], blob[5 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, field.encode()).decode()
        except InvalidTag:
            raise KeyMismatch(
                f"the stored {field} was altered or belongs to another field"
            ) from None

    def lookup_hash(self, value: str, *, field: SealedField) -> bytes:
        """The keyed hash of a normalised value: equal values give equal hashes."""
        return hmac.digest(self._hmac_key, field.encode() + b"\x00" + value.encode(), "sha256")

    def hash_many(self, values: Iterable[str | None], *, field: SealedField) -> list[bytes | None]:
        """:meth:`lookup_hash` over many values (``None`` stays ``None``)."""
        key, prefix, digest = self._hmac_key, field.encode() + b"\x00", hmac.digest
        return [None if v is None else digest(key, prefix + v.encode(), "sha256") for v in values]


def default_key_path(data_dir: Path) -> Path:
    """Where the key lives unless ``GRIDHOUSE_PEOPLE_KEY_FILE`` says otherwise."""
    return data_dir / "keys" / "people.key"


def read_key_file(path: Path) -> PeopleCipher:
    """Load the key; :class:`EnvironmentProblem` when it is missing, unreadable or malformed."""
    try:
        lines = path.read_text(encoding="ascii").split()
    except FileNotFoundError:
        raise EnvironmentProblem(
            f"the people key {path} is missing: run `gridhouse migrate` on a database without "
            "people to create one, or restore it from the backup",
            field="GRIDHOUSE_PEOPLE_KEY_FILE",
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise EnvironmentProblem(f"cannot read the people key {path}: {error}") from None
    try:
        key = base64.b64decode(lines[-1], validate=True)
        return PeopleCipher(key)
    except (IndexError, ValueError):
        raise EnvironmentProblem(f"the people key {path} is malformed") from None


def write_new_key_file(path: Path) -> PeopleCipher:
    """Create a key file with a new random key (mode 600, folder 700); never overwrites one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    key = os.urandom(KEY_BYTES)
    text = f"# {KEY_HEADER}: keep a copy with the backups; without it ID numbers are lost\n"
    text += base64.b64encode(key).decode() + "\n"
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_key_file(path)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text)
    return PeopleCipher(key)
