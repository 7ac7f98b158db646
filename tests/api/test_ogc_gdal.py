"""GDAL (Debian's ogrinfo and ogr2ogr, the OAPIF driver) reads ``/ogc`` like QGIS would: it
lists the collections and copies every building into a GeoPackage, following ``next`` links.

The app is served by uvicorn from a thread of this process on a free port, its requests sharing
the test's rolled-back session, so GDAL (a subprocess) sees the buildings imported here.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pyogrio
import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.main import create_app
from api.personal import get_audit_factory
from gis.settings import Settings
from gis.users.models import Role, User
from tests.access_world import PASSWORD, password_hash, share_test_session
from tests.conftest import savepoint_factory
from tests.nanshan_sample import import_nanshan_sample
from tests.served import served_in_thread

SAMPLE = 300
PAGE_SIZE = 100  # several pages: GDAL must follow the next links

pytestmark = pytest.mark.usefixtures("nanshan_communities")


@pytest.fixture
def served(settings: Settings, db: Session) -> Iterator[str]:
    """The app on a free port (``http://127.0.0.1:PORT``) until the test ends."""
    if shutil.which("ogr2ogr") is None or shutil.which("ogrinfo") is None:
        pytest.fail("Debian's gdal-bin is missing: `make gdal` installs it")
    app = create_app(settings)
    share_test_session(app, db)
    app.dependency_overrides[get_audit_factory] = lambda: savepoint_factory(db)
    with served_in_thread(app, log_level="warning") as port:
        yield f"http://127.0.0.1:{port}"


def _gdal(*args: str, token: str) -> str:
    command = [*args, "--config", "GDAL_HTTP_HEADERS", f"Authorization: Bearer {token}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gdal_lists_collections_and_copies_every_building(
    served: str,
    db: Session,
    factory: sessionmaker[Session],
    shared_data: Path,
    tmp_path: Path,
) -> None:
    codes = import_nanshan_sample(
        factory, db, shared_data=shared_data, tmp_path=tmp_path, count=SAMPLE
    )
    db.add(User(name="gis_admin", role=Role.ADMIN, password_hash=password_hash()))
    db.flush()
    login = httpx2.post(
        f"{served}/api/auth/login", json={"name": "gis_admin", "password": PASSWORD}, timeout=60
    )
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    endpoint = f"OAPIF:{served}/ogc"

    listing = _gdal("ogrinfo", "-ro", "-q", endpoint, token=token)
    layers = [line.split(":", 1)[1].split("(")[0].strip() for line in listing.splitlines()]
    assert layers == ["buildings", "grids", "divisions"], listing

    out = tmp_path / "buildings.gpkg"
    _gdal(
        "ogr2ogr", "-f", "GPKG", str(out), endpoint, "buildings",
        "-oo", f"PAGE_SIZE={PAGE_SIZE}", token=token,
    )  # fmt: skip
    copied = pyogrio.read_dataframe(out)
    assert len(copied) == SAMPLE == len(codes)
    assert sorted(copied["code"]) == codes
    assert copied.geometry.is_valid.all()
    bounds = copied.total_bounds  # Shekou / Houhai, Nanshan
    assert 113.88 < bounds[0] < bounds[2] < 113.96 and 22.46 < bounds[1] < bounds[3] < 22.54
