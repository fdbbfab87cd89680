"""Validate a notebook's parameters against the one spec before anything runs."""

from __future__ import annotations

import ast
import html
from collections.abc import Sequence
from typing import Any

from IPython import get_ipython

from kit.catalog import load_catalog, profile_params
from kit.cost import (
    frame,
    resolve_models,
)
from kit.errors import ParamError
from kit.params import (
    NOTEBOOK_SPEC,
    Scenario,
    validate,
)

e = html.escape

INJECTED_HEADER = "# Parameters"  # the first line of the cell papermill injects after the parameters cell


def _assigned(source: str) -> dict[str, Any]:
    """Return the names a cell assigns, each with its value (or the source text of a non-literal value)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            text = ast.get_source_segment(source, node.value) or "?"
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, SyntaxError, TypeError, RecursionError):
                value = text
            out.update({t.id: value for t in node.targets if isinstance(t, ast.Name)})
    return out


def check_injected(notebook: str, history: Sequence[str] | None = None) -> None:
    """Refuse parameters injected by papermill that this notebook's parameters cell does not define.

    ``history``: the sources of the cells run so far (IPython's ``In``; read from the running kernel when
    omitted). Outside papermill there is no injected cell and nothing to check.
    """
    if history is None:
        shell = get_ipython()
        history = shell.user_ns.get("In", []) if shell is not None else []
    cells = [str(c) for c in history]
    found = [i for i, c in enumerate(cells) if c.lstrip().startswith(INJECTED_HEADER)]
    if not found or found[-1] == 0:
        return
    own = _assigned(cells[found[-1] - 1])
    for name, value in _assigned(cells[found[-1]]).items():
        if name not in own:
            raise ParamError(name, value, "a parameter of this notebook: " + ", ".join(own), f"notebook {notebook}")


def scenario(notebook: str, **values: Any) -> Scenario:
    """Validate a notebook's parameters against the spec; raise ParamError naming notebook, input and range."""
    context = f"notebook {notebook}"
    check_injected(notebook)
    s = Scenario.make(values, context=context)
    try:  # unknown model ids fail here, not three cells later
        resolve_models(frame([s]), load_catalog())
    except ParamError as exc:
        raise ParamError(exc.param, exc.value, exc.allowed, context) from None
    return s


def profile(name: str, notebook: str = "") -> Scenario:
    """Return a usage profile of data/profiles.yaml as a validated scenario."""
    return scenario(notebook or f"profile {name}", **profile_params(name))


def model_ids(s: Scenario) -> dict[str, str]:
    """Return the closed and open model a scenario compares ('auto' resolved by quality need)."""
    row = resolve_models(frame([s]), load_catalog()).iloc[0]
    return {"closed": row.closed_ref, "open": row.open_id}


def inputs(notebook: str, **values: Any) -> dict[str, Any]:
    """Validate a notebook's non-scenario parameters (e.g. model, prompt) against the spec; raise ParamError."""
    check_injected(notebook)
    return validate(values, context=f"notebook {notebook}", partial=True, spec=NOTEBOOK_SPEC)
