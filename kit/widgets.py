"""Input widgets generated from the parameter spec, shared by the Voila app and the teaching notebooks."""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as w

from kit.catalog import load_catalog
from kit.params import NOTEBOOK_SPEC, PARAMS, Param
from kit.style import STYLE

__all__ = ["STYLE", "build_control", "build_controls", "model_options", "read_values"]


def model_options() -> dict[str, list[str]]:
    """Return the choices offered for the two model inputs: 'auto' and the catalog's models."""
    cat = load_catalog()
    closed = cat.prices[cat.prices.kind == "closed_api"]
    return {
        "closed_model": ["auto"]
        + sorted({t["closed"] for t in cat.tiers.values()} | set(closed.provider + "/" + closed.model_id)),
        "open_model": ["auto"] + list(cat.open_models.id),
    }


def _slider_step(p: Param) -> float:
    span = p.high - p.low
    return 1 if p.kind == "int" else (0.05 if span <= 1 else (0.5 if span <= 50 else 10_000))


def build_control(p: Param, options: list | None = None) -> w.Widget:
    """Return the input widget for one parameter of the spec."""
    common = dict(
        description=p.title, tooltip=p.help, style={"description_width": "128px"}, layout=w.Layout(width="98%")
    )
    if p.kind in ("int", "float") and p.log:
        fmt = ".3s" if p.high >= 1e6 else ",.0f"
        return w.FloatLogSlider(
            value=p.default,
            base=10,
            min=math.log10(p.low),
            max=math.log10(p.high),
            step=0.01,
            readout_format=fmt,
            continuous_update=False,
            **common,
        )
    if p.kind == "int":
        return w.IntSlider(value=p.default, min=int(p.low), max=int(p.high), step=1, continuous_update=False, **common)
    if p.kind == "float":
        fmt = ",.0f" if p.high >= 10_000 else ".2f"
        return w.FloatSlider(
            value=p.default,
            min=p.low,
            max=p.high,
            step=_slider_step(p),
            readout_format=fmt,
            continuous_update=False,
            **common,
        )
    if p.kind == "bool":
        return w.Checkbox(
            value=p.default, indent=False, description=p.title, tooltip=p.help, layout=w.Layout(width="98%")
        )
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
