"""Accounts, login, lockout, TOTP and sessions, through the users service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypedDict

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.audit.models import AuditEntry
from gis.audit.schemas import Actor
from gis.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from gis.users import login as logins
from gis.users import service
from gis.users.credentials import totp_code
from gis.users.login import PasswordCheck
from gis.users.models import Role, UserSession
from gis.users.queries import select_user
from gis.users.schemas import AuthPolicy, LoginFailure, LoginResult
from tests.access_world import GRID_OWN, PASSWORD, TEST_ACTOR, World

POLICY = AuthPolicy()
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _login(
    db: Session,
    name: str,
    password: str = PASSWORD,
    *,
    totp_code: str | None = None,
    policy: AuthPolicy = POLICY,
    client_addr: str | None = "10.0.0.7",
    now: datetime | None = None,
    checked: PasswordCheck | None = None,
) -> LoginResult:
    return logins.login(
        db, name=name, password=password, totp_code=totp_code, policy=policy,
        client_addr=client_addr, now=now, checked=checked,
    )  # fmt: skip


def _token(db: Session, name: str, now: datetime | None = None) -> str:
    """The session token of a login that must succeed."""
    result = _login(db, name, now=now)
    assert result.token is not None, result.failure
    return result.token


class _NewUser(TypedDict, total=False):
    """Keywords of :func:`gis.users.service.add_user`."""

    name: str
    role: Role
    password: str
    actor: Actor
    grid_codes: list[str]
    division_code: str


@pytest.mark.usefixtures("world")
def test_add_user_checks_role_and_jurisdiction(db: Session) -> None:
    cases: list[tuple[_NewUser, str]] = [
        ({"role": Role.OFFICER}, "grids"),
        ({"role": Role.OFFICER, "grid_codes": ["12345"]}, "grids"),
        ({"role": Role.POLICE}, "division"),
        ({"role": Role.POLICE, "division_code": "123456789012"}, "division"),
        ({"role": Role.PLANNER, "grid_codes": [GRID_OWN]}, "grids"),
        ({"role": Role.ADMIN, "division_code": "990101000000"}, "division"),
        ({"role": Role.ADMIN, "password": "short"}, "password"),
        ({"role": Role.ADMIN, "name": "bad name!"}, "name"),
    ]
    for overrides, field in cases:
        args: _NewUser = {"name": "newcomer", "password": PASSWORD, "actor": TEST_ACTOR}
        args.update(overrides)
        with pytest.raises(InvalidInput) as caught:
            service.add_user(db, **args)
        assert caught.value.field == field, overrides


def test_add_user_hashes_audits_and_refuses_duplicates(db: Session, world: World) -> None:
    made = service.add_user(
        db, name="wang", role=Role.OFFICER, password=PASSWORD, actor=TEST_ACTOR,
        grid_codes=[GRID_OWN, "990101001001099"],
    )  # fmt: skip
    assert made.unknown_grid_codes == ("990101001001099",)
    user = select_user(db, name="wang")
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    audit = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "users.add").order_by(AuditEntry.id)
    ).all()
    assert audit[-1].target_codes == ["wang"]
    assert audit[-1].user_name == TEST_ACTOR.name
    with pytest.raises(Conflict):
        service.add_user(db, name="wang", role=Role.ADMIN, password=PASSWORD, actor=TEST_ACTOR)
    # a lookalike differing in case only (WANG beside wang) is refused too
    with pytest.raises(Conflict, match="'wang' exists \\(names differ in case only\\)"):
        service.add_user(db, name="WANG", role=Role.ADMIN, password=PASSWORD, actor=TEST_ACTOR)
    police = service.add_user(
        db, name="zhao", role=Role.POLICE, password=PASSWORD, actor=TEST_ACTOR,
        division_code="990101001000",
    )  # fmt: skip
    assert police.user.division_code == "990101001000"
    names = [summary.name for summary in service.list_users(db)]
    assert {"wang", "zhao", *world.users.values()} <= set(names)


def test_login_opens_a_session_with_a_hashed_token(db: Session, world: World) -> None:
    result = _login(db, world.users[Role.OFFICER])
    assert result.failure is None
    token = result.token
    assert token is not None
    stored = db.scalars(select(UserSession.token_hash)).all()
    assert token.encode() not in stored
    user = service.authenticate(db, token=token, policy=POLICY)
    assert user.name == world.users[Role.OFFICER]


def test_wrong_password_and_unknown_user_fail_alike(db: Session, world: World) -> None:
    wrong = _login(db, world.users[Role.POLICE], password="not the password")
    unknown = _login(db, "nobody-here")
    assert wrong.failure is unknown.failure is LoginFailure.BAD_CREDENTIALS
    rows = db.execute(
        select(AuditEntry.user_name, AuditEntry.outcome)
        .where(AuditEntry.action == "auth.login")
        .order_by(AuditEntry.id)
    ).all()
    assert [tuple(row) for row in rows[-2:]] == [
        (world.users[Role.POLICE], "denied"),
        ("nobody-here", "denied"),
    ]


def test_five_failures_lock_that_address_out_for_fifteen_minutes(db: Session, world: World) -> None:
    name = world.users[Role.POLICE]
    for attempt in range(5):
        result = _login(db, name, password="wrong password", now=T0 + timedelta(seconds=attempt))
        assert result.failure is LoginFailure.BAD_CREDENTIALS
    locked = _login(db, name, now=T0 + timedelta(minutes=14))
    assert locked.failure is LoginFailure.LOCKED
    # the owner, from another address, is not kept out by whoever typed the name (it was)
    elsewhere = _login(db, name, client_addr="10.0.0.8", now=T0 + timedelta(minutes=14))
    assert elsewhere.failure is None
    assert _login(db, name, now=T0 + timedelta(minutes=16)).failure is None
    # the count starts again from zero after a success
    user = select_user(db, name=name)
    assert user is not None
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_fifty_failures_from_anywhere_lock_the_account(db: Session, world: World) -> None:
    """Guessing from many addresses, a few from each, still locks the account."""
    name = world.users[Role.POLICE]
    for attempt in range(5 * logins.ACCOUNT_LOCK_FACTOR):
        _login(db, name, password="wrong password", client_addr=f"10.1.{attempt // 4}.{attempt}",
               now=T0 + timedelta(seconds=attempt))  # fmt: skip
    fresh = _login(db, name, client_addr="10.9.9.9", now=T0 + timedelta(minutes=1))
    assert fresh.failure is LoginFailure.LOCKED


def test_disabled_accounts_cannot_log_in_and_lose_their_sessions(db: Session, world: World) -> None:
    name = world.users[Role.ADMIN]
    token = _token(db, name)
    service.set_disabled(db, name=name, is_disabled=True, actor=TEST_ACTOR)
    assert _login(db, name).failure is LoginFailure.DISABLED
    with pytest.raises(AuthenticationFailed):
        service.authenticate(db, token=token, policy=POLICY)
    service.set_disabled(db, name=name, is_disabled=False, actor=TEST_ACTOR)
    assert _login(db, name).failure is None
    with pytest.raises(NotFound):
        service.set_disabled(db, name="ghost", is_disabled=True, actor=TEST_ACTOR)


def test_reset_lifts_the_lock_and_revokes_sessions(db: Session, world: World) -> None:
    name = world.users[Role.OFFICER]
    token = _token(db, name)
    for _ in range(5):
        _login(db, name, password="wrong password")
    service.reset_password(db, name=name, password="a brand new passphrase", actor=TEST_ACTOR)
    with pytest.raises(AuthenticationFailed):
        service.authenticate(db, token=token, policy=POLICY)
    assert _login(db, name).failure is LoginFailure.BAD_CREDENTIALS
    assert _login(db, name, password="a brand new passphrase").failure is None


def test_sessions_expire_when_idle_or_too_old(db: Session, world: World) -> None:
    token = _token(db, world.users[Role.PLANNER], now=T0)
    # each use within 30 minutes keeps the session alive
    for minutes in (20, 40, 60, 80):
        service.authenticate(db, token=token, policy=POLICY, now=T0 + timedelta(minutes=minutes))
    with pytest.raises(AuthenticationFailed):
        service.authenticate(db, token=token, policy=POLICY, now=T0 + timedelta(minutes=112))
    fresh = _token(db, world.users[Role.PLANNER], now=T0)
    long = AuthPolicy(idle_minutes=24 * 60, max_hours=1)
    with pytest.raises(AuthenticationFailed):
        service.authenticate(db, token=fresh, policy=long, now=T0 + timedelta(minutes=61))
    with pytest.raises(AuthenticationFailed):
        service.authenticate(db, token="forged-token", policy=POLICY)


def test_a_session_in_use_never_ends_early(db: Session, world: World) -> None:
    """``last_seen_at`` is written at most once a touch interval, so the idle clock may lag the
    last request by that much: a session used every 20 s with a 1-minute idle time lived for one
    minute and ended while in use."""
    short = AuthPolicy(idle_minutes=1, max_hours=12)
    assert short.touch_interval == timedelta(seconds=2)
    assert POLICY.touch_interval == timedelta(seconds=60)
    token = _token(db, world.users[Role.PLANNER], now=T0)
    for seconds in range(20, 200, 20):
        service.authenticate(db, token=token, policy=short, now=T0 + timedelta(seconds=seconds))
    last_use = T0 + timedelta(seconds=180)
    service.authenticate(db, token=token, policy=short, now=last_use + timedelta(seconds=61))
    with pytest.raises(AuthenticationFailed):
        service.authenticate(db, token=token, policy=short, now=last_use + timedelta(seconds=184))


def test_logout_revokes(db: Session, world: World) -> None:
    name = world.users[Role.AUDITOR]
    token = _token(db, name)
    service.logout(db, token=token, actor=TEST_ACTOR, client_addr=None)
    with pytest.raises(AuthenticationFailed):
        service.authenticate(db, token=token, policy=POLICY)


def test_totp_is_required_when_enrolled_and_never_replayed(db: Session, world: World) -> None:
    name = world.users[Role.POLICE]
    before = _token(db, name)
    secret = service.enrol_totp(db, name=name, actor=TEST_ACTOR)
    with pytest.raises(AuthenticationFailed):  # a new secret ends the sessions, as a password
        service.authenticate(db, token=before, policy=POLICY)
    assert _login(db, name, now=T0).failure is LoginFailure.TOTP_REQUIRED
    code = totp_code(secret, at=T0)
    assert _login(db, name, totp_code="000000", now=T0).failure is not None
    assert _login(db, name, totp_code=code, now=T0).failure is None
    replay = _login(db, name, totp_code=code, now=T0 + timedelta(seconds=5))
    assert replay.failure is LoginFailure.BAD_CREDENTIALS
    later = totp_code(secret, at=T0 + timedelta(seconds=60))
    assert _login(db, name, totp_code=later, now=T0 + timedelta(seconds=60)).failure is None


def test_required_totp_refuses_police_and_officers_without_it(db: Session, world: World) -> None:
    strict = AuthPolicy(require_totp=True)
    for role in (Role.POLICE, Role.OFFICER):
        result = _login(db, world.users[role], policy=strict)
        assert result.failure is LoginFailure.TOTP_NOT_ENROLLED
    for role in (Role.PLANNER, Role.ADMIN, Role.AUDITOR):
        assert _login(db, world.users[role], policy=strict).failure is None


def test_a_password_checked_before_a_reset_no_longer_logs_in(db: Session, world: World) -> None:
    """The route checks the slow hash outside the login's transaction; a password reset in
    between makes that check stale, and the login is refused."""
    name = world.users[Role.PLANNER]
    checked = logins.verify_password(logins.password_hash_of(db, name=name), PASSWORD)
    assert checked.matches
    assert _login(db, name, checked=checked).failure is None
    service.reset_password(db, name=name, password="a brand new passphrase", actor=TEST_ACTOR)
    stale = _login(db, name, checked=checked)
    assert stale.failure is LoginFailure.BAD_CREDENTIALS
    assert stale.token is None
    wrong = logins.verify_password(logins.password_hash_of(db, name=name), "not the passphrase")
    assert _login(db, name, checked=wrong).failure is LoginFailure.BAD_CREDENTIALS


def test_an_officer_is_moved_to_other_grids_and_police_to_another_division(
    db: Session, world: World
) -> None:
    """After a new plan every grid has a new code: an officer's account must follow, or their
    scope is empty. The account's rules stay (an officer has grids, police a division)."""
    officer = world.users[Role.OFFICER]
    moved, unknown = service.set_jurisdiction(
        db, name=officer, actor=TEST_ACTOR, grid_codes=["990101001002001", "990101001001098"]
    )
    assert moved.grid_codes == ["990101001002001", "990101001001098"]
    assert unknown == ("990101001001098",)
    with pytest.raises(InvalidInput, match="an officer needs at least one grid code"):
        service.set_jurisdiction(db, name=officer, actor=TEST_ACTOR, grid_codes=[])
    police = world.users[Role.POLICE]
    with pytest.raises(InvalidInput, match="no division 990199000000"):
        service.set_jurisdiction(db, name=police, actor=TEST_ACTOR, division_code="990199000000")
    assert (
        service.set_jurisdiction(db, name=police, actor=TEST_ACTOR, division_code="990101000000")[
            0
        ].division_code
        == "990101000000"
    )
    audit = db.scalars(
        select(AuditEntry.target_codes).where(AuditEntry.action == "users.jurisdiction")
    ).all()
    assert [codes[0] for codes in audit] == [officer, police]
