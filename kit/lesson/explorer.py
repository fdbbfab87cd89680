"""Explorers: sliders for some inputs and a view the engine redraws on every change."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w

from kit.errors import DataError, ParamError
from kit.fmt import value_text
from kit.lesson.figures import _page
from kit.params import (
    NOTEBOOK_SPEC,
    SPEC,
    Scenario,
)
from kit.widgets import build_controls, read_values

e = html.escape


class Explorer:
    """Sliders for some inputs and a view the engine redraws on every change.

    Displayed live it is a widget; read without a kernel it is the static view of the starting scenario.
    """

    def __init__(
        self,
        base: Scenario,
        names: Sequence[str],
        view: Callable[..., str],
        title: str,
        extras: dict[str, Any] | None = None,
    ):
        self.base, self.view, self.title = base, view, title
        self.controls = build_controls(list(names))
        start = {**base.to_dict(), **(extras or {})}
        for name, control in self.controls.items():
            control.value = start[name]
            control.observe(self._changed, names="value")
        self.static = view(base, **self.extras())
        self.output = w.HTML(self.static)
        self.message = w.HTML("")
        grid = w.GridBox(
            list(self.controls.values()),
            layout=w.Layout(grid_template_columns="repeat(2, minmax(260px, 1fr))", width="100%"),
        )
        self.widget = w.VBox(
            [w.HTML(f"<b>{e(title)}</b>"), grid, self.message, self.output], layout=w.Layout(width="100%")
        )
        self.widget.add_class("kit-explorer")

    def scenario(self) -> Scenario:
        """Return the scenario the controls describe now."""
        values = read_values(self.controls)
        return self.base.replace(**{k: v for k, v in values.items() if k in SPEC})

    def extras(self) -> dict[str, Any]:
        """Return the values of controls that are not scenario inputs (e.g. the routing threshold)."""
        return {k: v for k, v in read_values(self.controls).items() if k not in SPEC}

    def _changed(self, change: Any = None) -> None:
        try:
            page = self.view(self.scenario(), **self.extras())
        except (ParamError, DataError) as exc:
            self.message.value = f'<div class="kit-app"><div class="kit-status-error">{e(str(exc))}</div></div>'
            return
        self.message.value = ""
        self.output.value = page

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        now = {**self.base.to_dict(), **self.extras()}
        values = ", ".join(f"{NOTEBOOK_SPEC[n].title} = {_shown(n, now[n])}" for n in self.controls)
        bundle["text/html"] = _page(
            f'<p class="muted"><b>{e(self.title)}</b> (static view; run the notebook '
            f"to move the sliders) - {e(values)}</p>",
            self.static,
        )
        bundle["text/plain"] = f"{self.title}: run this notebook in JupyterLab to explore ({values})"
        return bundle


def explore(
    base: Scenario, names: Sequence[str], view: Callable[..., str], title: str, extras: dict[str, Any] | None = None
) -> Explorer:
    """Return an explorer over inputs ``names`` of ``base`` (and non-scenario ``extras``), redrawn by ``view``."""
    return Explorer(base, names, view, title, extras)


def _shown(name: str, value: Any) -> str:
    if name in SPEC:
        return value_text(name, value)
    return f"{value:g}" if isinstance(value, float) else str(value)
