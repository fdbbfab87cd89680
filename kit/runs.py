"""Headless runs for instructors: the notebook sequence for many profiles, checked first, run in parallel.

``python -m kit run`` validates every parameter of every (profile, notebook) pair before anything
executes, runs each pair with papermill in its own process (in parallel, ``--jobs``), keeps a failed
notebook's partial output and names the failing cell, optionally exports offline HTML without input
cells, and writes ``summary.csv`` / ``summary.md`` (one row per profile, computed by the engine, so two
runs give byte-identical summaries).
"""

from __future__ import annotations

import csv
import difflib
import glob
import io
import os
import re
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from kit import notebooks
from kit.catalog import load_catalog, parse_yaml, profile_params, read_text
from kit.errors import DataError, ParamError, UsageError, one_line, shorten
from kit.fmt import flip_sentence, money
from kit.params import NOTEBOOK_SPEC, OPTIONS, SPEC, Scenario, validate
from kit.recommend import recommend
from kit.scenario_io import check_values
from kit.uncertainty import assess

MAX_NUMBER = 10**15  # above every parameter's range: a params file with a bigger number is refused on load

DEFAULT_RUN = "defaults"
PARAMS_FILE_LIMIT = 1_000_000  # bytes: a params file is a few lines per run
SUMMARY_FILES = ("summary.csv", "summary.md")
RUN_OUTPUTS = (".ipynb", ".html")  # what a run writes into OUT/<run>/
RUN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")  # a folder name: no '..', no path, not too long
RUN_NAME_ALLOWED = "1 to 100 letters, digits, '_', '-' or '.', starting with a letter, digit or '_'"


@dataclass(frozen=True)
class Job:
    """One notebook executed for one profile."""

    profile: str
    notebook: Path
    parameters: dict[str, Any]
    out: Path


@dataclass
class Outcome:
    job: Job
    ok: bool
    seconds: float
    error: str = ""


def select_notebooks(pattern: str | None) -> list[Path]:
    """Return the notebooks to run: the numbered sequence, or those matching a glob (in notebooks/ or a path)."""
    if not pattern:
        return notebooks.sequence()
    try:
        here = sorted(notebooks.NOTEBOOKS.glob(pattern)) if not os.path.isabs(pattern) and "/" not in pattern else []
        found = here or sorted(Path(p) for p in glob.glob(pattern))
        found = [p.resolve() for p in found if p.suffix == ".ipynb" and p.name != "app.ipynb" and p.is_file()]
    except (OSError, ValueError):  # a pattern the file system cannot take (too long, a NUL byte)
        found = []
    if not found:
        raise ParamError("--notebooks", pattern, "a glob matching notebooks, e.g. '0[0-2]_*.ipynb'")
    return found


class RunSet(dict):
    """Run name -> parameter values, remembering where each run came from (named in error messages)."""

    def __init__(self) -> None:
        super().__init__()
        self.origin: dict[str, str] = {}


def load_runs(profiles: list[str], params_file: Path | None) -> RunSet:
    """Return run name -> parameter values: the named profiles, plus the runs of a YAML file.

    The file maps run names to values, e.g. ``small_team: {profile: ship_fast, team_fte: 0.5}``; a
    ``profile`` key starts from that profile. ``all`` as a profile name means every profile.
    """
    cat = load_catalog()
    names = list(cat.profiles) if "all" in profiles else profiles
    runs = RunSet()
    for name in names:
        runs[name] = profile_params(name, cat, context="--profile")
    if params_file is not None:
        for name, values in read_params_file(Path(params_file)).items():
            context = f"{params_file}: run '{name}'"
            start = profile_params(values.pop("profile"), cat, context) if "profile" in values else {}
            for key, value in values.items():
                if key not in NOTEBOOK_SPEC:
                    raise ParamError(key, value, known_parameter_hint(key), context)
                if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
                    raise ParamError(key, value, NOTEBOOK_SPEC[key].allowed(), context)  # not a usable number
            runs[name] = {**start, **values}
            runs.origin[name] = context
    if not runs:
        runs[DEFAULT_RUN] = {}
    return runs


def known_parameter_hint(name: Any) -> str:
    """Describe the known parameters briefly: the closest name, and where the full list is."""
    close = difflib.get_close_matches(str(name), list(NOTEBOOK_SPEC), n=1) if len(str(name)) < 100 else []
    guess = f" such as '{close[0]}'" if close else ""
    return f"a known parameter{guess} (`kit params` lists them; `kit notebooks` shows which notebook takes which)"


