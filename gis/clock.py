"""What day it is: in China, whatever the server's own time zone.

The database sessions speak Asia/Shanghai (``CURRENT_DATE`` is China's date), so every
"today" of the application must be China's too: between 16:00 and 24:00 UTC a server on UTC
would otherwise be a day behind its own database.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from gis.errors import InvalidInput

CHINA = ZoneInfo("Asia/Shanghai")
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)


def today_in_china() -> date:
    """The date in China now."""
    return datetime.now(CHINA).date()


def checked_date(value: date, *, field: str) -> date:
    """A date within 1900-2100 (anything else is a typo, and PostgreSQL ranges need bounds)."""
    if not EARLIEST <= value <= LATEST:
        raise InvalidInput(f"{value} is outside {EARLIEST}…{LATEST}", field=field)
    return value
