"""Start and stop the Voila app server (used by `make app`, the tests and the benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kit.errors import ServerError
from kit.paths import NOTEBOOKS, ROOT, TEMPLATES
from kit.procs import free_port, stop, wait_until_up

__all__ = ["ROOT", "NOTEBOOKS", "command", "environment", "start", "serve", "free_port", "stop", "wait_until_up"]


# Resident memory measured on the 2-core, 24 GiB machine (2026-11-28): `benchmarks/load_app.py --sessions 30`
# (psutil, the server and every kernel it started) and one idle server with its pool. An app kernel holds
# pandas, Altair, vl-convert's renderer and the kit's data; the figures are for the seat check below, and
# `make app SEATS=N` logs the real memory as the seats heat.
KERNEL_MB = 300
SERVER_MB = 150
SPARE = 2  # KitVoila.spare: pre-heated kernels kept once every seat is taken
HEADROOM = 0.9  # seats may use this share of the available memory; the rest is left for the visitors' own work


def seats_mb(seats: int, spare: int = SPARE) -> float:
    """Memory the app needs for ``seats`` visitors: the server plus seats + spare kernels, in MB."""
    return SERVER_MB + (seats + spare) * KERNEL_MB


def most_seats(available_mb: float, spare: int = SPARE) -> int:
    """The most seats that fit in ``available_mb`` with HEADROOM."""
    return max(0, int((available_mb * HEADROOM - SERVER_MB) // KERNEL_MB) - spare)


def check_seats(seats: int, available_mb: float | None = None) -> str:
    """Return one line on the memory ``seats`` need; raise ServerError when this machine cannot hold them."""
    if available_mb is None:
        import psutil  # delayed: only the seat check reads the machine's memory

        available_mb = psutil.virtual_memory().available / 2**20
    need = seats_mb(seats)
    line = (
        f"{seats} seats need about {need / 1024:.1f} GB ({seats} + {SPARE} spare kernels x {KERNEL_MB} MB "
        f"+ server {SERVER_MB} MB); {available_mb / 1024:.1f} GB is available"
    )
    if need > available_mb * HEADROOM:
        raise ServerError(
            f"SEATS={seats}: too many for this machine: {line}; allowed here: at most "
            f"{most_seats(available_mb)} seats. Use fewer seats, close other programs, or run the class on "
            "JupyterHub (docs/hub.md)"
        )
    return line


def command(port: int, extra: list[str] | None = None, max_kernels: int | None = None, seats: int = 0) -> list[str]:
    """Return the server's command line: Voila with the kit's kernel cap (kit.voila_app).

    Settings live in notebooks/voila.json; ``max_kernels`` overrides its ``KitVoila.max_kernels``.
    ``seats`` pre-heats that many kernels for a class and, unless ``max_kernels`` is given, caps
    visitors' kernels at it (KitVoila.seats).
    """
    if seats and max_kernels is None:
        max_kernels = seats
    cap = [] if max_kernels is None else [f"--KitVoila.max_kernels={int(max_kernels)}"]
    if seats:
        # while a class loads at once, a page can take minutes to connect to its kernel: do not reap it at 60 s
        cap += [f"--KitVoila.seats={int(seats)}", f"--KitVoila.spare={SPARE}", "--KitVoila.unclaimed_timeout=600"]
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
    seats: int = 0,
) -> tuple[subprocess.Popen, str]:
    """Start Voila on 127.0.0.1 in the background; return the process and the app URL.

    ``folder`` holds app.ipynb and voila.json (benchmarks serve other notebooks the same way).
    """
    port = port or free_port()
    out = open(log_path, "ab") if log_path else None  # None: the server logs to this terminal
    try:
        proc = subprocess.Popen(
            command(port, extra, max_kernels, seats),
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


def serve(port: int = 8866, max_kernels: int | None = None, seats: int = 0) -> int:
    """Run the app in the foreground until Ctrl-C: this process becomes Voila, so every signal reaches it.

    ``max_kernels``: the most visitors' kernels at once (default: ``KitVoila.max_kernels`` in voila.json).
    ``seats``: pre-heat kernels for a class of that size (memory checked first; ServerError if it won't fit).
    """
    if seats:
        print(f"==> seats for a class: {check_seats(seats)}", flush=True)
        print("    the page is served at once; the server logs 'Seats ready: k of N' as the kernels heat", flush=True)
    print(f"==> the decision app: http://127.0.0.1:{port}/  (Ctrl-C to stop)", flush=True)
    os.chdir(NOTEBOOKS)
    cmd = command(port, max_kernels=max_kernels, seats=seats)
    os.execve(cmd[0], cmd, environment())
    return 0  # not reached
