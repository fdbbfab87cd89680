"""The app's wiring, in-process (the browser test covers the served page)."""

import base64
import datetime as dt
import html
import re

import pytest
from test_scenario_io import BAD_FILES, BAD_QUERIES

from kit import app
from kit.catalog import load_catalog, profile_params
from kit.fmt import driver_sentence, payback_sentence
from kit.params import PARAMS, Scenario
from kit.recommend import recommend
from kit.scenario_io import MAX_FILE_BYTES
from kit.uncertainty import assess

STAMP = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


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
            assert 10**ctl.min == pytest.approx(p.low) and 10**ctl.max == pytest.approx(p.high)
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
    ui.upload.value = (
        {"name": "notes.txt", "content": memoryview(b"hello"), "size": 5, "type": "", "last_modified": STAMP},
    )
    assert "notes.txt" in ui.status.value and state.result["choice"] == choice
    saved = app.scenario_io.to_json(Scenario.make(profile_params("regulated")), "regulated").encode()
    ui.upload.value = (
        {"name": "s.json", "content": memoryview(saved), "size": len(saved), "type": "", "last_modified": STAMP},
    )
    assert state.scenario == Scenario.make(profile_params("regulated")) and ui.preset.value == "regulated"


def test_query_applies_and_reports_problems(built):
    ui, state = built
    app.apply_query(ui, state, "profile=regulated&monthly_requests=3000000&latency_ms=1")
    assert state.scenario["monthly_requests"] == 3_000_000 and state.scenario["sensitivity"] == "on_prem_only"
    assert "latency_ms" in ui.status.value


def test_memo_links(built):
    ui, state = built
    app.prepare_memo(ui, state)
    assert (
        'download="decision-memo.md"' in ui.memo_links.value and 'download="decision-memo.html"' in ui.memo_links.value
    )
    md = base64.b64decode(re.search(r'download="decision-memo.md" href="data:[^,]+,([^"]+)"', ui.memo_links.value)[1])
    assert "## How sure" in md.decode() and "plausible worlds" in md.decode()  # the memo says how sure


def _svgs(widget) -> list[str]:
    return [x.value for x in _widgets_under(widget) if isinstance(x, app.w.HTML) and "<svg" in x.value]


def test_after_a_change_the_card_says_how_sure_and_the_panel_shows_what_it_hangs_on(built):
    ui, state = built
    ui.preset.value = "cost_at_scale"
    ui.controls["monthly_requests"].value = 30_000_000
    s = state.scenario
    assert s["monthly_requests"] == 30_000_000
    expected = assess(recommend(s, with_flips=False, with_sweep=False), s)
    pct = round(expected["confidence"] * 100)
    assert 0 < pct < 100  # an answer that does not hold in every plausible world
    assert f"Holds in <b>{pct}%</b> of 10,000 plausible worlds" in ui.card.value
    assert "working out" not in ui.card.value and ui.status.value == ""
    # the assessed result is the one remembered (so the memo says how sure)
    assert state.result["confidence"] == expected["confidence"]
    assert state.result["uncertainty"] == expected["uncertainty"] and state.result["flip"]
    # the How-sure panel: the tornado and the time chart, the payback
    assert len(_svgs(ui.sure)) == 2
    assert "What the answer hangs on" in ui.charts["tornado"].value and "cumulative USD" in ui.charts["time"].value
    assert html.escape(payback_sentence(expected["uncertainty"]["payback"])) in ui.sure_text.value
    # the top three drivers as sentences, beside what would flip it
    drivers = expected["uncertainty"]["drivers"]
    assert len(drivers) == 3
    assert "What it hangs on" in ui.hangs.value and ui.hangs.value.count("<li>") == 3
    for d in drivers:
        assert html.escape(driver_sentence(d)) in ui.hangs.value
    side = next(x for x in _widgets_under(ui.root) if ui.flips in getattr(x, "children", ()))
    assert ui.hangs in side.children
    assert state.timings["quick_s"] <= state.timings["sure_s"] <= state.timings["full_s"]


