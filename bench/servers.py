"""The benchmark suite's servers: tipg, the reference, installed and started; any server stopped.

Also a server waited for, its peak RSS and a login to ``gridhouse serve``.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

TIPG_VERSION = "1.6.1"
TIPG_UVICORN = "0.54.0"


def ensure_tipg(out: Path) -> Path:
    """tipg in a venv of its own (its FastAPI and pydantic pins differ from ours)."""
    venv = out / "tipg-venv"
    python = venv / "bin" / "python"
    if python.exists():
        check = subprocess.run(
            [str(python), "-c", "import importlib.metadata as m; print(m.version('tipg'))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.stdout.strip() == TIPG_VERSION:
            return venv
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [
            str(python), "-m", "pip", "install", "-q",
            f"tipg=={TIPG_VERSION}", f"uvicorn=={TIPG_UVICORN}",
        ],
        check=True,
    )  # fmt: skip
    return venv


def wait_http(port: int, path: str, process: subprocess.Popen[bytes], log: Path) -> None:
    import httpx2

    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited: see {log}")
        try:
            if httpx2.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not answer: see {log}")


def start_tipg(venv: Path, url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": url.replace("+psycopg", ""),
        "TIPG_DB_TABLES": '["public.buildings"]',
        "TIPG_DB_FUNCTIONS": "[]",
        "TIPG_DB_SPATIAL_EXTENT": "false",
        "TIPG_DB_DATETIME_EXTENT": "false",
        "TIPG_TILE_BUFFER": "64",
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
    }
    handle = log.open("wb")
    process = subprocess.Popen(
        [str(venv / "bin" / "uvicorn"), "tipg.main:app", "--port", str(port), "--log-level",
         "warning"],
        stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=venv,
    )  # fmt: skip
    wait_http(port, "/collections/public.buildings", process, log)
    return process


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def login(port: int, name: str, password: str) -> str:
    import httpx2

    answer = httpx2.post(
        f"http://127.0.0.1:{port}/api/auth/login",
        json={"name": name, "password": password},
        timeout=60,
    )
    if answer.status_code != 200:
        raise RuntimeError(f"login of {name}: {answer.status_code} {answer.text[:200]}")
    return str(answer.json()["access_token"])
