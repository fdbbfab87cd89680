"""The Voila app in a real browser: Debian's Chromium driven by Playwright, everything on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import psutil
import pytest
from conftest import guard_env, require_chromium

from kit import procs, serve
from kit.catalog import load_catalog, profile_params
from kit.params import Scenario
from kit.procs import CHROMIUM, CHROMIUM_ARGS, stop, wait_until_up
from kit.recommend import recommend

pytestmark = pytest.mark.browser

TIMEOUT = 90_000  # ms; a cold kernel on a busy 2-core machine can take a while


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app served by Voila exactly as `make app` serves it, under the egress guard."""
    require_chromium(CHROMIUM)
    out = tmp_path_factory.mktemp("voila")
    guard_log = out / "egress.log"
    proc, url = serve.start(log_path=out / "voila.log", env=guard_env(guard_log))
    try:
        wait_until_up(url, proc)
        yield url, out, guard_log
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        yield b
        b.close()


class Page:
    """One visitor's page, recording every request it makes."""

    def __init__(self, browser, url: str, width: int = 1280, height: int = 800):
        self.context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT)
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(url)
        self.page.wait_for_selector(".kit-card", timeout=TIMEOUT)
        self.settle()

    def settle(self) -> None:
        """Wait until the second phase (how sure, sweep, map, flips) has finished."""
        self.page.wait_for_function(
            "() => !document.querySelector('.kit-status-busy') && document.querySelector('.kit-chart-map svg')"
            " && (document.querySelector('.kit-card').innerText.includes('Holds in')"
            " || document.querySelector('.kit-status-error'))"
        )

    def how_sure(self) -> str:
        """Wait for the card to say how sure it is; return the card's text (no traceback on the page)."""
        self.page.wait_for_function("() => document.querySelector('.kit-card').innerText.includes('Holds in')")
        assert "Traceback" not in self.page.content()
        return self.page.locator(".kit-card").inner_text()

    def choice(self) -> str:
        return self.page.locator(".kit-card").get_attribute("data-choice")

    def costline(self) -> str:
        return self.page.locator(".kit-costline").inner_text()

    def pick_profile(self, name: str) -> None:
        before = self.page.locator(".kit-card").inner_html()
        self.page.locator(".kit-preset select").select_option(label=load_catalog().profiles[name]["title"])
        self.page.wait_for_function("(b) => document.querySelector('.kit-card').innerHTML !== b", arg=before)
        self.settle()

    def selected(self, css: str) -> str:
        """Return the visible label of a dropdown's current option."""
        return self.page.locator(f"{css} select option:checked").inner_text().replace("\xa0", " ").strip()

    def upload(self, path: str) -> None:
        """Load a file through the 'Load scenario' button, as a person would."""
        with self.page.expect_file_chooser() as chooser:
            self.page.locator(".kit-upload button").click()
        chooser.value.set_files(path)

    def hosts(self) -> set[str]:
        return {urlparse(u).hostname for u in self.requests if urlparse(u).scheme in ("http", "https", "ws", "wss")}

    def close(self) -> None:
        self.context.close()


def _expected(profile: str) -> str:
    return recommend(Scenario.make(profile_params(profile)), with_flips=False, with_sweep=False)["choice"]


