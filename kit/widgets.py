"""Input widgets generated from the parameter spec, shared by the Voila app and the teaching notebooks."""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as w

from kit.catalog import load_catalog
from kit.params import NOTEBOOK_SPEC, PARAMS, Param


# The look of the kit's cards, lists and messages (app and notebooks), scoped under .kit-app.
STYLE = """
<style>
.kit-app { font-family: Helvetica, Arial, sans-serif; color: #1d2330; }
.kit-app .kit-header { padding: 6px 4px 10px 4px; border-bottom: 1px solid #e3e6ee; margin-bottom: 10px; }
.kit-app .kit-title { font-size: 22px; font-weight: 700; }
.kit-app .kit-sub { color: #5b6272; font-size: 13px; margin-top: 2px; }
.kit-app .kit-badge { display: inline-block; font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #eef2f7; color: #334; margin-left: 6px; }
.kit-app .kit-badge.stale { background: #fff3e0; color: #8a4b00; }
.kit-app .kit-group-title { font-weight: 700; font-size: 14px; margin: 10px 0 0 0; }
.kit-app .kit-group-help { color: #667; font-size: 11.5px; margin-bottom: 4px; }
.kit-app .kit-help { color: #667; font-size: 11px; line-height: 1.25; margin: -4px 0 6px 4px; }
.kit-app .kit-panel { background: #fff; border: 1px solid #e3e6ee; border-radius: 8px; padding: 10px 12px; }
.kit-app .kit-card .kit-eyebrow { text-transform: uppercase; font-size: 11px; letter-spacing: .08em; color: #667; }
.kit-app .kit-card .kit-choice { font-size: 26px; font-weight: 800; margin: 2px 0 4px 0; }
.kit-app .kit-choice.kit-closed_api { color: #3556a3; } .kit-app .kit-choice.kit-hosted_open { color: #1f7a6f; }
.kit-app .kit-choice.kit-self_hosted_open { color: #4a7326; } .kit-app .kit-choice.kit-hybrid { color: #b85b22; }
.kit-app .kit-confidence { display: flex; align-items: center; gap: 8px; font-size: 13px; }
.kit-app .kit-bar { display: inline-block; width: 160px; height: 8px; background: #e9ecf2; border-radius: 4px; overflow: hidden; }
.kit-app .kit-bar > span { display: block; height: 100%; background: #3556a3; }
.kit-app .kit-costline { font-size: 13px; color: #334; margin: 6px 0; }
.kit-app .kit-reasons { margin: 6px 0 4px 0; padding-left: 20px; font-size: 13px; line-height: 1.4; }
.kit-app .kit-warnings { margin: 6px 0 0 0; padding: 6px 10px 6px 26px; background: #fff6e8; border-radius: 6px; color: #7a4300; font-size: 12.5px; }
.kit-app .kit-flips { font-size: 13px; line-height: 1.35; } .kit-app .kit-flips ul { padding-left: 18px; margin: 4px 0; }
.kit-app .kit-flips li, .kit-app .kit-reasons li, .kit-app .kit-warnings li { margin: 2px 0; line-height: 1.35; }
.kit-app .muted { color: #667; font-size: 12px; }
.kit-app .kit-chart svg { max-width: 100%; height: auto; }
.kit-app .kit-status-error { background: #fdecea; color: #8b1a10; border: 1px solid #f5c2bc; border-radius: 6px; padding: 8px 12px; font-size: 13px; }
.kit-app .kit-status-busy { color: #5b6272; font-size: 12px; }
.kit-app a.kit-download { display: inline-block; margin: 4px 8px 0 0; padding: 5px 10px; border-radius: 5px; background: #3556a3; color: #fff !important; text-decoration: none; font-size: 13px; }
.kit-app .widget-label { font-size: 12.5px; }
</style>
"""


def model_options() -> dict[str, list[str]]:
    """Return the choices offered for the two model inputs: 'auto' and the catalog's models."""
    cat = load_catalog()
    closed = cat.prices[cat.prices.kind == "closed_api"]
    return {
        "closed_model": ["auto"] + sorted({t["closed"] for t in cat.tiers.values()}
                                          | set(closed.provider + "/" + closed.model_id)),
        "open_model": ["auto"] + list(cat.open_models.id),
    }


def _slider_step(p: Param) -> float:
    span = p.high - p.low
    return 1 if p.kind == "int" else (0.05 if span <= 1 else (0.5 if span <= 50 else 10_000))


def build_control(p: Param, options: list | None = None) -> w.Widget:
    """Return the input widget for one parameter of the spec."""
    common = dict(description=p.title, tooltip=p.help, style={"description_width": "128px"},
                  layout=w.Layout(width="98%"))
    if p.kind in ("int", "float") and p.log:
        fmt = ".3s" if p.high >= 1e6 else ",.0f"
        return w.FloatLogSlider(value=p.default, base=10, min=math.log10(p.low), max=math.log10(p.high),
                                step=0.01, readout_format=fmt, continuous_update=False, **common)
    if p.kind == "int":
        return w.IntSlider(value=p.default, min=int(p.low), max=int(p.high), step=1, continuous_update=False, **common)
    if p.kind == "float":
        fmt = ",.0f" if p.high >= 10_000 else ".2f"
        return w.FloatSlider(value=p.default, min=p.low, max=p.high, step=_slider_step(p), readout_format=fmt,
                             continuous_update=False, **common)
    if p.kind == "bool":
        return w.Checkbox(value=p.default, indent=False, description=p.title, tooltip=p.help,
                          layout=w.Layout(width="98%"))
    return w.Dropdown(options=options or list(p.choices), value=p.default, **common)


def build_controls(names: list[str] | None = None) -> dict[str, w.Widget]:
    """Return one widget per parameter (all of the scenario, or ``names`` in that order), from the spec."""
    options = model_options()
    chosen = list(PARAMS) if names is None else [NOTEBOOK_SPEC[n] for n in names]
    controls = {p.name: build_control(p, options.get(p.name)) for p in chosen}
    for name, ctl in controls.items():
        ctl.add_class(f"kit-param-{name}")
    return controls


def read_values(controls: dict[str, w.Widget]) -> dict[str, Any]:
    """Return the controls' values with the spec's types (log sliders give floats)."""
    out = {}
    for name, ctl in controls.items():
        value = ctl.value
        if NOTEBOOK_SPEC[name].kind == "int":
            value = int(round(value))
        out[name] = value
    return out
