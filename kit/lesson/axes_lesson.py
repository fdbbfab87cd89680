"""Lessons of the control, security and ecosystem axes (notebooks 03, 04 and 05).

Three questions the explorers redraw for a scenario, every number from the engine:

* ``reach_table``   where the data may go: each option allowed or not (and why), with its monthly cost
* ``duties_table``  who owns each governance duty under each option; ``duties_html`` marks the recommended one
* ``launch_plan``   the pieces the recommended option needs, their engineer-weeks and the calendar with your team
"""

from __future__ import annotations

import html

import pandas as pd

from kit.catalog import load_catalog
from kit.params import OPTION_LABELS, OPTIONS, Scenario
from kit.recommend import recommend
from kit.report import cost_text
from kit.results import Recommendation

e = html.escape

# Who owns each governance duty, per option (seed 000 axis 3, seed 002, seed 003, seed 004). The hybrid
# router is not a column: each of its tiers takes its own column's owners.
DUTY_COLUMNS = ("closed_api", "hosted_open", "self_hosted_open")
DUTIES = (
    (
        "Content filters and abuse controls (guardrails)",
        "vendor: moderation built into the API; you add checks specific to your product",
        "mostly you: the provider serves the model as released; some sell a moderation endpoint",
        "you: a filter or guard model in front of and behind the model, and abuse monitoring",
        "seed 000 axis 3",
    ),
    (
        "Red-teaming and safety evaluation",
        "vendor red-teams the model; you test your own use case",
        "the model's maker red-teamed the release; your use case and any fine-tune are yours",
        "you: the model, every fine-tune (fine-tuning can strip safety alignment) and your use case",
        "seed 000 axis 3",
    ),
    (
        "Model documentation",
        "vendor: model card and system card",
        "maker and provider: the model card, and the provider's notes on how it serves the model",
        "shared: the maker's model card, plus your record of the exact weights, quantisation and settings",
        "seed 000 axis 3; seed 004 audit row",
    ),
    (
        "Audit and explanation",
        "vendor: a black box - you see your inputs, outputs and the vendor's logs",
        "shared: weights open to inspection offline, but the served build and its logs are the provider's",
        "you: weights and activations open to inspection, and your own logs",
        "seed 004 audit row; seed 002 (reproducibility and audit)",
    ),
    (
        "Compliance paperwork (certificates, DPA, BAA)",
        "vendor: certificates such as SOC 2 and signed contracts - read what the default terms allow",
        "provider: its certificates and contracts, often fewer - check each provider",
        "you: your own infrastructure's controls; no model vendor to sign with",
        "seed 002 (SOC 2, HIPAA BAAs; 'assuming closed means compliant'); seed 004 regulatory fit row",
    ),
    (
        "Uptime, support and incidents",
        "vendor: an SLA and paid support; its outages still stop your product",
        "provider: an SLA if offered; community support for the model itself",
        "you: on-call around the clock; community support",
        "seed 000 axis 3; seed 003 (outages, the 2 a.m. page)",
    ),
    (
        "Deciding which uses are allowed",
        "vendor: its usage policy, which it may change (policy lock-in)",
        "provider: its terms, on top of the model's licence",
        "you: your own policy, within the model licence and its acceptable use policy",
        "seed 000 axis 3; seed 001",
    ),
    (
        "Model changes and upgrades",
        "vendor: decides when a model changes or retires",
        "provider: decides when it stops serving a model",
        "you: pin the weights, choose when to upgrade, and re-test each time",
        "seed 003 (silent upgrades; an upgrade is a re-tuning project)",
    ),
)


def _result(s: Scenario, result: Recommendation | None) -> Recommendation:
    return result or recommend(s, with_flips=False, with_sweep=False)


def reach_table(s: Scenario, result: Recommendation | None = None) -> pd.DataFrame:
    """Return, per option, whether the scenario's data may reach it (and why not), its monthly cost, and the pick."""
    r = _result(s, result)
    rows, said = [], set()
    for o in OPTIONS:
        why = r["not_allowed"].get(o)
        reach = "yes" if why is None else ("no - the same rule" if why in said else f"no - {why}")
        said.add(why)
        rows.append(
            {
                "option": OPTION_LABELS[o],
                "may the data go there?": reach,
                "monthly cost": cost_text(r, o),
                "recommended": "<- this one" if o == r["choice"] else "",
            }
        )
    return pd.DataFrame(rows).set_index("option")


def _owner(text: str) -> str:
    """Return who carries a duty, from the start of its cell: 'you', 'shared' or 'them'."""
    head = text.split(":", 1)[0]
    return "you" if head in ("you", "mostly you") else ("shared" if head == "shared" else "them")


def duties_table() -> pd.DataFrame:
    """Return who owns each governance duty under a closed API, hosted open weights and self-hosting."""
    rows = [
        {"duty": d[0], **{OPTION_LABELS[o]: d[1 + i] for i, o in enumerate(DUTY_COLUMNS)}, "source": d[4]}
        for d in DUTIES
    ]
    return pd.DataFrame(rows).set_index("duty")


