"""The seeds' decision aids run through the engine: seed 000's grid and usage profiles, seed 001's heuristic
box, seed 003's four questions, seed 004's criteria, the axis weights, and where the seeds' defaults differ.

Every answer in these tables comes from the engine (``kit.recommend``, ``kit.cost``); the seeds' wording is
summarised in the kit's own words, with the seed named in each row.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence

import pandas as pd

from kit import charts
from kit.catalog import load_catalog, profile_params
from kit.cost import costs
from kit.fmt import money
from kit.lesson.figures import _inline, _page, _row
from kit.params import AXES, AXIS_LABELS, OPTION_LABELS, PARAMS, SENSITIVITY_LEVELS, SPEC, WEIGHTS, Scenario
from kit.recommend import CHECKLIST, decide, recommend

e = html.escape

# --- seed 000: the decision grid -------------------------------------------------------------------

# Seed 000's grid, one row per axis: what pushes it towards a closed API and towards open weights (our words).
GRID = {
    "cost": ("low or bursty volume, and no wish to run servers", "high, steady volume where per-token savings pay for "
             "the fleet"),
    "control": ("the vendor's contractual promises are enough", "data must stay in your own network, or the version "
                "must be pinned"),
    "security": ("you want the vendor's safety tooling, certifications and SLAs", "you want to audit everything and "
                 "will build the guardrails yourself"),
    "ecosystem": ("you need mature SDKs, integrations and paid support now", "you can assemble a serving stack and "
                  "live with community support"),
    "parity": ("you need the frontier on the hardest tasks", "open weights already do your everyday tasks well "
               "enough"),
}  # fmt: skip
# The scenario inputs that move each axis's lean in kit/axes.py (cost also moves with prices and GPU choices).
AXIS_INPUTS = {
    "cost": ("monthly_requests", "input_tokens", "output_tokens", "peak_to_average"),
    "control": ("sensitivity", "needs_version_pinning", "needs_finetuning", "needs_offline"),
    "security": ("sensitivity", "team_fte"),
    "ecosystem": ("weeks_to_launch", "team_fte"),
    "parity": ("quality_need", "latency_ms"),
}
LEAN_SIDE = 0.05  # a lean inside +-0.05 is shown as neutral (as kit.lesson.views.axis_note does)


def side(lean: float) -> str:
    """Return which way a lean points, in words."""
    return "open" if lean > LEAN_SIDE else ("closed" if lean < -LEAN_SIDE else "neutral")


def decision_grid(s: Scenario | None = None) -> pd.DataFrame:
    """Return seed 000's grid (per axis: leans closed when / leans open when), the kit inputs that move each
    axis, and the engine's lean for ``s`` (default scenario when None)."""
    r = recommend(s or Scenario.make(), with_flips=False, with_sweep=False)
    rows = [
        {
            "axis": AXIS_LABELS[a],
            "leans closed / managed when (seed 000)": GRID[a][0],
            "leans open-weight when (seed 000)": GRID[a][1],
            "kit inputs that move it": ", ".join(SPEC[n].title for n in AXIS_INPUTS[a]),
            "lean for this scenario": f"{r['axes'][a]['lean']:+.2f} ({side(r['axes'][a]['lean'])})",
        }
        for a in AXES
    ]
    return pd.DataFrame(rows).set_index("axis")


# --- seed 000: the five usage profiles -------------------------------------------------------------

# Seed 000's answer for each of its profiles (data/profiles.yaml), and the options that count as agreeing.
SEED_000_PROFILES = {
    "cost_at_scale": ("open weights, rented per token or self-hosted once utilisation pays",
                      ("hosted_open", "self_hosted_open")),
    "regulated": ("self-hosted open weights, usually the only fully compliant option", ("self_hosted_open",)),
    "ship_fast": ("a closed, managed API: the pragmatic default", ("closed_api",)),
    "prototype": ("start on a managed API, revisit once volume and sensitivity are known", ("closed_api",)),
    "hybrid": ("a hybrid router: the hard fifth to a closed frontier model, the rest to open weights", ("hybrid",)),
}  # fmt: skip
GATE_NAMES = {
    "stay_inside": "1: data must stay inside",
    "high_steady_volume": "2: high, steady, non-sensitive volume",
    "ship_fast": "3: ship in weeks, no ML team",
    "frontier": "4: frontier edge needed",
    "axes": "5: none; the weighted axes",
}


