"""Words around a recommendation: the app's card, and the decision memo (Markdown and HTML)."""

from __future__ import annotations

import datetime as dt
import html

from kit.catalog import Catalog, load_catalog
from kit.fmt import (
    band_text,
    driver_sentence,
    flip_sentence,
    money,
    runner_up,
    sure_sentence,
    time_sentence,
    value_text,
)
from kit.params import AXIS_LABELS, OPTION_LABELS, OPTIONS, SPEC
from kit.results import Flip, Recommendation
from kit.style import STYLESHEET

SURE_NOTE = (
    "the share of plausible worlds - draws over the ranges of data/uncertainty.yaml, run through the same engine - "
    "that give this answer: a probability under those ranges, not a guarantee"
)


def cost_text(r: Recommendation, option: str) -> str:
    """Return an option's monthly cost as shown to people: a price, or 'not allowed' / 'no price known'."""
    if option in r["not_allowed"]:
        return "not allowed"
    return money(r["costs"][option])


def not_allowed_lines(r: Recommendation) -> list[str]:
    """Return one line per option the data may not use: 'Closed API: not allowed - why'."""
    return [f"{OPTION_LABELS[o]}: not allowed - {why}" for o, why in r["not_allowed"].items()]


def card_html(r: Recommendation) -> str:
    """Return the recommendation card: the choice, how sure it is (the share of plausible worlds that give it, and
    the chosen option's p10-p90 monthly cost; "working out" until known), reasons in order, warnings, what is not
    allowed."""
    e = html.escape
    reasons = "".join(f"<li>{e(x)}</li>" for x in r["reasons"])
    warnings = "".join(f"<li>{e(x)}</li>" for x in r["warnings"])
    barred = "".join(f"<li>{e(x)}</li>" for x in not_allowed_lines(r))
    u = r["uncertainty"]
    if r["confidence"] is None or not u:
        sure = '<div class="kit-confidence kit-pending"><span>How sure: working out plausible worlds…</span></div>'
    else:
        pct = round(r["confidence"] * 100)
        sure = (
            f'<div class="kit-confidence" title="{e(SURE_NOTE)}"><span>Holds in <b>{pct}%</b> of '
            f'{u["draws"]:,} plausible worlds</span><span class="kit-bar"><span style="width:{pct}%"></span></span>'
            f'</div><div class="kit-band">Its monthly cost in 8 of 10 of them: '
            f"{e(band_text(u['monthly'].get(r['choice'])))}. {e(runner_up(r))} "
            '<span class="muted">(a probability under the stated ranges, not a guarantee)</span></div>'
        )
    closed = (
        "closed API not allowed"
        if "closed_api" in r["not_allowed"]
        else f"all-closed {money(r['costs']['closed_api'])}"
    )
    return (
        f'<div class="kit-card" data-choice="{e(r["choice"])}">'
        f'<div class="kit-eyebrow">Recommendation</div>'
        f'<div class="kit-choice kit-{e(r["choice"])}">{e(r["choice_label"])}</div>'
        + sure
        + f'<div class="kit-costline">{e(money(r["costs"][r["choice"]]))} per month · {e(closed)}</div>'
        f'<ol class="kit-reasons">{reasons}</ol>'
        + (f'<ul class="kit-warnings">{warnings}</ul>' if warnings else "")
        + (f'<ul class="kit-notallowed">{barred}</ul>' if barred else "")
        + "</div>"
    )


def flips_html(flips: list[Flip], limit: int = 5) -> str:
    """Return 'what would flip it' as a short list."""
    if not flips:
        return '<div class="kit-flips"><b>What would flip it</b><p>No single change of one input changes the answer.</p></div>'
    items = "".join(f"<li>{html.escape(flip_sentence(f))}</li>" for f in flips[:limit])
    return f'<div class="kit-flips"><b>What would flip it</b> <span class="muted">(smallest single changes, nearest first)</span><ul>{items}</ul></div>'


def assumption_rows(cat: Catalog) -> list[tuple[str, str, str, str]]:
    """Return every model constant as (name, value with unit, source, as of)."""
    return [(k, f"{cat.assumptions[k]:g} {m['unit']}", m["source"], m["as_of"]) for k, m in cat.assumption_meta.items()]


