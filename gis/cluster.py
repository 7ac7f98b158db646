"""The embedded PostgreSQL 15 + PostGIS cluster: install, initdb, start, stop, status, URL."""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from gis.errors import EnvironmentProblem

PG_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
SYSTEM_PACKAGES = ("postgresql-15", "postgresql-15-postgis-3", "postgresql-contrib")
SERVER_USER = "postgres"
SUPERUSER = "gridhouse"
DATABASE = "gridhouse"
CREATECLUSTER_CONF = Path("/etc/postgresql-common/createcluster.conf")


class ClusterState(StrEnum):
    """What ``gridhouse db status`` reports."""

    RUNNING = "running"
    STOPPED = "stopped"
    ABSENT = "absent"


@dataclass(frozen=True)
class Cluster:
    """A private cluster under ``data_dir`` listening on 127.0.0.1:``port``.

    ``durable=False`` turns off fsync and full-page writes: for throwaway test clusters only.
    """

    data_dir: Path
    port: int
    shared_buffers: str = "512MB"
    durable: bool = True

    @property
    def pgdata(self) -> Path:
        return self.data_dir.resolve() / "pg"

    @property
    def log_file(self) -> Path:
        return self.data_dir.resolve() / "postgres.log"

    @property
    def password_file(self) -> Path:
        return self.data_dir.resolve() / "pg-password"

    def url(self, database: str = DATABASE) -> str:
        """SQLAlchemy URL of ``database`` on this cluster (the cluster must be initialised)."""
        if not self.password_file.exists():
            raise EnvironmentProblem(
                f"no embedded cluster under {self.data_dir}; run `gridhouse db start` first"
            )
        password = self.password_file.read_text().strip()
        return f"postgresql+psycopg://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"


def is_postgis_installed() -> bool:
    """True when the PostgreSQL 15 server binaries and the PostGIS extension are on disk."""
    return (PG_BIN / "initdb").exists() and POSTGIS_CONTROL.exists()


def install_postgis() -> None:
    """Install Debian's PostgreSQL 15 and PostGIS 3 packages when they are missing.

    Only root can; anyone else gets the exact command to ask an administrator for. Debian's
    default ``main`` cluster is not created: gridhouse runs its own, on its own port.
    """
    if is_postgis_installed():
        return
    packages = " ".join(SYSTEM_PACKAGES)
    if os.geteuid() != 0:
        raise EnvironmentProblem(
            f"PostgreSQL 15 with PostGIS is not installed; as root run: "
            f"apt-get install -y {packages}"
        )
    if shutil.which("apt-get") is None:
        raise EnvironmentProblem(f"no apt-get on this machine; install {packages} by hand")
    if not CREATECLUSTER_CONF.exists():
        CREATECLUSTER_CONF.parent.mkdir(parents=True, exist_ok=True)
        CREATECLUSTER_CONF.write_text("create_main_cluster = false\n")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run_or_explain(["apt-get", "update", "-qq"], env=env, what="apt-get update")
    _run_or_explain(
        [
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "-o",
            "Dpkg::Options::=--force-confold",
            *SYSTEM_PACKAGES,
        ],
        env=env,
        what=f"apt-get install {packages}",
    )
    if not is_postgis_installed():
        raise EnvironmentProblem(f"{packages} installed but {POSTGIS_CONTROL} is still missing")


def status(cluster: Cluster) -> ClusterState:
    """Whether the cluster exists and whether its server runs."""
    if not (cluster.pgdata / "PG_VERSION").exists():
        return ClusterState.ABSENT
    if not (PG_BIN / "pg_ctl").exists():
        return ClusterState.STOPPED
    result = _as_server_user([str(PG_BIN / "pg_ctl"), "status", "-D", str(cluster.pgdata)])
    return ClusterState.RUNNING if result.returncode == 0 else ClusterState.STOPPED


def start(cluster: Cluster) -> str:
    """Make sure the cluster exists and runs, then return its URL. Safe to call any number of times.

    Handles a first run (install, initdb), a second start (nothing to do), a stale pid file left
    by a crash or a reboot, and a settings change (the config file is rewritten every start).
    """
    install_postgis()
    if status(cluster) is ClusterState.ABSENT:
        _initdb(cluster)
    _write_config(cluster)
    if status(cluster) is ClusterState.RUNNING:
        return cluster.url()
    _remove_stale_pid_file(cluster)
    _check_port_free(cluster.port)
    result = _as_server_user(
        [
            str(PG_BIN / "pg_ctl"),
            "start",
            "-w",
            "-t",
            "120",
            "-D",
            str(cluster.pgdata),
            "-l",
            str(cluster.log_file),
        ]
    )
    if result.returncode != 0:
        raise EnvironmentProblem(
            f"the embedded PostgreSQL did not start: {_tail(cluster.log_file)}"
        )
    _create_database(cluster)
    return cluster.url()


