"""Charts (Altair) of engine results, and their offline SVG rendering. No costs are computed here."""

from __future__ import annotations

import functools
import json
import os
import re
import textwrap
from pathlib import Path
from typing import Any

import altair as alt  # kit/__init__.py keeps jsonschema's slow IRI backend out of this import
import numpy as np
import pandas as pd
import vl_convert as vlc

from kit.params import AXIS_LABELS, OPTION_LABELS, OPTIONS, SENSITIVITY_LEVELS
from kit.paths import cache_dir
from kit.style import COLORS, INK, MUTED, RANGE_HIGH, RANGE_LOW

SHORT = {
    "closed_api": "Closed API",
    "hosted_open": "Hosted open",
    "self_hosted_open": "Self-hosted open",
    "hybrid": "Hybrid router",
}
FONT = "Helvetica, Arial, sans-serif"
_OPTION_SCALE = alt.Scale(domain=[SHORT[o] for o in OPTIONS], range=[COLORS[o] for o in OPTIONS])


def _theme(chart: alt.Chart, width: int, height: int, title: str) -> alt.Chart:
    return chart.properties(width=width, height=height, title=alt.Title(title, anchor="start", fontSize=14))


CONFIG = {
    "font": FONT,
    "background": "white",
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "gridColor": "#eee"},
    "view": {"strokeWidth": 0},
    "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom", "columns": 4},
}


