"""Open N app sessions at once in headless Chromium pages; report renders, time, memory and culling.

    .venv/bin/python benchmarks/load_app.py [--sessions 20] [--cull-after 30] [--max-kernels N]

Not part of the test run. Traffic goes only to the Voila server this script starts on 127.0.0.1,
and every loop is bounded in count and time. Memory is the resident set of the Voila server and
every kernel process it started (psutil), sampled at the peak and again after the pages close and
idle kernels are culled (the cull timeout is shortened for the run; voila.json keeps 600 s).
The server's cap on visitors' kernels (KitVoila.max_kernels) is raised to --sessions unless
--max-kernels is given; pages over the cap get the "busy" page (HTTP 503) and are counted as busy.
"""

from __future__ import annotations

import argparse
import os
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
    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0, 0
    rss, kernels = 0, 0
    for p in family:
        try:
            rss += p.memory_info().rss
            if "ipykernel" in " ".join(p.cmdline()):
                kernels += 1
        except psutil.NoSuchProcess:
            pass
    return rss / 2**20, kernels


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=20)
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
    cap = args.sessions if args.max_kernels is None else args.max_kernels
    extra = [f"--MappingKernelManager.cull_idle_timeout={args.cull_after}", "--MappingKernelManager.cull_interval=10"]
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(os.environ.get("KIT_LOAD_LOG") or Path(tmp) / "voila.log")
        proc, url = serve.start(log_path=log_path, extra=extra, max_kernels=cap)
        peak = {"mb": 0.0, "kernels": 0}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                mb, k = tree(proc.pid)
                peak["mb"], peak["kernels"] = max(peak["mb"], mb), max(peak["kernels"], k)
                time.sleep(0.5)

        try:
            procs.wait_until_up(url, proc)
            time.sleep(20)  # the pre-heated pool
            base_mb, base_k = tree(proc.pid)
            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                pages, started, busy = [], time.perf_counter(), 0
                for _ in range(args.sessions):  # all navigations are issued before any is awaited
                    page = browser.new_page(viewport={"width": 1280, "height": 800})
                    response = page.goto(url, wait_until="commit")
                    if response is not None and response.status == 503:
                        busy += 1  # over the cap: the busy page, no kernel
                    else:
                        pages.append(page)
                done = []
                deadline = started + args.timeout
                for page in pages:
                    left = max(1.0, deadline - time.perf_counter())
                    try:
                        page.wait_for_selector(".kit-card", timeout=left * 1000)
                        done.append(time.perf_counter() - started)
                    except Exception:
                        pass
                loaded_mb, loaded_k = tree(proc.pid)
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
    print(f"sessions opened at once:   {args.sessions}")
    print(f"rendered:                  {len(done)} of {args.sessions}")
    print(f"busy page (HTTP 503):      {busy} (server cap: {cap} visitors' kernels + the pre-heated pool)")
    if done:
        print(f"time to the slowest page:  {max(done):.1f} s (first {min(done):.1f} s)")
    print(f"before: server + {base_k} pooled kernels = {base_mb:,.0f} MB")
    print(
        f"peak:   server + {peak['kernels']} kernels = {peak['mb']:,.0f} MB "
        f"({peak['mb'] / max(1, peak['kernels']):,.0f} MB per kernel incl. server share; machine {total:.0f} GiB)"
    )
    print(
        f"after closing and culling ({time.perf_counter() - closed_at:.0f} s): {culled_k} kernels, {culled_mb:,.0f} MB"
    )


if __name__ == "__main__":
    main()