def profile_scenarios(names: Sequence[str] = tuple(SEED_000_PROFILES)) -> list[Scenario]:
    """Return the usage profiles of data/profiles.yaml named ``names`` as scenarios."""
    return [Scenario.make(profile_params(n), context=f"profile {n}") for n in names]


def profiles_table(names: Sequence[str] = tuple(SEED_000_PROFILES)) -> pd.DataFrame:
    """Return seed 000's usage profiles run through the engine: the profile's inputs, the seed's answer, the
    engine's answer with the checklist question that decided it, its monthly cost, and whether the two agree."""
    cat = load_catalog()
    d = decide(profile_scenarios(names), cat)
    rows = []
    for i, name in enumerate(names):
        p, choice = cat.profiles[name], d.choice.iloc[i]
        v = profile_params(name)
        seed_says, agree_with = SEED_000_PROFILES[name]
        rows.append(
            {
                "profile (seed 000)": p["title"],
                "inputs": f"{v['monthly_requests']:,} requests/month, {v['sensitivity']} data, "
                f"{v['team_fte']:g} FTE, {v['quality_need']} quality, launch in {v['weeks_to_launch']} weeks"
                + (f", {v['vendor_terms']} vendor terms" if v.get("vendor_terms", "standard") != "standard" else ""),
                "seed 000 says": seed_says,
                "the engine says": OPTION_LABELS[choice],
                "decided by (checklist question)": GATE_NAMES[d.gate.iloc[i]],
                "its cost / month": money(float(d[choice].iloc[i])),
                "agree": "yes" if choice in agree_with else "no",
            }
        )
    return pd.DataFrame(rows).set_index("profile (seed 000)")


# --- weight the axes by your constraints (seed 000) ------------------------------------------------


def weights_effect(s: Scenario, values: Sequence[float] = (0.0, 5.0)) -> pd.DataFrame:
    """Return the engine's answer as each axis weight alone takes each of ``values`` (the others as in ``s``)."""
    cases = [("as set", s)] + [
        (f"{SPEC[w].title} = {v:g}", s.replace(**{w: v})) for w, v in itertools.product(WEIGHTS, values)
    ]
    d = decide([c for _, c in cases])
    return pd.DataFrame(
        {
            "weights": [n for n, _ in cases],
            "weighted lean, self-hosted": [f"{x:+.3f}" for x in d.weighted_lean_self],
            "weighted lean, hosted open": [f"{x:+.3f}" for x in d.weighted_lean_hosted],
            "decided by": [GATE_NAMES[g] for g in d.gate],
            "the engine says": [OPTION_LABELS[c] for c in d.choice],
        }
    ).set_index("weights")


def weights_view(s: Scenario) -> str:
    """Explorer view: the weights as set, each axis's lean and weighted share, the answer they give, and the
    axes chart."""
    r = recommend(s, with_flips=False, with_sweep=False)
    cut = load_catalog().a("lean_cut")
    total = sum(s[w] for w in WEIGHTS)
    rows = "".join(
        f"<tr><td>{e(AXIS_LABELS[a])}</td><td>{s[f'weight_{a}']:g}</td><td>{r['axes'][a]['lean']:+.2f}</td>"
        f"<td>{s[f'weight_{a}'] * r['axes'][a]['lean'] / total:+.3f}</td></tr>"
        for a in AXES
    )
    gate = r["gate"]
    if gate == "axes":
        verdict = (
            f"No checklist question gives a firm yes, so these weights decide: the weighted mean lean is "
            f"{r['weighted_lean']:+.2f} (beyond +{cut:g} the axes point open, below -{cut:g} closed, in between "
            f"a hybrid router where routing is cheaper than the closed API)."
        )
    else:
        verdict = (
            f"Checklist question {GATE_NAMES[gate]} answers yes, so the weights do not decide here: moving them "
            f"changes the weighted lean ({r['weighted_lean']:+.2f}), not the answer."
        )
    return _page(
        _row(
            f'<div class="kit-panel" style="max-width:520px"><table class="kit-table"><tr><th>axis</th>'
            f"<th>weight</th><th>lean</th><th>weight x lean / total</th></tr>{rows}</table><p>{e(verdict)}</p>"
            f"<p><b>Answer: {e(r['choice_label'])}</b> - {e(r['reasons'][0])}</p></div>",
            _inline(charts.axes_chart(r["axes"]), "seeds-weights-axes"),
        )
    )


# --- seed 001: the lean-open / lean-closed heuristic box -------------------------------------------


