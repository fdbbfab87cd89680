"""Helpers for the teaching notebooks: validated parameters, explorers, static figures, quick checks.

Presentation only. Every number comes from the engine (cost, recommend, catalog); this module
turns results into widgets, SVG and tables. Each interactive object also carries a static
rendering, so an executed notebook read without a kernel (papermill, nbconvert, GitHub) still
shows the charts of its scenario.
"""

from __future__ import annotations

import html
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import altair as alt
import ipywidgets as w
import pandas as pd

from kit import charts, report
from kit.catalog import DataError, load_catalog
from kit.cost import break_even, cost_steps, frame, resolve_models, volume_sweep
from kit.fmt import money
from kit.params import AXIS_LABELS, NOTEBOOK_SPEC, OPTION_LABELS, SPEC, ParamError, Scenario, validate
from kit.recommend import checklist, decision_map, recommend, vary
from kit.widgets import STYLE, build_controls, read_values

e = html.escape


# ---------------------------------------------------------------- parameters

def scenario(notebook: str, **values: Any) -> Scenario:
    """Validate a notebook's parameters against the spec; raise ParamError naming notebook, input and range."""
    context = f"notebook {notebook}"
    s = Scenario.make(values, context=context)
    try:  # unknown model ids fail here, not three cells later
        resolve_models(frame([s]), load_catalog())
    except ParamError as exc:
        raise ParamError(exc.param, exc.value, exc.allowed, context) from None
    return s


def profile(name: str, notebook: str = "") -> Scenario:
    """Return a usage profile of data/profiles.yaml as a validated scenario."""
    from kit.catalog import profile_params

    return scenario(notebook or f"profile {name}", **profile_params(name))


def model_ids(s: Scenario) -> dict[str, str]:
    """Return the closed and open model a scenario compares ('auto' resolved by quality need)."""
    row = resolve_models(frame([s]), load_catalog()).iloc[0]
    return {"closed": row.closed_ref, "open": row.open_id}


# ---------------------------------------------------------------- static figures

@dataclass
class Figure:
    """A chart rendered to SVG on the kernel: shows in JupyterLab, nbconvert and on GitHub alike."""

    svg: str
    title: str

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"image/svg+xml": self.svg, "text/plain": f"[chart] {self.title}"}


def figure(chart: alt.TopLevelMixin, scope: str) -> Figure:
    """Return ``chart`` as a static SVG figure; ``scope`` keeps its internal ids unique on the page."""
    title = chart.to_dict(validate=False).get("title", {})
    return Figure(charts.svg(chart, scope), title.get("text", "") if isinstance(title, dict) else str(title))


def _inline(chart: alt.TopLevelMixin, scope: str) -> str:
    return f'<div class="kit-chart">{charts.svg(chart, scope)}</div>'


def _page(*parts: str) -> str:
    return STYLE + '<div class="kit-app">' + "".join(parts) + "</div>"


def _row(*parts: str) -> str:
    return '<div style="display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start">' + "".join(parts) + "</div>"


# ---------------------------------------------------------------- explorers

class Explorer:
    """Sliders for some inputs and a view the engine redraws on every change.

    Displayed live it is a widget; read without a kernel it is the static view of the starting scenario.
    """

    def __init__(self, base: Scenario, names: Sequence[str], view: Callable[..., str], title: str,
                 extras: dict[str, Any] | None = None):
        self.base, self.view, self.title = base, view, title
        self.controls = build_controls(list(names))
        start = {**base.to_dict(), **(extras or {})}
        for name, control in self.controls.items():
            control.value = start[name]
            control.observe(self._changed, names="value")
        self.static = view(base, **self.extras())
        self.output = w.HTML(self.static)
        self.message = w.HTML("")
        grid = w.GridBox(list(self.controls.values()),
                         layout=w.Layout(grid_template_columns="repeat(2, minmax(260px, 1fr))", width="100%"))
        self.widget = w.VBox([w.HTML(f"<b>{e(title)}</b>"), grid, self.message, self.output],
                             layout=w.Layout(width="100%"))
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
        bundle["text/html"] = _page(f'<p class="muted"><b>{e(self.title)}</b> (static view; run the notebook '
                                    f'to move the sliders) - {e(values)}</p>', self.static)
        bundle["text/plain"] = f"{self.title}: run this notebook in JupyterLab to explore ({values})"
        return bundle


