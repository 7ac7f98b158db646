"""Settings of the whole service, read from ``GRIDHOUSE_*`` environment variables on demand."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable, with the defaults of a single-machine deployment.

    Nothing reads the environment at import time: call :func:`get_settings` (cached) or build
    ``Settings(...)`` explicitly, as the tests do.
    """

    model_config = SettingsConfigDict(env_prefix="GRIDHOUSE_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="An external PostGIS (postgresql://...). Unset: the embedded cluster.",
    )
    data_dir: Path = Field(
        default=Path(".gridhouse"),
        description="Where the embedded cluster, keys and caches live.",
    )
    db_port: int = Field(default=55432, ge=1024, le=65535, description="Embedded cluster port.")
    db_shared_buffers: str = "512MB"
    db_durable: bool = Field(
        default=True,
        description="fsync and full-page writes; only throwaway test clusters turn this off.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    trusted_proxies: str = Field(
        default="",
        description="Addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto "
        "are believed (comma-separated, '*' for any); empty: none, the peer's address is the "
        "client's (audit rows, login limits).",
    )
    public_url: str | None = Field(
        default=None,
        description="The address clients reach the service at (https://grid.example.org/, a "
        "path prefix allowed): the OGC API's links and the site's own origin are built from it, "
        "never from the request's Host header. Unset: from the request (a proxy's "
        "X-Forwarded-Proto believed only from trusted_proxies).",
    )
    shared_data_dir: Path = Field(
        default=Path("../shared/data"),
        description="The real data the demo and the benchmarks read (never copied into the repo).",
    )
    pool_size: int = Field(default=10, ge=1, le=100)
    grid_classes_file: Path | None = Field(
        default=None,
        description="A JSON or TOML file overriding the grid class weights, cut-offs, margins "
        "and triggers (gis/grids/classes.py holds the defaults).",
    )
    people_key_file: Path | None = Field(
        default=None,
        description="The key that encrypts ID numbers and phones (default: DATA_DIR/keys/"
        "people.key); created at setup, never in the repository.",
    )
    holidays_file: Path | None = Field(
        default=None,
        description="Public holidays and make-up working days for declaration deadlines.",
    )

    # access control and limits (docs/security.md)
    db_use_app_role: bool = Field(
        default=True,
        description="The HTTP service runs its queries as the gridhouse_app role (SET ROLE on "
        "connect), which may not update or delete audit rows. Migrations and the CLI never do.",
    )
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=24 * 30)
    require_totp: bool = Field(
        default=False, description="Police and officers must log in with a TOTP code."
    )
    login_max_failures: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    statement_timeout_ms: int = Field(default=5000, ge=10, le=600_000)
    rate_limit_per_minute: int = Field(default=300, ge=1)
    rate_limit_burst: int = Field(default=60, ge=1)
    # a map fetches a screenful of tiles at every pan or zoom: tiles have a bucket of their own
    login_rate_limit_per_minute: int = Field(
        default=60,
        ge=1,
        description="Logins a client address may try a minute, after a burst of "
        "login_rate_limit_burst: a password hash costs ~0.25 s of a core, so one address must "
        "not keep every login of the service waiting.",
    )
    login_rate_limit_burst: int = Field(default=30, ge=1)
    tile_rate_limit_per_minute: int = Field(default=3000, ge=1)
    tile_rate_limit_burst: int = Field(default=300, ge=1)

    # web map (maps/, api/routes/pages.py, api/routes/tiles.py)
    basemap: Literal["offline", "osm", "tianditu"] = Field(
        default="offline",
        description="The map's background: offline (roads drawn from the database, no internet), "
        "osm (raster tiles from basemap_osm_url) or tianditu (needs tianditu_key).",
    )
    basemap_osm_url: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="OpenStreetMap raster tiles, or a mirror of them on the local network.",
    )
    tianditu_key: str | None = Field(default=None, description="A Tianditu browser key.")
    tile_max_age_s: int = Field(
        default=60, ge=0, le=86_400, description="How long a browser may reuse a vector tile."
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_driver(cls, value: str | None) -> str | None:
        """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
        if value is None or not value.strip():
            return None
        value = value.strip()
        for prefix in ("postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        if not value.startswith("postgresql+"):
            raise ValueError("GRIDHOUSE_DATABASE_URL must start with postgresql://")
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return checked_public_url(value.strip())

    @model_validator(mode="after")
    def _basemap_has_its_key(self) -> Settings:
        if self.basemap == "tianditu" and not self.tianditu_key:
            raise ValueError("GRIDHOUSE_BASEMAP=tianditu needs GRIDHOUSE_TIANDITU_KEY")
        return self


DEFAULT_PORTS = {"http": 80, "https": 443}


def checked_public_url(text: str) -> str:
    """``text`` as the service's public base URL: scheme and host in lower case, a default port
    dropped, no trailing slash; ValueError saying why it cannot be one.

    >>> checked_public_url("HTTPS://Grid.Example.org:443/")
    'https://grid.example.org'
    >>> checked_public_url("http://10.0.0.5:8080/gridhouse/")
    'http://10.0.0.5:8080/gridhouse'
    >>> checked_public_url("https://网格.中国/")
    'https://xn--0xvs72c.xn--fiqs8s'
    >>> checked_public_url("grid.example.org")
    Traceback (most recent call last):
    ...
    ValueError: 'grid.example.org' is not an http:// or https:// address (https://grid.example.org/)
    """
    example = "(https://grid.example.org/)"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError(f"{text!r} holds white space or a control character")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:  # a port that is no number, a broken IPv6 address
        raise ValueError(f"{text!r} is not a valid address ({error})") from None
    if parts.username is not None or parts.password is not None:  # not echoed: a password
        raise ValueError("may not hold a user name or password")
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"{text!r} is not an http:// or https:// address {example}")
    if not parts.hostname:
        raise ValueError(f"{text!r} names no host {example}")
    if "?" in text or "#" in text:
        raise ValueError(f"{text!r} may not have a query (?) or a fragment (#)")
    if port == 0:
        raise ValueError(f"{text!r}: port 0 is no port a client can reach")
    host = parts.hostname.lower()
    if not host.isascii():  # what browsers send in Origin and put in links: the IDNA form
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"{text!r} names a host that is not a valid domain name") from None
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once, on first use."""
    return Settings()
