"""The Voila app for managers: functions that build and return widgets, one function that wires them.

No cost or rule lives here: callbacks read the controls, call the engine and show what it returns.
"""

from __future__ import annotations

import base64
import contextlib
import html
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import anywidget
import ipywidgets as w
import traitlets as t

from kit import charts, report, scenario_io, uncertainty
from kit.catalog import load_catalog
from kit.cost import volume_sweep
from kit.errors import KitError, ParamError, one_line
from kit.fmt import driver_sentence, time_sentence
from kit.params import OPTION_LABELS, PARAMS, SPEC, Param, Scenario
from kit.recommend import decision_map, extend, recommend
from kit.results import Recommendation
from kit.style import COLORS, STYLE
from kit.widgets import build_controls, read_values

log = logging.getLogger("kit.app")

GROUPS = (
    ("cost", "Volume & traffic", "Drives the cost axis: what you would pay per month under each option."),
    ("control", "Data & control", "Drives control & residency and security & governance."),
    ("ecosystem", "Team & timeline", "Drives ecosystem & support, and who could run a self-hosted model."),
    ("parity", "Quality & latency", "Drives performance parity and the hybrid router."),
    (
        "weights",
        "How much each axis counts",
        "Seed 000: weight the five axes by your own constraints. Used when no checklist question decides; "
        "0 ignores an axis, 1 is the default.",
    ),
)
ADVANCED_TITLE = "Advanced: models, GPUs and prices"
LIVE_CHART = "live"  # axes and costs, drawn together in the browser
SURE_CHARTS = ("tornado", "time")  # the How-sure panel's two charts, rendered to SVG on the server


@dataclass
class UI:
    """Every widget of the app, by role."""

    root: w.Widget
    controls: dict[str, w.Widget]
    preset: w.Dropdown
    status: w.HTML
    header: w.HTML
    card: w.HTML
    flips: w.HTML
    hangs: w.HTML  # "What it hangs on": the top drivers, under "what would flip it"
    sure: w.Box  # the How-sure panel: tornado and time charts, payback
    sure_text: w.HTML
    charts: dict[str, w.Widget]
    memo_button: w.Button
    memo_links: w.HTML
    save_link: w.HTML
    share: w.HTML
    upload: ScenarioUpload


@dataclass
class State:
    """What the app remembers between callbacks: the last good answer survives any error."""

    scenario: Scenario | None = None
    result: Recommendation | None = None
    charts: dict[str, alt.Chart] = field(default_factory=dict)
    profile: str | None = None
    holding: bool = False
    timings: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------- the upload button

UPLOAD_ESM = """
function render({ model, el }) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "kit-upload-button";
  const input = document.createElement("input");
  input.type = "file";
  input.style.display = "none";
  const draw = () => {
    button.textContent = model.get("description");
    input.accept = model.get("accept");
  };
  draw();
  model.on("change:description", draw);
  model.on("change:accept", draw);
  button.addEventListener("click", () => { input.value = ""; input.click(); });
  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    input.value = "";  // choosing the same file again is a new upload
    if (!file) return;
    const item = { name: file.name, size: file.size, type: file.type, last_modified: file.lastModified };
    // A file over the limit is announced by name and size only: its content never leaves the browser.
    let content = new ArrayBuffer(0);
    if (file.size <= model.get("max_bytes")) {
      try { content = await file.arrayBuffer(); } catch (e) { item.error = String(e); }
    }
    item.content = new DataView(content);
    model.set("value", [item]);
    model.save_changes();
  });
  el.append(button, input);
}
export default { render };
"""


class ScenarioUpload(anywidget.AnyWidget):
    """'Load scenario': reads one file in the browser and sends its content only when it is small enough.

    ``value`` has FileUpload's shape, ``[{name, size, type, last_modified, content}]``; a file over
    ``max_bytes`` arrives with empty content. (ipywidgets' FileUpload sends all of it, and a message over
    the server's 10 MiB websocket limit closes the page's connection to its kernel: the app froze.)
    """

    _esm = UPLOAD_ESM
    description = t.Unicode("Load scenario").tag(sync=True)
    accept = t.Unicode(".json").tag(sync=True)
    max_bytes = t.Int(scenario_io.MAX_FILE_BYTES).tag(sync=True)
    value = t.List(t.Dict()).tag(sync=True)