def test_app_end_to_end(server, browser):
    url, out, guard_log = server
    p = Page(browser, url)
    page = p.page
    assert "Traceback" not in page.content()
    p.how_sure()

    # two profiles, two different answers, each what the engine says
    p.pick_profile("regulated")
    assert p.choice() == _expected("regulated") == "self_hosted_open"
    assert "Self-hosted open-weight" in page.locator(".kit-choice").inner_text()
    assert p.selected(".kit-param-sensitivity") == "on_prem_only"  # the preset moved the controls
    p.pick_profile("ship_fast")
    assert p.choice() == _expected("ship_fast") == "closed_api"

    # a slider moves, the costs follow
    before = p.costline()
    handle = page.locator(".kit-param-monthly_requests .noUi-handle").first
    handle.focus()
    page.keyboard.press("PageUp")  # one change: each change recomputes and clears any prepared memo
    page.wait_for_function("(b) => document.querySelector('.kit-costline').innerText !== b", arg=before)
    p.settle()
    after = p.costline()
    closed = [int(re.sub(r"\D", "", m)) for m in re.findall(r"all-closed \$([\d,]+)", before + " " + after)]
    assert closed[1] > closed[0], (before, after)
    # ... and the card comes to say how sure it is; the How-sure panel shows its two charts and the drivers
    assert re.search(r"Holds in \d+% of 10,000 plausible worlds", p.how_sure())
    assert page.locator(".kit-sure svg").count() == 2
    assert "What it hangs on" in page.locator(".kit-hangs").inner_text()
    assert "Self-hosting" in page.locator(".kit-payback").inner_text()

    # the memo, both formats
    page.locator(".kit-memo button, button:has-text('Prepare decision memo')").first.click()
    page.wait_for_selector("a[download='decision-memo.html']")
    with page.expect_download() as dl:
        page.locator("a[download='decision-memo.html']").click()
    memo = Path(dl.value.path()).read_text()
    shown = page.locator(".kit-choice").inner_text().strip()
    assert "Decision memo" in memo and f'<p class="choice">{shown}</p>' in memo
    assert memo.count("<svg") >= 4
    assert "Prices as of" in memo and "Assumptions" in memo and "Inputs" in memo
    assert not re.search(r"""(src|href)=["']https?://""", memo)  # self-contained
    with page.expect_download() as dl:
        page.locator("a[download='decision-memo.md']").click()
    md = Path(dl.value.path()).read_text()
    assert md.startswith("# Decision memo") and "## Monthly cost" in md and "## What would flip it" in md

    # save the scenario and load it back after changing something
    with page.expect_download() as dl:
        page.locator("a[download='scenario.json']").click()
    saved = json.loads(Path(dl.value.path()).read_text())
    assert saved["params"]["weeks_to_launch"] == 4
    p.pick_profile("regulated")
    p.upload(dl.value.path())
    page.wait_for_function("() => document.querySelector('.kit-card').dataset.choice === 'closed_api'")
    assert p.selected(".kit-param-sensitivity") == saved["params"]["sensitivity"]

    # a bad file gives a readable message and keeps the answer
    bad = out / "bad.json"
    bad.write_text("{not json")
    p.upload(str(bad))
    page.wait_for_selector(".kit-status-error")
    assert "bad.json" in page.locator(".kit-status-error").inner_text()
    assert p.choice() == "closed_api" and "Traceback" not in page.content()

    # a 20 MB file is refused by its size (its content never leaves the browser); the next upload still works
    big = out / "big.json"
    big.write_bytes(b" " * 20_000_000)
    p.upload(str(big))
    page.wait_for_function("() => (document.querySelector('.kit-status-error') || {}).innerText?.includes('big.json')")
    assert "19.1 MB" in page.locator(".kit-status-error").inner_text()
    p.pick_profile("regulated")
    p.upload(dl.value.path())  # the same file as before: a new upload
    page.wait_for_function("() => document.querySelector('.kit-card').dataset.choice === 'closed_api'")

    page.set_viewport_size(
        {
            "width": 1280,
            "height": int(page.evaluate("document.querySelector('.kit-app').getBoundingClientRect().height")) + 40,
        }
    )
    shot = out / "app-1280.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    if os.environ.get("KIT_SCREENSHOT_DIR"):
        shutil.copy(shot, os.environ["KIT_SCREENSHOT_DIR"])
    hosts = p.hosts()
    p.close()
    assert hosts == {"127.0.0.1"}, hosts


def test_url_parameters_preload_a_scenario(server, browser):
    url, out, _ = server
    p = Page(browser, url + "?profile=regulated&monthly_requests=2000000&team_fte=0")
    page = p.page
    page.wait_for_function("() => document.querySelector('.kit-card').dataset.choice === 'self_hosted_open'")
    p.settle()
    assert p.selected(".kit-preset") == load_catalog().profiles["regulated"]["title"]
    assert "2.00M" in page.locator(".kit-param-monthly_requests").inner_text()
    card = p.how_sure()
    assert "hire or contract" in card and "not allowed" in card and "Holds in 100% of 10,000 plausible worlds" in card
    assert "profile=regulated" in page.locator(".kit-share").inner_text()
    assert p.hosts() == {"127.0.0.1"}
    p.close()


def test_bad_url_parameter_is_a_message_not_a_traceback(server, browser):
    url, out, _ = server
    p = Page(
        browser,
        url + "?monthly_requests=5&sensitivity=secret&closed_model=foo&weeks_to_launch=3&open_model=" + "x" * 10_000,
    )
    page = p.page
    page.wait_for_selector(".kit-status-error")
    text = page.locator(".kit-status-error").inner_text()
    assert "monthly_requests" in text and "sensitivity" in text and "allowed" in text
    assert "closed_model" in text and "open_model" in text and "(10,000 characters)" in text and len(text) < 2_000
    assert "Traceback" not in page.content() and "error when executing" not in page.content()
    assert "weeks_to_launch=3" in page.locator(".kit-share").inner_text()  # the good parameter was kept
    assert p.choice()  # an answer is still shown
    p.close()


def test_server_and_kernels_reached_nothing_outside(server, browser):
    _, out, guard_log = server
    p = Page(browser, server[0])  # at least one full session under the guard
    p.close()
    attempts = guard_log.read_text().splitlines() if guard_log.exists() else []
    assert attempts == []
    log = (out / "voila.log").read_text()
    assert "127.0.0.1" in log and "0.0.0.0" not in log


