"""Shapes of the users domain: account summaries, login outcomes, the authentication policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from gis.clock import ChinaTime
from gis.settings import Settings
from gis.users.models import Role


@dataclass(frozen=True)
class AuthPolicy:
    """Login and session rules (from :class:`~gis.settings.Settings`)."""

    idle_minutes: int = 30
    max_hours: int = 12
    max_failures: int = 5
    lockout_minutes: int = 15
    require_totp: bool = False

    @property
    def touch_interval(self) -> timedelta:
        """How stale a session's ``last_seen_at`` may get before a request writes it again: a
        minute, or a thirtieth of the idle time when that is shorter (a write per request would
        be a write per tile)."""
        return min(timedelta(seconds=60), timedelta(minutes=self.idle_minutes) / 30)

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthPolicy:
        return cls(
            idle_minutes=settings.session_idle_minutes,
            max_hours=settings.session_max_hours,
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.lockout_minutes,
            require_totp=settings.require_totp,
        )


@dataclass(frozen=True)
class SessionCaller:
    """A login session found by its token, with what a request needs of its user: whether it
    is still live (:meth:`is_live`) and who the caller is (name, role, jurisdiction)."""

    name: str
    role: Role
    grid_codes: tuple[str, ...]
    division_code: str | None
    is_disabled: bool
    revoked_at: datetime | None
    last_seen_at: datetime
    created_at: datetime

    def is_live(self, policy: AuthPolicy, moment: datetime) -> bool:
        """Not revoked, the account not disabled, not idle longer than ``policy.idle_minutes``
        and not older than ``policy.max_hours``. ``last_seen_at`` may lag the last request by
        up to :attr:`AuthPolicy.touch_interval`, so that much is added to the idle time: a
        session in use never ends early (one used every 20 s with a 1-minute idle time ended
        at its first minute), and an unused one ends at most that much late."""
        idle = timedelta(minutes=policy.idle_minutes) + policy.touch_interval
        return not (
            self.revoked_at is not None
            or self.is_disabled
            or moment - self.last_seen_at > idle
            or moment - self.created_at > timedelta(hours=policy.max_hours)
        )


TOTP_ROLES = frozenset({Role.POLICE, Role.OFFICER})
"""Roles that must use a second factor when ``require_totp`` is on."""


class UserSummary(BaseModel):
    """An account as ``gridhouse users list`` shows it (no secrets)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    role: Role
    grid_codes: list[str]
    division_code: str | None
    is_disabled: bool
    is_locked: bool
    has_totp: bool
    created_at: ChinaTime


@dataclass(frozen=True)
class NewUser:
    """What ``add_user`` made: the summary, the TOTP secret when one was enrolled, and grid
    codes that no grid has yet (a warning, not an error: grids may be imported later)."""

    user: UserSummary
    totp_secret: str | None
    unknown_grid_codes: tuple[str, ...]


class LoginFailure(StrEnum):
    """Why a login failed; the caller sees one message for all of them."""

    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    DISABLED = "disabled"
    TOTP_REQUIRED = "totp_required"
    TOTP_NOT_ENROLLED = "totp_not_enrolled"


@dataclass(frozen=True)
class LoginResult:
    """A token (on success) or the failure reason; never both."""

    token: str | None
    expires_in_s: int
    role: Role | None
    failure: LoginFailure | None