# ---------------------------------------------------------------- builders (return widgets)


_FIXED: dict[str, w.Widget] = {}


def fixed_html(value: str) -> w.HTML:
    """A piece of text that never changes its look: all share one Layout and one style model.

    Each widget otherwise brings two more models that the page must fetch from the kernel before it shows
    anything; the app's fixed texts (help lines, titles) are about a third of its models.
    """
    if not _FIXED or _FIXED["layout"].comm is None:  # first use, or closed (tests close widgets between apps)
        _FIXED.update(layout=w.Layout(), style=w.widgets.widget_string.HTMLStyle())
    return w.HTML(value, layout=_FIXED["layout"], style=_FIXED["style"])


def _help(p: Param) -> w.HTML:
    unit = f"<b>{html.escape(p.unit)}</b> · " if p.unit and p.kind in ("int", "float") else ""
    return fixed_html(f'<div class="kit-help">{unit}{html.escape(p.help)}</div>')


def build_inputs(controls: dict[str, w.Widget], preset: w.Dropdown, take_away: w.Widget) -> w.VBox:
    """Return the input column: preset picker, the controls grouped by axis, then advanced ones."""
    parts: list[w.Widget] = [fixed_html('<div class="kit-group-title">Start from a situation</div>'), preset]
    for axis, title, blurb in GROUPS:
        members = [p for p in PARAMS if p.axis == axis and (p.flip or axis == "weights")]
        parts.append(fixed_html(f'<div class="kit-group-title">{title}</div><div class="kit-group-help">{blurb}</div>'))
        for p in members:
            parts += [controls[p.name], _help(p)]
    advanced = [w.VBox([controls[p.name], _help(p)]) for p in PARAMS if not p.flip and p.axis != "weights"]
    acc = w.Accordion(children=[w.VBox(advanced)], selected_index=None, layout=w.Layout(width="98%"))
    acc.set_title(0, ADVANCED_TITLE)
    parts += [acc, take_away]
    return w.VBox(parts, layout=w.Layout(width="100%"))


def build_preset() -> w.Dropdown:
    """Return the preset picker over the usage profiles."""
    cat = load_catalog()
    options = [("Custom (defaults)", "")] + [(p["title"], name) for name, p in cat.profiles.items()]
    picker = w.Dropdown(
        options=options,
        value="",
        description="Profile",
        style={"description_width": "128px"},
        layout=w.Layout(width="98%"),
    )
    picker.add_class("kit-preset")
    return picker


def build_sure(boxes: list[w.Widget]) -> tuple[w.Box, w.HTML]:
    """Return the How-sure panel (a title, the two chart boxes side by side, a line of text) and its text line."""
    title = fixed_html(
        '<div class="kit-sure-title"><b>How sure</b> <span class="muted">what the answer hangs on, and the costs '
        "over three years</span></div>"
    )
    text = w.HTML()
    # the tornado's labels make it the wider of the two (about 500 px against 350 at their app widths)
    grid = w.GridBox(boxes, layout=w.Layout(grid_template_columns="10fr 7fr", grid_gap="10px"))
    panel = w.VBox([title, grid, text], layout=w.Layout(overflow="hidden"))
    panel.add_class("kit-panel")
    panel.add_class("kit-sure")
    return panel, text