# ---------------------------------------------------------------- the cap on kernels held by page loads


def _kernels(pid: int) -> int:
    """Return how many kernel processes the server ``pid`` has started and still runs."""
    _server, *children = procs.family(pid)  # a server that is gone fails here, as psutil.Process did
    n = 0
    for child in children:
        try:
            n += "ipykernel" in " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            pass
    return n


def _get(url: str) -> tuple[int, str, dict]:
    """A plain GET, as curl makes it (no browser, no websocket)."""
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def test_page_loads_hold_at_most_max_kernels(tmp_path, browser):
    """cap + 2 plain GETs at once: cap pages, 2 busy pages (503); kernels stay <= cap + pre-heated pool.

    Kernels no page connected to are shut down after KitVoila.unclaimed_timeout; a real visitor's is not.
    """
    cap = 2
    pool = json.loads((serve.NOTEBOOKS / "voila.json").read_text())["VoilaConfiguration"]["default_pool_size"]
    log = tmp_path / "voila.log"
    proc, url = serve.start(
        log_path=log, env=guard_env(tmp_path / "egress.log"), max_kernels=cap, extra=["--KitVoila.unclaimed_timeout=5"]
    )
    try:
        wait_until_up(url, proc)
        _wait_for(lambda: "Kernel pool of app.ipynb is filled" in log.read_text(), 120, "the pre-heated pool")
        with ThreadPoolExecutor(cap + 2) as pool_of_curls:
            replies = list(pool_of_curls.map(_get, [url] * (cap + 2)))
        assert sorted(status for status, _, _ in replies) == [200] * cap + [503] * 2, [r[0] for r in replies]
        for status, body, headers in replies:
            if status == 503:
                assert "busy" in body and "try again in a minute" in body and headers.get("Retry-After") == "60"
                assert "max_kernels" in body and not re.search(r"(src|href)=[\"']https?://", body)
        time.sleep(3)  # the pool refills after the visits
        assert _kernels(proc.pid) <= cap + pool
        p = browser.new_page()  # a person over the cap sees the busy page, not an error
        response = p.goto(url)
        assert response.status == 503 and "try again in a minute" in p.locator("h1").inner_text()
        p.close()
        assert _kernels(proc.pid) <= cap + pool
        # nobody connected to the two pages' kernels: they are shut down, and the places are free again
        _wait_for(lambda: _kernels(proc.pid) <= pool, 60, "the unclaimed kernels to be shut down")
        assert log.read_text().count("no page connected to it within 5 s") == cap
        # a real visitor's page connects to its kernel: it is left alone well past the timeout
        visitor = Page(browser, url)
        time.sleep(8)
        visitor.pick_profile("regulated")  # still answering
        assert log.read_text().count("no page connected to it within 5 s") == cap
        assert _get(url)[0] == 200  # the second place
        assert _get(url)[0] == 503
        visitor.close()
    finally:
        stop(proc)
    attempts = (tmp_path / "egress.log").read_text().splitlines() if (tmp_path / "egress.log").exists() else []
    assert attempts == []


def test_seats_preheat_a_class_log_progress_and_cap_visitors(tmp_path):
    """`kit app --seats 2`: two kernels heat (at most one per core at a time, with progress logged), two visitors
    get one each, a third gets the busy page, and the pool is refilled only to the spare kernels."""
    seats = 2
    log = tmp_path / "voila.log"
    proc, url = serve.start(log_path=log, env=guard_env(tmp_path / "egress.log"), seats=seats)
    try:
        wait_until_up(url, proc)
        _wait_for(lambda: f"All {seats} seats are ready" in log.read_text(), 240, "the seats to heat")
        text = log.read_text()
        assert f"pre-heating {seats} seats" in text
        counts = [int(n) for n in re.findall(rf"Seats ready: (\d+) of {seats} ", text)]
        assert counts and counts == sorted(counts) and counts[-1] < seats, counts  # progress, then "All ... ready"
        assert _kernels(proc.pid) == seats
        with ThreadPoolExecutor(seats + 1) as visitors:
            replies = list(visitors.map(_get, [url] * (seats + 1)))
        assert sorted(status for status, _, _ in replies) == [200] * seats + [503], [r[0] for r in replies]
        assert log.read_text().count("Using pre-heated kernel") == seats  # nobody waited for a kernel to start
        _wait_for(lambda: _kernels(proc.pid) == seats + serve.SPARE, 120, "the spare kernels")
        time.sleep(3)
        assert _kernels(proc.pid) == seats + serve.SPARE  # not refilled to a second class
    finally:
        stop(proc)
    attempts = (tmp_path / "egress.log").read_text().splitlines() if (tmp_path / "egress.log").exists() else []
    assert attempts == []