def explore(base: Scenario, names: Sequence[str], view: Callable[..., str], title: str,
            extras: dict[str, Any] | None = None) -> Explorer:
    """Return an explorer over inputs ``names`` of ``base`` (and non-scenario ``extras``), redrawn by ``view``."""
    return Explorer(base, names, view, title, extras)


def _shown(name: str, value: Any) -> str:
    if name in SPEC:
        return report._value(name, value)
    return f"{value:g}" if isinstance(value, float) else str(value)


# ---------------------------------------------------------------- views (scenario -> HTML)

def _quick(s: Scenario) -> dict[str, Any]:
    return recommend(s, with_flips=False, with_sweep=False)


def axis_note(result: dict[str, Any], axis: str) -> str:
    """Return one axis's lean as a small gauge with the engine's sentence."""
    a = result["axes"][axis]
    lean = a["lean"]
    side = "leans open" if lean > 0.05 else ("leans closed" if lean < -0.05 else "neutral")
    left = 50 + min(lean, 0) * 50
    width = abs(lean) * 50
    colour = charts.COLORS["self_hosted_open"] if lean > 0 else charts.COLORS["closed_api"]
    return (f'<div class="kit-panel" style="margin:4px 0 10px 0"><b>{e(AXIS_LABELS[axis])}</b>: {side} '
            f'({lean:+.2f} on a scale from -1 closed to +1 open)'
            f'<div style="position:relative;height:8px;background:#e9ecf2;border-radius:4px;margin:6px 0;max-width:420px">'
            f'<span style="position:absolute;left:{left:.1f}%;width:{width:.1f}%;height:100%;background:{colour};'
            f'border-radius:4px"></span><span style="position:absolute;left:50%;width:1px;height:100%;'
            f'background:#555"></span></div><div>{e(a["why"])}</div></div>')


def cost_view(s: Scenario) -> str:
    """Cost axis: the lean, monthly cost by option with its lines, and cost against volume."""
    cat = load_catalog()
    sweep = volume_sweep(s, cat=cat)
    r = _quick(s)
    return _page(axis_note(r, "cost"), _row(
        _inline(charts.cost_chart(r["breakdown"], r["choice"]), "cv-cost"),
        _inline(charts.volume_chart(sweep, break_even(s, cat, sweep), s["monthly_requests"]), "cv-volume")))


def control_view(s: Scenario) -> str:
    """Control axis: the lean, and the answer across volume and sensitivity."""
    r = _quick(s)
    return _page(axis_note(r, "control"), warnings_html(r),
                 _inline(charts.map_chart(decision_map(s), s["monthly_requests"], s["sensitivity"]), "ctl-map"))


def security_view(s: Scenario) -> str:
    """Security axis: the lean, and how it moves with the team for this sensitivity."""
    r = _quick(s)
    table = vary(s, "team_fte", [0, 0.5, 1, 1.5, 2, 3, 5, 8])
    return _page(axis_note(r, "security"), _inline(charts.lean_chart(
        table, "team_fte", ["security", "ecosystem"], f"Leans by team size, for {s['sensitivity']} data"), "sec-team"))


def staffing(s: Scenario, result: dict[str, Any] | None = None) -> str:
    """Return who could run a self-hosted fleet for ``s``: its size, the engineers it needs, the team you have."""
    sh = (result or _quick(s))["self_hosted"]
    can = s["team_fte"] >= sh["ops_fte"]
    return (f'<div class="kit-panel" style="margin-bottom:10px">A self-hosted fleet for this load is '
            f'{sh["gpus"]} x {e(sh["gpu"])} and needs about <b>{sh["ops_fte"]:.1f} FTE</b> to run; you have '
            f'<b>{s["team_fte"]:g}</b> - ' + ("enough." if can else "not enough, so the engine will not pick "
                                             "self-hosting unless residency forces it.") + "</div>")


