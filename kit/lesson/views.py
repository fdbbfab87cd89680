"""Views for the explorers: a scenario in, the engine's answer as HTML out (one per decision axis)."""

from __future__ import annotations

import html

from kit import charts, report
from kit.catalog import load_catalog
from kit.cost import (
    break_even,
    volume_sweep,
)
from kit.fmt import driver_sentence, money, time_sentence
from kit.lesson.axes_lesson import duties_html, launch_html, reach_html
from kit.lesson.figures import HTML, _inline, _page, _row
from kit.lesson.parity_lesson import options_table, parity_panel
from kit.params import (
    AXIS_LABELS,
    OPTION_LABELS,
    OPTIONS,
    Scenario,
)
from kit.recommend import checklist, decision_map, recommend, vary
from kit.results import Recommendation
from kit.style import COLORS, MUTED, TRACK
from kit.uncertainty import assess

e = html.escape


def _quick(s: Scenario) -> Recommendation:
    return recommend(s, with_flips=False, with_sweep=False)


def axis_note(result: Recommendation, axis: str) -> str:
    """Return one axis's lean as a small gauge with the engine's sentence."""
    a = result["axes"][axis]
    lean = a["lean"]
    side = "leans open" if lean > 0.05 else ("leans closed" if lean < -0.05 else "neutral")
    left = 50 + min(lean, 0) * 50
    width = abs(lean) * 50
    colour = COLORS["self_hosted_open"] if lean > 0 else COLORS["closed_api"]
    return (
        f'<div class="kit-panel" style="margin:4px 0 10px 0"><b>{e(AXIS_LABELS[axis])}</b>: {side} '
        f"({lean:+.2f} on a scale from -1 closed to +1 open)"
        f'<div style="position:relative;height:8px;background:{TRACK};border-radius:4px;margin:6px 0;max-width:420px">'
        f'<span style="position:absolute;left:{left:.1f}%;width:{width:.1f}%;height:100%;background:{colour};'
        f'border-radius:4px"></span><span style="position:absolute;left:50%;width:1px;height:100%;'
        f'background:{MUTED}"></span></div><div>{e(a["why"])}</div></div>'
    )


def cost_view(s: Scenario) -> str:
    """Cost axis: the lean; each option's monthly cost, or why this data may not use it; who runs a self-hosted
    fleet and what their time costs; monthly cost by option; cost against volume."""
    cat = load_catalog()
    sweep = volume_sweep(s, cat=cat)
    r = _quick(s)
    return _page(
        axis_note(r, "cost"),
        _row(_cost_options(s, r), _cost_staff(s, r)),
        _row(
            _inline(charts.cost_chart(r["breakdown"], r["choice"]), "cv-cost"),
            _inline(charts.volume_chart(sweep, break_even(s, cat, sweep), s["monthly_requests"]), "cv-volume"),
        ),
    )


def _cost_options(s: Scenario, r: Recommendation) -> str:
    """Each option's monthly cost for ``s``, or 'not allowed' with the reason its data sensitivity gives (each
    distinct reason once, numbered)."""
    reasons = list(dict.fromkeys(r["not_allowed"].values()))
    cells = "".join(
        f"<tr><td>{e(OPTION_LABELS[o])}</td><td style='text-align:right;padding-left:10px'>"
        + (
            f"<b>{money(r['costs'][o])}</b>"
            if o not in r["not_allowed"]
            else f"<span class='muted'>not allowed ({reasons.index(r['not_allowed'][o]) + 1})</span>"
        )
        + "</td></tr>"
        for o in OPTIONS
    )
    notes = "".join(f"<li>{e(x)}</li>" for x in reasons)
    return (
        f'<div class="kit-panel" style="max-width:560px"><b>Per month, for {e(s["sensitivity"])} data</b> '
        f"(engine's pick: {e(r['choice_label'])})"
        f'<table style="border-collapse:collapse;font-size:12.5px;margin-top:4px">{cells}</table>'
        + (f'<ol class="muted" style="margin:4px 0 0 0;padding-left:18px">{notes}</ol>' if notes else "")
        + "</div>"
    )


def _cost_staff(s: Scenario, r: Recommendation) -> str:
    """The self-hosted fleet's staff: the FTE it needs, their monthly cost in its bill, and the team you have."""
    sh = r["self_hosted"]
    need, have = sh["ops_fte"], s["team_fte"]
    staff = r["breakdown"]["self_hosted_open"].get("ops_staff")
    gap = (
        f"You have <b>{have:g}</b> FTE: enough to run it."
        if have >= need
        else f"You have <b>{have:g}</b> FTE: about {need - have:.1f} FTE short, so the engine will not pick "
        "self-hosting unless the data forces it (the bill already pays for the people the fleet needs, hired "
        "or yours)."
    )
    return (
        f'<div class="kit-panel" style="max-width:420px"><b>Who runs a self-hosted fleet</b><div>'
        f"{sh['gpus']} x {e(sh['gpu'])} ({sh['gpus_per_replica']} per replica) needs about "
        f"<b>{need:.2f} FTE</b> of operations, {money(staff)}/month in its bill at "
        f"{money(s['fte_annual_cost_usd'])} a year each. {gap}</div></div>"
    )


def control_view(s: Scenario) -> str:
    """Control axis: the lean, which options the data may reach with the cost of the allowed ones, the warnings,
    and the answer across volume and sensitivity."""
    r = _quick(s)
    return _page(
        axis_note(r, "control"),
        reach_html(s, r),
        warnings_html(r),
        _inline(charts.map_chart(decision_map(s), s["monthly_requests"], s["sensitivity"]), "ctl-map"),
    )