def duties_on_you(option: str) -> list[str]:
    """Return the duties your team carries (alone or mostly) under ``option`` (for the hybrid: under any tier)."""
    cols = DUTY_COLUMNS if option == "hybrid" else (option,)
    return [d[0] for d in DUTIES if any(_owner(d[1 + DUTY_COLUMNS.index(o)]) == "you" for o in cols)]


def _tiers(r: Recommendation) -> list[str]:
    """Return the options whose duties apply: the choice, or the hybrid's tiers that carry traffic."""
    if r["choice"] != "hybrid":
        return [r["choice"]]
    return [o for o in DUTY_COLUMNS if r["router"]["share"].get(o, 0) > 0]


def duties_html(s: Scenario, result: Recommendation | None = None) -> str:
    """Return the duties table with the recommended option's columns marked, and who carries them on your team."""
    r = _result(s, result)
    tiers = _tiers(r)
    head = "".join(
        f'<th style="{"background:#eef6ee" if o in tiers else ""}">{e(OPTION_LABELS[o])}'
        f"{' (recommended)' if o in tiers else ''}</th>"
        for o in DUTY_COLUMNS
    )
    body = "".join(
        f"<tr><td><b>{e(d[0])}</b></td>"
        + "".join(
            f'<td style="{"background:#eef6ee" if o in tiers else ""}">{e(d[1 + i])}</td>'
            for i, o in enumerate(DUTY_COLUMNS)
        )
        + "</tr>"
        for d in DUTIES
    )
    mine = sorted({d for o in tiers for d in duties_on_you(o)}, key=[d[0] for d in DUTIES].index)
    team = s["team_fte"]
    count = f"{len(mine)} {'duty falls' if len(mine) == 1 else 'duties fall'}"
    if not mine:
        who = "Under this choice no duty falls mainly on your team: the vendor's governance package carries it."
    elif team <= 0:
        who = (
            f"Under this choice {count} on your team, and you have no one to own them: hire or contract before launch."
        )
    else:
        who = f"Under this choice {count} on your team of {team:g} FTE: " + "; ".join(x.lower() for x in mine) + "."
    return (
        f'<div class="kit-panel" style="margin-bottom:10px"><b>Recommended: {e(r["choice_label"])}.</b> {e(who)}'
        f'<table class="kit-table" style="font-size:12px;margin-top:6px"><tr><th>duty</th>{head}</tr>{body}'
        "</table></div>"
    )


def launch_plan(s: Scenario, result: Recommendation | None = None) -> pd.DataFrame:
    """Return the pieces the recommended option must build before launch, each with its engineer-weeks and source
    (data/assumptions.yaml), and a last row with the calendar weeks if the whole team works on nothing else."""
    r = _result(s, result)
    cat = load_catalog()
    a = cat.a
    tiers = _tiers(r)
    pieces = [("Calls through the vendor's or provider's SDK, behind your own wrapper", 0.0,
               "the same for every option, so the kit counts no setup for it")]  # fmt: skip
    if r["choice"] == "hybrid":
        pieces.append(("A gateway and router, with an evaluation of where to send each request",
                       a("router_setup_weeks"), "router_setup_weeks (kit assumption)"))  # fmt: skip
    if "self_hosted_open" in tiers:
        pieces.append(("Self-hosted serving: inference engine, batching, monitoring, on-call",
                       a("setup_weeks"), "setup_weeks (seed 002: four to six weeks of senior-engineer time)"))  # fmt: skip
        if s["needs_finetuning"]:
            pieces.append(("A fine-tuning pipeline (e.g. LoRA with Axolotl or Unsloth)",
                           a("finetune_setup_weeks"), "finetune_setup_weeks (seed 002: another week)"))  # fmt: skip
    total = sum(w for _, w, _ in pieces)
    team = s["team_fte"]
    if total == 0:
        calendar = "nothing to build before launch"
    elif team <= 0:
        calendar = "no one to build it: hire or contract first"
    else:
        weeks = total / team
        verdict = "fits" if weeks <= s["weeks_to_launch"] else "does not fit"
        calendar = f"about {weeks:.1f} weeks with {team:g} FTE - {verdict} a launch in {s['weeks_to_launch']} weeks"
    rows = [{"piece": p, "engineer-weeks": f"{w:g}", "source": src} for p, w, src in pieces]
    rows.append({"piece": "Total, and the calendar", "engineer-weeks": f"{total:g}", "source": calendar})
    return pd.DataFrame(rows).set_index("piece")


def launch_html(s: Scenario, result: Recommendation | None = None) -> str:
    """Return the launch plan of ``s`` as a panel headed by the recommended option."""
    r = _result(s, result)
    table = launch_plan(s, r).to_html(classes="kit-table", border=0)
    return (
        f'<div class="kit-panel" style="margin-bottom:10px"><b>What {e(r["choice_label"])} needs before '
        f"launch</b>{table}</div>"
    )


def reach_html(s: Scenario, result: Recommendation | None = None) -> str:
    """Return the reach table of ``s`` as a panel."""
    table = reach_table(s, _result(s, result)).to_html(classes="kit-table", border=0)
    return (
        f'<div class="kit-panel" style="margin-bottom:10px"><b>Where this data may go ({e(s["sensitivity"])}, '
        f"vendor terms {e(s['vendor_terms'])})</b>{table}</div>"
    )