def read_params_file(path: Path) -> dict[str, dict[str, Any]]:
    """Read a ``--params`` file: run name -> parameter values; DataError names the file and the problem.

    Refused: a path that is not a file, files over PARAMS_FILE_LIMIT bytes, text that is not UTF-8, YAML
    aliases (``*name``: a few lines could expand into billions of values), and anything but a mapping of
    run names to mappings.
    """
    example = "e.g. 'small_team: {profile: ship_fast, team_fte: 0.5}'"
    try:
        is_file = path.is_file()
    except OSError:  # e.g. a name too long for the file system
        is_file = False
    if not is_file:
        raise DataError(f"--params {shorten(str(path))}: not a file; allowed: a YAML file of runs, {example}")
    raw = parse_yaml(read_text(path, limit=PARAMS_FILE_LIMIT), path)
    if not isinstance(raw, dict) or not raw:
        raise DataError(f"{path}: got {shorten(raw)}; allowed: a mapping of run names to parameter values, {example}")
    runs: dict[str, dict[str, Any]] = {}
    for name, values in raw.items():
        if isinstance(name, bool) or not isinstance(name, (str, int)) or not RUN_NAME.fullmatch(str(name)):
            raise DataError(f"{path}: run name {shorten(name)}; allowed: {RUN_NAME_ALLOWED}")
        if not isinstance(values, dict):
            raise DataError(
                f"{path}: run '{name}': got {shorten(values)}; allowed: a mapping of parameter values, {example}"
            )
        runs[str(name)] = dict(values)
    return runs


def prepare_out(out: Path, overwrite: bool = False) -> None:
    """Make ``out`` ready for a run: create it, or refuse a folder that holds anything unless ``overwrite``.

    With ``overwrite`` the outputs of earlier runs are deleted first — ``summary.csv``, ``summary.md`` and
    every sub-folder that holds only notebooks and HTML pages — so the new summary lists every run folder
    beside it. A folder holding anything else is refused even then: nothing the kit did not write is deleted.
    """
    name = str(out)
    if name.strip() == "":
        raise UsageError("--out: got ''; allowed: a folder path")
    try:
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {shorten(name)}: is a file; allowed: a folder that is empty or does not exist")
        entries = sorted(out.iterdir()) if out.exists() else []
        if entries and not overwrite:
            listed = ", ".join(e.name + ("/" if e.is_dir() else "") for e in entries[:4])
            more = f" and {len(entries) - 4} more" if len(entries) > 4 else ""
            raise UsageError(
                f"--out {shorten(name)}: folder is not empty ({listed}{more}); allowed: an empty or new "
                "folder, or pass --overwrite to replace an earlier run's outputs"
            )
        foreign = [e for e in entries if not _run_output(e)]
        if foreign:
            raise UsageError(
                f"--out {shorten(name)}: holds {shorten(foreign[0].name)}, which kit run did not "
                "write; --overwrite only replaces summary.csv, summary.md and run folders of "
                "notebooks and HTML pages: choose another folder"
            )
        for entry in entries:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        out.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        if isinstance(exc, UsageError):
            raise
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"--out {shorten(name)}: cannot use this folder ({reason})") from None


def _run_output(entry: Path) -> bool:
    """Return whether ``entry`` of an output folder was written by kit run (a summary or a run folder)."""
    if entry.is_symlink():
        return False
    if entry.is_file():
        return entry.name in SUMMARY_FILES
    return entry.is_dir() and all(
        f.is_file() and not f.is_symlink() and f.suffix in RUN_OUTPUTS for f in entry.iterdir()
    )