def ecosystem_view(s: Scenario) -> str:
    """Ecosystem axis: the lean, who could run a self-hosted fleet, and the lean across launch dates."""
    r = _quick(s)
    table = vary(s, "weeks_to_launch", [2, 4, 6, 8, 12, 16, 26, 52])
    return _page(axis_note(r, "ecosystem"), staffing(s, r), _inline(charts.lean_chart(
        table, "weeks_to_launch", ["ecosystem"], "Ecosystem lean by weeks to launch"), "eco-weeks"))


def parity_view(s: Scenario) -> str:
    """Parity axis: the lean, the reference models for this quality need, and all five leans."""
    r = _quick(s)
    models = (f'<div class="kit-panel" style="margin-bottom:10px">Models compared for <b>{e(s["quality_need"])}</b> '
              f'work: closed <b>{e(r["models"]["closed"])}</b> against open <b>{e(r["models"]["open"])}</b> '
              f'(hosted price row: {e(str(r["models"]["hosted_price"]))}). Per month: closed '
              f'{money(r["costs"]["closed_api"])}, hosted open {money(r["costs"]["hosted_open"])}, hybrid with '
              f'{s["hard_share"]:.0%} hard requests {money(r["costs"]["hybrid"])}.</div>')
    return _page(axis_note(r, "parity"), models, _inline(charts.axes_chart(r["axes"]), "par-axes"))


def decision_view(s: Scenario) -> str:
    """The whole decision: checklist, recommendation card, what would flip it, axes and costs."""
    r = recommend(s, with_sweep=False)
    return _page(checklist_html(s), _row(f'<div class="kit-panel" style="max-width:460px">{report.card_html(r)}'
                                         f'{report.flips_html(r["flip"])}</div>',
                                         _inline(charts.axes_chart(r["axes"]), "dec-axes")),
                 _inline(charts.cost_chart(r["breakdown"], r["choice"]), "dec-cost"))


def warnings_html(r: dict[str, Any]) -> str:
    """Return the recommendation's warnings as a list (empty string when there are none)."""
    if not r["warnings"]:
        return ""
    return '<ul class="kit-warnings">' + "".join(f"<li>{e(x)}</li>" for x in r["warnings"]) + "</ul>"


def checklist_html(s: Scenario) -> str:
    """Return seed 000's checklist walked for ``s``: each question, answer and evidence, and where it stops."""
    marks = {"decides": "&#10004; decides", "no": "no", "not reached": "not reached"}
    rows = "".join(
        f'<tr style="{"font-weight:bold;background:#eef6ee" if c["status"] == "decides" else ""}'
        f'{"color:#999" if c["status"] == "not reached" else ""}"><td>{c["step"]}</td><td>{e(c["question"])}</td>'
        f'<td>{e(c["answer"])}</td><td>{marks[c["status"]]}</td><td class="muted">{e(c["evidence"])}</td></tr>'
        for c in checklist(s))
    return ('<div class="kit-panel" style="margin-bottom:10px"><b>The checklist, in order (stop at the first yes)</b>'
            '<table style="border-collapse:collapse;font-size:12.5px;margin-top:4px"><tr><th>#</th><th>question</th>'
            f'<th>answer</th><th>result</th><th>evidence</th></tr>{rows}</table></div>')


# ---------------------------------------------------------------- tables

def sources() -> pd.DataFrame:
    """Return the data files behind every figure, with their as-of date and source."""
    return pd.DataFrame(report.data_dates(load_catalog()), columns=["file", "as of", "source"]).set_index("file")


def assumptions(names: Sequence[str] | None = None) -> pd.DataFrame:
    """Return the model's constants (all, or ``names``) with value, source and date."""
    rows = [r for r in report.assumption_rows(load_catalog()) if names is None or r[0] in names]
    return pd.DataFrame(rows, columns=["assumption", "value", "source", "as of"]).set_index("assumption")


def glossary() -> pd.DataFrame:
    """Return the kit's glossary (data/glossary.yaml)."""
    return pd.DataFrame(load_catalog().glossary).set_index("term")


