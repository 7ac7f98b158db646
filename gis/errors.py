"""Domain errors: what went wrong in gridhouse terms, with no HTTP status attached."""

from __future__ import annotations

from typing import Any


class GisError(Exception):
    """Base of every error the domain raises on purpose.

    ``field`` names the input at fault (a CLI option, a column, a JSON key) when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class NotFound(GisError):
    """The object does not exist, or is outside the caller's scope (indistinguishable)."""


class InvalidInput(GisError):
    """A value is malformed: wrong format, out of range, impossible date, bad check character."""


class InvalidGeometry(InvalidInput):
    """A geometry is invalid, empty, out of range or of the wrong type."""


class CrsRequired(InvalidInput):
    """An input names no CRS, and gridhouse never guesses one."""


class PurposeRequired(InvalidInput):
    """A read of personal data that must state its purpose (police) did not, or not enough."""


class Conflict(GisError):
    """The change contradicts stored data (overlapping periods, duplicate code, stale version)."""


class TopologyViolation(Conflict):
    """Grids break a hard topology rule; ``problems`` is a GeoJSON FeatureCollection of where."""

    def __init__(self, message: str, *, problems: dict[str, Any]) -> None:
        super().__init__(message)
        self.problems = problems


class DatabaseUnavailable(GisError):
    """The database cannot be reached or did not answer in time."""


class EnvironmentProblem(GisError):
    """The machine lacks something gridhouse needs (a package, a permission, a free port)."""


class AuthenticationFailed(GisError):
    """No valid credentials: a wrong name, password or code, a locked or disabled account, or a
    missing, expired or revoked session token (one message for all, so nothing is enumerable)."""


class Forbidden(GisError):
    """The caller's role may not use this operation at all (never used for objects out of scope:
    those are :class:`NotFound`)."""


class RateLimited(GisError):
    """The caller sent more requests than the limit allows; ``retry_after_s`` says when to retry."""

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