# Seed 004: "If utilisation is low (<30%), closed API is cheaper after you account for idle GPU cost". The box's
# "sustained high volume on a model small enough to serve" line needs the fleet to be at least this busy on average.
BUSY_UTILISATION = 0.30


def heuristic_box(s: Scenario | None = None) -> pd.DataFrame:
    """Return seed 001's heuristic box (lean open-weight when / lean closed when), each line with the kit input
    that stands for it and whether it holds for ``s`` (default scenario when None), read from the engine.

    "Sustained high volume on a model small enough to serve" holds when the all-closed bill counts as high, the
    traffic is steady, and the engine's self-hosted fleet for the chosen open model is busy on average at least
    BUSY_UTILISATION of the time (seed 004's 30%): a large model on a big idle fleet does not count."""
    s = s or Scenario.make()
    cat = load_catalog()
    c = costs([s], cat).iloc[0]
    r = recommend(s, with_flips=False, with_sweep=False)
    closed_bill = float(c.closed_api)
    high = closed_bill >= cat.a("high_spend_usd_month")
    steady = s["peak_to_average"] <= cat.a("steady_peak_to_average")
    fleet = r["self_hosted"]
    busy = fleet["average_utilisation"] >= BUSY_UTILISATION
    model = dict(zip(cat.open_models.id, cat.open_models.name)).get(r["models"]["open"], r["models"]["open"])
    gpu = dict(zip(cat.gpus.id, cat.gpus.name)).get(fleet["gpu"], fleet["gpu"])
    yn = {True: "yes", False: "no"}
    volume_open = (
        f"{yn[high and steady and busy]}: closed bill {money(closed_bill)}/month, peak {s['peak_to_average']:g}x "
        f"average, {model} on {fleet['gpus']} x {gpu} busy {fleet['average_utilisation']:.0%} "
        f"of the time (needs {BUSY_UTILISATION:.0%}, seed 004)"
    )
    lines = [
        ("lean open-weight / self-host", "the data may not legally leave your boundary", "Data sensitivity",
         yn[not bool(c.outside_allowed) or s["needs_offline"]]),
        ("lean open-weight / self-host", "you need a version that never changes", "Version pinning",
         yn[s["needs_version_pinning"]]),
        ("lean open-weight / self-host", "sustained high volume on a model small enough to serve",
         "Monthly requests, Peak / average, Open model (fleet utilisation)", volume_open),
        ("lean open-weight / self-host", "deep fine-tuning is core to the product", "Fine-tuning",
         yn[s["needs_finetuning"]]),
        ("lean closed / hosted API", "you need the top of the frontier now", "Quality need",
         yn[s["quality_need"] == "frontier"]),
        ("lean closed / hosted API", "volume is low, spiky or unknown", "Monthly requests, Peak / average",
         yn[not high or not steady]),
        ("lean closed / hosted API", "a small team with no inference or on-call capacity to spare", "ML-ops team",
         yn[s["team_fte"] < fleet["ops_fte"]]),
        ("lean closed / hosted API", "time to market matters more than the per-token price", "Weeks to launch",
         yn[s["weeks_to_launch"] <= cat.a("ship_fast_weeks")]),
    ]  # fmt: skip
    return pd.DataFrame(lines, columns=["side (seed 001)", "when", "kit input", "holds here"]).set_index(
        ["side (seed 001)", "when"]
    )


# --- seed 002: Mistral's tiered licences -----------------------------------------------------------


# Mistral API rows (data/prices.csv model_id) whose weights Mistral also publishes under Apache-2.0, with the model
# card that says so; prices.csv leaves weights_licence blank for them. Seed 000 lists Mistral Large 3 among the
# open-weight releases of 2026.
MISTRAL_APACHE_API = {
    "mistral-large-2512": "https://huggingface.co/mistralai/Mistral-Large-3-675B-Instruct-2512",
    "pixtral-12b": "https://huggingface.co/mistralai/Pixtral-12B-2409",
}
# The published version whose weights each restricted licence covers (data/licences.yaml, conditions), by the
# prices.csv row that names the licence: the licence covers that version, not whatever the API serves today.
MISTRAL_WEIGHTS_VERSION = {
    "codestral-latest": "Codestral 22B (v0.1)",
    "mistral-large-2411": "Mistral Large 2.1 (24.11)",
    "pixtral-large-latest": "Pixtral Large (24.11)",
}
# API rows whose current weights are not published (the model behind the name moved on from the open version).
MISTRAL_API_ONLY = ("codestral-latest",)


