"""Background processes the kit starts (Voila, llama.cpp servers, the test browser): ports, readiness, stopping.

One home for both launchers (``kit.serve`` for the app, ``kit.local`` for model servers).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

from kit.errors import ServerError

# Debian's Chromium drives the browser tests and benchmarks ($KIT_CHROMIUM, set by `make test`), with
# everything that would phone home switched off: this machine, like a workshop laptop, may be offline.
CHROMIUM = os.environ.get("KIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
)


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 90, name: str = "server") -> None:
    """Wait until the server at ``url`` accepts connections; raise ServerError if it exits or times out."""
    port = int(url.rstrip("/").rsplit(":", 1)[1].split("/")[0])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"{name} exited with code {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.25)
    raise ServerError(f"{name} did not answer at {url} within {timeout:.0f} s")


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a process started in its own session, and every process it started (kernels, workers)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)


def family(pid: int) -> list:
    """Return process ``pid`` and all its live descendants as psutil processes ([] once it is gone)."""
    import psutil  # delayed: only memory and CPU figures of a server and its kernels need it

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def memory_mb(pid: int) -> float:
    """Resident memory of process ``pid`` and all its descendants (a server and its kernels), in MB."""
    import psutil  # delayed, as in family()

    total = 0
    for proc in family(pid):
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20
