"""Test harness: a throwaway PostGIS cluster for the whole run, migrated once; every test runs in
a transaction that is rolled back."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from api.main import create_app
from api.personal import get_audit_factory
from gis import cluster, schema
from gis.db import make_engine, make_session_factory, transaction
from gis.demo import derive_nanshan_communities
from gis.divisions.service import attach_boundaries, import_divisions
from gis.people.crypto import PeopleCipher, read_key_file, write_new_key_file
from gis.settings import Settings
from gis.users.models import Role
from tests.access_world import World, build_world, login, share_test_session
from tests.databases import own_database
from tests.grids_world import add_grids_world
from tests.people_world import add_people_world

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "divisions").is_dir():
        pytest.fail(f"the shared data folder is missing: {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[cluster.Cluster]:
    """A private cluster in a temporary folder, on a free port, deleted at the end."""
    data_dir = Path(tempfile.mkdtemp(prefix="gridhouse-test-"))
    data_dir.chmod(0o755)  # the unprivileged server user must reach pg/ inside it
    test_cluster = cluster.Cluster(
        data_dir=data_dir, port=cluster.free_port(), shared_buffers="256MB", durable=False
    )
    cluster.start(test_cluster)
    yield test_cluster
    cluster.destroy(test_cluster)


@pytest.fixture(scope="session")
def database_url(pg_cluster: cluster.Cluster) -> str:
    url = pg_cluster.url()
    schema.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    test_engine = make_engine(database_url, pool_size=5)
    yield test_engine
    test_engine.dispose()


@pytest.fixture(scope="session")
def divisions_loaded(engine: Engine, shared_data: Path) -> None:
    """The real division hierarchy and Shenzhen's district polygons, committed once."""
    with transaction(make_session_factory(engine)) as session:
        import_divisions(session, path=shared_data / "divisions")
        attach_boundaries(session, path=shared_data / "shenzhen-districts.geojson", crs=None)


@pytest.fixture(scope="session")
def nanshan_communities(engine: Engine, divisions_loaded: None, shared_data: Path) -> list[str]:
    """The demo's stand-in community polygons for the Nanshan data, committed once."""
    with transaction(make_session_factory(engine)) as session:
        communities = derive_nanshan_communities(session, data=shared_data)
    return [code for code, _ in communities]


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back after the test."""
    with engine.connect() as test_connection:
        outer = test_connection.begin()
        try:
            yield test_connection
        finally:
            outer.rollback()


@pytest.fixture
def db(connection: Connection) -> Iterator[Session]:
    """A session whose work is rolled back after the test (SQLAlchemy's savepoint recipe)."""
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions for code that commits per batch: each "commit" releases a savepoint of the
    test's transaction, so the whole test still rolls back."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture(scope="session")
def people_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A people key for the whole run, in a temporary folder (never the project's)."""
    path = tmp_path_factory.mktemp("keys") / "people.key"
    write_new_key_file(path)
    return path


@pytest.fixture(scope="session")
def cipher(people_key_file: Path) -> PeopleCipher:
    return read_key_file(people_key_file)


@pytest.fixture
def settings(database_url: str, tmp_path: Path, people_key_file: Path) -> Settings:
    return Settings(
        database_url=database_url, data_dir=tmp_path / "data", people_key_file=people_key_file
    )


@pytest.fixture
def client(settings: Settings, db: Session) -> Iterator[TestClient]:
    """The app on the test database, its requests sharing the test's rolled-back session."""
    app = create_app(settings)
    share_test_session(app, db)
    # audit rows of failed reads go to a transaction of their own: here, a savepoint of the test's
    app.dependency_overrides[get_audit_factory] = lambda: savepoint_factory(db)
    with TestClient(app) as test_client:
        yield test_client


def savepoint_factory(db: Session) -> sessionmaker[Session]:
    """Sessions on the test's connection whose commits release savepoints (rolled back later)."""
    return sessionmaker(bind=db.get_bind(), join_transaction_mode="create_savepoint")


@pytest.fixture
def officer(client: TestClient, world: World) -> str:
    """The officer's bearer token, the client's cookie cleared (requests carry the token)."""
    token = login(client, world.users[Role.OFFICER])
    client.cookies.clear()
    return token


@pytest.fixture
def world(db: Session, cipher: PeopleCipher) -> World:
    """Divisions, grids, buildings and one user per role (tests/access_world.py), and houses,
    residents and employers in them (tests/people_world.py), and two draft grid plans
    (tests/grids_world.py), rolled back."""
    return add_grids_world(db, add_people_world(db, build_world(db), cipher))


@pytest.fixture
def committed_world(
    pg_cluster: cluster.Cluster, cipher: PeopleCipher
) -> Iterator[tuple[str, World]]:
    """A database of its own with the world committed: requests run as in production, each in
    a transaction that a failure rolls back."""
    with own_database(pg_cluster, "peopleworld") as url:
        engine = make_engine(url, pool_size=1)
        with transaction(make_session_factory(engine)) as session:
            world = add_people_world(session, build_world(session), cipher)
        engine.dispose()
        yield url, world