def style(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Apply the kit's look to a top-level chart (single, layered or concatenated), in one copy."""
    return chart.configure(**CONFIG)


def side_by_side(*parts: alt.TopLevelMixin) -> dict:
    """Return the Vega-Lite spec of charts in one row, styled, with independent colour scales.

    Assembled from each chart's own spec: Altair's hconcat deep-copies every subchart, which costs
    tens of milliseconds on every slider move.
    """
    specs, datasets = [], {}
    for part in parts:
        spec = part.to_dict(validate=False)
        datasets.update(spec.pop("datasets", {}))
        schema = spec.pop("$schema", None)
        spec.pop("config", None)
        specs.append(spec)
    return {
        "$schema": schema,
        "config": CONFIG,
        "hconcat": specs,
        "spacing": 40,
        "resolve": {"scale": {"color": "independent"}},
        "datasets": datasets,
    }


def axes_chart(axes: dict[str, dict], width: int = 420, height: int = 170) -> alt.Chart:
    """Draw the five axis leans as bars from -1 (closed) to +1 (open)."""
    df = pd.DataFrame(
        [
            {"axis": AXIS_LABELS[k], "lean": v["lean"], "side": "leans open" if v["lean"] > 0 else "leans closed"}
            for k, v in axes.items()
        ]
    )
    order = list(df.axis)
    base = alt.Chart(df).encode(y=alt.Y("axis:N", sort=order, title=None, axis=alt.Axis(labelLimit=200)))
    bars = base.mark_bar(cornerRadius=2, height=16).encode(
        x=alt.X(
            "lean:Q",
            scale=alt.Scale(domain=[-1, 1]),
            title="← closed      lean      open →",
            axis=alt.Axis(values=[-1, -0.5, 0, 0.5, 1], format="+.1f"),
        ),
        color=alt.Color(
            "side:N",
            scale=alt.Scale(
                domain=["leans closed", "leans open"], range=[COLORS["closed_api"], COLORS["self_hosted_open"]]
            ),
            legend=None,
        ),
    )
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#555").encode(x="x:Q")
    labels = (
        base.mark_text(dx=0, align="center", baseline="middle", color="white", fontWeight="bold", fontSize=10)
        .encode(x=alt.X("mid:Q"), text=alt.Text("lean:Q", format="+.2f"))
        .transform_calculate(mid="datum.lean / 2")
        .transform_filter("abs(datum.lean) >= 0.2")
    )
    return _theme(alt.layer(bars, zero, labels), width, height, "The five axes: which way each one leans")


def cost_chart(breakdown: dict[str, dict], choice: str, width: int = 420, height: int = 170) -> alt.Chart:
    """Draw each option's monthly cost as a bar stacked by cost line; the recommended one marked."""
    rows = []
    for option in OPTIONS:
        for line, value in breakdown[option].items():
            if value:
                rows.append(
                    {
                        "option": SHORT[option] + (" ✓" if option == choice else ""),
                        "line": line.replace("_", " "),
                        "usd": value,
                    }
                )
    # an option the data may not use has no cost lines (an empty breakdown): it is labelled, not drawn
    barred = [o for o in OPTIONS if not any(breakdown[o].values())]
    df = pd.DataFrame(rows, columns=["option", "line", "usd"])
    order = [SHORT[o] + (" (not allowed)" if o in barred else " ✓" if o == choice else "") for o in OPTIONS]
    totals = df.groupby("option", as_index=False).usd.sum()
    bars = (
        alt.Chart(df)
        .mark_bar(height=18)
        .encode(
            y=alt.Y("option:N", sort=order, scale=alt.Scale(domain=order), title=None, axis=alt.Axis(labelLimit=200)),
            x=alt.X("sum(usd):Q", title="USD per month", axis=alt.Axis(format="$~s")),
            color=alt.Color("line:N", title=None, scale=alt.Scale(scheme="tableau20")),
            order=alt.Order("line:N"),
            tooltip=["option", "line", alt.Tooltip("usd:Q", format="$,.0f")],
        )
    )
    text = (
        alt.Chart(totals)
        .mark_text(align="left", dx=4, fontSize=11)
        .encode(
            y=alt.Y("option:N", sort=order, scale=alt.Scale(domain=order)),
            x="usd:Q",
            text=alt.Text("usd:Q", format="$,.0f"),
        )
    )
    return _theme(alt.layer(bars, text), width, height, "Monthly cost by option")


def volume_chart(
    sweep: pd.DataFrame, break_even: list[dict], volume: float, width: int = 420, height: int = 230
) -> alt.Chart:
    """Draw cost against monthly volume (log-log) with break-even points and the current volume."""
    long = sweep.melt(id_vars="monthly_requests", value_vars=list(OPTIONS), var_name="option", value_name="usd")
    long = long[long.usd >= 1].assign(option=lambda d: d.option.map(SHORT))
    lo, hi = float(sweep.monthly_requests.min()), float(sweep.monthly_requests.max())
    x_ticks = [10.0**k for k in range(int(np.ceil(np.log10(lo))), int(np.floor(np.log10(hi))) + 1)]
    top = float(long.usd.max()) if len(long) else 10.0
    y_ticks = [10.0**k for k in range(0, int(np.ceil(np.log10(top))) + 1)]
    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=2, interpolate="step-after", clip=True)
        .encode(
            x=alt.X(
                "monthly_requests:Q",
                scale=alt.Scale(type="log", domain=[lo, hi], nice=False),
                title="Requests per month",
                axis=alt.Axis(format="~s", values=x_ticks),
            ),
            y=alt.Y(
                "usd:Q",
                scale=alt.Scale(type="log", domain=[1, y_ticks[-1]], nice=False),
                title="USD per month",
                axis=alt.Axis(format="$~s", values=y_ticks),
            ),
            color=alt.Color("option:N", scale=_OPTION_SCALE, title=None),
        )
    )
    now = alt.Chart(pd.DataFrame({"v": [volume], "label": ["you are here"]}))
    rule = now.mark_rule(color="#222", strokeDash=[4, 3]).encode(x="v:Q")
    label = now.mark_text(align="left", dx=4, dy=-4, fontSize=10, color="#222").encode(
        x="v:Q", y=alt.value(8), text="label:N"
    )
    layers = [lines, rule, label]
    points = []
    for b in break_even:
        v = b["monthly_requests"]
        i = int(np.argmin(np.abs(np.log(sweep.monthly_requests.to_numpy(float)) - np.log(v))))
        points.append({"v": v, "usd": float(sweep[b["a"]].iloc[i]), "pair": f"{SHORT[b['a']]} = {SHORT[b['b']]}"})
    if points:
        layers.append(
            alt.Chart(pd.DataFrame(points))
            .mark_point(shape="diamond", size=70, filled=True, color="#222")
            .encode(x="v:Q", y="usd:Q", tooltip=["pair", alt.Tooltip("v:Q", format=",.0f", title="requests/month")])
        )
    return _theme(alt.layer(*layers), width, height, "Cost against volume (◆ break-even points)")