def licences() -> pd.DataFrame:
    """Return every open model of the catalog with its licence, class, openness and commercial terms."""
    cat = load_catalog()
    m = cat.open_models
    lic = pd.DataFrame.from_dict(cat.licences, orient="index")
    out = pd.DataFrame({
        "model": m.name, "org (origin)": m.org + " (" + m.origin + ")", "licence": m.licence_id,
        "class": m.licence_class, "openness": m.openness,
        "OSI-approved": m.licence_id.map(lic.osi_approved).map({True: "yes", False: "no"}),
        "commercial use": m.licence_id.map(lic.commercial_use),
    })
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
    return _page(f'<div class="kit-panel"><b>{e(m["name"])}</b> ({e(m.org)}, {e(m.origin)}) - '
                 f'{e(lic["name"])} [{e(lic["class"])}; OSI-approved: {"yes" if lic["osi_approved"] else "no"}]'
                 f'<div>Commercial use: {e(lic["commercial_use"])}</div><ul>{conditions}</ul>'
                 f'<div class="muted">Text: {e(lic["text_url"])} (as of {e(lic["as_of"])}); model card: '
                 f'{e(m.source)}</div></div>')


def cost_table(s: Scenario) -> pd.DataFrame:
    """Return the monthly cost of each option worked step by step (see kit.cost.cost_steps)."""
    t = cost_steps(s)
    t["option"] = t.option.map(OPTION_LABELS)
    t["value"] = [money(v) if u == "USD" else (f"{v:,.2f}" if u == "requests/s" else f"{v:,.0f}")
                  for v, u in zip(t.value, t.unit)]
    return t.set_index(["option", "step"])


def break_even_table(result: dict[str, Any]) -> pd.DataFrame:
    """Return a recommendation's break-even volumes, labelled, with the cheaper option above each."""
    rows = [{"options": f"{OPTION_LABELS[b['a']]} = {OPTION_LABELS[b['b']]}",
             "break-even requests/month": f"{b['monthly_requests']:,.0f}",
             "cheaper above it": OPTION_LABELS[b["cheaper_above"]]} for b in result["break_even"]]
    return pd.DataFrame(rows, columns=["options", "break-even requests/month", "cheaper above it"]).set_index("options")


def utilisation_table(result: dict[str, Any]) -> pd.DataFrame:
    """Return where self-hosting first wins: the volume, fleet size and average utilisation there."""
    rival = {"closed_api": "the closed API", "any_per_token": "every per-token option"}
    rows = []
    for key, u in result["utilisation_needed"].items():
        rows.append({"self-hosting beats": rival[key],
                     "from requests/month": "never, up to 10 billion" if u["monthly_requests"] is None
                     else f"{u['monthly_requests']:,}",
                     "GPUs then": "-" if u["gpus"] is None else u["gpus"],
                     "average utilisation then": "-" if u["utilisation"] is None else f"{u['utilisation']:.0%}"})
    return pd.DataFrame(rows).set_index("self-hosting beats")


def headline(s: Scenario) -> str:
    """Return the recommendation card with its flips, for a first look."""
    r = recommend(s, with_sweep=False)
    return _page(f'<div class="kit-panel" style="max-width:640px">{report.card_html(r)}'
                 f'{report.flips_html(r["flip"], limit=3)}</div>')


TABLE_CSS = ("<style>.kit-table{border-collapse:collapse;font-size:12.5px;margin:4px 0}"
             ".kit-table th,.kit-table td{border-bottom:1px solid #e3e6ee;padding:3px 8px;text-align:left;"
             "vertical-align:top;max-width:520px}.kit-table thead th{background:#f4f6fa}</style>")


def table(df: pd.DataFrame) -> "HTML":
    """Show a table in full (pandas' notebook view cuts long text at 50 characters)."""
    return HTML(TABLE_CSS + df.to_html(classes="kit-table", border=0, na_rep="-"))