def plan(runs: dict[str, dict[str, Any]], paths: list[Path], out: Path) -> list[Job]:
    """Check every parameter for every notebook before anything runs; return the jobs.

    A notebook receives the values its parameters cell names; each is checked against the spec and
    the error names the run's file (for a ``--params`` run), the notebook, the parameter, the value and
    the allowed range.
    """
    origin = runs.origin if isinstance(runs, RunSet) else {}
    jobs = []
    for profile, values in runs.items():
        if not RUN_NAME.fullmatch(profile):
            raise ParamError("run name", profile, RUN_NAME_ALLOWED)
        where = origin.get(profile, f"run '{profile}'")
        for path in paths:
            accepted = notebook_parameters(path)
            mine = {k: v for k, v in values.items() if k in accepted}
            try:
                checked = notebooks.check_parameters(path, mine)
            except ParamError as exc:
                if profile not in origin:
                    raise
                raise ParamError(exc.param, exc.value, exc.allowed, f"{where}: {exc.context}") from None
            jobs.append(Job(profile, path, checked, out / profile / path.name))
        check_values({k: v for k, v in values.items() if k in SPEC}, context=where)  # the summary prices these models
        validate(values, context=where, partial=True, spec=NOTEBOOK_SPEC)  # those no notebook takes
    return jobs


def notebook_parameters(path: Path) -> dict[str, Any]:
    """Return a notebook's parameters; DataError names a file that is not a readable teaching notebook."""
    try:
        return notebooks.parameters(path)
    except (OSError, ValueError, KeyError, AttributeError) as exc:  # unreadable, not JSON, no cells or bad cell
        raise DataError(f"{path}: not a notebook the kit can run ({one_line(str(exc), 200)})") from None


def _worker_start(shared: bool) -> None:
    """Prepare one worker process: its kernels' environment, and papermill imported once (~2.5 s) for all its jobs.

    ``shared``: other jobs run at the same time, so local models use one thread each and OpenMP threads
    sleep instead of spinning while they wait (spinning threads of two processes stall each other).
    """
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    if shared:
        os.environ["KIT_LLAMA_BATCH_THREADS"] = "1"
    import logging  # delayed: only worker processes set papermill's log level

    import papermill  # noqa: F401  # delayed: paid once per worker process, not by the CLI's other commands

    logging.getLogger("papermill").setLevel(logging.ERROR)


def execute(job: Job, timeout: int = 1800) -> Outcome:
    """Run one job with papermill in this (worker) process and a kernel of its own; on failure, name the
    failing cell from the partial output."""
    import papermill  # delayed: imported once per worker by _worker_start

    job.out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(job.notebook),
            str(job.out),
            parameters=dict(job.parameters),
            cwd=str(job.notebook.parent),
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            execution_timeout=timeout,
        )
    except Exception as exc:  # papermill's execution error, a dead kernel, a timeout: all named per job
        return Outcome(job, False, time.perf_counter() - start, failure(job, f"{type(exc).__name__}: {exc}"))
    notebooks.clean_file(job.out)
    return Outcome(job, True, time.perf_counter() - start)


LONG_WORK = ("lesson.stream(", "lesson.evaluate_all(", "lesson.side_by_side(", "lesson.router_log(")


def expected_work(path: Path) -> int:
    """Return a rough weight of a notebook's run: calls that run local models count most (scheduling only)."""
    text = path.read_text(encoding="utf-8")
    return 1 + 10 * sum(text.count(call) for call in LONG_WORK)


def failure(job: Job, detail: str) -> str:
    """Describe a failed run: notebook, cell number (as JupyterLab counts code cells) and the error."""
    where = f"{job.profile}/{job.notebook.name}"
    if job.out.exists():
        nb = nbformat.read(job.out, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        for n, cell in enumerate(code, 1):
            for o in cell.get("outputs", []):
                if o.output_type == "error":
                    first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
                    return f"{where}: code cell {n} ({first!r}) raised {o.ename}: {o.evalue}"
    last = [line for line in detail.strip().splitlines() if line.strip()][-1:] or ["no output"]
    return f"{where}: papermill failed: {last[0][:300]}"


def export_html(path: Path) -> Path:
    """Write ``path`` as a self-contained HTML page without input cells, charts inline, nothing fetched online."""
    from nbconvert import HTMLExporter  # delayed: ~1 s to import, only for --html

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)  # static fallbacks render instead of widget scripts from a CDN
    exporter = HTMLExporter(
        template_name="lab", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
    body = offline_html(body)
    target = path.with_suffix(".html")
    target.write_text(body, encoding="utf-8")
    return target


_REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^\"']*[\"'][^>]*>\s*</script>", re.IGNORECASE)
_REMOTE_LINK = re.compile(r"<link[^>]*\bhref=[\"']https?://[^\"']*[\"'][^>]*/?>", re.IGNORECASE)


_REMOTE_MODULE = re.compile(
    r"<script type=\"module\">(?:(?!</script>).)*?https?://(?:(?!</script>).)*</script>", re.IGNORECASE | re.DOTALL
)


