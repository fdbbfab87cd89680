import datetime as dt
import re

from kit import charts, fmt, report
from kit.catalog import profile_params
from kit.cost import volume_sweep
from kit.params import OPTION_LABELS, Scenario
from kit.recommend import decision_map, recommend
from kit.uncertainty import assess


def _result(profile="hybrid"):
    s = Scenario.make(profile_params(profile))
    sweep = volume_sweep(s)
    return s, recommend(s, sweep=sweep), sweep, decision_map(s)


def test_decision_map_covers_volume_by_sensitivity_and_marks_forced_residency():
    s, r, sweep, grid = _result()
    assert set(grid.sensitivity) == {"public", "internal", "confidential", "regulated", "on_prem_only"}
    assert (grid[grid.sensitivity == "on_prem_only"].choice == "self_hosted_open").all()
    here = grid[(grid.sensitivity == s["sensitivity"])]
    assert here.monthly_requests.is_monotonic_increasing


def test_svgs_render_offline_are_deterministic_and_scoped():
    s, r, sweep, grid = _result()
    built = charts.all_charts(r, sweep, grid)
    first = {k: charts.svg(c, scope=k) for k, c in built.items()}
    again = {k: charts.svg(c, scope=k) for k, c in charts.all_charts(r, sweep, grid).items()}
    assert first == again
    for key, text in first.items():
        assert text.startswith("<svg") and "http://" not in text.replace("http://www.w3.org", "")
        ids = re.findall(r'\bid="([^"]+)"', text)
        assert all(i.startswith(f"{key}-") for i in ids)
    # no two charts share an id, so one chart's clip path cannot hide another's marks
    all_ids = [i for t in first.values() for i in re.findall(r'\bid="([^"]+)"', t)]
    assert len(all_ids) == len(set(all_ids))


def test_memo_holds_everything_a_meeting_needs():
    s, r, sweep, grid = _result("logistics")
    svgs = {k: charts.svg(c, scope=k) for k, c in charts.all_charts(r, sweep, grid).items()}
    day = dt.date(2026, 11, 21)
    md = report.memo_markdown(r, today=day)
    page = report.memo_html(r, svgs, today=day)
    for text in (md, page):
        assert OPTION_LABELS[r["choice"]] in text and "2026-11-21" in text and r["data"]["prices_as_of"] in text
        assert all(reason[:40] in text.replace("&#x27;", "'").replace("&quot;", '"') for reason in r["reasons"])
        assert "prefill_mfu" in text and "throughput.csv" in text and "gpu_prices.csv" in text
        assert f"{r['costs']['closed_api']:,.0f}" in text
    assert page.count("<svg") == 4 and not re.search(r"""(src|href)=["']https?://""", page)
    assert report.memo_markdown(r, today=day) == md  # same inputs, same memo


def test_card_shows_how_sure_once_worked_out_and_what_is_not_allowed():
    s, r, _, _ = _result("regulated")
    assert "working out plausible worlds" in report.card_html(r) and "Holds in" not in report.card_html(r)
    r = assess(r, s, n=500)
    html = report.card_html(r)
    pct = round(r["confidence"] * 100)
    assert f'data-choice="{r["choice"]}"' in html and f"Holds in <b>{pct}%</b> of 500 plausible worlds" in html
    assert fmt.band_text(r["uncertainty"]["monthly"][r["choice"]]) in html and "not a guarantee" in html
    assert set(r["not_allowed"]) == {"closed_api", "hosted_open", "hybrid"}
    assert html.count("<li>") == len(r["reasons"]) + len(r["warnings"]) + len(r["not_allowed"])
    assert "closed API not allowed" in html and "all-closed" not in html
    md = report.memo_markdown(r)
    for o in r["not_allowed"]:
        assert f"| {report.OPTION_LABELS[o]} | not allowed |" in md
    assert "$nan" not in md and "n/a" not in md
