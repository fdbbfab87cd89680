"""Tables for the notebooks: data sources, assumptions, glossary, licences and worked costs."""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from kit import report, uncertainty
from kit.catalog import load_catalog, profile_params
from kit.cost import (
    by_hand,
    cheapest_open,
    cost_steps,
    costs,
    frame,
)
from kit.errors import DataError, ParamError
from kit.fmt import money
from kit.lesson.figures import _page
from kit.params import (
    AXIS_LABELS,
    OPTION_LABELS,
    Scenario,
)
from kit.recommend import recommend
from kit.results import Recommendation

e = html.escape


def sources() -> pd.DataFrame:
    """Return the data files behind every figure, with their as-of date and source."""
    return pd.DataFrame(report.data_dates(load_catalog()), columns=["file", "as of", "source"]).set_index("file")


def assumptions(names: Sequence[str] | None = None) -> pd.DataFrame:
    """Return the model's constants (all, or ``names``) with value, source and date."""
    rows = [r for r in report.assumption_rows(load_catalog()) if names is None or r[0] in names]
    return pd.DataFrame(rows, columns=["assumption", "value", "source", "as of"]).set_index("assumption")


def glossary_entries(terms: Sequence[str] | None = None) -> list[dict]:
    """Return the glossary entries (all, or those named by ``terms``, by term or alias, in that order)."""
    entries = load_catalog().glossary
    if terms is None:
        return list(entries)
    index = {n.lower(): x for x in entries for n in [x["term"], *x.get("aliases", [])]}
    unknown = [t for t in terms if t.lower() not in index]
    if unknown:
        raise DataError(
            f"data/glossary.yaml: no entry for {', '.join(map(repr, unknown))}; add one (term, meaning, source)"
        )
    return [index[t.lower()] for t in terms]


def glossary(terms: Sequence[str] | None = None) -> pd.DataFrame:
    """Return the kit's glossary (data/glossary.yaml), or the entries for ``terms``."""
    rows = [{k: x[k] for k in ("term", "meaning", "source")} for x in glossary_entries(terms)]
    return pd.DataFrame(rows).set_index("term")


TERMS_MARK = "<!-- terms: "


def terms_markdown(names: Sequence[str]) -> str:
    """Return the folded "Terms used in this notebook" cell for ``names``, written from data/glossary.yaml.

    The first line keeps the names, so ``kit notebooks --refresh`` rewrites the cell when the glossary changes.
    """
    items = "".join(
        f"<dt><b>{e(x['term'])}</b></dt><dd>{e(x['meaning'])} <i>({e(x['source'])})</i></dd>\n"
        for x in glossary_entries(names)
    )
    return (
        f"{TERMS_MARK}{'; '.join(names)} -->\n<details><summary><b>Terms used in this notebook</b> ({len(names)}, "
        f"from <code>data/glossary.yaml</code>; click to open)</summary>\n<dl>\n{items}</dl>\n</details>"
    )


def terms_names(source: str) -> list[str]:
    """Return the names kept on the first line of a terms cell."""
    first = source.split("\n", 1)[0]
    if not first.startswith(TERMS_MARK) or not first.endswith("-->"):
        raise DataError(f"a terms cell must start with '{TERMS_MARK}NAME; NAME -->', found {first[:60]!r}")
    return [n.strip() for n in first[len(TERMS_MARK) : -3].split(";") if n.strip()]


def licences() -> pd.DataFrame:
    """Return every open model of the catalog with its licence, class, openness and commercial terms."""
    cat = load_catalog()
    m = cat.open_models
    lic = pd.DataFrame.from_dict(cat.licences, orient="index")
    out = pd.DataFrame(
        {
            "model": m.name,
            "org (origin)": m.org + " (" + m.origin + ")",
            "licence": m.licence_id,
            "class": m.licence_class,
            "openness": m.openness,
            "OSI-approved": m.licence_id.map(lic.osi_approved).map({True: "yes", False: "no"}),
            "commercial use": m.licence_id.map(lic.commercial_use),
        }
    )
    return out.sort_values(["class", "licence", "model"]).set_index("model")


