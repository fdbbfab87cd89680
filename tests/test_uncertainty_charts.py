"""The How-sure charts: the tornado (what the answer hangs on) and cumulative cost over time, rendered offline."""

import re

import pandas as pd
import pytest

from kit import charts
from kit.catalog import profile_params
from kit.params import OPTION_LABELS, OPTIONS, Scenario
from kit.uncertainty import TORNADO_COLUMNS, summary


@pytest.fixture(scope="module")
def block():
    """A scenario whose answer hangs on a few ranges, some of which reverse the two cheapest options."""
    return summary(Scenario.make(profile_params("cost_at_scale")), n=500)


def _ids(text: str) -> list[str]:
    return re.findall(r'\bid="([^"]+)"', text)


def _offline(text: str) -> bool:
    return text.startswith("<svg") and "http://" not in text.replace("http://www.w3.org", "")


def _label_y(text: str, label: str) -> float:
    """The vertical position of an axis label in a rendered SVG."""
    m = re.search(r'transform="translate\([^,]+,([-\d.]+)\)"[^>]*>' + re.escape(label) + "</text>", text)
    assert m, label
    return float(m.group(1))


def _table(rows: list[tuple[str, float, float]], gap: float = 100.0) -> pd.DataFrame:
    """A tornado table from (input, gap at its low, gap at its high), in the given (unsorted) order."""
    return pd.DataFrame(
        [
            {
                "input": name,
                "label": name.title(),
                "low": 1.0,
                "likely": 2.0,
                "high": 3.0,
                "gap_low": lo,
                "gap_high": hi,
                "gap": gap,
                "swing": abs(hi - lo),
                "flips": min(lo, hi) < 0,
                "first": "hosted_open",
                "second": "closed_api",
                "unit": "factor",
                "source": "test",
            }  # fmt: skip
            for name, lo, hi in rows
        ],
        columns=TORNADO_COLUMNS,
    )


def test_both_render_offline_deterministic_and_scoped(block):
    built = {"tornado": charts.tornado_chart(block["tornado"]), "time": charts.time_chart(block["time"])}
    first = {k: charts.svg(c, scope=k) for k, c in built.items()}
    again = {
        "tornado": charts.svg(charts.tornado_chart(block["tornado"]), scope="tornado"),
        "time": charts.svg(charts.time_chart(block["time"]), scope="time"),
    }
    assert first == again  # byte-identical
    for key, text in first.items():
        assert _offline(text), key
        assert all(i.startswith(f"{key}-") for i in _ids(text)), key  # clip paths, if any, are scoped
    assert not set(_ids(first["tornado"])) & set(_ids(first["time"]))


def test_tornado_ranks_by_swing_and_marks_where_the_order_reverses(block):
    table = block["tornado"]
    moving = table[table.swing > 0]
    assert len(moving) >= 3 and moving.flips.any()
    text = charts.svg(charts.tornado_chart(table), scope="tornado")
    names = [f"{r.label} ({r.low:g} to {r.high:g})" for r in moving.sort_values("swing", ascending=False).itertuples()]
    ys = [_label_y(text, n) for n in names]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)  # biggest swing on top
    first, second = charts.SHORT[table["first"].iloc[0]], charts.SHORT[table["second"].iloc[0]]
    assert f"USD/month: {second} minus {first}" in text
    assert "the order of the two options reverses" in text


def test_tornado_sorts_itself_and_leaves_out_inputs_that_move_nothing():
    table = _table([("small", 90, 120), ("none", 100, 100), ("big", -50, 400), ("middle", 20, 150)])
    text = charts.svg(charts.tornado_chart(table), scope="t")
    ys = [_label_y(text, n) for n in ("Big (1 to 3)", "Middle (1 to 3)", "Small (1 to 3)")]
    assert ys == sorted(ys)
    assert "None (1 to 3)" not in text
    assert "the order of the two options reverses" in text
    spec = charts.tornado_chart(table).to_dict(validate=False)
    assert spec["layer"][0]["encoding"]["y"]["sort"] == ["Big (1 to 3)", "Middle (1 to 3)", "Small (1 to 3)"]
    # no range crosses 0: no rule there
    calm = charts.svg(charts.tornado_chart(_table([("a", 50, 150), ("b", 80, 110)])), scope="t")
    assert "reverses" not in calm and _label_y(calm, "A (1 to 3)") < _label_y(calm, "B (1 to 3)")


def test_an_empty_tornado_says_there_is_nothing_to_rank():
    empty = charts.svg(charts.tornado_chart(pd.DataFrame(columns=TORNADO_COLUMNS)), scope="t")
    assert _offline(empty) and "Nothing to rank" in empty and "fewer than two options are allowed" in empty
    still = charts.svg(charts.tornado_chart(_table([("a", 100, 100)])), scope="t")
    assert "Nothing to rank" in still and "no range moves the cost gap" in still
    assert "Hosted open-weight" in still and "Closed API" in still


def test_time_chart_draws_the_allowed_options_cumulative_cost(block):
    view = block["time"]
    text = charts.svg(charts.time_chart(view), scope="time")
    assert "cumulative USD" in text and "Cumulative cost over 3 years" in text
    for o in OPTIONS:
        assert OPTION_LABELS[o] in text
    # the lines use the kit's option colours
    spec = charts.time_chart(view).to_dict(validate=False)
    scale = spec["encoding"]["color"]["scale"]
    assert scale["range"] == [charts.COLORS[o] for o in OPTIONS]


def test_time_chart_leaves_out_options_not_allowed():
    regulated = summary(Scenario.make(profile_params("regulated")), n=50)
    text = charts.svg(charts.time_chart(regulated["time"]), scope="time")
    assert OPTION_LABELS["self_hosted_open"] in text and OPTION_LABELS["closed_api"] not in text
    assert "Nothing to rank" in charts.svg(charts.tornado_chart(regulated["tornado"]), scope="t")
