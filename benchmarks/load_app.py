"""Open N app sessions within a few seconds in headless Chromium pages; report time to interactive and memory.

    .venv/bin/python benchmarks/load_app.py [--sessions 30] [--seats 30] [--spread 10] [--max-kernels N]

A class arriving: N pages are opened at even intervals over --spread seconds (default 10), each in its
own tab of one Chromium. Each page's time to interactive is measured in the page itself: from its own
navigation start (performance.timeOrigin) until the recommendation card is on screen (Voila shows the
page once every widget is live, so the card means "interactive"); p50, p95 and max are printed.

--seats N serves the app as `make app SEATS=N` does (a pre-heated kernel per seat; the script waits until
the server logs that every seat is ready). Without it, the server runs with voila.json's small pool and
its cap on visitors' kernels raised to --sessions (unless --max-kernels is given); pages over the cap get
the "busy" page (HTTP 503) and are counted as busy.

Not part of the test run. Traffic goes only to the Voila server this script starts on 127.0.0.1,
and every loop is bounded in count and time. Memory is the resident set of the Voila server and
every kernel process it started (psutil), sampled before the class arrives, at the peak, and again after
the pages close and idle kernels are culled (the cull timeout is shortened for the run; voila.json keeps
600 s). Chromium's own memory is not counted: it stands for thirty people's laptops.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

from kit import procs, serve
from kit.procs import CHROMIUM, CHROMIUM_ARGS

ARGS = [
    *CHROMIUM_ARGS,
    # 20 tabs of one browser stand for 20 people: do not throttle the ones in the background
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]


def tree(pid: int) -> tuple[float, int]:
    """Return (resident MB of the server and all its descendants, number of kernel processes)."""
    kernels = 0
    for p in procs.family(pid):
        try:
            kernels += "ipykernel" in " ".join(p.cmdline())
        except psutil.NoSuchProcess:
            pass
    return procs.memory_mb(pid), kernels


# Records, in each page, when the recommendation card first appears (ms since that page's navigation start).
CARD_CLOCK = """
new MutationObserver((_, observer) => {
    if (document.querySelector('.kit-card')) {
        window.__kitCardAt = performance.now();
        observer.disconnect();
    }
}).observe(document, {childList: true, subtree: true});
"""


def cpu_seconds(pid: int, exclude: int | None = None) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its live descendants, leaving out the
    subtree of ``exclude`` (so this script's own tree minus the server's = Playwright and Chromium)."""
    skip = {p.pid for p in procs.family(exclude)} if exclude is not None else set()
    total = 0.0
    for p in procs.family(pid):
        if p.pid in skip:
            continue
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def own_cpu(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` alone (the Voila server without its kernels)."""
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return t.user + t.system


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--seats", type=int, default=0, help="serve as `make app SEATS=N` (0: voila.json's small pool)")
    ap.add_argument("--spread", type=float, default=10.0, help="seconds over which the pages are opened")
    # Longer than the slowest page takes to connect: a kernel whose page has not connected yet counts
    # as idle, so a short timeout would cull kernels of pages that are still loading.
    ap.add_argument("--cull-after", type=int, default=150, help="idle seconds before a kernel is culled")
    ap.add_argument("--timeout", type=int, default=300, help="seconds to wait for all pages")
    ap.add_argument(
        "--max-kernels",
        type=int,
        default=None,
        help="the server's cap on visitors' kernels (default: --sessions, so every page gets one)",
    )
    args = ap.parse_args()
    cap = args.max_kernels if args.max_kernels is not None else (args.seats or args.sessions)
    extra = [f"--MappingKernelManager.cull_idle_timeout={args.cull_after}", "--MappingKernelManager.cull_interval=10"]
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(os.environ.get("KIT_LOAD_LOG") or Path(tmp) / "voila.log")
        proc, url = serve.start(log_path=log_path, extra=extra, max_kernels=cap, seats=args.seats)
        peak = {"mb": 0.0, "kernels": 0}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                mb, k = tree(proc.pid)
                peak["mb"], peak["kernels"] = max(peak["mb"], mb), max(peak["kernels"], k)
                time.sleep(0.5)

        try:
            procs.wait_until_up(url, proc)
            heat_start = time.perf_counter()
            ready, minutes = (
                (f"All {args.seats} seats are ready", 15) if args.seats else ("Kernel pool of app.ipynb is filled", 5)
            )
            while ready not in log_path.read_text():
                if time.perf_counter() - heat_start > 60 * minutes or proc.poll() is not None:
                    raise SystemExit(f"the server did not log {ready!r} within {minutes} minutes; see {log_path}")
                time.sleep(1)
            heated_in = time.perf_counter() - heat_start
            time.sleep(5)  # let the last kernel settle
            base_mb, base_k = tree(proc.pid)
            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                pages, busy = [], 0
                blank = []
                for _ in range(args.sessions):
                    page = browser.new_page(viewport={"width": 1280, "height": 800})
                    page.add_init_script(CARD_CLOCK)
                    blank.append(page)
                cpu_before = cpu_seconds(proc.pid), cpu_seconds(os.getpid(), exclude=proc.pid), own_cpu(proc.pid)
                started = time.perf_counter()
                for i, page in enumerate(blank):  # navigations start at even intervals over --spread seconds
                    time.sleep(max(0.0, started + i * args.spread / args.sessions - time.perf_counter()))
                    page.evaluate("(url) => { window.location.href = url; }", url)  # not awaited: like a click
                opened_in = time.perf_counter() - started
                for page in blank:
                    try:
                        response = page.wait_for_event("response", timeout=args.timeout * 1000)
                    except Exception:
                        response = None
                    if response is not None and response.status == 503:
                        busy += 1  # over the cap: the busy page, no kernel
                    else:
                        pages.append(page)
                done = []
                deadline = started + args.timeout
                for page in pages:
                    left = max(1.0, deadline - time.perf_counter())
                    try:
                        page.wait_for_function("() => window.__kitCardAt !== undefined", timeout=left * 1000)
                        done.append(page.evaluate("window.__kitCardAt") / 1000)
                    except Exception:
                        pass
                loaded_mb, loaded_k = tree(proc.pid)
                cpu_after = cpu_seconds(proc.pid), cpu_seconds(os.getpid(), exclude=proc.pid), own_cpu(proc.pid)
                class_took = time.perf_counter() - started
                for page in pages:
                    page.close()
                browser.close()
            closed_at = time.perf_counter()
            culled_mb, culled_k = loaded_mb, loaded_k
            while time.perf_counter() - closed_at < args.cull_after + 60:
                culled_mb, culled_k = tree(proc.pid)
                if culled_k <= base_k:
                    break
                time.sleep(2)
            stop.set()
        finally:
            procs.stop(proc)
    total = psutil.virtual_memory().total / 2**30
    mode = f"`make app SEATS={args.seats}`" if args.seats else "voila.json's pool"
    print(f"server:                    {mode}; ready {heated_in:.0f} s after it answered")
    print(f"sessions opened:           {args.sessions} within {opened_in:.1f} s")
    print(f"rendered:                  {len(done)} of {args.sessions}")
    print(f"busy page (HTTP 503):      {busy} (server cap: {cap} visitors' kernels + the pre-heated pool)")
    if done:
        print(
            "time to interactive:       "
            f"p50 {statistics.median(done):.1f} s, p95 {percentile(done, 95):.1f} s, max {max(done):.1f} s "
            f"(min {min(done):.1f} s; each from its own page's navigation start)"
        )
    server_cpu, browser_cpu = cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]
    voila_cpu = cpu_after[2] - cpu_before[2]
    n = max(1, args.sessions)
    print(
        f"CPU while the class loaded ({class_took:.0f} s x {os.cpu_count()} cores = "
        f"{class_took * (os.cpu_count() or 1):.0f} CPU-s): Voila server {voila_cpu:.0f} CPU-s "
        f"({voila_cpu / n:.1f} per page), kernels {server_cpu - voila_cpu:.0f} ({(server_cpu - voila_cpu) / n:.1f} per "
        f"page, refills included), Chromium and Playwright {browser_cpu:.0f} ({browser_cpu / n:.1f} per page)"
    )
    print(f"before: server + {base_k} pooled kernels = {base_mb:,.0f} MB")
    print(
        f"peak:   server + {peak['kernels']} kernels = {peak['mb']:,.0f} MB "
        f"({peak['mb'] / max(1, peak['kernels']):,.0f} MB per kernel incl. server share; machine {total:.0f} GiB)"
    )
    if base_k:
        print(f"memory per session:        {base_mb / base_k:,.0f} MB (heated pool, server share included)")
    print(
        f"after closing and culling ({time.perf_counter() - closed_at:.0f} s): {culled_k} kernels, {culled_mb:,.0f} MB"
    )


if __name__ == "__main__":
    main()