class HTML:
    """Raw HTML output (an IPython-free display object)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return "[HTML output: run in Jupyter to see it rendered]"

    def _repr_html_(self) -> str:
        return self.text


def show(text: str) -> HTML:
    """Wrap an HTML string from this module for display, styled like the app."""
    return HTML(text if text.startswith(STYLE) else _page(text))


# ---------------------------------------------------------------- quick checks

@dataclass(frozen=True)
class Question:
    """One multiple-choice question with its answer and the reason."""

    text: str
    options: tuple[str, ...]
    answer: int
    why: str

    def grade(self, picked: int | None) -> tuple[bool | None, str]:
        """Return (correct?, feedback) for the option index ``picked`` (None: not answered yet)."""
        if picked is None:
            return None, ""
        if self.options[picked] == self.options[self.answer]:
            return True, f"Right. {self.why}"
        return False, f"Not quite: the answer is \u201c{self.options[self.answer]}\u201d. {self.why}"


def questions(items: Sequence[dict[str, Any]]) -> list[Question]:
    """Check and convert quick-check items {q, options, answer, why}; raise ValueError naming the bad one."""
    out = []
    for i, item in enumerate(items, 1):
        missing = [k for k in ("q", "options", "answer", "why") if k not in item]
        if missing:
            raise ValueError(f"quick check question {i}: missing {', '.join(missing)}")
        options = tuple(item["options"])
        if len(options) < 2 or not isinstance(item["answer"], int) or not 0 <= item["answer"] < len(options):
            raise ValueError(f"quick check question {i}: answer must be an index from 0 to {len(options) - 1} "
                             f"of at least two options, got {item['answer']!r}")
        out.append(Question(item["q"], options, item["answer"], item["why"]))
    return out


class QuickCheck:
    """A few questions with immediate feedback; read without a kernel, the answers fold out below each one."""

    def __init__(self, items: Sequence[dict[str, Any]]):
        self.questions = questions(items)
        self.pickers, self.feedback = [], []
        rows: list[w.Widget] = []
        for n, q in enumerate(self.questions, 1):
            picker = w.RadioButtons(options=[(o, i) for i, o in enumerate(q.options)], value=None,
                                    layout=w.Layout(width="auto"))
            note = w.HTML("")
            picker.observe(lambda change, q=q, note=note: self._answer(q, change["new"], note), names="value")
            self.pickers.append(picker)
            self.feedback.append(note)
            rows += [w.HTML(f"<b>{n}. {e(q.text)}</b>"), picker, note]
        self.widget = w.VBox(rows)
        self.widget.add_class("kit-quick-check")

    @staticmethod
    def _answer(q: Question, picked: int | None, note: w.HTML) -> None:
        ok, text = q.grade(picked)
        colour = "#1f7a3a" if ok else "#8b1a10"
        note.value = f'<div style="color:{colour};margin:0 0 10px 0">{e(text)}</div>' if text else ""

    def static_html(self) -> str:
        """Return the questions with their answers folded under each one."""
        parts = []
        for n, q in enumerate(self.questions, 1):
            opts = "".join(f"<li>{e(o)}</li>" for o in q.options)
            parts.append(f"<p><b>{n}. {e(q.text)}</b></p><ol type='a'>{opts}</ol><details><summary>Answer</summary>"
                         f"<p>{e(q.options[q.answer])}. {e(q.why)}</p></details>")
        return "".join(parts)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.static_html()
        bundle["text/plain"] = "\n".join(f"{n}. {q.text} -> {q.options[q.answer]}"
                                         for n, q in enumerate(self.questions, 1))
        return bundle


def quick_check(items: Sequence[dict[str, Any]]) -> QuickCheck:
    """Return a quick check over ``items`` ({q, options, answer (index), why})."""
    return QuickCheck(items)


# ---------------------------------------------------------------- local inference (notebook 07)

def inputs(notebook: str, **values: Any) -> dict[str, Any]:
    """Validate a notebook's non-scenario parameters (e.g. model, prompt) against the spec; raise ParamError."""
    return validate(values, context=f"notebook {notebook}", partial=True, spec=NOTEBOOK_SPEC)


def _short_path(path: str) -> str:
    """Show a model path without this machine's folders (the same text on every machine)."""
    from kit import local

    cache = str(local.cache_dir())
    if path.startswith(cache):
        return "<kit cache>" + path[len(cache):]
    if "site-packages/" in path:
        return "<site-packages>/" + path.split("site-packages/", 1)[1]
    return path