def map_chart(grid: pd.DataFrame, volume: float, sensitivity: str, width: int = 420, height: int = 170) -> alt.Chart:
    """Draw the recommended option over volume x sensitivity, with the current scenario marked."""
    vols = np.sort(grid.monthly_requests.unique()).astype(float)
    edges = np.sqrt(vols[:-1] * vols[1:])
    lo = np.concatenate([[vols[0] ** 1.5 / edges[0] ** 0.5], edges])
    hi = np.concatenate([edges, [vols[-1] ** 1.5 / edges[-1] ** 0.5]])
    bounds = pd.DataFrame({"monthly_requests": vols, "v0": lo, "v1": hi})
    df = grid.merge(bounds, on="monthly_requests").assign(option=lambda d: d.choice.map(SHORT))
    x_ticks = [10.0**k for k in range(int(np.ceil(np.log10(vols[0]))), int(np.floor(np.log10(vols[-1]))) + 1)]
    cells = (
        alt.Chart(df)
        .mark_rect(strokeWidth=0.6)
        .encode(
            x=alt.X(
                "v0:Q",
                scale=alt.Scale(type="log", domain=[float(lo[0]), float(hi[-1])], nice=False),
                title="Requests per month",
                axis=alt.Axis(format="~s", values=x_ticks),
            ),
            x2="v1:Q",
            y=alt.Y("sensitivity:N", sort=list(SENSITIVITY_LEVELS), title=None),
            color=alt.Color(
                "option:N",
                scale=_OPTION_SCALE,
                legend=alt.Legend(title="Recommended:", orient="bottom", direction="horizontal", symbolType="square"),
            ),
            stroke=alt.Color("option:N", scale=_OPTION_SCALE, legend=None),
            tooltip=["sensitivity", "option", alt.Tooltip("monthly_requests:Q", format=",.0f", title="requests/month")],
        )
    )
    here = (
        alt.Chart(pd.DataFrame({"v": [volume], "sensitivity": [sensitivity]}))
        .mark_point(shape="circle", size=120, filled=True, color="white", stroke="#111", strokeWidth=2)
        .encode(x="v:Q", y=alt.Y("sensitivity:N", sort=list(SENSITIVITY_LEVELS)))
    )
    return _theme(
        alt.layer(cells, here), width, height, "Decision map: the answer across volume and sensitivity (○ = you)"
    )


def staircase_chart(
    sweep: pd.DataFrame, volume: float, max_gpus: int = 40, width: int = 420, height: int = 200
) -> alt.Chart:
    """Draw the self-hosted fleet against volume up to ``max_gpus``: whole GPUs (a staircase) and how busy."""
    df = sweep[["monthly_requests", "self_gpus", "self_utilisation"]].rename(
        columns={"self_gpus": "gpus", "self_utilisation": "utilisation"}
    )
    df = df[(df.gpus <= max_gpus) & (df.monthly_requests >= 1e4)]
    lo, hi = float(df.monthly_requests.min()), float(df.monthly_requests.max())
    x = alt.X(
        "monthly_requests:Q",
        scale=alt.Scale(type="log", domain=[lo, hi], nice=False),
        title="Requests per month",
        axis=alt.Axis(format="~s"),
    )
    gpus = (
        alt.Chart(df)
        .mark_line(interpolate="step-after", strokeWidth=2, color=COLORS["self_hosted_open"])
        .encode(
            x=x,
            y=alt.Y(
                "gpus:Q",
                title="GPUs (whole)",
                scale=alt.Scale(domainMin=0),
                axis=alt.Axis(titleColor=COLORS["self_hosted_open"]),
            ),
        )
    )
    util = (
        alt.Chart(df)
        .mark_line(strokeDash=[3, 2], color="#888")
        .encode(
            x=x,
            y=alt.Y(
                "utilisation:Q",
                title="average utilisation",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%", titleColor="#888"),
            ),
        )
    )
    rule = alt.Chart(pd.DataFrame({"v": [volume]})).mark_rule(color="#222", strokeDash=[4, 3]).encode(x="v:Q")
    return _theme(
        alt.layer(gpus, util, rule).resolve_scale(y="independent"),
        width,
        height,
        "Self-hosting buys whole GPUs: the staircase, and how busy they are",
    )


