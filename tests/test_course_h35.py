"""Lessons of notebooks 03-05 (kit.lesson.axes_lesson): where the data may go, who owns which duty, what launch
takes. Each is checked against the engine it presents."""

from __future__ import annotations

import pytest

from kit import lesson, recommend
from kit.catalog import load_catalog
from kit.lesson import axes_lesson
from kit.params import OPTION_LABELS, OPTIONS, Scenario


@pytest.fixture(scope="module")
def base() -> Scenario:
    return Scenario.make()


def test_reach_table_shows_allowed_options_with_the_engines_costs(base):
    r = recommend.recommend(base, with_sweep=False)
    t = lesson.reach_table(base, r)
    assert list(t.index) == [OPTION_LABELS[o] for o in OPTIONS]
    assert (t["may the data go there?"] == "yes").all()
    assert t.loc[OPTION_LABELS[r["choice"]], "recommended"] == "<- this one"
    assert t.loc[OPTION_LABELS["closed_api"], "monthly cost"] == f"${r['costs']['closed_api']:,.0f}"


def test_reach_table_refuses_outside_options_for_data_that_may_not_leave(base):
    t = lesson.reach_table(base.replace(sensitivity="regulated"))
    outside = [OPTION_LABELS[o] for o in ("closed_api", "hosted_open", "hybrid")]
    assert (t.loc[outside, "monthly cost"] == "not allowed").all()
    assert t.loc[outside[0], "may the data go there?"].startswith("no - Regulated data")
    assert t.loc[outside[1], "may the data go there?"] == "no - the same rule"
    assert t.loc[OPTION_LABELS["self_hosted_open"], "recommended"] == "<- this one"
    opened = lesson.reach_table(base.replace(sensitivity="regulated", vendor_terms="enterprise_region"))
    assert (opened["may the data go there?"] == "yes").all()


def test_duties_table_has_an_owner_for_every_option_and_a_source():
    t = lesson.duties_table()
    assert len(t) == len(axes_lesson.DUTIES) >= 6
    assert t.notna().all().all() and (t["source"].str.contains("seed 00")).all()
    # self-hosting leaves more to you than a closed API, and the hybrid the union of its tiers
    mine = {o: set(lesson.duties_on_you(o)) for o in ("closed_api", "hosted_open", "self_hosted_open", "hybrid")}
    assert not mine["closed_api"] and mine["hosted_open"] < mine["self_hosted_open"]
    assert mine["hybrid"] == mine["self_hosted_open"]


def test_duties_html_marks_the_recommended_tiers_and_counts_the_teams_duties(base):
    forced = base.replace(sensitivity="on_prem_only", team_fte=0)
    page = axes_lesson.duties_html(forced)
    assert "Self-hosted open-weight (own GPUs) (recommended)" in page
    assert f"{len(lesson.duties_on_you('self_hosted_open'))} duties fall on your team, and you have no one" in page
    closed = axes_lesson.duties_html(base.replace(sensitivity="public", team_fte=0, monthly_requests=1000))
    assert "Closed API (recommended)" in closed and "no duty falls mainly on your team" in closed


def test_launch_plan_counts_the_assumptions_and_divides_by_the_team(base):
    a = load_catalog().a
    forced = base.replace(sensitivity="on_prem_only", needs_finetuning=True, team_fte=2, weeks_to_launch=2)
    t = lesson.launch_plan(forced)
    total = a("setup_weeks") + a("finetune_setup_weeks")
    assert t.loc["Total, and the calendar", "engineer-weeks"] == f"{total:g}"
    assert f"about {total / 2:.1f} weeks with 2 FTE - does not fit a launch in 2 weeks" in t.iloc[-1]["source"]
    nobody = lesson.launch_plan(forced.replace(team_fte=0))
    assert nobody.iloc[-1]["source"].startswith("no one to build it")
    closed = lesson.launch_plan(base.replace(sensitivity="public", monthly_requests=1000))
    assert closed.iloc[-1]["source"] == "nothing to build before launch"


@pytest.mark.parametrize("view", [lesson.control_view, lesson.security_view, lesson.ecosystem_view])
def test_axis_views_redraw_with_volume_sensitivity_and_team(base, view):
    a = view(base)
    b = view(base.replace(sensitivity="on_prem_only", team_fte=0, monthly_requests=100_000_000))
    assert "<svg" in a and a != b


def test_staffing_says_when_residency_forces_a_fleet_the_team_cannot_run(base):
    text = lesson.staffing(base.replace(sensitivity="on_prem_only", team_fte=0))
    assert "picks self-hosting anyway" in text and "1,000,000 requests a month" in text