def mistral_tiers() -> pd.DataFrame:
    """Return Mistral's models by licence tier, from the data: open weights under Apache-2.0
    (data/open_models.csv, and the priced rows of MISTRAL_APACHE_API), weights of a named version under research
    or non-production licences (data/licences.yaml, named in data/prices.csv's weights_licence), and models
    reached only through Mistral's API. The tier goes with the exact version, not with the model's size."""
    cat = load_catalog()
    m = cat.open_models[cat.open_models.org == "Mistral AI"]
    p = cat.prices[cat.prices.provider == "mistral"]
    apache = cat.licences["Apache-2.0"]["commercial_use"]
    rows = [
        {"model": x["name"], "tier": "open weights, permissive", "licence": x.licence_id,
         "may you self-host it for a business?": cat.licences[x.licence_id]["commercial_use"],
         "licence stated in": x.source}
        for _, x in m.iterrows()
    ]  # fmt: skip
    for _, x in p[p.model_id.isin(list(MISTRAL_APACHE_API))].iterrows():
        rows.append(
            {"model": x["name"], "tier": "open weights, permissive", "licence": "Apache-2.0",
             "may you self-host it for a business?": apache, "licence stated in": MISTRAL_APACHE_API[x.model_id]}
        )  # fmt: skip
    for _, x in p[p.weights_licence.fillna("") != ""].iterrows():
        lic = cat.licences[x.weights_licence]
        tier = "weights for research only" if "research" in lic["name"].lower() else "weights for non-production use"
        rows.append(
            {"model": MISTRAL_WEIGHTS_VERSION.get(x.model_id, x["name"]), "tier": tier, "licence": x.weights_licence,
             "may you self-host it for a business?": lic["commercial_use"], "licence stated in": lic["source"]}
        )  # fmt: skip
    api_only = p[
        p.model_id.isin(list(MISTRAL_API_ONLY)) | ((p.kind == "closed_api") & p.name.str.startswith("Mistral Medium"))
    ]
    for _, x in api_only.iterrows():
        rows.append(
            {"model": x["name"], "tier": "API only (closed)", "licence": "Mistral's API terms",
             "may you self-host it for a business?": "no - the weights of this version are not published",
             "licence stated in": "data/prices.csv (" + x.model_id + ")"}
        )  # fmt: skip
    return pd.DataFrame(rows).set_index("model")


# --- seed 003: the four questions, the exceptions, what changes the calculus ----------------------


def four_questions(s: Scenario | None = None) -> pd.DataFrame:
    """Return seed 003's four questions for a new feature, answered for ``s`` (default scenario when None)
    from the engine's numbers, each with what seed 003 says to do on that answer."""
    s = s or Scenario.make()
    cat = load_catalog()
    c = costs([s], cat).iloc[0]
    r = recommend(s, with_flips=False, with_sweep=False)
    tier = s["quality_need"]
    short = cat.open_short_of_bar(tier)
    closed_bill = float(c.closed_api)
    open_costs = {o: r["costs"][o] for o in ("hosted_open", "self_hosted_open") if r["costs"][o] is not None}
    best = min(open_costs, key=open_costs.get) if open_costs else None
    high = closed_bill >= cat.a("high_spend_usd_month")
    hosted_ok = bool(c.outside_allowed)
    ops, team = r["self_hosted"]["ops_fte"], s["team_fte"]
    q1_yes, q2_yes, q3_yes, q4_yes = True, high, hosted_ok, team >= ops
    if not q3_yes:
        procedure = "self-host: compliance leaves no choice (question 3)"
    elif q1_yes and not q2_yes:
        procedure = "the closed API: it meets the bar and the cost does not break the economics (questions 1 and 2)"
    else:
        procedure = "model the open alternatives: the cost at scale breaks the economics (question 2)"
    engine = f"{OPTION_LABELS[r['choice']]} (decided by {GATE_NAMES[r['gate']]})"
    rows = [
        ('1. "Does the closed API meet our eval bar?"',
         f"yes: {r['models']['closed']} is the kit's reference for {tier} work (data/tiers.yaml); an open model "
         + ("does not reach that bar" if short else "reaches it too") + " (quality_score, data/open_models.csv)",
         '"If yes, ship on it."'),
        ('2. "Does the cost at projected scale break our unit economics?"',
         f"all-closed bill {money(closed_bill)}/month, "
         + ("at or above" if q2_yes else "below") + f" {money(cat.a('high_spend_usd_month'))}/month, the kit's "
         "proxy for 'breaks the unit economics' (a kit assumption, data/assumptions.yaml); "
         + (f"cheapest open option {OPTION_LABELS[best]} {money(open_costs[best])}" if best else "no open price"),
         '"If yes, model open alternatives."'),
        ('3. "Does our compliance/legal team allow this data class on a hosted provider?"',
         ("yes" if q3_yes else "no") + f": {s['sensitivity']} data under {s['vendor_terms']} vendor terms "
         "(data/residency.yaml)",
         '"If no, you don\'t have a choice." (self-host)'),
        ('4. "Do we have ML ops to operate a model in production?"',
         f"{'yes' if q4_yes else 'no'}: a fleet for this load needs about {ops:.1f} FTE; you have {team:g}",
         '"If no, you\'re going to learn — budget for it."'),
        ("Where the four questions lead, and the engine's answer",
         f"seed 003's procedure: {procedure}; the engine: {engine}",
         "seed 003 stops at its first deciding answer; the engine also weighs the five axes and prices a router"),
    ]  # fmt: skip
    return pd.DataFrame(
        rows, columns=["question (seed 003, quoted)", "answer for this scenario", "seed 003 says"]
    ).set_index("question (seed 003, quoted)")


