"""Measure the memory of one hub user: a Jupyter server set up as the hub image is, one notebook, one app.

Reproduces on one machine what a user's server holds on a hub (docs/hub.md, "Sizing"):

1. the Jupyter settings ``binder/postBuild`` puts into the image (``binder/hub_setup.py config``) go into a
   temporary prefix, the notebooks into a temporary home (``binder/hub_setup.py notebooks``), and the
   shared cache (offline Vega bundle, assembled models) is filled as postBuild does;
2. ``jupyter lab`` starts there with that prefix on its config and data paths (Voila loads as a server
   extension, reading ``etc/jupyter/voila.json``), and its memory is read idle;
3. Chromium opens the app at ``/voila/render/notebooks/app.ipynb`` until the answer card shows;
4. a notebook kernel started through the server's REST API runs the code cells of each named notebook
   (default ``09_decision``), one kernel per notebook, as a student who ran it top to bottom.

Memory is read with psutil: RSS (counts shared libraries in every process, so it overstates a sum) and
PSS (shared pages split between the processes that map them: the sum is what the machine holds); CPU is
the process's user + system time, which does not depend on how busy the machine is.

    PYTHONPATH=$PWD .venv/bin/python docs/hub/measure_user.py [--notebooks 09_decision 07_local_inference]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
from jupyter_client import BlockingKernelClient
from playwright.sync_api import sync_playwright

from kit.procs import CHROMIUM, CHROMIUM_ARGS, free_port, stop, wait_until_up

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "binder"))
import hub_setup  # noqa: E402  (binder/ is not a package)

TOKEN = "measure-hub-user"
MB = 2**20


def memory(pid: int) -> tuple[float, float, float]:
    """Return (RSS MB, PSS MB, CPU s) of a process and its children (a kernel's llama.cpp server, if one runs)."""
    rss = pss = cpu = 0.0
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        if proc.pid != pid and "ipykernel_launcher" in " ".join(proc.cmdline()):
            continue  # the server's kernels are counted on their own rows
        info, times = proc.memory_full_info(), proc.cpu_times()
        rss, pss, cpu = rss + info.rss / MB, pss + info.pss / MB, cpu + times.user + times.system
    return rss, pss, cpu


def kernels(server: int) -> dict[str, int]:
    """Return {kernel id: pid} for the kernels the server started (their command line names the file)."""
    found = {}
    for child in psutil.Process(server).children(recursive=True):
        try:
            cmd = child.cmdline()
        except psutil.NoSuchProcess:
            continue
        if "ipykernel_launcher" in " ".join(cmd):
            conn = next((c for c in cmd if c.endswith(".json") and "kernel-" in c), "")
            found[Path(conn).stem.removeprefix("kernel-")] = child.pid
    return found


def api(base: str, path: str, method: str = "GET", body: dict | None = None) -> dict | list:
    """Call the server's REST API with the token."""
    req = urllib.request.Request(
        f"{base}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"{}")


def run_notebook(base: str, runtime: Path, name: str, home: Path) -> tuple[str, list[str]]:
    """Start a kernel in notebooks/, run the notebook's code cells in it; return the kernel id and the errors.

    A failing cell is reported and the run goes on (the memory of the rest is still what a student holds).
    """
    kernel = api(base, "/api/kernels", "POST", {"name": "python3", "path": "notebooks"})
    client = BlockingKernelClient(connection_file=str(runtime / f"kernel-{kernel['id']}.json"))
    client.load_connection_file()
    client.start_channels()
    deadline = time.monotonic() + 90
    while api(base, f"/api/kernels/{kernel['id']}")["execution_state"] == "starting" and time.monotonic() < deadline:
        time.sleep(0.5)  # a client that asks before the kernel's heartbeat answers takes it for dead
    client.wait_for_ready(timeout=60)
    nb = json.loads((home / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    errors = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            reply = client.execute_interactive("".join(cell["source"]), timeout=600, output_hook=lambda msg: None)
            if reply["content"]["status"] != "ok":
                errors.append(f"cell {i}: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")
    client.stop_channels()
    return kernel["id"], errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", nargs="*", default=["09_decision"], help="notebooks to run, one kernel each")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kit-hub-user-"))
    prefix, home = work / "prefix", work / "home"
    hub_setup.write_config(prefix)
    hub_setup.copy_notebooks(REPO / "notebooks", home / "notebooks")
    env = {
        **os.environ,
        "HOME": str(home),
        "KIT_CACHE_DIR": str(hub_setup.cache_dir(prefix)),
        "JUPYTER_CONFIG_PATH": str(prefix / "etc" / "jupyter"),
        "JUPYTER_PATH": str(prefix / "share" / "jupyter"),
        "PYTHONPATH": str(REPO),
    }
    for step in ("import kit.charts; kit.charts.enable_offline()",
                 "import kit.local; [kit.local.verify(m) for m in kit.local.models()]"):  # fmt: skip
        subprocess.run([sys.executable, "-c", step], env=env, check=True)
    port = free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}"]
    cmd += [f"--IdentityProvider.token={TOKEN}", "--allow-root"]
    log = work / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        wait_until_up(base + "/", proc, timeout=120, name="jupyter lab")
        time.sleep(3)
        rows.append(("server, idle", *memory(proc.pid)))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            t0 = time.monotonic()
            page.goto(f"{base}{hub_setup.APP_URL}?token={TOKEN}", timeout=180_000)
            page.wait_for_selector(".kit-card", timeout=180_000)
            shown = time.monotonic() - t0
            time.sleep(2)
            (app_kernel,) = kernels(proc.pid).values()
            rows.append((f"app kernel (Voila extension; card shown after {shown:.1f} s)", *memory(app_kernel)))
            runtime = home / ".local" / "share" / "jupyter" / "runtime"
            for name in args.notebooks:
                t0 = time.monotonic()
                kid, errors = run_notebook(base, runtime, name, home)
                took = time.monotonic() - t0
                failed = f", {len(errors)} cell(s) failed" if errors else ""
                rows.append((f"notebook kernel, {name} run ({took:.0f} s{failed})", *memory(kernels(proc.pid)[kid])))
                for error in errors:
                    print(f"{name}: {error}", file=sys.stderr)
            rows.append(("server, after the above", *memory(proc.pid)))
            browser.close()
    finally:
        stop(proc)
    width = max(len(r[0]) for r in rows)
    print(f"{'process':<{width}}  {'RSS MB':>7}  {'PSS MB':>7}  {'CPU s':>6}")
    for what, rss, pss, cpu in rows:
        print(f"{what:<{width}}  {rss:7.0f}  {pss:7.0f}  {cpu:6.1f}")
    last = [r for r in rows if r[0] != "server, idle"]
    total = f"{sum(r[1] for r in last):7.0f}  {sum(r[2] for r in last):7.0f}"
    print(f"{'one user (server + kernels above)':<{width}}  {total}")
    print(f"server log: {log}")


if __name__ == "__main__":
    main()