def build_ui() -> UI:
    """Build every widget of the app and lay them out; no callbacks yet."""
    cat = load_catalog()
    controls = build_controls()
    preset = build_preset()
    status = w.HTML()
    stale = cat.stale_warning()
    badge = (
        f'<span class="kit-badge stale" title="{html.escape(stale)}">prices as of {cat.prices_as_of()} – stale</span>'
        if stale
        else f'<span class="kit-badge">prices as of {cat.prices_as_of()}</span>'
    )
    header = fixed_html(
        f'<div class="kit-header"><div class="kit-title">Closed API, open weights, or both?</div>'
        f'<div class="kit-sub">Describe your situation on the left; the recommendation, its reasons, '
        f"the costs and what would change the answer update as you go.{badge}</div></div>"
    )
    card = w.HTML()
    flips = w.HTML()
    charts.enable_offline()  # Vega comes from vl-convert's bundle, not a CDN
    placeholder = alt.Chart(alt.Data(values=[])).mark_point()
    # The two charts that follow every slider are drawn in the browser (fast updates); the two that
    # need the volume sweep are rendered to SVG on the server in the second phase (one Vega bundle
    # per page instead of four).
    chart_boxes: dict[str, w.Widget] = {
        LIVE_CHART: alt.JupyterChart(placeholder, embed_options={"renderer": "svg", "actions": False}),
        "volume": w.HTML(),
        "map": w.HTML(),
        **{key: w.HTML() for key in SURE_CHARTS},
    }
    for key, box in chart_boxes.items():
        box.add_class("kit-chart")
        box.add_class(f"kit-chart-{key}")
    memo_button = w.Button(description="Prepare decision memo", layout=w.Layout(width="auto"))
    memo_button.style.button_color = COLORS["closed_api"]
    memo_button.style.text_color = "white"
    memo_button.add_class("kit-memo")
    memo_links = w.HTML()
    save_link = w.HTML()
    share = w.HTML()
    share.add_class("kit-share")
    upload = ScenarioUpload(layout=w.Layout(width="auto"))
    upload.add_class("kit-upload")
    take_away = w.VBox(
        [
            fixed_html(
                '<div class="kit-group-title">Take it away</div>'
                '<div class="kit-group-help">A memo for the meeting; the scenario to reload later.</div>'
            ),
            w.HBox([memo_button, upload], layout=w.Layout(flex_flow="row wrap", grid_gap="6px")),
            memo_links,
            save_link,
            share,
        ]
    )
    inputs = build_inputs(controls, preset, take_away)
    card.add_class("kit-panel")
    hangs = w.HTML()
    side = w.VBox([flips, hangs])  # what would flip it, and what it hangs on, in one panel
    side.add_class("kit-panel")
    panels = {}
    for key, box in chart_boxes.items():
        if key in SURE_CHARTS:
            continue
        panels[key] = w.Box([box], layout=w.Layout(overflow="hidden"))
        panels[key].add_class("kit-panel")
    sure, sure_text = build_sure([chart_boxes[k] for k in SURE_CHARTS])
    answer_top = w.GridBox([card, side], layout=w.Layout(grid_template_columns="3fr 2fr", grid_gap="10px"))
    chart_grid = w.GridBox(
        [panels["volume"], panels["map"]], layout=w.Layout(grid_template_columns="1fr 1fr", grid_gap="10px")
    )
    answer = w.VBox(
        [status, answer_top, panels[LIVE_CHART], sure, chart_grid], layout=w.Layout(width="100%", grid_gap="10px")
    )
    body = w.GridBox(
        [inputs, answer],
        layout=w.Layout(grid_template_columns="minmax(330px, 380px) 1fr", grid_gap="16px", width="100%"),
    )
    root = w.VBox([fixed_html(STYLE), header, body], layout=w.Layout(width="100%", padding="0 8px"))
    root.add_class("kit-app")
    return UI(
        root=root,
        controls=controls,
        preset=preset,
        status=status,
        header=header,
        card=card,
        flips=flips,
        hangs=hangs,
        sure=sure,
        sure_text=sure_text,
        charts=chart_boxes,
        memo_button=memo_button,
        memo_links=memo_links,
        save_link=save_link,
        share=share,
        upload=upload,
    )


# ---------------------------------------------------------------- reading and writing controls


@contextlib.contextmanager
def holding(state: State) -> Iterator[None]:
    """Hold updates while several controls move; released whatever happens (nested holds are fine)."""
    before, state.holding = state.holding, True
    try:
        yield
    finally:
        state.holding = before


def _fits(ctl: w.Widget, name: str, value: Any) -> bool:
    """Return whether ``ctl`` offers ``value`` already (False: a catalog model to add to its list).

    Raise ParamError when the control cannot show it at all.
    """
    if isinstance(ctl, w.Dropdown):
        options = [o[1] if isinstance(o, tuple) else o for o in ctl.options]
        if value in options:
            return True
        if SPEC[name].kind == "model":  # a valid catalog model the list does not offer yet
            return False
        raise ParamError(name, value, "one of " + ", ".join(map(str, options)))
    if isinstance(ctl, (w.IntSlider, w.FloatSlider)) and not ctl.min <= value <= ctl.max:
        raise ParamError(name, value, f"from {ctl.min} to {ctl.max}")
    return True