def local_models_table() -> pd.DataFrame:
    """Return both bundled models as the kit checks them: file, size, pinned sha256, licence and GGUF facts."""
    from kit import local

    rows = []
    for name in local.models():
        d = local.describe(name)
        rows.append({"model": name, "kind": d["kind"], "file": _short_path(d["path"]), "size": f"{d['size_mb']} MB",
                     "sha256 (pinned, verified)": d["sha256"][:16] + "…", "licence": d["licence"],
                     "licence text": f"{Path(d['licence_text']).name} in the {d['package']} package",
                     "parameters": f"{d['parameters'] / 1e6:.0f} M", "quantisation": d["quantisation"],
                     "bits per weight": d["bits_per_weight"], "context": f"{d['context_length']:,} tokens",
                     "architecture": d["architecture"]})
    return pd.DataFrame(rows).set_index("model").T


def stream(model: str, prompt: str, max_tokens: int, chat: bool | None = None) -> Any:
    """Generate with a bundled model, showing the text as it arrives; return the run with its figures."""
    from IPython.display import display

    from kit import local

    handle = display(HTML(_stream_html(model, "")), display_id=True)
    text: list[str] = []

    def on_token(piece: str) -> None:
        text.append(piece)
        handle.update(HTML(_stream_html(model, "".join(text) + " ▌")))

    run = local.generate(model, prompt, max_tokens=max_tokens, chat=chat, on_token=on_token)
    handle.update(HTML(_stream_html(model, run.text)))
    return run


def _stream_html(model: str, text: str) -> str:
    return (f'<div style="border-left:3px solid {charts.COLORS["self_hosted_open"]};padding:4px 10px;'
            f'margin:4px 0;white-space:pre-wrap;font-family:monospace;font-size:12.5px">'
            f'<b>{e(model)}</b>\n{e(text)}</div>')


def runs_table(runs: Sequence[Any]) -> pd.DataFrame:
    """Return the speed and memory figures of generation runs."""
    return pd.DataFrame([r.metrics() for r in runs]).set_index("model")


def side_by_side(prompt: str, max_tokens: int) -> pd.DataFrame:
    """Give both bundled models the same prompt, as a chat message and as plain text to continue."""
    from kit import local

    rows = []
    for name, entry in local.models().items():
        for chat in (True, False):
            run = local.generate(name, prompt, max_tokens=max_tokens, chat=chat)
            rows.append({"model": f"{name} ({entry['kind']})", "prompt given as": "chat message" if chat
                         else "plain text to continue",
                         "answer": run.text.strip()[:400] or "(nothing: the model ended its answer at once)"})
    return pd.DataFrame(rows).set_index(["model", "prompt given as"])


def evaluate_all(n_items: int, backends: Sequence[Any] | None = None) -> list[Any]:
    """Evaluate the bundled models (and any extra backends) on the first ``n_items`` tasks, with progress."""
    from IPython.display import display

    from kit import evaluate, local

    items = evaluate.load_tasks()[:n_items]
    backends = list(backends or [local.LocalBackend(n) for n in local.models()])
    jobs = [(b, m) for b in backends for m in ("generate", "logprob") if m == "generate" or hasattr(b, "label_logprobs")]
    bar = w.IntProgress(value=0, min=0, max=len(jobs) * len(items), description="Evaluating",
                        layout=w.Layout(width="420px"))
    handle = display(_Progress(bar), display_id=True)
    rate = load_catalog().a("cpu_server_usd_per_hour")
    results = []
    for b, mode in jobs:
        per_hour = rate if isinstance(b, local.LocalBackend) else None
        price = None if per_hour else evaluate.endpoint_price()
        results.append(evaluate.evaluate(b, items, mode, usd_per_hour=per_hour, usd_per_mtok=price,
                                         progress=lambda n, total: setattr(bar, "value", bar.value + 1)))
    bar.description = "Done"
    handle.update(_Progress(bar))
    return results