def lean_chart(
    table: pd.DataFrame, name: str, axes: list[str] | None = None, title: str = "", width: int = 420, height: int = 190
) -> alt.Chart:
    """Draw how axis leans move as one input varies (a table from ``recommend.vary``)."""
    axes = axes or [a for a in AXIS_LABELS]
    long = table[[name] + [f"lean_{a}" for a in axes]].melt(id_vars=name, var_name="axis", value_name="lean")
    long["axis"] = long.axis.str[5:].map(AXIS_LABELS)
    numeric = pd.api.types.is_numeric_dtype(table[name]) and not pd.api.types.is_bool_dtype(table[name])
    if not numeric:
        long[name] = long[name].astype(str)
    x = (
        alt.X(f"{name}:Q", title=name.replace("_", " "))
        if numeric
        else alt.X(
            f"{name}:N", sort=[str(v) for v in table[name]], title=name.replace("_", " "), axis=alt.Axis(labelAngle=0)
        )
    )
    y = alt.Y(
        "lean:Q",
        scale=alt.Scale(domain=[-1, 1]),
        title="← closed   lean   open →",
        axis=alt.Axis(values=[-1, -0.5, 0, 0.5, 1], format="+.1f"),
    )
    color = alt.Color("axis:N", title=None, sort=[AXIS_LABELS[a] for a in axes])
    mark = (
        alt.Chart(long).mark_line(point=True, strokeWidth=2)
        if numeric or len(axes) > 1
        else alt.Chart(long).mark_bar(width=28)
    )
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#555").encode(y="y:Q")
    return _theme(
        alt.layer(mark.encode(x=x, y=y, color=color), zero),
        width,
        height,
        title or f"How the leans move with {name.replace('_', ' ')}",
    )


def licence_chart(models: pd.DataFrame, width: int = 420, height: int = 150) -> alt.Chart:
    """Draw the open models of the catalog by licence class, split by openness."""
    df = models.groupby(["licence_class", "openness"], as_index=False).size()
    return _theme(
        alt.Chart(df)
        .mark_bar(height=22)
        .encode(
            y=alt.Y("licence_class:N", title=None, sort=["permissive", "community_limits", "custom_terms"]),
            x=alt.X("size:Q", title="models in data/open_models.csv", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "openness:N",
                title=None,
                scale=alt.Scale(
                    domain=["fully_open", "open_weights"], range=[COLORS["self_hosted_open"], COLORS["hosted_open"]]
                ),
            ),
            tooltip=["licence_class", "openness", "size"],
        ),
        width,
        height,
        "Open models by licence and openness",
    )


