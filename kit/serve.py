"""Start and stop the Voila app server (used by `make app`, the tests and the benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kit.paths import NOTEBOOKS, ROOT, TEMPLATES
from kit.procs import free_port, stop, wait_until_up

__all__ = ["ROOT", "NOTEBOOKS", "command", "environment", "start", "serve", "free_port", "stop", "wait_until_up"]


def command(port: int, extra: list[str] | None = None, max_kernels: int | None = None) -> list[str]:
    """Return the server's command line: Voila with the kit's kernel cap (kit.voila_app).

    Settings live in notebooks/voila.json; ``max_kernels`` overrides its ``KitVoila.max_kernels``.
    """
    cap = [] if max_kernels is None else [f"--KitVoila.max_kernels={int(max_kernels)}"]
    return [
        sys.executable,
        "-m",
        "kit.voila_app",
        "app.ipynb",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.root_dir=.",
        *cap,
        *(extra or []),
    ]


def environment() -> dict[str, str]:
    """Return the server's environment: the kit's template on JUPYTER_PATH, no telemetry."""
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(TEMPLATES), env.get("JUPYTER_PATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def start(
    port: int | None = None,
    extra: list[str] | None = None,
    log_path: Path | None = None,
    env: dict[str, str] | None = None,
    folder: Path = NOTEBOOKS,
    max_kernels: int | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start Voila on 127.0.0.1 in the background; return the process and the app URL.

    ``folder`` holds app.ipynb and voila.json (benchmarks serve other notebooks the same way).
    """
    port = port or free_port()
    out = open(log_path, "ab") if log_path else None  # None: the server logs to this terminal
    try:
        proc = subprocess.Popen(
            command(port, extra, max_kernels),
            cwd=folder,
            env={**environment(), **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        if out:
            out.close()  # the child has its own copy
    return proc, f"http://127.0.0.1:{port}/"


def serve(port: int = 8866, max_kernels: int | None = None) -> int:
    """Run the app in the foreground until Ctrl-C: this process becomes Voila, so every signal reaches it.

    ``max_kernels``: the most visitors' kernels at once (default: ``KitVoila.max_kernels`` in voila.json).
    """
    print(f"==> the decision app: http://127.0.0.1:{port}/  (Ctrl-C to stop)", flush=True)
    os.chdir(NOTEBOOKS)
    cmd = command(port, max_kernels=max_kernels)
    os.execve(cmd[0], cmd, environment())
    return 0  # not reached