def set_values(ui: UI, state: State, values: dict[str, Any]) -> None:
    """Move the controls to ``values`` without triggering an update per control.

    Every value is checked against its control first, so a value a control cannot show moves nothing;
    should a control refuse one anyway, the controls go back to where they were.
    """
    missing = [name for name, value in values.items() if not _fits(ui.controls[name], name, value)]
    before = {name: ui.controls[name].value for name in values}
    with holding(state):
        try:
            for name in missing:
                ui.controls[name].options = [*ui.controls[name].options, values[name]]
            for name, value in values.items():
                ui.controls[name].value = value
        except Exception:
            for name, value in before.items():
                with contextlib.suppress(Exception):
                    ui.controls[name].value = value
            raise


# ---------------------------------------------------------------- showing results


def _download(text: str, filename: str, mime: str, label: str) -> str:
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return (
        f'<a class="kit-download" download="{html.escape(filename)}" '
        f'href="data:{mime};charset=utf-8;base64,{data}">{html.escape(label)}</a>'
    )


def show_live(ui: UI, state: State, axes: alt.Chart, costs: alt.Chart) -> None:
    """Send the axes and cost charts to the browser, which draws them (no validation pass)."""
    state.charts.update(axes=axes, costs=costs)
    ui.charts[LIVE_CHART].spec = charts.side_by_side(axes, costs)


def show_svg(ui: UI, state: State, key: str, chart: alt.Chart) -> None:
    """Render a chart to SVG on the server and show it."""
    state.charts[key] = chart
    ui.charts[key].value = charts.svg(chart, scope=key)


def hangs_html(block: dict[str, Any]) -> str:
    """Return 'What it hangs on': the top drivers of an uncertainty summary as sentences."""
    e = html.escape
    table = block["tornado"]
    if block["drivers"]:
        items = "".join(f"<li>{e(driver_sentence(d))}</li>" for d in block["drivers"])
        body = f"<ul>{items}</ul>"
    elif len(table):
        first, second = (OPTION_LABELS[table[k].iloc[0]] for k in ("first", "second"))
        body = f"<p>No range moves the cost gap between {e(first)} and {e(second)}.</p>"
    else:
        body = "<p>Fewer than two options are allowed: there is no cost gap to move.</p>"
    return (
        '<div class="kit-hangs"><b>What it hangs on</b> <span class="muted">(the plausible ranges that move the '
        f"cost gap between the two cheapest options most)</span>{body}</div>"
    )


def show_sure(ui: UI, state: State, block: dict[str, Any]) -> None:
    """Show how sure the answer is: the drivers beside the flips, the tornado and time charts, the payback."""
    ui.hangs.value = hangs_html(block)
    show_svg(ui, state, "tornado", charts.tornado_chart(block["tornado"], width=260))
    show_svg(ui, state, "time", charts.time_chart(block["time"], width=280, height=180))
    ui.sure_text.value = (
        f'<div class="kit-payback">{html.escape(time_sentence(block))}</div>'
        f'<div class="muted">{html.escape(block["note"])}.</div>'
    )


def show_error(ui: UI, message: str) -> None:
    """Show a readable message above the (unchanged) last good answer."""
    ui.status.value = (
        f'<div class="kit-status-error" role="alert"><b>That input cannot be used.</b> '
        f"{html.escape(message)} The last good answer is still shown.</div>"
    )


def show_unexpected(ui: UI, what: str, exc: BaseException) -> None:
    """The last resort: log the traceback on the server, show one readable line on the page."""
    log.error("%s failed", what, exc_info=exc)
    show_error(ui, f"Something unexpected went wrong while {what} ({type(exc).__name__}: {one_line(str(exc), 200)}).")


