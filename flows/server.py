"""The Prefect API server `hecha serve` needs, started as a child that dies with it.

Without `PREFECT_API_URL`, Prefect would start a temporary server of its own
in a subprocess that outlives a killed parent. `hecha serve` instead starts
the server itself (with the UI, on the loopback only) and asks the kernel to
end it when `hecha serve` ends, however it ends (`PR_SET_PDEATHSIG`, Linux).
With `PREFECT_API_URL` set, that server is used and nothing is started.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

PR_SET_PDEATHSIG = 1
HOST = "127.0.0.1"
START_TIMEOUT = 90.0  # seconds: the first start migrates Prefect's database


def die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies (even by SIGKILL)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


DEFAULT_PORT = 4200  # Prefect's own default: `prefect` commands find it with PREFECT_API_URL=http://127.0.0.1:4200/api


def free_port(preferred: int = DEFAULT_PORT) -> int:
    """`preferred` when nothing listens there, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port on the loopback")


def start_server(port: int | None = None, timeout: float = START_TIMEOUT) -> tuple[subprocess.Popen, str]:
    """Start Prefect's API server and UI on the loopback; return the process and its API URL once it answers."""
    port = free_port(port or DEFAULT_PORT)
    env = os.environ | {"PREFECT_UI_ENABLED": "true", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
         "--host", HOST, "--port", str(port), "--log-level", "error", "--lifespan", "on"],
        env=env, preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
    )
    url = f"http://{HOST}:{port}/api"
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with status {process.returncode} while starting")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError(f"the Prefect server did not answer on {url} within {timeout:.0f} s")
        time.sleep(0.5)


def descendants(pid: int) -> set[int]:
    """Every live descendant of `pid` (Linux: from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def stop_processes(pids: set[int], grace: float) -> None:
    """SIGTERM each, wait up to `grace` seconds, SIGKILL what is left."""
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_running(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        if _running(pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    from hecha.flows.run import process_alive

    with suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)  # reap our own children so they do not linger as zombies
    return process_alive(pid)