def test_nothing_to_rank_is_said_not_drawn_as_an_error(built):
    ui, state = built
    ui.preset.value = "regulated"  # only self-hosting is allowed
    assert "Holds in <b>100%</b>" in ui.card.value and len(_svgs(ui.sure)) == 2
    assert "Nothing to rank" in ui.charts["tornado"].value and "Fewer than two options" in ui.hangs.value
    assert ui.status.value == ""


def test_a_failure_while_working_out_how_sure_keeps_the_last_good_answer(built, monkeypatch):
    ui, state = built
    card, result, live = ui.card.value, state.result, ui.charts["live"].spec

    def boom(*a, **k):
        raise RuntimeError("worlds exploded")

    monkeypatch.setattr(app.uncertainty, "summary", boom)
    ui.controls["monthly_requests"].value = 20_000_000  # the quick card is shown, then the second phase fails
    assert "worlds exploded" in ui.status.value and "last good answer" in ui.status.value
    assert "Traceback" not in ui.status.value and state.result is result
    assert ui.card.value == card and ui.charts["live"].spec == live  # the last good answer is put back
    monkeypatch.undo()
    _still_responsive(ui, state)
    assert "Holds in" in ui.card.value


# ---------------------------------------------------------------- bad input never freezes the app


@pytest.fixture(scope="module")
def shared():
    """One app for the many bad-input cases (each case ends with a valid change, the next case's last answer)."""
    ui, state = app.build_app()
    ui.preset.value = "ship_fast"
    return ui, state


def _upload(ui, name: str, content: bytes, size: int | None = None) -> None:
    """Upload as the browser does: FileUpload's shape (a file over the limit arrives with its size only)."""
    ui.upload.value = (
        {
            "name": name,
            "content": memoryview(content),
            "size": len(content) if size is None else size,
            "type": "application/json",
            "last_modified": 0,
        },
    )


def _still_responsive(ui, state) -> None:
    """A valid change after the bad input updates the answer and clears the message."""
    card, result = ui.card.value, state.result
    # a hundredfold change moves every allowed option's cost, so the card's cost line changes
    volume = 200_000_000 if state.scenario["monthly_requests"] < 20_000_000 else 200_000
    ui.controls["monthly_requests"].value = volume
    assert state.result is not result and ui.card.value != card and ui.status.value == ""
    assert state.scenario["monthly_requests"] == volume


def _refused(ui, state, bad, words: list[str]) -> None:
    """Apply ``bad``; check the readable message, the unchanged answer and controls, then responsiveness."""
    card, result, values = ui.card.value, state.result, app.read_values(ui.controls)
    preset, profile = ui.preset.value, state.profile
    bad()
    text = ui.status.value
    assert "kit-status-error" in text and "last good answer" in text and "Traceback" not in text, text
    for word in words:
        assert html.escape(word) in text, (word, text)
    assert ui.card.value == card and state.result is result, "the last good answer must stay"
    assert app.read_values(ui.controls) == values and ui.preset.value == preset and state.profile == profile
    assert state.holding is False and list(ui.upload.value) == []
    _still_responsive(ui, state)