def licence_card(model_id: str) -> str:
    """Return one model's licence terms as HTML: what you may do, on what conditions, where the text is."""
    cat = load_catalog()
    hit = cat.open_models[cat.open_models.id == model_id]
    if hit.empty:
        raise ParamError("open_model", model_id, "one of " + ", ".join(cat.open_models.id))
    m = hit.iloc[0]
    lic = cat.licences[m.licence_id]
    conditions = "".join(f"<li>{e(c)}</li>" for c in lic["conditions"])
    return _page(
        f'<div class="kit-panel"><b>{e(m["name"])}</b> ({e(m.org)}, {e(m.origin)}) - '
        f"{e(lic['name'])} [{e(lic['class'])}; OSI-approved: {'yes' if lic['osi_approved'] else 'no'}]"
        f"<div>Commercial use: {e(lic['commercial_use'])}</div><ul>{conditions}</ul>"
        f'<div class="muted">Text: {e(lic["text_url"])} (as of {e(lic["as_of"])}); model card: '
        f"{e(m.source)}</div></div>"
    )


def tiers_table(s: Scenario | None = None) -> pd.DataFrame:
    """Per quality need: the closed reference, the bar an open model must reach (data/tiers.yaml), the open
    models that reach it with their scores, and the one ``open_model = auto`` picks for the scenario's tokens
    and targets (default scenario when ``s`` is None) with its GPU cost per 1,000 requests at full load."""
    cat = load_catalog()
    s = s or Scenario.make()
    scores = cat.open_models.set_index("id").quality_score
    rows = []
    for tier, entry in cat.tiers.items():
        pick = cheapest_open(frame([s.replace(quality_need=tier)]), cat).iloc[0]
        rows.append(
            {
                "quality need": tier,
                "closed reference": entry["closed"],
                "open bar (score)": entry["open_min_score"],
                "adequate open models (score)": ", ".join(f"{m} ({scores[m]:g})" for m in cat.adequate_open[tier])
                + (" - none reaches the bar: the best-scoring one" if cat.open_short_of_bar(tier) else ""),
                "auto picks": pick.chosen,
                "its GPU cost per 1k requests": f"${pick.per_1k[pick.chosen]:.3f}",
            }
        )
    return pd.DataFrame(rows).set_index("quality need")


def residency_rules() -> pd.DataFrame:
    """Return data/residency.yaml as a table: per sensitivity, when its data may reach a third party, and why."""
    res = load_catalog().residency
    rows = []
    for level, rule in res["levels"].items():
        need = rule["third_parties"]
        rows.append(
            {
                "sensitivity": level,
                "closed API or hosted open weights allowed": "never"
                if need == "never"
                else f"only under {res['terms'][need]['label']}"
                if need != "standard"
                else "yes, on standard API terms",
                "why": rule["why"],
                "source": rule["source"],
            }
        )
    return pd.DataFrame(rows).set_index("sensitivity")


def weights_table(result: Recommendation) -> pd.DataFrame:
    """Return each axis with its weight (an input), its lean, and its share of the weighted mean lean."""
    s = result["scenario"]
    total = sum(s[f"weight_{a}"] for a in result["axes"])
    rows = [
        {
            "axis": AXIS_LABELS[a],
            "weight": f"{s[f'weight_{a}']:g}",
            "lean (-1 closed ... +1 open)": f"{x['lean']:+.2f}",
            "weight x lean / total weight": f"{s[f'weight_{a}'] * x['lean'] / total:+.3f}",
        }
        for a, x in result["axes"].items()
    ]
    return pd.DataFrame(rows).set_index("axis")


def cost_table(s: Scenario) -> pd.DataFrame:
    """Return the monthly cost of each option worked step by step (see kit.cost.cost_steps)."""
    t = cost_steps(s)
    t["option"] = t.option.map(OPTION_LABELS)
    t["value"] = [
        "not allowed"
        if step == "Not allowed"
        else money(v)
        if u == "USD"
        else (f"{v:,.2f}" if u == "requests/s" else f"{v:,.0f}")
        for v, u, step in zip(t.value, t.unit, t.step)
    ]
    return t.set_index(["option", "step"])


def break_even_table(result: Recommendation) -> pd.DataFrame:
    """Return a recommendation's break-even volumes, labelled, with the cheaper option above each."""
    rows = [
        {
            "options": f"{OPTION_LABELS[b['a']]} = {OPTION_LABELS[b['b']]}",
            "break-even requests/month": f"{b['monthly_requests']:,.0f}",
            "cheaper above it": OPTION_LABELS[b["cheaper_above"]],
        }
        for b in result["break_even"]
    ]
    return pd.DataFrame(rows, columns=["options", "break-even requests/month", "cheaper above it"]).set_index("options")


