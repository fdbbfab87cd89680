"""The app's wiring, in-process (the browser test covers the served page)."""

import datetime as dt

import pytest

from kit import app
from kit.catalog import load_catalog, profile_params
from kit.params import PARAMS, Scenario
from kit.recommend import recommend

STAMP = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def built():
    return app.build_app()


def test_one_control_per_parameter_with_help_and_range(built):
    ui, _ = built
    assert set(ui.controls) == {p.name for p in PARAMS}
    for p in PARAMS:
        ctl = ui.controls[p.name]
        assert ctl.tooltip == p.help
        if p.kind in ("int", "float") and not p.log:
            assert (ctl.min, ctl.max) == (p.low, p.high)
        if p.log:
            assert 10 ** ctl.min == pytest.approx(p.low) and 10 ** ctl.max == pytest.approx(p.high)
        if p.kind == "choice":
            assert list(ctl.options) == list(p.choices)
    assert app.read_values(ui.controls) == Scenario.make().to_dict()


def test_preset_moves_controls_and_answer(built):
    ui, state = built
    for name in load_catalog().profiles:
        ui.preset.value = name
        expected = Scenario.make(profile_params(name))
        assert state.scenario == expected
        assert state.result["choice"] == recommend(expected, with_flips=False)["choice"]
        assert f'data-choice="{state.result["choice"]}"' in ui.card.value


def test_slider_updates_costs(built):
    ui, state = built
    before = state.result["costs"]["closed_api"]
    ui.controls["monthly_requests"].value = 4e6
    assert state.result["costs"]["closed_api"] == pytest.approx(before * 4)
    assert ui.charts["live"].spec and "<svg" in ui.charts["volume"].value and "<svg" in ui.charts["map"].value


def test_errors_keep_the_last_good_answer(built, monkeypatch):
    ui, state = built
    ui.preset.value = "hybrid"
    card, result = ui.card.value, state.result

    def boom(*a, **k):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(app, "recommend", boom)
    ui.controls["team_fte"].value = 3
    assert "engine exploded" in ui.status.value and "last good answer" in ui.status.value
    assert ui.card.value == card and state.result is result


def test_bad_upload_keeps_answer_and_good_upload_loads(built):
    ui, state = built
    ui.preset.value = "ship_fast"
    choice = state.result["choice"]
    ui.upload.value = ({"name": "notes.txt", "content": memoryview(b"hello"), "size": 5, "type": "", "last_modified": STAMP},)
    assert "notes.txt" in ui.status.value and state.result["choice"] == choice
    saved = app.scenario_io.to_json(Scenario.make(profile_params("regulated")), "regulated").encode()
    ui.upload.value = ({"name": "s.json", "content": memoryview(saved), "size": len(saved), "type": "", "last_modified": STAMP},)
    assert state.scenario == Scenario.make(profile_params("regulated")) and ui.preset.value == "regulated"


def test_query_applies_and_reports_problems(built):
    ui, state = built
    app.apply_query(ui, state, "profile=regulated&monthly_requests=3000000&latency_ms=1")
    assert state.scenario["monthly_requests"] == 3_000_000 and state.scenario["sensitivity"] == "on_prem_only"
    assert "latency_ms" in ui.status.value


def test_memo_links(built):
    ui, state = built
    app.prepare_memo(ui, state)
    assert 'download="decision-memo.md"' in ui.memo_links.value and 'download="decision-memo.html"' in ui.memo_links.value