@pytest.mark.parametrize("case, content, error, words", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_upload_says_why_keeps_the_answer_and_stays_responsive(shared, case, content, error, words):
    ui, state = shared
    data = content() if callable(content) else content
    _refused(ui, state, lambda: _upload(ui, "in.json", data), ["in.json", *words])


def test_oversized_file_is_refused_by_its_announced_size(shared):
    """The browser sends a file over the limit by name and size only; the message says both sizes."""
    ui, state = shared
    assert ui.upload.max_bytes == MAX_FILE_BYTES
    _refused(ui, state, lambda: _upload(ui, "huge.json", b"", size=50_000_000), ["huge.json", "47.7 MB", "256 kB"])
    _refused(
        ui,
        state,
        lambda: ui.upload.set_trait(
            "value", [{"name": "x.json", "content": b"", "size": 10, "error": "NotReadableError"}]
        ),
        ["x.json", "could not be read", "NotReadableError"],
    )


@pytest.mark.parametrize("query, bad, kept", BAD_QUERIES, ids=[q[1] for q in BAD_QUERIES])
def test_bad_link_reports_the_entry_shortened_and_keeps_the_rest(shared, query, bad, kept):
    ui, state = shared
    app.apply_query(ui, state, query)
    text = ui.status.value
    assert f"{html.escape(repr(bad))}" in text and "Traceback" not in text, text
    assert len(text) < 1_500  # a 10,000-character value is shortened
    for name, value in kept.items():
        assert state.scenario[name] == value and app.read_values(ui.controls)[name] == value
    assert state.holding is False
    _still_responsive(ui, state)


def test_a_catalog_model_the_list_does_not_offer_still_loads(built):
    ui, state = built
    offered = list(ui.controls["closed_model"].options)
    ref = next(r for r in load_catalog().price_table.index if r not in offered)
    saved = app.scenario_io.to_json(Scenario.make(closed_model=ref)).encode()
    _upload(ui, "s.json", saved)
    assert state.scenario["closed_model"] == ref == ui.controls["closed_model"].value and ui.status.value == ""


def test_an_unexpected_failure_while_loading_is_a_message_and_releases_the_hold(built, monkeypatch):
    ui, state = built
    card = ui.card.value

    def boom(*a, **k):
        raise RuntimeError("widget exploded")

    monkeypatch.setattr(app, "set_values", boom)
    saved = app.scenario_io.to_json(Scenario.make(profile_params("regulated")), "regulated").encode()
    _upload(ui, "s.json", saved)
    assert "widget exploded" in ui.status.value and ui.card.value == card and state.holding is False
    monkeypatch.undo()
    _still_responsive(ui, state)


def _widgets_under(widget) -> list:
    out = [widget]
    for child in getattr(widget, "children", ()):
        out += _widgets_under(child)
    return out


def test_axis_weights_have_their_own_group_and_change_the_answer(built):
    ui, state = built
    weights = [p.name for p in PARAMS if p.axis == "weights"]
    assert len(weights) == 5
    accordion = next(x for x in _widgets_under(ui.root) if isinstance(x, app.w.Accordion))
    hidden = _widgets_under(accordion)
    for name in weights:
        assert ui.controls[name] not in hidden  # shown with the other inputs, not tucked away
    assert "How much each axis counts" in "".join(x.value for x in _widgets_under(ui.root) if isinstance(x, app.w.HTML))
    # ship fast with a team of one: the checklist keeps the closed API, until cost counts five times as much
    ui.preset.value = "ship_fast"
    ui.controls["cached_input_share"].value = 0.9
    ui.controls["team_fte"].value = 1.0
    before = state.result["choice"]
    ui.controls["weight_cost"].value = 5.0
    assert before == "closed_api" and state.result["choice"] != before


def test_all_weights_zero_is_a_message_and_keeps_the_answer(built):
    ui, state = built
    before = state.result
    for p in PARAMS:
        if p.axis == "weights":
            ui.controls[p.name].value = 0.0
    assert state.result["choice"] == before["choice"]
    assert "weight_cost" in ui.status.value and "at least one" in ui.status.value


def test_data_that_may_not_leave_shows_what_is_not_allowed(built):
    ui, state = built
    ui.controls["sensitivity"].value = "regulated"
    assert state.result["choice"] == "self_hosted_open"
    assert "closed API not allowed" in ui.card.value and "DPA/BAA" in ui.card.value
    ui.controls["vendor_terms"].value = "enterprise_region"
    assert "closed_api" not in state.result["not_allowed"]