def utilisation_table(result: Recommendation) -> pd.DataFrame:
    """Return where self-hosting first wins: the volume, fleet size and average utilisation there."""
    rival = {"closed_api": "the closed API", "any_per_token": "every per-token option"}
    rows = []
    for key, u in result["utilisation_needed"].items():
        rows.append(
            {
                "self-hosting beats": rival[key],
                "from requests/month": "never, up to 10 billion"
                if u["monthly_requests"] is None
                else f"{u['monthly_requests']:,}",
                "GPUs then": "-" if u["gpus"] is None else u["gpus"],
                "average utilisation then": "-" if u["utilisation"] is None else f"{u['utilisation']:.0%}",
            }
        )
    return pd.DataFrame(rows).set_index("self-hosting beats")


def headline(s: Scenario, sure: dict | None = None) -> str:
    """Return the recommendation card (with how sure it is: ``sure``, a ``how_sure`` block, or the default ranges)
    and its flips, for a first look."""
    r = uncertainty.assess(recommend(s, with_sweep=False), s, block=sure)
    return _page(
        f'<div class="kit-panel" style="max-width:640px">{report.card_html(r)}'
        f"{report.flips_html(r['flip'], limit=3)}</div>"
    )


# Seed 003's worked example (a logistics classifier): what it reports per option, $/month.
SEED_003 = {"closed_api": 80_000, "hosted_open": 9_000, "self_hosted_open": 4_000}
SEED_003_TOLERANCE = 0.25


