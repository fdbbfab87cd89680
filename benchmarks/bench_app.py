"""Measure the served app in a real browser (a benchmark: it prints figures, asserts nothing).

    .venv/bin/python benchmarks/bench_app.py [--visits 5] [--changes 15]

1. navigation -> interactive recommendation: from page.goto() until the recommendation card is on
   screen (Voila only shows the page once every widget is live, so the card means "interactive");
2. slider change -> updated answer: from a key press on the volume slider until both the card's
   cost line and the live chart (axes + costs) have been redrawn;
3. slider change -> how sure: from the same key press until the new card says "Holds in X% of N
   plausible worlds" (the uncertainty phase, after the volume sweep).
For comparison it also times an empty one-widget Voila page served the same way (the floor).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from kit import serve
from kit.procs import CHROMIUM, CHROMIUM_ARGS, stop, wait_until_up

ARGS = list(CHROMIUM_ARGS)
# The kernels import this checkout's kit, whichever one the venv installed (a shared venv, a git worktree).
ENV = {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
POOL_WARM_S = 25  # let the pre-heated kernel pool fill before the first visit
# between visits: the used kernel's replacement waits 10 s (KitVoila.refill_after), then heats for about 5 s
REFILL_S = 20


def visit(browser, url: str, selector: str) -> tuple[float, object]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    t = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(selector, timeout=120_000)
    return time.perf_counter() - t, page


CARD_AND_CHART = """(before) => {
    const line = document.querySelector('.kit-costline');
    if (!line || line.innerText === before) return false;
    const closed = (line.innerText.match(/all-closed (\\$[\\d,]+)/) || [])[1];
    const svg = document.querySelector('.kit-chart-live svg');
    return !!(closed && svg && svg.textContent.includes(closed));
}"""


HOW_SURE = """(before) => {
    const card = document.querySelector('.kit-card');
    const line = document.querySelector('.kit-costline');
    return !!(card && line && line.innerText !== before && card.innerText.includes('Holds in'));
}"""


def slider_changes(page, n: int) -> list[tuple[float, float, float]]:
    """Press PageUp/PageDown on the volume slider; time the card, then card + chart showing the new cost, then
    the card saying how sure it is."""
    page.wait_for_function("() => !document.querySelector('.kit-status-busy')", timeout=60_000)
    handle = page.locator(".kit-param-monthly_requests .noUi-handle").first
    out = []
    for i in range(n):
        before = page.locator(".kit-costline").inner_text()
        handle.focus()
        t = time.perf_counter()
        page.keyboard.press("PageUp" if i % 2 == 0 else "PageDown")
        page.wait_for_function(
            "(b) => document.querySelector('.kit-costline').innerText !== b", arg=before, timeout=60_000, polling=5
        )
        card = time.perf_counter() - t
        page.wait_for_function(CARD_AND_CHART, arg=before, timeout=60_000, polling=5)
        both = time.perf_counter() - t
        page.wait_for_function(HOW_SURE, arg=before, timeout=60_000, polling=5)
        out.append((card, both, time.perf_counter() - t))
        page.wait_for_function("() => !document.querySelector('.kit-status-busy')", timeout=60_000)
    return out


def floor_notebook(folder: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import ipywidgets as w\nfrom IPython.display import display\n"
            "display(w.HTML('<div class=\"kit-card\">empty</div>'))"
        )
    ]
    nbformat.write(nb, folder / "app.ipynb")
    (folder / "voila.json").write_text((serve.NOTEBOOKS / "voila.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--visits", type=int, default=5)
    ap.add_argument("--changes", type=int, default=15)
    args = ap.parse_args()
    results = {}
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for label, folder in (("app", serve.NOTEBOOKS), ("empty voila page", Path(tmp))):
            if label != "app":
                floor_notebook(folder)
            proc, url = serve.start(log_path=Path(tmp) / f"{label}.log", folder=folder, env=ENV)
            try:
                wait_until_up(url, proc)
                time.sleep(POOL_WARM_S)
                loads = []
                for _ in range(args.visits):
                    seconds, page = visit(browser, url, ".kit-card")
                    loads.append(seconds)
                    if label == "app" and "changes" not in results:
                        results["changes"] = slider_changes(page, args.changes)
                    page.close()
                    time.sleep(REFILL_S)  # a lone visitor: the pool has refilled and the server is quiet again
                results[label] = loads
            finally:
                stop(proc)
        browser.close()
    med = statistics.median
    print(
        f"navigation -> interactive recommendation: median {med(results['app']):.2f} s "
        f"(runs: {', '.join(f'{x:.2f}' for x in results['app'])})"
    )
    print(f"empty one-widget Voila page, same server:  median {med(results['empty voila page']):.2f} s")
    cards = [c for c, _, _ in results["changes"]]
    both = [b for _, b, _ in results["changes"]]
    sure = [h for _, _, h in results["changes"]]
    print(
        f"slider change -> updated recommendation card: median {med(cards) * 1000:.0f} ms, max {max(cards) * 1000:.0f} ms"
    )
    print(
        f"slider change -> card and chart both updated: median {med(both) * 1000:.0f} ms, "
        f"max {max(both) * 1000:.0f} ms over {len(both)} changes"
    )
    print(
        f"slider change -> card says how sure ('Holds in'): median {med(sure) * 1000:.0f} ms, "
        f"max {max(sure) * 1000:.0f} ms over {len(sure)} changes"
    )
    print(
        json.dumps(
            {
                "app": results["app"],
                "empty": results["empty voila page"],
                "card": cards,
                "card_and_chart": both,
                "how_sure": sure,
            }
        )
    )


if __name__ == "__main__":
    main()