class _Progress:
    """A progress bar that, read without a kernel, says how far it got."""

    def __init__(self, bar: w.IntProgress):
        self.bar = bar

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.bar._repr_mimebundle_(**kwargs) or {}
        text = f"{self.bar.description}: {self.bar.value} of {self.bar.max} model answers"
        bundle["text/html"] = f"<p>{e(text)}</p>"
        bundle["text/plain"] = text
        return bundle


def results_table(results: Sequence[Any]) -> pd.DataFrame:
    """Return evaluation results: accuracy with its 95% interval, the baseline, speed and cost."""
    rows = []
    for r in results:
        s = r.summary()
        rows.append({"backend": s["backend"], "scoring": s["mode"], "items": s["items"],
                     "accuracy": f"{s['accuracy']:.0%}", "95% interval": f"{s['ci95_low']:.0%} - {s['ci95_high']:.0%}",
                     "majority baseline": f"{s['baseline']:.0%}", "no answer": s["no_answer"],
                     "median latency": f"{s['median_ms']:.0f} ms",
                     "cost per 1,000 items": "-" if s["cost_per_1000_usd"] is None else f"${s['cost_per_1000_usd']:.4f}",
                     "cost basis": s["cost_basis"]})
    return pd.DataFrame(rows).set_index(["backend", "scoring"])


def accuracy_figure(results: Sequence[Any]) -> Figure:
    """Return the accuracy chart of evaluation results (points with 95% intervals, the baseline dashed)."""
    rows = pd.DataFrame([r.summary() for r in results])
    return figure(charts.accuracy_chart(rows, results[0].baseline), "accuracy")


def machine_table(runs: Sequence[Any], bandwidth_gbs: float) -> pd.DataFrame:
    """Return ``local.machine_costs`` formatted: tokens/s, share of the bandwidth bound, USD per hour and per M tokens."""
    from kit import local

    t = local.machine_costs(list(runs), bandwidth_gbs)
    return pd.DataFrame({
        "model": t.model, "where": t["where"], "tokens/s": [f"{v:,.0f}" for v in t.tokens_per_s],
        "share of the bound": ["-" if v is None or v != v else f"{v:.0%}" for v in t.fraction_of_bound],
        "USD per hour": [f"${v:.3f}" for v in t.usd_per_hour],
        "USD per million tokens": [f"${v:.4f}" for v in t.usd_per_mtok]}).set_index(["model", "where"])


# ---------------------------------------------------------------- the hybrid router (notebook 08)

def router_view(s: Scenario, route_threshold: float | None = None) -> str:
    """The router for a scenario: the cost-quality frontier, where requests go, and the bill per option."""
    from kit.cost import costs
    from kit.router import frontier

    row = costs([s], thresholds=None if route_threshold is None else [route_threshold]).iloc[0]
    fr = frontier(s)
    refs = {"all closed": (row.closed_api, 1.0)}
    current = {"monthly_usd": float(row.hybrid), "quality": float(row.hybrid_quality)}
    shares = {"closed_api": row.hybrid_share_closed, "hosted_open": row.hybrid_share_hosted,
              "self_hosted_open": row.hybrid_share_self}
    summary = (f'<div class="kit-panel" style="margin-bottom:8px"><b>Hybrid router: {money(row.hybrid)}/month</b>, '
               f'about {row.hybrid_quality:.1%} of all-closed quality. All-closed {money(row.closed_api)}; '
               f'all hosted open {money(row.hosted_open)}; all self-hosted {money(row.self_hosted_open)}. '
               f'Escalated to the closed model: {row.hybrid_escalated:.1%} of requests.</div>')
    return _page(summary, _row(_inline(charts.frontier_chart(fr, current, refs), "rt-frontier"),
                               _inline(charts.shares_chart(shares), "rt-shares")))


def router_log(entries: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Return the live router's log: each prompt, the tier, why, latency, cost and the answer."""
    df = pd.DataFrame(entries)
    df["usd"] = [f"${v:.6f}" for v in df.usd]
    return df[["n", "prompt", "sensitive", "difficulty", "tier", "stands_in_for", "escalated", "reason",
               "latency_ms", "usd", "answer"]].set_index("n")