# Seed 003's "when this rule doesn't apply" and "what changes the calculus", with how the kit represents each.
EXCEPTIONS = (
    ("You sell AI infrastructure: serving models is your business", "No single input: such a team has a large "
     "ML-ops team and low setup cost; set ML-ops team high and see self-hosting's staffing warning go"),
    ("Government, defence or sovereign deployment: hosted is often ruled out from the start", "Data sensitivity = "
     "on_prem_only or Offline / edge = yes: the first checklist question decides"),
    ("Your fine-tune is your moat: you own the weights wherever they run", "Fine-tuning = yes leans control "
     "open; the engine does not price the fine-tuning itself"),
    ("Hyperscale (over $5M a year on inference): self-hosting may save 60-80% after operations",
     "Monthly requests high enough: the second checklist question compares the bills"),
)  # fmt: skip
CALCULUS = (
    ("A new frontier open model (every 6-12 months) can flip the answer", "the quality scores in "
     "data/open_models.csv and the bars in data/tiers.yaml: refresh them and re-run"),
    ("Closed price wars shrink the 'open is cheaper' case (about 5x cheaper in 24 months)", "the API price "
     "decline range in data/uncertainty.yaml and the three-year view of notebook 09"),
    ("Stricter EU and sector rules push work to private endpoints or self-hosting", "Data sensitivity and "
     "Vendor terms: data/residency.yaml says which terms each level needs"),
    ("Hosted-open providers make 'open without operations' real", "the hosted open-weight option, priced from "
     "data/hosted_offers.csv (Hosted provider picks among them)"),
)  # fmt: skip


def exceptions_table() -> pd.DataFrame:
    """Return seed 003's 'when this rule doesn't apply' list with the kit input or data that stands for each."""
    return pd.DataFrame(EXCEPTIONS, columns=["when seed 003's rule does not apply", "in the kit"]).set_index(
        "when seed 003's rule does not apply"
    )


def calculus_table() -> pd.DataFrame:
    """Return seed 003's 'what changes the calculus' list with where the kit holds each."""
    return pd.DataFrame(CALCULUS, columns=["what changes the calculus (seed 003)", "in the kit"]).set_index(
        "what changes the calculus (seed 003)"
    )


# --- seed 004: the criteria table ------------------------------------------------------------------

CRITERIA = (
    ("Data residency / privacy", "complete: weights and data stay on your machines", "depends on the vendor; "
     "zero-retention terms exist", "control", "sensitivity, vendor_terms"),
    ("Frontier quality", "close behind the best closed models", "top of the leaderboards", "parity",
     "quality_need"),
    ("Total cost at scale", "heavy up-front (GPUs), cheap per extra request", "no up-front cost, grows in step "
     "with use", "cost", "monthly_requests"),
    ("Operations burden", "high: you run the serving stack", "none: the vendor runs it", "ecosystem", "team_fte"),
    ("Fine-tuning", "any method (LoRA, full, continued pre-training)", "only what the vendor offers",
     "control", "needs_finetuning"),
    ("Audit / explainability", "weights and activations can be inspected", "a black box", "security",
     "sensitivity, team_fte"),
    ("Ecosystem / tooling", "open serving engines", "SDKs and hosted tools", "ecosystem", "weeks_to_launch"),
    ("Regulatory fit (India DPDP, EU AI Act, etc.; neither mandates keeping data in the country, see notebook 03)",
     "easier: on your premises, auditable", "needs contracts, a DPA and a pinned region",
     "control", "sensitivity, vendor_terms"),
)  # fmt: skip