def security_view(s: Scenario) -> str:
    """Security axis: the lean, who owns which governance duty under the recommended option and whether the team
    can carry it, and how the lean moves with the team for this sensitivity."""
    r = _quick(s)
    table = vary(s, "team_fte", [0, 0.5, 1, 1.5, 2, 3, 5, 8])
    return _page(
        axis_note(r, "security"),
        staffing(s, r),
        duties_html(s, r),
        _inline(
            charts.lean_chart(
                table, "team_fte", ["security"], f"Security lean by team size, for {s['sensitivity']} data"
            ),
            "sec-team",
        ),
    )


def staffing(s: Scenario, result: Recommendation | None = None) -> str:
    """Return who could run a self-hosted fleet for ``s``: its size, the engineers it needs, the team you have."""
    r = result or _quick(s)
    sh = r["self_hosted"]
    can = s["team_fte"] >= sh["ops_fte"]
    if can:
        verdict = "enough."
    elif r["choice"] == "self_hosted_open":
        verdict = (
            "not enough, and the engine picks self-hosting anyway because the data may not leave: hire or contract."
        )
    else:
        verdict = "not enough, so the engine will not pick self-hosting unless residency forces it."
    return (
        f'<div class="kit-panel" style="margin-bottom:10px">A self-hosted fleet for '
        f"{s['monthly_requests']:,} requests a month is {sh['gpus']} x {e(sh['gpu'])} and needs about "
        f"<b>{sh['ops_fte']:.1f} FTE</b> to run; you have <b>{s['team_fte']:g}</b> - {verdict}</div>"
    )


def ecosystem_view(s: Scenario) -> str:
    """Ecosystem axis: the lean, who could run a self-hosted fleet, what the recommended option needs before launch
    and how long that takes with the team, and the lean across launch dates."""
    r = _quick(s)
    table = vary(s, "weeks_to_launch", [2, 4, 6, 8, 12, 16, 26, 52])
    return _page(
        axis_note(r, "ecosystem"),
        staffing(s, r),
        launch_html(s, r),
        _inline(
            charts.lean_chart(table, "weeks_to_launch", ["ecosystem"], "Ecosystem lean by weeks to launch"), "eco-weeks"
        ),
    )


def parity_view(s: Scenario) -> str:
    """Parity axis: the lean; the recommendation with the quality it delivers against the need, the options
    the data allows and who could run a fleet; each option's cost and quality; the five leans."""
    r = _quick(s)
    table = options_table(s, r)
    return _page(
        axis_note(r, "parity"),
        parity_panel(s, r),
        table.to_html(classes="kit-table", border=0, escape=True),
        _inline(charts.axes_chart(r["axes"]), "par-axes"),
    )


def decision_view(s: Scenario) -> str:
    """The whole decision: checklist, recommendation card (with how sure it is), what would flip it, axes and
    costs."""
    r = assess(recommend(s, with_sweep=False), s)
    return _page(
        checklist_html(s),
        _row(
            f'<div class="kit-panel" style="max-width:460px">{report.card_html(r)}{report.flips_html(r["flip"])}</div>',
            _inline(charts.axes_chart(r["axes"]), "dec-axes"),
        ),
        _inline(charts.cost_chart(r["breakdown"], r["choice"]), "dec-cost"),
    )


def warnings_html(r: Recommendation) -> str:
    """Return the recommendation's warnings as a list (empty string when there are none)."""
    if not r["warnings"]:
        return ""
    return '<ul class="kit-warnings">' + "".join(f"<li>{e(x)}</li>" for x in r["warnings"]) + "</ul>"


def checklist_html(s: Scenario) -> str:
    """Return seed 000's checklist walked for ``s``: each question, answer and evidence, and where it stops."""
    marks = {"decides": "&#10004; decides", "no": "no", "not reached": "not reached"}
    rows = "".join(
        f'<tr style="{"font-weight:bold;background:#eef6ee" if c["status"] == "decides" else ""}'
        f'{"color:#999" if c["status"] == "not reached" else ""}"><td>{c["step"]}</td><td>{e(c["question"])}</td>'
        f'<td>{e(c["answer"])}</td><td>{marks[c["status"]]}</td><td class="muted">{e(c["evidence"])}</td></tr>'
        for c in checklist(s)
    )
    return (
        '<div class="kit-panel" style="margin-bottom:10px"><b>The checklist, in order (stop at the first yes)</b>'
        '<table style="border-collapse:collapse;font-size:12.5px;margin-top:4px"><tr><th>#</th><th>question</th>'
        f"<th>answer</th><th>result</th><th>evidence</th></tr>{rows}</table></div>"
    )


def tornado(sure: dict) -> HTML:
    """What the answer hangs on (a ``how_sure`` block): the tornado chart and the top drivers in sentences."""
    items = "".join(f"<li>{e(driver_sentence(d))}.</li>" for d in sure["drivers"])
    return HTML(
        _page(
            _inline(charts.tornado_chart(sure["tornado"]), "sure-tornado"),
            f'<ol class="kit-reasons">{items}</ol>' if items else "",
        )
    )


def time_view(sure: dict) -> HTML:
    """The three-year view (a ``how_sure`` block): cumulative cost per option and when self-hosting pays back."""
    return HTML(_page(_inline(charts.time_chart(sure["time"]), "sure-time"), f"<p>{e(time_sentence(sure))}</p>"))