def data_dates(cat: Catalog) -> list[tuple[str, str, str]]:
    """Return each data file with its as-of date and source."""
    return [
        ("prices.csv", cat.prices_as_of(), str(cat.prices.source.iloc[0])),
        ("gpus.csv", str(cat.gpus.as_of.max()), "GPU datasheet figures; see spec_source per row"),
        ("gpu_prices.csv", str(cat.gpu_prices.as_of.max()), "GPU rental prices by market and mode; see source per row"),
        ("gpu_owned.csv", str(cat.gpu_owned.as_of.max()), "GPU purchase prices; see source per row"),
        (
            "throughput.csv",
            str(cat.throughput.as_of.max()),
            "cited serving benchmarks (calibration and anchors); see source per row",
        ),
        ("hosted_offers.csv", cat.prices_as_of(), "which providers serve each open model (from prices.csv)"),
        ("open_models.csv", str(cat.open_models.as_of.max()), "model cards; see source per row"),
        ("licences.yaml", max(str(x["as_of"]) for x in cat.licences.values()), "licence texts; see text_url per entry"),
        ("residency.yaml", str(cat.residency["as_of"]), "residency rules per sensitivity, from seeds 000, 002, 004"),
        (
            "uncertainty.yaml",
            max(str(x["as_of"]) for x in cat.uncertainty.values()),
            "low / likely / high of every uncertain input; see source per entry",
        ),
    ]


def market_text(r: Recommendation) -> str:
    """One sentence on the hosted market and, on owned GPUs, the marginal cost (empty when neither applies)."""
    m, sh = r["models"]["hosted_market"], r["self_hosted"]
    out = ""
    if m["offers"]:
        out += (
            f" Hosted: {m['offers']} provider(s), {money(m['min_usd'])} to {money(m['max_usd'])}/month (median "
            f"{money(m['median_usd'])}); priced at `{r['models']['hosted_price'] or 'none'}` ({m['rule']})."
        )
    if r["scenario"]["gpu_pricing"] == "owned" and sh["owned_marginal_usd"] is not None:
        out += (
            f" On GPUs already owned, the marginal cost is {money(sh['owned_marginal_usd'])}/month (the GPU-hours "
            "this load keeps busy; no new hardware, staff or setup)."
        )
    return out


def uncertainty_lines(r: Recommendation) -> list[str]:
    """The uncertainty block in sentences: each option's p10-p90 monthly cost and chance of being cheapest, the
    inputs the answer hangs on, and the payback month."""
    u = r["uncertainty"]
    if not u:
        return []
    out = [
        f"{OPTION_LABELS[o]}: {band_text(b)} a month in 8 of 10 plausible worlds; cheapest in "
        f"{u['p_cheapest'].get(o, 0.0):.0%} of them."
        for o, b in u["monthly"].items()
    ]
    out += [f"Hangs on: {driver_sentence(d)}." for d in u["drivers"]]
    return out + [time_sentence(u)]


