"""Secrets of the users domain: argon2 password hashes, bearer tokens, TOTP codes."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from datetime import datetime
from functools import lru_cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOTP_STEP_S = 30
TOTP_ISSUER = "gridhouse"

_hasher = PasswordHasher()  # argon2id with the RFC 9106 "low memory" profile (64 MiB, t=3)
HASHES_AT_ONCE = max(2, os.cpu_count() or 2)
"""Password hashes computed at once (argon2id costs ~0.25 s of one core and 64 MiB each):
a burst of logins queues instead of taking 64 MiB each."""
_hashing = threading.BoundedSemaphore(HASHES_AT_ONCE)


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; a PHC string that names its parameters)."""
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; with no hash (unknown user) a dummy hash is checked so
    that the answer takes as long either way."""
    try:
        with _hashing:
            return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    """An opaque bearer token: 256 random bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    """What is stored of a token: its SHA-256 (a stolen table yields no usable tokens)."""
    return hashlib.sha256(token.encode()).digest()


def new_totp_secret() -> str:
    """A random base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def totp_uri(secret: str, *, name: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (as a QR code or typed)."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=TOTP_ISSUER)


def totp_code(secret: str, *, at: datetime) -> str:
    """The code valid at ``at`` (for tests and the CLI's self-check)."""
    return pyotp.TOTP(secret).at(at)


def match_totp(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to (now, or one step either side for clock drift), or
    ``None`` when it matches none or only a step at or before ``last_step`` (a replay)."""
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // TOTP_STEP_S
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
