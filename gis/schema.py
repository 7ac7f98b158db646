"""Running the Alembic migrations programmatically (``gridhouse migrate``, tests)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = PROJECT_ROOT / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url`` that does not need alembic.ini or the environment.

    Alembic is imported here, not at the top: ~0.15 s of every ``gridhouse`` command's start-up
    that only ``migrate``, ``demo`` and ``db`` need."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database at ``url`` down to ``revision``."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)