def memo_markdown(r: Recommendation, cat: Catalog | None = None, today: dt.date | None = None) -> str:
    """Return the decision memo as Markdown."""
    cat = cat or load_catalog()
    today = today or dt.date.today()
    s = r["scenario"]
    out = [
        "# Decision memo: how to run our LLM workload",
        "",
        f"Prepared {today.isoformat()} with the open-vs-closed LLM decision kit. Prices as of {r['data']['prices_as_of']}.",
        "",
        f"## Recommendation: {r['choice_label']}",
        "",
        sure_sentence(r) + ".",
        "",
        "### Why",
        "",
    ]
    out += [f"{i}. {x}" for i, x in enumerate(r["reasons"], 1)]
    if r["warnings"]:
        out += ["", "### Warnings", ""] + [f"- {w}" for w in r["warnings"]]
    if r["not_allowed"]:
        out += ["", "### Not allowed", ""] + [f"- {x}" for x in not_allowed_lines(r)]
    out += ["", "## Monthly cost", "", "| option | USD per month | breakdown |", "|---|---:|---|"]
    for o in OPTIONS:
        parts = ", ".join(f"{k.replace('_', ' ')} {money(v)}" for k, v in r["breakdown"][o].items() if v)
        if o in r["not_allowed"]:
            parts = r["not_allowed"][o]
        out.append(
            f"| {OPTION_LABELS[o]}{' (recommended)' if o == r['choice'] else ''} | {cost_text(r, o)} | {parts} |"
        )
    sh = r["self_hosted"]
    out += [
        "",
        f"Self-hosted fleet: {sh['gpus']} x {sh['gpu']} ({sh['replicas']} replicas of {sh['gpus_per_replica']}) at "
        f"${sh['usd_per_gpu_hour']}/GPU-hour ({sh['pricing']}); {sh['concurrency']} requests in flight per replica, "
        f"{sh['ttft_ms']:,.0f} ms to first token, {sh['tpot_ms']:,.0f} ms per token; throughput: {sh['throughput']}. "
        f"Models priced: closed `{r['models']['closed']}`, open `{r['models']['open']}`." + market_text(r),
        "",
        "Axis weights: "
        + ", ".join(f"{AXIS_LABELS[a].lower()} {s[f'weight_{a}']:g}" for a in r["axes"])
        + f"; weighted mean lean {r['weighted_lean']:+.2f} (−1 closed … +1 open).",
    ]
    if r["break_even"]:
        out += ["", "### Break-even volumes", ""]
        out += [
            f"- {OPTION_LABELS[b['a']]} vs {OPTION_LABELS[b['b']]}: {b['monthly_requests']:,.0f} requests/month "
            f"({OPTION_LABELS[b['cheaper_above']]} cheaper above)"
            for b in r["break_even"]
        ]
    out += ["", "## What would flip it", ""]
    out += [f"- {flip_sentence(f)}" for f in r["flip"]] or ["- No single change of one input changes the answer."]
    if r["uncertainty"]:
        out += ["", "## How sure", ""] + [f"- {x}" for x in uncertainty_lines(r)]
    out += ["", "## The five axes (−1 closed … +1 open)", "", "| axis | lean | why |", "|---|---:|---|"]
    out += [f"| {AXIS_LABELS[k]} | {a['lean']:+.2f} | {a['why']} |" for k, a in r["axes"].items()]
    out += ["", "## Inputs", "", "| input | value |", "|---|---|"]
    out += [f"| {SPEC[k].title} | {value_text(k, v)} |" for k, v in s.items()]
    out += ["", "## Assumptions", "", "| name | value | source | as of |", "|---|---|---|---|"]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in assumption_rows(cat)]
    out += ["", "## Data dates", "", "| file | as of | source |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in data_dates(cat)]
    return "\n".join(out) + "\n"


def memo_html(r: Recommendation, svgs: dict[str, str], cat: Catalog | None = None, today: dt.date | None = None) -> str:
    """Return the decision memo as one self-contained HTML page (charts inline as SVG, no outside links)."""
    cat = cat or load_catalog()
    today = today or dt.date.today()
    e = html.escape
    s = r["scenario"]

    def table(head: list[str], rows: list[list[str]], num: set[int] = frozenset()) -> str:
        th = "".join(f"<th>{e(h)}</th>" for h in head)
        body = "".join(
            "<tr>"
            + "".join(f'<td class="num">{e(c)}</td>' if i in num else f"<td>{e(c)}</td>" for i, c in enumerate(row))
            + "</tr>"
            for row in rows
        )
        return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"

    costs = [
        [
            OPTION_LABELS[o] + (" (recommended)" if o == r["choice"] else ""),
            cost_text(r, o),
            r["not_allowed"].get(o)
            or ", ".join(f"{k.replace('_', ' ')} {money(v)}" for k, v in r["breakdown"][o].items() if v),
        ]
        for o in OPTIONS
    ]
    figures = "".join(
        f"<figure>{svgs[k]}</figure>" for k in ("axes", "costs", "volume", "map", "tornado", "time") if k in svgs
    )
    warn = "".join(f"<li>{e(w)}</li>" for w in r["warnings"])
    flips = "".join(f"<li>{e(flip_sentence(f))}</li>" for f in r["flip"])
    uncertain = "".join(f"<p>{e(x)}</p>" for x in uncertainty_lines(r))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Decision memo: {e(r["choice_label"])}</title>
<style>{STYLESHEET}</style></head><body class="kit-memo">
<h1>Decision memo: how to run our LLM workload</h1>
<p class="muted">Prepared {today.isoformat()} with the open-vs-closed LLM decision kit. Prices as of {e(r["data"]["prices_as_of"])} ({e(r["data"]["prices_source"])}).</p>
<h2>Recommendation</h2>
<p class="choice">{e(r["choice_label"])}</p><p>{e(sure_sentence(r))}.</p>{uncertain}
<ol>{"".join(f"<li>{e(x)}</li>" for x in r["reasons"])}</ol>
{f'<h3>Warnings</h3><ul class="warn">{warn}</ul>' if warn else ""}
<h2>Monthly cost</h2>{table(["option", "USD per month", "breakdown or why not allowed"], costs, {1})}
<h2>What would flip it</h2><ul>{flips or "<li>No single change of one input changes the answer.</li>"}</ul>
<h2>Charts</h2>{figures}
<h2>The five axes</h2>{table(["axis", "lean (−1 closed … +1 open)", "why"], [[AXIS_LABELS[k], f"{a['lean']:+.2f}", a["why"]] for k, a in r["axes"].items()], {1})}
<h2>Inputs</h2>{table(["input", "value"], [[SPEC[k].title, value_text(k, v)] for k, v in s.items()])}
<h2>Assumptions</h2>{table(["name", "value", "source", "as of"], [list(x) for x in assumption_rows(cat)])}
<h2>Data dates</h2>{table(["file", "as of", "source"], [list(x) for x in data_dates(cat)])}
</body></html>
"""