def criteria_table(s: Scenario | None = None) -> pd.DataFrame:
    """Return seed 004's side-by-side criteria (our summary) with the kit axis and inputs each maps to, and
    that axis's lean for ``s`` (default scenario when None)."""
    r = recommend(s or Scenario.make(), with_flips=False, with_sweep=False)
    rows = [
        {
            "criterion (seed 004)": name,
            "open weights": open_,
            "closed API": closed,
            "kit axis (inputs)": f"{AXIS_LABELS[axis]} ({inputs})",
            "that axis leans here": f"{r['axes'][axis]['lean']:+.2f} ({side(r['axes'][axis]['lean'])})",
        }
        for name, open_, closed, axis, inputs in CRITERIA
    ]
    return pd.DataFrame(rows).set_index("criterion (seed 004)")


# --- where the seeds disagree on the default -------------------------------------------------------

DEFAULTS = (
    ("seed 003", "closed API by default; open weights when residency, scale, customisation or latency demand it"),
    ("seed 004", "closed API for frontier quality, open weights for everything else"),
    ("seed 000", "most teams in the middle: a hybrid router is the honest default"),
    ("seed 001", "a hybrid is the common real answer: frontier API for hard or rare requests, open for the bulk"),
    ("seed 002", "a blend routed by use case; start closed when prototyping, open when data must stay inside"),
)
GRID_VOLUMES = (20_000, 200_000, 1_000_000, 5_000_000, 50_000_000)
GRID_TEAMS = (0.0, 1.0, 3.0)


def defaults_table() -> pd.DataFrame:
    """Return each seed's default stance (our summary)."""
    return pd.DataFrame(DEFAULTS, columns=["seed", "default it argues for"]).set_index("seed")


def default_scenarios(
    sensitivities: Sequence[str] = SENSITIVITY_LEVELS, vendor_terms: str = "standard"
) -> list[Scenario]:
    """Return the grid of scenarios the kit's 'default' is read from: every volume of GRID_VOLUMES, team of
    GRID_TEAMS and quality need, for each of ``sensitivities``, with ``vendor_terms`` signed by the outside
    providers; the other inputs at their spec defaults."""
    quality = SPEC["quality_need"].choices
    return [
        Scenario.make(monthly_requests=v, sensitivity=s, team_fte=t, quality_need=q, vendor_terms=vendor_terms)
        for v, s, t, q in itertools.product(GRID_VOLUMES, sensitivities, GRID_TEAMS, quality)
    ]


def default_shares(
    by: str = "sensitivity", sensitivities: Sequence[str] = SENSITIVITY_LEVELS, vendor_terms: str = "standard"
) -> pd.DataFrame:
    """Return how often the engine picks each option over ``default_scenarios(sensitivities, vendor_terms)``, per
    value of ``by`` and in all: the kit's answer to 'what is the default?' is a distribution, not one option."""
    grid = default_scenarios(sensitivities, vendor_terms)
    d = decide(grid)
    d[by] = [g[by] for g in grid]
    shares = pd.crosstab(d[by], d.choice, normalize="index").reindex(list(dict.fromkeys(g[by] for g in grid)))
    shares.loc["all of these scenarios"] = d.choice.value_counts(normalize=True)
    shares = shares.reindex(columns=list(OPTION_LABELS)).fillna(0.0)
    shares.columns = [OPTION_LABELS[o] for o in shares.columns]
    shares.index = [f"{x:,}" if isinstance(x, int) else str(x) for x in shares.index]
    shares.index.name = by
    return shares.map(lambda x: f"{x:.0%}")


def inputs_not_set(shown: Sequence[str]) -> pd.DataFrame:
    """Return the scenario inputs of the spec (kit/params.py) that are not in ``shown``, with their default and
    whether 'what would flip it' searches them: the inputs a notebook leaves at their defaults."""
    rows = [
        {
            "input": p.name,
            "default": p.default,
            "searched by 'what would flip it'": "yes" if p.flip else "no",
            "what it is": p.help,
        }
        for p in PARAMS
        if p.name not in shown
    ]
    return pd.DataFrame(rows).set_index("input")


def checklist_questions() -> list[str]:
    """Return the engine's checklist questions in order (seed 000's stop-at-first-yes list)."""
    return list(CHECKLIST.values())
