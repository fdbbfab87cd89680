"""Start and stop the Voila app server (used by `make app`, the tests and the benchmarks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TEMPLATES = Path(__file__).resolve().parent / "share" / "jupyter"


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(port: int, extra: list[str] | None = None) -> list[str]:
    """Return the Voila command line; settings live in notebooks/voila.json."""
    return [sys.executable, "-m", "voila", "app.ipynb", f"--port={port}", "--Voila.root_dir=.", *(extra or [])]


def environment() -> dict[str, str]:
    """Return the server's environment: the kit's template on JUPYTER_PATH, no telemetry."""
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(TEMPLATES), env.get("JUPYTER_PATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def start(port: int | None = None, extra: list[str] | None = None, log_path: Path | None = None,
          env: dict[str, str] | None = None, folder: Path = NOTEBOOKS) -> tuple[subprocess.Popen, str]:
    """Start Voila on 127.0.0.1 in the background; return the process and the app URL.

    ``folder`` holds app.ipynb and voila.json (benchmarks serve other notebooks the same way).
    """
    port = port or free_port()
    out = open(log_path, "ab") if log_path else None  # None: the server logs to this terminal
    proc = subprocess.Popen(command(port, extra), cwd=folder, env={**environment(), **(env or {})},
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}/"


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 90, name: str = "Voila") -> None:
    """Wait until the server accepts connections; raise if it exits or times out."""
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"{name} did not answer at {url} within {timeout:.0f} s")


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a server started in its own session, and every process it started (kernels, workers)."""
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


def serve(port: int = 8866) -> int:
    """Run the app in the foreground until Ctrl-C: this process becomes Voila, so every signal reaches it."""
    print(f"==> the decision app: http://127.0.0.1:{port}/  (Ctrl-C to stop)", flush=True)
    os.chdir(NOTEBOOKS)
    cmd = command(port)
    os.execve(cmd[0], cmd, environment())
    return 0  # not reached