@contextlib.contextmanager
def reported(ui: UI, doing: str, prefix: str = "") -> Iterator[list[BaseException]]:
    """Run the block; show a KitError's one line (after ``prefix``) or a readable line for anything else.

    Yields a list that holds the error when the block failed, so the caller can stop: the last good
    answer stays on screen and nothing after the failure runs.
    """
    failed: list[BaseException] = []
    try:
        yield failed
    except KitError as exc:
        failed.append(exc)
        show_error(ui, f"{prefix}{exc}")
    except Exception as exc:  # the page must never show a traceback
        failed.append(exc)
        show_unexpected(ui, doing, exc)


def refresh(ui: UI, state: State) -> None:
    """Recompute and redraw everything for the current controls; never raise."""
    if state.holding:
        return
    with reported(ui, "updating the answer") as failed:
        t0 = time.perf_counter()
        scenario = Scenario.make(read_values(ui.controls))
        quick = recommend(scenario, with_flips=False, with_sweep=False)
        ui.card.value = report.card_html(quick)
        show_live(ui, state, charts.axes_chart(quick["axes"]), charts.cost_chart(quick["breakdown"], quick["choice"]))
        ui.status.value = (
            '<div class="kit-status-busy">Working out how sure (plausible worlds), break-even points, decision map '
            "and flips…</div>"
        )
        t1 = time.perf_counter()
        sweep = volume_sweep(scenario)
        block = uncertainty.summary(scenario, choice=quick["choice"])
        # the card only needs how sure it is: shown now, before the slower flips (they do not change the card)
        ui.card.value = report.card_html(uncertainty.assess(quick, scenario, block=block))
        t2 = time.perf_counter()
        show_sure(ui, state, block)
        ui.status.value = '<div class="kit-status-busy">Updating break-even points, decision map and flips…</div>'
        full = uncertainty.assess(extend(quick, scenario, sweep=sweep), scenario, block=block)
        grid = decision_map(scenario)
        show_svg(ui, state, "volume", charts.volume_chart(sweep, full["break_even"], scenario["monthly_requests"]))
        show_svg(ui, state, "map", charts.map_chart(grid, scenario["monthly_requests"], scenario["sensitivity"]))
        ui.flips.value = report.flips_html(full["flip"])
        ui.card.value = report.card_html(full)  # the same card as above (nothing is sent when unchanged)
        state.scenario, state.result = scenario, full
        ui.save_link.value = _download(
            scenario_io.to_json(scenario, state.profile), "scenario.json", "application/json", "Save scenario (JSON)"
        )
        query = scenario_io.to_query(scenario, state.profile)
        ui.share.value = f'<div class="muted">Link to this scenario: <code>?{html.escape(query)}</code></div>'
        ui.memo_links.value = ""
        ui.status.value = ""
        state.timings = {"quick_s": t1 - t0, "sure_s": t2 - t0, "full_s": time.perf_counter() - t0}
    if failed and state.result is not None:
        show_last_good(ui, state)


def show_last_good(ui: UI, state: State) -> None:
    """Put the last good answer's card and live chart back (a failure after the quick card replaced them)."""
    r = state.result
    with reported(ui, "showing the last good answer"):
        ui.card.value = report.card_html(r)
        show_live(ui, state, charts.axes_chart(r["axes"]), charts.cost_chart(r["breakdown"], r["choice"]))


def apply_preset(ui: UI, state: State, name: str) -> None:
    """Move every control to the profile's values (defaults for the rest), then update once."""
    with reported(ui, "applying the profile") as failed:
        profile = scenario_io.check_profile(name or None)
        values = Scenario.make(load_catalog().profiles[profile]["params"] if profile else {}).to_dict()
        set_values(ui, state, values)
    if failed:
        return
    state.profile = profile
    refresh(ui, state)


def apply_scenario(ui: UI, state: State, scenario: Scenario, profile: str | None) -> bool:
    """Show a loaded or linked scenario; return False (and say why) if it could not be shown."""
    with reported(ui, "showing the scenario") as failed:
        presets = [value for _, value in ui.preset.options]
        if (profile or "") not in presets:
            raise ParamError("profile", profile, "one of " + ", ".join(v for v in presets if v))
        with holding(state):
            set_values(ui, state, scenario.to_dict())
            ui.preset.value = profile or ""
    if failed:
        return False
    state.profile = profile
    refresh(ui, state)
    return True