def seed003_reconciliation() -> pd.DataFrame:
    """Seed 003's three figures beside the kit's, each computed by the cost engine for the `logistics`
    profile with the one input that matches the seed's situation changed, and whether it lands within
    ±25% of the seed. The fully loaded figures sit beside the marginal one, so no row hides the others, and each
    row says what it tests: a real check, a calibration (matches by construction), a search among choices, or a
    sensitivity row (the same check under another of the profile's serving choices)."""
    base = profile_params("logistics")
    cases = [
        ("closed_api", "List prices, GPT-4.1", {}, "closed_api",
         "calibration: the 1,200 / 30 tokens per document were chosen so this bill lands on the seed's $80k"),
        ("hosted_open", "Median provider of Llama 3.3 70B (the kit's default)", {}, "hosted_open",
         "check: today's list prices against the seed's figure"),
        ("hosted_open", "Cheapest provider", {"hosted_provider": "cheapest"}, "hosted_open",
         "check: today's list prices against the seed's figure"),
        ("hosted_open", "Groq, all traffic through its batch API (50% off)", {"hosted_provider": "groq", "batch_share": 1.0},
         "hosted_open", "a search, not a check: one provider and discount picked, among many, for landing near the seed"),
        ("hosted_open", "Together (the seed's provider), list price", {"hosted_provider": "togetherai"}, "hosted_open",
         "check: the seed's own provider at today's list price"),
        ("self_hosted_open", "Owned cluster, marginal: the GPU-hours the load keeps busy x owned cost per GPU-hour "
         "(purchase over 5 years + power + space); no new hardware, staff or setup",
         {"gpu_pricing": "owned"}, "self_owned_marginal",
         "check, under the profile's serving choices: goodput fitted to published benchmarks and owned GPU costs, "
         "none of them fitted to this seed; reading 'existing cluster' as marginal cost is the kit's interpretation"),
        ("self_hosted_open", "Same marginal cost, 4-bit weights instead of the profile's 8-bit",
         {"gpu_pricing": "owned", "quant_bits": 4}, "self_owned_marginal",
         "sensitivity: the check above holds under the profile's serving choices (8-bit, 2,000 / 200 ms targets, "
         "kit assumptions); another choice moves it"),
        ("self_hosted_open", "Same marginal cost, the course's default targets (1,000 ms first token, 100 ms a token)",
         {"gpu_pricing": "owned", "latency_ms": 1000, "tpot_ms": 100}, "self_owned_marginal",
         "sensitivity: tighter latency targets mean fewer requests per replica, so more GPU-hours"),
        ("self_hosted_open", "Owned cluster, fully loaded: the whole fleet, staff, overhead and setup",
         {"gpu_pricing": "owned"}, "self_hosted_open", "context: what the seed's figure leaves out"),
        ("self_hosted_open", "Rented on demand, fully loaded (the kit's default)", {}, "self_hosted_open",
         "context: what the same load costs someone without a cluster"),
    ]  # fmt: skip
    rows = []
    for option, how, change, column, kind in cases:
        c = costs([Scenario.make({**base, **change})]).iloc[0]
        kit_usd = float(c[column])
        seed = SEED_003[option]
        rows.append(
            {
                "option": OPTION_LABELS[option],
                "how": how,
                "provider or GPUs": c.hosted_ref if option == "hosted_open" else (
                    f"{c.self_gpus} x {c.self_gpu_id}" if option == "self_hosted_open" else c.closed_ref
                ),
                "kit $/month": round(kit_usd),
                "seed 003 $/month": seed,
                "kit / seed": round(kit_usd / seed, 2),
                "within ±25%": abs(kit_usd / seed - 1) <= SEED_003_TOLERANCE,
                "what the row tests": kind,
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def by_hand_table(s: Scenario) -> pd.DataFrame:
    """README's break-even and utilisation formulas worked for one scenario, beside the engine's answers."""
    h = by_hand(s)
    be, ebe = h["break_even_requests"], h["engine_break_even_requests"]
    rows = [
        ("one replica, per hour (GPUs x rate x overhead)", f"${h['replica_usd_per_hour']:,.2f}", ""),
        ("GPU cost per request at full goodput", f"${h['gpu_usd_per_request']:.6f}", ""),
        ("closed API per request", f"${h['api_usd_per_request']:.6f}", ""),
        ("fixed monthly cost (base staff + setup + minimum fleet)", money(h["fixed_usd_per_month"]), ""),
        (
            "break-even volume = fixed / (API - GPU per request)",
            "never" if be is None else f"{be:,.0f} requests/month",
            "never up to 10 billion" if ebe is None else f"{ebe:,.0f} requests/month",
        ),
        (
            "busy share at which GPU-hours alone match the API = GPU per request / API per request",
            f"{h['utilisation_needed']:.0%}",
            "-" if h["engine_utilisation"] is None else f"{h['engine_utilisation']:.0%} (average, at that volume)",
        ),
    ]
    return pd.DataFrame(rows, columns=["quantity", "by hand", "the engine"]).set_index("quantity")


def ranges_table(ranges: str = "") -> pd.DataFrame:
    """Return every uncertain input's range (data/uncertainty.yaml, with ``ranges`` - 'NAME=LOW:LIKELY:HIGH, ...'
    - in place) with its unit, source and date."""
    cat = load_catalog()
    rs = uncertainty.ranges(cat, uncertainty.parse_ranges(ranges))
    meta = cat.uncertainty
    return pd.DataFrame(
        [
            {
                "input": meta[k]["label"],
                "low": lo,
                "likely": mid,
                "high": hi,
                "unit": meta[k]["unit"],
                "source": meta[k]["source"],
                "as of": meta[k]["as_of"],
            }  # fmt: skip
            for k, (lo, mid, hi) in rs.items()
        ]
    ).set_index("input")


def bands_table(block: dict) -> pd.DataFrame:
    """Return, per allowed option, its monthly cost in plausible worlds (p10 / median / p90), how often it is the
    cheapest and the one recommended, its cost per 1,000 correct answers and its three-year cumulative cost."""
    rows = []
    for o, band in block["monthly"].items():
        correct = block["per_correct"][o]
        rows.append(
            {
                "option": OPTION_LABELS[o],
                "p10 / month": money(band["p10"]),
                "median / month": money(band["p50"]),
                "p90 / month": money(band["p90"]),
                "cheapest in": f"{block['p_cheapest'].get(o, 0.0):.0%}",
                "recommended in": f"{block['p_chosen'].get(o, 0.0):.0%}",
                "per 1,000 correct (p10-p90)": f"${correct['p10']:,.2f} - ${correct['p90']:,.2f}",
                "3 years, cumulative": money(block["three_years"].get(o)),
            }
        )
    return pd.DataFrame(rows).set_index("option")


def how_sure(s: Scenario, ranges: str = "none", draws: int = uncertainty.DRAWS, seed: int = uncertainty.SEED) -> dict:
    """Return ``kit.uncertainty.summary`` for a notebook's scenario, with its ``ranges`` parameter
    ('NAME=LOW:LIKELY:HIGH, ...' or 'none') in place of data/uncertainty.yaml's; ParamError on a bad one."""
    return uncertainty.summary(s, n=draws, seed=seed, overrides=uncertainty.parse_ranges(ranges, "notebook"))