def accuracy_chart(rows: pd.DataFrame, baseline: float, width: int = 420, height: int = 160) -> alt.Chart:
    """Draw accuracy with its 95% interval per backend and scoring mode, against the majority baseline.

    ``rows``: columns backend, mode, accuracy, ci95_low, ci95_high (as from ``EvalResult.summary()``).
    """
    df = rows.assign(who=rows.backend + " · " + rows["mode"])
    x = alt.X("accuracy:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title="accuracy (95% interval)")
    y = alt.Y("who:N", title=None, sort=list(df.who), axis=alt.Axis(labelLimit=260))
    bars = alt.Chart(df).mark_rule(strokeWidth=2, color="#888").encode(y=y, x=alt.X("ci95_low:Q"), x2="ci95_high:Q")
    dots = (
        alt.Chart(df)
        .mark_point(filled=True, size=70, color=COLORS["self_hosted_open"])
        .encode(y=y, x=x, tooltip=["who", alt.Tooltip("accuracy:Q", format=".0%")])
    )
    base = alt.Chart(pd.DataFrame({"b": [baseline], "label": [f"always the majority label: {baseline:.0%}"]}))
    rule = base.mark_rule(color=COLORS["closed_api"], strokeDash=[4, 3]).encode(x="b:Q")
    text = base.mark_text(align="left", dx=4, dy=-6, fontSize=10, color=COLORS["closed_api"]).encode(
        x="b:Q", y=alt.value(0), text="label:N"
    )
    return _theme(alt.layer(bars, dots, rule, text), width, height, "Accuracy on the ticket-routing task")


def frontier_chart(
    frontier: pd.DataFrame,
    current: dict[str, float],
    references: dict[str, tuple[float, float]],
    width: int = 420,
    height: int = 220,
) -> alt.Chart:
    """Draw the router's cost-quality frontier as the difficulty threshold moves, with single tiers and the
    current policy marked. ``references``: label -> (monthly USD, quality) for all-closed, all-open, ..."""
    line = (
        alt.Chart(frontier)
        .mark_line(point=True, color=COLORS["hybrid"])
        .encode(
            x=alt.X("monthly_usd:Q", title="USD per month", axis=alt.Axis(format="$~s"), scale=alt.Scale(zero=False)),
            y=alt.Y("quality:Q", title="quality vs all-closed", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
            tooltip=[
                alt.Tooltip("threshold:Q", format=".2f"),
                alt.Tooltip("monthly_usd:Q", format="$,.0f"),
                alt.Tooltip("quality:Q", format=".1%"),
            ],
        )
    )
    refs = pd.DataFrame(
        [{"label": k, "monthly_usd": v[0], "quality": v[1]} for k, v in references.items() if v[0] == v[0]]
    )
    ref_pts = (
        alt.Chart(refs)
        .mark_point(shape="square", size=60, filled=True, color="#444")
        .encode(x="monthly_usd:Q", y="quality:Q")
    )
    ref_txt = (
        alt.Chart(refs)
        .mark_text(align="left", dx=6, dy=-6, fontSize=10, color="#444")
        .encode(x="monthly_usd:Q", y="quality:Q", text="label:N")
    )
    here = pd.DataFrame(
        [{"monthly_usd": current["monthly_usd"], "quality": current["quality"], "label": "this policy"}]
    )
    here_pt = (
        alt.Chart(here)
        .mark_point(shape="diamond", size=140, filled=True, color="#111")
        .encode(x="monthly_usd:Q", y="quality:Q")
    )
    here_txt = (
        alt.Chart(here)
        .mark_text(align="right", dx=-8, dy=8, fontSize=10, fontWeight="bold")
        .encode(x="monthly_usd:Q", y="quality:Q", text="label:N")
    )
    return _theme(
        alt.layer(line, ref_pts, ref_txt, here_pt, here_txt),
        width,
        height,
        "Cost against quality as the routing threshold moves",
    )


def shares_chart(shares: dict[str, float], width: int = 420, height: int = 70) -> alt.Chart:
    """Draw the share of requests each tier answers first, as one stacked bar."""
    df = pd.DataFrame([{"tier": SHORT[t], "share": v} for t, v in shares.items()])
    return _theme(
        alt.Chart(df)
        .mark_bar(height=26)
        .encode(
            x=alt.X(
                "sum(share):Q", axis=alt.Axis(format="%"), title="share of requests", scale=alt.Scale(domain=[0, 1])
            ),
            color=alt.Color("tier:N", scale=_OPTION_SCALE, title=None),
            order=alt.Order("tier:N"),
            tooltip=["tier", alt.Tooltip("share:Q", format=".1%")],
        ),
        width,
        height,
        "Where the requests go",
    )


TORNADO_ENDS = ("input at its low", "input at its high")


def _note(text: str, width: int, height: int, title: str) -> alt.Chart:
    """A chart that only says something (nothing to draw), styled like the others."""
    lines = textwrap.wrap(text, max(20, width // 7))
    note = (
        alt.Chart(pd.DataFrame({"text": [lines]}))
        .mark_text(align="left", baseline="top", fontSize=12, color=MUTED, lineHeight=16)
        .encode(x=alt.value(0), y=alt.value(8), text="text:N")
    )
    return _theme(note, width, height, title)


def tornado_chart(table: pd.DataFrame, width: int = 420, height: int | None = None) -> alt.Chart:
    """Draw what the answer hangs on (a table from ``uncertainty.tornado``): one bar per input that moves the cost
    gap between the two cheapest options, from the gap with the input at its low to the gap at its high, around
    the likely gap (a rule); ranked top to bottom by swing, with a rule at 0 where a range reverses the two.

    Inputs that do not move the gap are left out; with none left (or an empty table: fewer than two options
    allowed) the chart is one sentence saying there is nothing to rank."""
    title = "What the answer hangs on (each range alone)"
    rows = table[table.swing > 0].sort_values("swing", ascending=False, kind="stable") if len(table) else table
    if not len(rows):
        why = (
            "Nothing to rank: fewer than two options are allowed."
            if not len(table)
            else f"Nothing to rank: no range moves the cost gap between {OPTION_LABELS[table['first'].iloc[0]]} "
            f"and {OPTION_LABELS[table['second'].iloc[0]]}."
        )
        return _note(why, width, height or 50, title)
    first, second = rows["first"].iloc[0], rows["second"].iloc[0]
    names = [f"{r.label} ({r.low:g} to {r.high:g})" for r in rows.itertuples()]
    gap = float(rows.gap.iloc[0])
    long = pd.DataFrame(
        [
            {
                "input": name,
                "end": end,
                "gap": gap,
                "at_end": float(value),
                "range": f"{r.low:g} to {r.high:g}",
                "likely": r.likely,
                "unit": r.unit,
                "flips": bool(r.flips),
            }  # fmt: skip
            for name, r in zip(names, rows.itertuples())
            for end, value in zip(TORNADO_ENDS, (r.gap_low, r.gap_high))
        ]
    )
    y = alt.Y("input:N", sort=names, scale=alt.Scale(domain=names), title=None, axis=alt.Axis(labelLimit=230))
    bars = (
        alt.Chart(long)
        .mark_bar(height=14)
        .encode(
            y=y,
            x=alt.X("gap:Q", title=f"USD/month: {SHORT[second]} minus {SHORT[first]}", axis=alt.Axis(format="$~s")),
            x2="at_end:Q",
            color=alt.Color(
                "end:N", title=None, scale=alt.Scale(domain=list(TORNADO_ENDS), range=[RANGE_LOW, RANGE_HIGH])
            ),
            tooltip=[
                "input",
                "end",
                alt.Tooltip("at_end:Q", format="$,.0f", title="gap at this end"),
                alt.Tooltip("gap:Q", format="$,.0f", title="likely gap"),
                "unit",
            ],
        )
    )
    likely = alt.Chart(pd.DataFrame({"x": [gap]})).mark_rule(color=INK, strokeWidth=1.5).encode(x="x:Q")
    layers = [bars, likely]
    if float(np.fmin(rows.gap_low, rows.gap_high).min()) < 0 < float(np.fmax(rows.gap_low, rows.gap_high).max()):
        zero = alt.Chart(pd.DataFrame({"x": [0.0], "label": ["0: the order of the two options reverses"]}))
        layers += [
            zero.mark_rule(color=COLORS["hybrid"], strokeDash=[4, 3]).encode(x="x:Q"),
            zero.mark_text(align="left", dx=4, dy=-4, fontSize=10, color=COLORS["hybrid"]).encode(
                x="x:Q", y=alt.value(0), text="label:N"
            ),
        ]
    return _theme(alt.layer(*layers), width, height or 24 * len(names) + 20, title)


def time_chart(view: pd.DataFrame, width: int = 420, height: int = 200) -> alt.Chart:
    """Draw each allowed option's cumulative cost month by month (a table from ``uncertainty.over_time``: volume
    growing, prices falling, one-off setup paid up front); options not allowed are left out."""
    years = len(view) / 12
    title = f"Cumulative cost over {years:g} year{'s' if years != 1 else ''} (volume grows, prices fall)"
    shown = [o for o in OPTIONS if f"cum_{o}" in view and np.isfinite(view[f"cum_{o}"].to_numpy(float)).all()]
    if not shown:
        return _note("No option is allowed: nothing to add up.", width, height, title)
    long = view[["month"] + [f"cum_{o}" for o in shown]].melt(id_vars="month", var_name="option", value_name="usd")
    long["option"] = long.option.str[4:].map(OPTION_LABELS)
    labels = [OPTION_LABELS[o] for o in shown]
    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=2)
        .encode(
            x=alt.X(
                "month:Q",
                title="month",
                scale=alt.Scale(domain=[1, int(view.month.max())], nice=False),
                axis=alt.Axis(values=list(range(12, int(view.month.max()) + 1, 12)) or None, format="d"),
            ),
            y=alt.Y("usd:Q", title="cumulative USD", axis=alt.Axis(format="$~s")),
            color=alt.Color(
                "option:N",
                title=None,
                sort=labels,
                scale=alt.Scale(domain=labels, range=[COLORS[o] for o in shown]),
                legend=alt.Legend(columns=1, labelLimit=260),
            ),
            tooltip=["option", "month", alt.Tooltip("usd:Q", format="$,.0f", title="cumulative USD")],
        )
    )
    return _theme(lines, width, height, title)


def svg(chart: alt.Chart, scope: str = "kit") -> str:
    """Render a chart to SVG on the server: no JavaScript, no network, byte-identical across runs.

    ``scope`` prefixes the SVG's internal ids (clip paths, gradients), so several charts can sit
    in one page without one chart's clip path hiding another's lines.
    """
    spec = json.dumps(style(chart).to_dict(validate=False), sort_keys=True)
    return scope_ids(_render_svg(spec), scope)


@functools.lru_cache(maxsize=64)
def _render_svg(spec: str) -> str:
    """Render one Vega-Lite spec (JSON text) to SVG, remembered: the same spec gives the same SVG (deterministic),
    and the app draws the default scenario's charts at pre-heat time and again for each new page."""
    return vlc.vegalite_to_svg(json.loads(spec))


def scope_ids(text: str, scope: str) -> str:
    """Rename every id defined in an SVG, in order of appearance, to ``scope-N`` (and each reference).

    Unique per chart, and the same for the same chart however many were rendered before it.
    """
    ids = list(dict.fromkeys(re.findall(r'\bid="([^"]+)"', text)))
    if not ids:
        return text
    new = {old: f"{scope}-{n}" for n, old in enumerate(ids, 1)}
    pattern = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    text = re.sub(rf'\bid="({pattern})"', lambda m: f'id="{new[m.group(1)]}"', text)
    return re.sub(rf'(url\(#|href="#)({pattern})(?=[)"])', lambda m: f"{m.group(1)}{new[m.group(2)]}", text)


def _bundle_cache() -> Path:
    return cache_dir() / f"jupyterchart-offline-altair{alt.__version__}-vlc{vlc.__version__}.js"


def enable_offline() -> None:
    """Make JupyterChart load Vega from vl-convert's bundle (no CDN), building that bundle only once.

    Altair rebuilds the ~0.9 MB bundle in every kernel (about 1.3 s of CPU); the kit keeps the
    result in the user's cache folder, keyed by the Altair and vl-convert versions.
    """
    if getattr(alt.JupyterChart, "_is_offline", False):
        return
    cache = _bundle_cache()
    try:
        bundle = cache.read_text(encoding="utf-8")
    except OSError:
        bundle = None
    if bundle and hasattr(alt.JupyterChart, "_esm"):
        alt.JupyterChart._esm = bundle
        alt.JupyterChart._is_offline = True
        return
    alt.JupyterChart.enable_offline()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(alt.JupyterChart._esm, encoding="utf-8")
        tmp.replace(cache)
    except OSError:
        pass  # a read-only home only costs the rebuild next time


def warm_up() -> None:
    """Start the SVG renderer once, so the first real chart is fast."""
    svg(alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x:Q"))


def all_charts(result: dict[str, Any], sweep: pd.DataFrame, grid: pd.DataFrame) -> dict[str, alt.Chart]:
    """Return the four charts of one recommendation, by name."""
    s = result["scenario"]
    return {
        "axes": axes_chart(result["axes"]),
        "costs": cost_chart(result["breakdown"], result["choice"]),
        "volume": volume_chart(sweep, result["break_even"], s["monthly_requests"]),
        "map": map_chart(grid, s["monthly_requests"], s["sensitivity"]),
    }