def prepare_memo(ui: UI, state: State) -> None:
    """Build the memo from the last good answer and offer it as two downloads."""
    if state.result is None:
        show_error(ui, "There is no answer yet to write up.")
        return
    with reported(ui, "writing the memo", prefix="The memo could not be written: "):
        md = report.memo_markdown(state.result)
        ui.memo_links.value = '<div class="kit-status-busy">Writing the memo…</div>'
        page = report.memo_html(state.result, {k: charts.svg(c, scope=k) for k, c in state.charts.items()})
        ui.memo_links.value = _download(md, "decision-memo.md", "text/markdown", "Memo (Markdown)") + _download(
            page, "decision-memo.html", "text/html", "Memo (HTML)"
        )


def load_upload(ui: UI, state: State) -> None:
    """Read an uploaded scenario file; a bad file gives a message and changes nothing.

    The size is checked before the content is touched; the button is emptied whatever happens, so the
    next file (even the same one) is a new upload.
    """
    files = ui.upload.value
    if not files:
        return
    with reported(ui, "reading the file") as failed:
        item = files[0]
        name = scenario_io.file_label(item.get("name"))
        content = item.get("content") or b""
        scenario_io.check_size(max(int(item.get("size") or 0), memoryview(content).nbytes), name)
        if item.get("error"):
            raise scenario_io.ScenarioFileError(
                f"'{name}' could not be read by the browser ({one_line(str(item['error']), 120)})."
            )
        scenario, profile = scenario_io.from_json(bytes(content), name=name)
    ui.upload.value = []  # emptied whatever happened: the next file, even the same one, is a new upload
    if failed:
        return
    apply_scenario(ui, state, scenario, profile)


# ---------------------------------------------------------------- wiring


def wire(ui: UI, state: State) -> None:
    """Connect the widgets to the callbacks."""
    for ctl in ui.controls.values():
        ctl.observe(lambda change: refresh(ui, state), names="value")
    ui.preset.observe(lambda change: None if state.holding else apply_preset(ui, state, change["new"]), names="value")
    ui.memo_button.on_click(lambda _: prepare_memo(ui, state))
    ui.upload.observe(lambda change: load_upload(ui, state), names="value")


def query_string() -> str | None:
    """Return the page's URL query when served by Voila (waits for the visitor when kernels are pre-heated)."""
    if "VOILA_KERNEL_ID" not in os.environ and "VOILA_PREHEAT" not in os.environ:
        return None
    from voila.utils import get_query_string  # delayed: only a kernel started by Voila has a query to read

    return get_query_string()


def warm_up() -> None:
    """Load data and start the chart renderer (at pre-heat time, before any visitor; at the visit itself when no
    kernel is pre-heated, as on a hub's /voila/render).

    The default answer itself is not worked out here: ``main`` builds it next, at pre-heat time too (Voila runs
    the notebook until ``query_string`` waits for the visitor), so doing it here as well doubled the heating
    work of every pooled kernel.
    """
    load_catalog()
    charts.enable_offline()
    charts.warm_up()


def build_app() -> tuple[UI, State]:
    """Build and wire the app and draw the default answer (no display)."""
    ui, state = build_ui(), State()
    wire(ui, state)
    refresh(ui, state)
    return ui, state


def apply_query(ui: UI, state: State, query: str | None) -> None:
    """Show the scenario named by a URL query; ignored parameters are reported, not fatal."""
    if not query:
        return
    with reported(ui, "reading the link", prefix="The link's parameters were ignored: ") as failed:
        scenario, profile, problems = scenario_io.from_query(query)
    if failed:
        return
    if apply_scenario(ui, state, scenario, profile) and problems:
        show_error(ui, "Some link parameters were ignored: " + "; ".join(problems) + ".")


def main() -> None:
    """Show the app; then apply the visitor's URL query (the app notebook's one call)."""
    from IPython.display import display  # delayed: only a kernel shows the app

    ui, state = build_app()
    display(ui.root)
    try:
        query = query_string()
    except Exception as exc:  # the page still works with the defaults
        show_unexpected(ui, "reading the link", exc)
        return
    apply_query(ui, state, query)