def stop(cluster: Cluster) -> None:
    """Stop the server if it runs (fast shutdown: open transactions are rolled back)."""
    if status(cluster) is not ClusterState.RUNNING:
        return
    result = _as_server_user(
        [str(PG_BIN / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(cluster.pgdata)]
    )
    if result.returncode != 0:
        raise EnvironmentProblem(f"could not stop the embedded PostgreSQL: {result.stderr.strip()}")


def destroy(cluster: Cluster) -> None:
    """Stop the server and delete the cluster's files (for throwaway test clusters)."""
    with contextlib.suppress(EnvironmentProblem):
        stop(cluster)
    shutil.rmtree(cluster.data_dir, ignore_errors=True)


def server_settings(cluster: Cluster) -> dict[str, str]:
    """postgresql.conf settings sized for this product on a small (2-core) machine.

    Parallel query is off: on 2 cores it made a tile query 2.5x slower (DESIGN §11); JIT is off
    because its compile time dominates the short OLTP and tile queries this service runs.
    """
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(cluster.port),
        "unix_socket_directories": "''",
        "max_connections": "100",
        "shared_buffers": f"'{cluster.shared_buffers}'",
        "work_mem": "'32MB'",
        "maintenance_work_mem": "'512MB'",
        "effective_cache_size": "'4GB'",
        "random_page_cost": "1.1",
        "max_parallel_workers_per_gather": "0",
        "max_parallel_maintenance_workers": "1",
        "jit": "off",
        "max_wal_size": "'4GB'",
        "checkpoint_timeout": "'15min'",
        "timezone": "'Asia/Shanghai'",
        "log_timezone": "'Asia/Shanghai'",
        "log_min_duration_statement": "2000",
    }
    if not cluster.durable:
        settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
    return settings


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _initdb(cluster: Cluster) -> None:
    cluster.data_dir.mkdir(parents=True, exist_ok=True)
    if not cluster.password_file.exists():
        cluster.password_file.write_text(secrets.token_urlsafe(24) + "\n")
        cluster.password_file.chmod(0o600)
    shutil.rmtree(cluster.pgdata, ignore_errors=True)
    cluster.pgdata.mkdir(mode=0o700)
    cluster.log_file.touch()
    pwfile = cluster.data_dir.resolve() / ".initdb-pw"
    pwfile.write_text(cluster.password_file.read_text())
    try:
        for path in (cluster.pgdata, cluster.log_file, pwfile):
            _give_to_server_user(path)
        _check_reachable(cluster)
        result = _as_server_user(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(cluster.pgdata),
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--locale=C",
            ]
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        shutil.rmtree(cluster.pgdata, ignore_errors=True)
        raise EnvironmentProblem(f"initdb failed: {result.stderr.strip()[-500:]}")
    conf = cluster.pgdata / "postgresql.conf"
    with conf.open("a") as handle:
        handle.write("\ninclude_if_exists = 'gridhouse.conf'\n")


def _write_config(cluster: Cluster) -> None:
    lines = [f"{key} = {value}" for key, value in server_settings(cluster).items()]
    path = cluster.pgdata / "gridhouse.conf"
    path.write_text(
        "# written by gridhouse at every start; edit Settings, not this file\n"
        + "\n".join(lines)
        + "\n"
    )
    _give_to_server_user(path)


def _create_database(cluster: Cluster) -> None:
    import psycopg  # local: only the embedded path needs a raw admin connection

    conninfo = cluster.url("postgres").replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
        ).fetchone()
        if exists is None:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')


def _remove_stale_pid_file(cluster: Cluster) -> None:
    """Remove postmaster.pid when its process is gone or is not this cluster's server.

    After a reboot the recorded pid may belong to an unrelated process, and PostgreSQL would
    then refuse to start ("lock file already exists").
    """
    pid_file = cluster.pgdata / "postmaster.pid"
    if not pid_file.exists():
        return
    first_line = pid_file.read_text().splitlines()[:1]
    pid = int(first_line[0]) if first_line and first_line[0].strip().isdigit() else 0
    cmdline = Path(f"/proc/{pid}/cmdline")
    is_ours = (
        pid > 0
        and cmdline.exists()
        and b"postgres" in cmdline.read_bytes()
        and str(cluster.pgdata).encode() in cmdline.read_bytes()
    )
    if not is_ours:
        pid_file.unlink()


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise EnvironmentProblem(
                f"port {port} on 127.0.0.1 is taken by another program; "
                "set GRIDHOUSE_DB_PORT to a free port",
                field="GRIDHOUSE_DB_PORT",
            )


def _check_reachable(cluster: Cluster) -> None:
    result = _as_server_user(["test", "-w", str(cluster.pgdata)])
    if result.returncode != 0:
        raise EnvironmentProblem(
            f"the '{SERVER_USER}' user cannot reach {cluster.pgdata} (a parent folder is not "
            "world-traversable); set GRIDHOUSE_DATA_DIR to a folder it can reach",
            field="GRIDHOUSE_DATA_DIR",
        )


def _is_root() -> bool:
    return os.geteuid() == 0


def _give_to_server_user(path: Path) -> None:
    if _is_root():
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _as_server_user(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL tool as the unprivileged server user (PostgreSQL refuses root)."""
    if not _is_root():
        return subprocess.run(args, capture_output=True, text=True, check=False)
    entry = pwd.getpwnam(SERVER_USER)
    env = {"PATH": "/usr/bin:/bin", "HOME": entry.pw_dir, "LANG": "C.UTF-8"}
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd="/",
        user=entry.pw_uid,
        group=entry.pw_gid,
        extra_groups=[],
    )


def _run_or_explain(args: list[str], *, env: dict[str, str], what: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise EnvironmentProblem(f"{what} failed: {result.stderr.strip()[-500:]}")


def _tail(path: Path, lines: int = 5) -> str:
    if not path.exists():
        return "(no log)"
    return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
