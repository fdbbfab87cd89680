"""A teaching notebook in a real JupyterLab, driven by Debian's Chromium: sliders and charts render live."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from urllib.parse import urlparse

import pytest
from conftest import ROOT, guard_env, require_chromium
from test_app_browser import TIMEOUT

from kit import serve
from kit.procs import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 over a copy of the notebooks (so autosave cannot touch the repository)."""
    require_chromium(CHROMIUM)
    base = tmp_path_factory.mktemp("lab")
    work = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", work)
    port, token = serve.free_port(), secrets.token_hex(16)
    guard_log = base / "egress.log"
    # no news pop-up over the screenshot (the news feed itself is off: --LabApp.news_url=None)
    (base / "config" / "labconfig").mkdir(parents=True)
    (base / "config" / "labconfig" / "page_config.json").write_text(
        '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}'
    )
    env = {
        **os.environ,
        **guard_env(guard_log),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
    }
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={work}",
        f"--IdentityProvider.token={token}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    url = f"http://127.0.0.1:{port}"
    with open(base / "lab.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work, start_new_session=True)
    try:
        try:
            serve.wait_until_up(url, proc, name="JupyterLab")
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n" + (base / "lab.log").read_text()[-2000:]) from None
        yield url, token, base, guard_log
    finally:
        serve.stop(proc)


KERNEL_READY = (
    "() => (document.querySelector('.jp-Toolbar-kernelName')?.textContent || '').includes('Python')"
    " && document.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status') === 'idle'"
)


def wait_for_kernel(page, url: str, token: str) -> None:
    """Wait until the notebook's own kernel has started and is idle, by the server's word and the page's.

    On a busy machine (other test workers running) the kernel can take a minute to start; running cells
    before it is attached makes JupyterLab ask for a kernel and start another one.
    """
    deadline = time.monotonic() + 2 * TIMEOUT / 1000
    while time.monotonic() < deadline:
        sessions = page.request.get(f"{url}/api/sessions?token={token}").json()
        states = [s["kernel"]["execution_state"] for s in sessions if s["path"].endswith("02_cost.ipynb")]
        if states == ["idle"] and page.evaluate(KERNEL_READY):
            return
        page.wait_for_timeout(1_000)
    raise TimeoutError(f"the notebook's kernel did not become idle: sessions {sessions}")


def run_all(page) -> None:
    """Run every cell from JupyterLab's Run menu, then wait for the first explorer.

    The menu is clicked again only if the run never started (the kernel stayed idle and no cell got a
    number): clicking again while a long notebook still runs would queue every cell a second time.
    """
    started = (
        "() => !!document.querySelector('.kit-explorer') || document.querySelector("
        "'.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status') === 'busy'"
    )
    for _ in range(2):
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()
        try:
            # On a busy machine the kernel can attach after the page looks idle; JupyterLab then asks which
            # kernel to run on. Answer it with the preferred one (Python 3) instead of cancelling the run.
            for _ in range(90):
                if page.evaluate(started):
                    break
                choose = page.locator(".jp-Dialog", has_text="Select Kernel").locator(".jp-mod-accept")
                if choose.count():
                    choose.first.click()
                page.wait_for_timeout(1_000)
            else:
                raise TimeoutError("the run did not start")
            break
        except Exception:
            page.keyboard.press("Escape")
    else:
        raise TimeoutError("Run All Cells did not start the notebook")
    page.locator(".kit-explorer").first.wait_for(timeout=2 * TIMEOUT)  # 02 computes for a while before its explorer


def test_cost_notebook_renders_sliders_and_charts(lab):
    from playwright.sync_api import sync_playwright

    url, token, base, guard_log = lab
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT)
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{url}/lab/tree/02_cost.ipynb?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        try:
            wait_for_kernel(page, url, token)
            run_all(page)
        except Exception:
            page.screenshot(path=str(base / "lab-failure.png"))
            raise AssertionError("notebook did not run; lab log:\n" + (base / "lab.log").read_text()[-3000:]) from None
        explorer = page.locator(".kit-explorer").first
        page.wait_for_function("() => document.querySelectorAll('.kit-explorer .noUi-handle').length >= 4")
        page.wait_for_function("() => document.querySelector('.kit-explorer .kit-chart svg')")
        sliders = page.locator(".kit-explorer .noUi-handle").count()
        charts_live = page.locator(".kit-explorer .kit-chart svg").count()
        # the static figures of the executed cells (SVG images) rendered too
        page.wait_for_function("() => document.querySelectorAll('.jp-RenderedSVG, .jp-RenderedImage').length >= 3")

        # a slider move redraws the explorer's charts through the kernel
        before = explorer.locator(".kit-chart").first.inner_html()
        handle = page.locator(".kit-explorer .kit-param-monthly_requests .noUi-handle").first
        handle.scroll_into_view_if_needed()
        handle.focus()
        page.keyboard.press("PageUp")
        page.wait_for_function("(b) => document.querySelector('.kit-explorer .kit-chart').innerHTML !== b", arg=before)

        explorer.scroll_into_view_if_needed()
        shot = base / "lab-02_cost.png"
        explorer.screenshot(path=str(shot))
        if os.environ.get("KIT_SCREENSHOT_DIR"):
            shutil.copy(shot, os.environ["KIT_SCREENSHOT_DIR"])
        errors = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']").count()
        browser.close()

    assert sliders >= 4 and charts_live == 2
    assert shot.stat().st_size > 30_000
    assert errors == 0
    assert {urlparse(u).hostname for u in requests if u.startswith("http")} == {"127.0.0.1"}
    assert not guard_log.exists() or guard_log.read_text() == ""
