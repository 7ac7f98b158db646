"""A login attempt: the password (checked apart from the transaction that records it), the
second factor, and the lockout of an address, or of the account, after repeated failures.

A failed login *returns* its failure (rather than raising) so that the caller commits the
failure count and the audit row before answering 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from gis.audit.schemas import Actor, AuditOutcome
from gis.audit.service import record_audit
from gis.users import credentials, queries
from gis.users.models import AddressLock, User
from gis.users.schemas import TOTP_ROLES, AuthPolicy, LoginFailure, LoginResult
from gis.users.service import open_session, utc_now

ACCOUNT_LOCK_FACTOR = 10
"""The account itself locks after this many times ``max_failures`` failures in a row from any
address (slow guessing from many addresses); one address locks only itself out sooner."""


def _refusal(
    user: User | None, lock: AddressLock | None, policy: AuthPolicy, *, now: datetime
) -> LoginFailure | None:
    """Why an account may not log in (from the address of ``lock``) before its password is
    looked at."""
    if user is None:
        return None
    if user.is_disabled:
        return LoginFailure.DISABLED
    for until in (user.locked_until, lock.locked_until if lock else None):
        if until is not None and until > now:
            return LoginFailure.LOCKED
    return None


def _second_factor(
    user: User, code: str | None, policy: AuthPolicy, *, now: datetime
) -> LoginFailure | None:
    if user.totp_secret is None:
        if policy.require_totp and user.role in TOTP_ROLES:
            return LoginFailure.TOTP_NOT_ENROLLED
        return None
    if not code:
        return LoginFailure.TOTP_REQUIRED
    step = credentials.match_totp(user.totp_secret, code, now=now, last_step=user.totp_last_step)
    if step is None:
        return LoginFailure.BAD_CREDENTIALS
    user.totp_last_step = step
    return None


def _count_failure(
    session: Session,
    user: User | None,
    lock: AddressLock | None,
    failure: LoginFailure,
    policy: AuthPolicy,
    *,
    now: datetime,
    address: str,
) -> None:
    """A wrong password or code counts: ``max_failures`` in a row from one address lock that
    address out of the account (``lock``: its record so far, if any), :data:`ACCOUNT_LOCK_FACTOR`
    times as many from anywhere lock the account."""
    if user is None or failure not in (LoginFailure.BAD_CREDENTIALS, LoginFailure.TOTP_REQUIRED):
        return
    if lock is None:  # the user's row is locked by the login: two failures cannot both add it
        lock = AddressLock(user_uid=user.uid, client_addr=address, failures=0)
        session.add(lock)
    if lock.locked_until is not None and lock.locked_until <= now:  # an old lock, run out
        lock.failures, lock.locked_until = 0, None
    lock.failures += 1
    if lock.failures >= policy.max_failures:
        lock.failures = 0
        lock.locked_until = now + timedelta(minutes=policy.lockout_minutes)
    user.failed_logins += 1
    if user.failed_logins >= policy.max_failures * ACCOUNT_LOCK_FACTOR:
        user.failed_logins = 0
        user.locked_until = now + timedelta(minutes=policy.lockout_minutes)


@dataclass(frozen=True)
class PasswordCheck:
    """A password checked against ``hash``, the user's stored hash when it was read."""

    hash: str | None
    matches: bool


def password_hash_of(session: Session, *, name: str) -> str | None:
    """``name``'s stored password hash, read without a lock (``None``: no such user)."""
    return queries.select_password_hash(session, name=name)


def verify_password(stored: str | None, password: str) -> PasswordCheck:
    """Check ``password`` against a hash read by :func:`password_hash_of`; :func:`login`
    then confirms that the hash is still the user's."""
    return PasswordCheck(stored, credentials.verify_password(stored, password))


def login(
    session: Session,
    *,
    name: str,
    password: str,
    totp_code: str | None,
    policy: AuthPolicy,
    client_addr: str | None,
    now: datetime | None = None,
    checked: PasswordCheck | None = None,
) -> LoginResult:
    """Check credentials and open a session; returns the token or why not (never raises for bad
    credentials, so the caller can commit the failure count and the audit row).

    ``checked``: the password already checked by :func:`verify_password` (the HTTP route
    checks it between two transactions, so that the deliberately slow hash holds no pooled
    connection); without it the password is checked here.

    After ``policy.max_failures`` consecutive failures from one address, that address is
    locked out of the account for ``policy.lockout_minutes`` (even the right password is
    refused from it); :data:`ACCOUNT_LOCK_FACTOR` times as many from anywhere lock the account.
    """
    moment = utc_now(now)
    address = (client_addr or "")[:64]
    if checked is None:
        checked = verify_password(password_hash_of(session, name=name), password)
    user = queries.select_user(session, name=name, for_update=True)
    lock = None if user is None else queries.select_address_lock(
        session, user_uid=user.uid, client_addr=address
    )  # fmt: skip
    failure = _refusal(user, lock, policy, now=moment)
    if failure is None:
        # the password was checked against the hash stored now (a reset in between fails it)
        matches = checked.matches and user is not None and user.password_hash == checked.hash
        failure = None if matches else LoginFailure.BAD_CREDENTIALS
    if failure is None and user is not None:
        failure = _second_factor(user, totp_code, policy, now=moment)
    actor = Actor(name=name[:64], role=str(user.role) if user else None)
    if failure is not None or user is None:
        failure = failure or LoginFailure.BAD_CREDENTIALS
        _count_failure(session, user, lock, failure, policy, now=moment, address=address)
        session.flush()
        record_audit(session, actor=actor, action="auth.login", outcome=AuditOutcome.DENIED,
                     purpose=str(failure), client_addr=client_addr)  # fmt: skip
        return LoginResult(None, 0, None, failure)
    user.failed_logins = 0
    user.locked_until = None
    queries.clear_address_locks(session, user_uid=user.uid, client_addr=address)
    if credentials.needs_rehash(user.password_hash):
        user.password_hash = credentials.hash_password(password)
    token = open_session(session, user=user, client_addr=client_addr, now=moment)
    return LoginResult(token, policy.idle_minutes * 60, user.role, None)
