"""What day it is: in China, whatever the server's own time zone.

The database sessions speak Asia/Shanghai (``CURRENT_DATE`` is China's date), so every
"today" of the application must be China's too: between 16:00 and 24:00 UTC a server on UTC
would otherwise be a day behind its own database.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def today_in_china() -> date:
    """The date in China now."""
    return datetime.now(CHINA).date()
