"""Shared fixtures. Every test runs with the network blocked except loopback (see pyproject addopts)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from kit import catalog
from kit.catalog import load_catalog
from kit.paths import data_dir

ROOT = Path(__file__).resolve().parent.parent
NETGUARD = Path(__file__).resolve().parent / "netguard"
EGRESS_LOG = pytest.StashKey[Path]()


def pytest_configure(config):
    """Put every kernel and subprocess of the session under the egress guard (nbval's kernels included).

    With pytest-xdist the controller makes the one log before its workers start; they inherit its
    environment and append to the same file, and only the controller reads it at the end.
    """
    if hasattr(config, "workerinput") and os.environ.get("KIT_NETGUARD_LOG"):
        return  # an xdist worker: the controller's log is already in this environment
    log = Path(tempfile.mkdtemp(prefix="kit-egress-")) / "egress.log"
    os.environ.update(guard_env(log))
    config.stash[EGRESS_LOG] = log
    if (getattr(config.option, "numprocesses", None) or 0) > 1:
        # Several workers share the cores: local models process prompts on one thread, and OpenMP threads sleep
        # while they wait instead of spinning (spinning threads of two processes stall each other: notebook 07's
        # evaluation went from 30 s alone to 439 s beside the other worker). kit.runs does the same for --jobs.
        os.environ.setdefault("KIT_LLAMA_BATCH_THREADS", "1")
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# `make test` runs on two pytest-xdist workers with ``--dist loadscope``: each test module, and each notebook's
# nbval cells, is one unit of work run by one worker in order (so module fixtures are built once and cells stay
# together). The longest units go first, so that the two workers finish together instead of one of them starting
# a two-minute module last (measured with --durations; this is order only, no test is skipped).
LONGEST_FIRST = (
    "tests/test_notebooks.py",
    "tests/test_app_browser.py",
    "tests/test_app.py",
    "tests/test_runs.py",
    "notebooks/07_local_inference.ipynb",
    "tests/test_local.py",
    "tests/test_lab_browser.py",
    "tests/test_decisions.py",
    "tests/test_bad_input.py",
    "notebooks/08_hybrid_router.ipynb",
)


def _is_cell(item) -> bool:
    return hasattr(item, "cell_num") and isinstance(getattr(item, "parent", None), pytest.File)


@pytest.hookimpl(wrapper=True)  # a wrapper: after pytest-randomly's shuffle, before the plain hooks
def pytest_collection_modifyitems(config, items):
    """Keep each notebook's cells together and in order, wherever random test order (pytest-randomly) puts it.

    nbval runs a notebook as one kernel, cell after cell; shuffling tests must never shuffle cells. Then the
    longest units of work move to the front (LONGEST_FIRST).
    """
    cells = [i for i in items if _is_cell(i)]
    if cells:
        at = items.index(cells[0])
        by_notebook: dict[str, list] = {}
        for item in cells:
            by_notebook.setdefault(str(item.parent.path), []).append(item)
        ordered = [c for group in by_notebook.values() for c in sorted(group, key=lambda i: i.cell_num)]
        rest = [i for i in items if not _is_cell(i)]
        items[:] = rest[:at] + ordered + rest[at:]

    def rank(item) -> int:
        path = Path(str(item.path))
        rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else ""
        return LONGEST_FIRST.index(rel) if rel in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the random order (and each notebook's cell order) holds within each rank
    return (yield)


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if any guarded process of the session tried to reach beyond loopback."""
    log = session.config.stash.get(EGRESS_LOG, None)
    if log is not None and log.exists() and log.read_text().strip():
        sys.stderr.write(f"\nnetwork egress attempted during the tests:\n{log.read_text()}\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def cat():
    return load_catalog()


@pytest.fixture
def data_copy(tmp_path):
    """A private copy of data/ to corrupt; the cache is cleared around the test."""
    dest = tmp_path / "data"
    shutil.copytree(data_dir(), dest)
    catalog.reload()
    yield dest
    catalog.reload()


def guard_env(log: Path) -> dict[str, str]:
    """Return the environment that puts a subprocess under the egress guard, logging to ``log``."""
    return {"PYTHONPATH": os.pathsep.join([str(NETGUARD), str(ROOT)]), "KIT_NETGUARD_LOG": str(log)}


def require_chromium(path: str) -> None:
    """Fail clearly when the browser the browser tests drive is missing."""
    if not Path(path).exists():
        pytest.fail(f"Chromium not found at {path}: `make test` installs Debian's chromium package")


def run_guarded(args: list[str], tmp_path: Path, env: dict | None = None, timeout: float = 120):
    """Run a Python subprocess whose sockets refuse any non-loopback address and log the attempt."""
    log = tmp_path / "egress.log"
    full_env = {**os.environ, **guard_env(log), **(env or {})}
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=full_env, timeout=timeout, cwd=ROOT
    )
    attempts = log.read_text().splitlines() if log.exists() else []
    return proc, attempts