def offline_html(body: str) -> str:
    """Remove the template's remote scripts and stylesheets (require.js, MathJax, Mermaid from a CDN):
    the page needs none of them."""
    return _REMOTE_LINK.sub("", _REMOTE_SCRIPT.sub("", _REMOTE_MODULE.sub("", body)))


def summary_rows(runs: dict[str, dict[str, Any]], outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """One row per run, from the engine: recommendation, how sure (the share of plausible worlds that give it),
    monthly costs ("not allowed" where the
    data may not reach an option), the nearest flip, status."""
    failed: dict[str, list[str]] = {}
    for o in outcomes:
        if not o.ok:
            failed.setdefault(o.job.profile, []).append(o.job.notebook.name)
    rows = []
    for name, values in runs.items():
        s = Scenario.make({k: v for k, v in values.items() if k in SPEC})
        r = assess(recommend(s), s)
        flip = r["flip"][0] if r["flip"] else None
        rows.append(
            {
                "profile": name,
                "recommendation": r["choice"],
                "holds_in": f"{r['confidence']:.4f}",
                **{
                    f"{o}_usd_month": "not allowed"
                    if o in r["not_allowed"]
                    else ("" if r["costs"][o] is None else f"{r['costs'][o]:.2f}")
                    for o in OPTIONS
                },
                "flip": "" if flip is None else flip_sentence(flip),
                "notebooks_failed": " ".join(sorted(failed.get(name, []))),
            }
        )
    return rows


def write_summary(rows: list[dict[str, Any]], out: Path) -> tuple[Path, Path]:
    """Write summary.csv and summary.md."""
    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (out / "summary.csv").write_text(buf.getvalue(), encoding="utf-8")
    head = [
        "profile",
        "recommendation",
        "holds in (share of plausible worlds)",
        "closed API",
        "hosted open",
        "self-hosted",
        "hybrid",
        "what would flip it",
        "failed notebooks",
    ]
    lines = ["# Headless run summary", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        costs = [
            r[f"{o}_usd_month"] if r[f"{o}_usd_month"] in ("", "not allowed") else money(float(r[f"{o}_usd_month"]))
            for o in OPTIONS
        ]
        costs = [c or "n/a" for c in costs]
        lines.append(
            "| "
            + " | ".join(
                [
                    r["profile"],
                    r["recommendation"],
                    f"{float(r['holds_in']):.0%}",
                    *costs,
                    r["flip"] or "-",
                    r["notebooks_failed"] or "-",
                ]
            )
            + " |"
        )
    lines += [
        "",
        "Monthly costs in USD from the kit's engine (`python -m kit recommend --profile NAME`); prices as of "
        f"{load_catalog().prices_as_of()}.",
    ]
    (out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out / "summary.csv", out / "summary.md"


def run(jobs: list[Job], workers: int, html: bool = False, progress: Any = None) -> list[Outcome]:
    """Execute the jobs, ``workers`` at a time, reporting progress; return the outcomes in the jobs' order.

    Each worker is a process that imports papermill once and runs its jobs one after another, each in a
    fresh kernel; the jobs that run local models start first, so the longest work does not come last.
    """
    import multiprocessing  # delayed: only runs need worker processes

    workers = max(1, min(workers, len(jobs)))
    weight = {p: expected_work(p) for p in {j.notebook for j in jobs}}
    ordered = sorted(jobs, key=lambda j: -weight[j.notebook])
    outcomes = []
    context = multiprocessing.get_context("spawn")  # a clean interpreter: no threads or event loop inherited
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start, initargs=(workers > 1,)) as pool:
        futures = {pool.submit(execute, job): job for job in ordered}
        for future in as_completed(futures):
            try:
                outcome = future.result()
                outcome.job = futures[future]  # the worker returns a copy; keep the caller's own job
            except Exception as exc:  # a worker process died: the job fails by name, the others go on
                job = futures[future]
                outcome = Outcome(job, False, 0.0, failure(job, f"the worker process died ({type(exc).__name__})"))
            if outcome.ok and html:
                export_html(outcome.job.out)
            outcomes.append(outcome)
            if progress:
                progress(outcome)
    order = {id(j): i for i, j in enumerate(jobs)}
    return sorted(outcomes, key=lambda o: order[id(o.job)])
