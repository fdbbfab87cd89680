"""Headless runs for instructors: the notebook sequence for many profiles, checked first, run in parallel.

``python -m kit run`` validates every parameter of every (profile, notebook) pair before anything
executes, runs each pair with papermill in its own process (in parallel, ``--jobs``), keeps a failed
notebook's partial output and names the failing cell, optionally exports offline HTML without input
cells, and writes ``summary.csv`` / ``summary.md`` (one row per profile, computed by the engine, so two
runs give byte-identical summaries).
"""

from __future__ import annotations

import csv
import glob
import io
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import yaml

from kit import notebooks
from kit.catalog import DataError, load_catalog, profile_params
from kit.fmt import money
from kit.params import NOTEBOOK_SPEC, OPTIONS, SPEC, ParamError, Scenario

DEFAULT_RUN = "defaults"


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
    here = sorted(notebooks.NOTEBOOKS.glob(pattern)) if not os.path.isabs(pattern) and "/" not in pattern else []
    found = here or sorted(Path(p) for p in glob.glob(pattern))
    found = [p.resolve() for p in found if p.suffix == ".ipynb" and p.name != "app.ipynb"]
    if not found:
        raise ParamError("--notebooks", pattern, "a glob matching notebooks, e.g. '0[0-2]_*.ipynb'")
    return found


def load_runs(profiles: list[str], params_file: Path | None) -> dict[str, dict[str, Any]]:
    """Return run name -> parameter values: the named profiles, plus the runs of a YAML file.

    The file maps run names to values, e.g. ``small_team: {profile: ship_fast, team_fte: 0.5}``; a
    ``profile`` key starts from that profile. ``all`` as a profile name means every profile.
    """
    cat = load_catalog()
    names = list(cat.profiles) if "all" in profiles else profiles
    runs: dict[str, dict[str, Any]] = {name: profile_params(name, cat) for name in names}
    if params_file is not None:
        try:
            raw = yaml.safe_load(Path(params_file).read_text(encoding="utf-8"))
        except OSError as exc:
            raise DataError(f"{params_file}: cannot read ({exc.strerror})") from None
        except yaml.YAMLError as exc:
            raise DataError(f"{params_file}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
        if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
            raise DataError(f"{params_file}: must map run names to parameter values, e.g. "
                            "'small_team: {profile: ship_fast, team_fte: 0.5}'")
        for name, values in raw.items():
            values = dict(values)
            start = profile_params(values.pop("profile"), cat) if "profile" in values else {}
            for key, value in values.items():
                if key not in NOTEBOOK_SPEC:
                    raise ParamError(key, value, "a known parameter: " + ", ".join(NOTEBOOK_SPEC),
                                     f"{params_file}: run '{name}'")
            runs[str(name)] = {**start, **values}
    return runs or {DEFAULT_RUN: {}}


def plan(runs: dict[str, dict[str, Any]], paths: list[Path], out: Path) -> list[Job]:
    """Check every parameter for every notebook before anything runs; return the jobs.

    A notebook receives the values its parameters cell names; each is checked against the spec and
    the error names the notebook, the parameter, the value and the allowed range.
    """
    jobs = []
    for profile, values in runs.items():
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", profile):
            raise ParamError("profile", profile, "a name of letters, digits, '_', '-' or '.'")
        for path in paths:
            accepted = notebooks.parameters(path)
            mine = {k: v for k, v in values.items() if k in accepted}
            checked = notebooks.check_parameters(path, mine)
            jobs.append(Job(profile, path, checked, out / profile / path.name))
        Scenario.make({k: v for k, v in values.items() if k in SPEC}, context=f"run '{profile}'")  # for the summary
    return jobs


def execute(job: Job, timeout: int = 1800, shared: bool = False) -> Outcome:
    """Run one job with papermill in its own process; on failure, name the failing cell from the partial output.

    ``shared``: other jobs run at the same time, so local models use one thread each and OpenMP threads
    sleep instead of spinning while they wait (spinning threads of two processes stall each other).
    """
    job.out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    if shared:
        env["KIT_LLAMA_BATCH_THREADS"] = "1"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "papermill", str(job.notebook), str(job.out),
                           "-y", yaml.safe_dump(job.parameters), "--cwd", str(job.notebook.parent),
                           "-k", "python3", "--no-progress-bar", "--log-level", "ERROR"],
                          capture_output=True, text=True, timeout=timeout, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode == 0:
        notebooks.clean_file(job.out)
        return Outcome(job, True, seconds)
    return Outcome(job, False, seconds, failure(job, proc.stderr))


def failure(job: Job, stderr: str) -> str:
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
    last = [line for line in stderr.strip().splitlines() if line.strip()][-1:] or ["no output"]
    return f"{where}: papermill failed: {last[0][:300]}"


def export_html(path: Path) -> Path:
    """Write ``path`` as a self-contained HTML page without input cells, charts inline, nothing fetched online."""
    from nbconvert import HTMLExporter

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)  # static fallbacks render instead of widget scripts from a CDN
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
    body = offline_html(body)
    target = path.with_suffix(".html")
    target.write_text(body, encoding="utf-8")
    return target


_REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^\"']*[\"'][^>]*>\s*</script>", re.IGNORECASE)
_REMOTE_LINK = re.compile(r"<link[^>]*\bhref=[\"']https?://[^\"']*[\"'][^>]*/?>", re.IGNORECASE)


_REMOTE_MODULE = re.compile(r"<script type=\"module\">(?:(?!</script>).)*?https?://(?:(?!</script>).)*</script>",
                            re.IGNORECASE | re.DOTALL)


def offline_html(body: str) -> str:
    """Remove the template's remote scripts and stylesheets (require.js, MathJax, Mermaid from a CDN):
    the page needs none of them."""
    return _REMOTE_LINK.sub("", _REMOTE_SCRIPT.sub("", _REMOTE_MODULE.sub("", body)))


def summary_rows(runs: dict[str, dict[str, Any]], outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """One row per run, from the engine: recommendation, confidence, monthly costs, the nearest flip, status."""
    from kit.recommend import recommend

    failed: dict[str, list[str]] = {}
    for o in outcomes:
        if not o.ok:
            failed.setdefault(o.job.profile, []).append(o.job.notebook.name)
    rows = []
    for name, values in runs.items():
        r = recommend(Scenario.make({k: v for k, v in values.items() if k in SPEC}))
        flip = r["flip"][0] if r["flip"] else None
        rows.append({
            "profile": name, "recommendation": r["choice"], "confidence": f"{r['confidence']:.2f}",
            **{f"{o}_usd_month": "" if r["costs"][o] is None else f"{r['costs'][o]:.2f}" for o in OPTIONS},
            "flip": "" if flip is None else f"{flip['param']}: {flip['from']} -> {flip['to']} gives {flip['choice']}",
            "notebooks_failed": " ".join(sorted(failed.get(name, []))),
        })
    return rows


def write_summary(rows: list[dict[str, Any]], out: Path) -> tuple[Path, Path]:
    """Write summary.csv and summary.md."""
    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (out / "summary.csv").write_text(buf.getvalue(), encoding="utf-8")
    head = ["profile", "recommendation", "confidence", "closed API", "hosted open", "self-hosted", "hybrid",
            "what would flip it", "failed notebooks"]
    lines = ["# Headless run summary", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        costs = [money(float(r[f"{o}_usd_month"])) if r[f"{o}_usd_month"] else "n/a" for o in OPTIONS]
        lines.append("| " + " | ".join([r["profile"], r["recommendation"], r["confidence"], *costs,
                                        r["flip"] or "-", r["notebooks_failed"] or "-"]) + " |")
    lines += ["", "Monthly costs in USD from the kit's engine (`python -m kit recommend --profile NAME`); prices as of "
              f"{load_catalog().prices_as_of()}."]
    (out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out / "summary.csv", out / "summary.md"


def run(jobs: list[Job], workers: int, html: bool = False, progress: Any = None) -> list[Outcome]:
    """Execute the jobs, ``workers`` at a time (each in its own process and kernel), reporting progress."""
    outcomes = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(execute, job, shared=workers > 1): job for job in jobs}
        for future in as_completed(futures):
            outcome = future.result()
            if outcome.ok and html:
                export_html(outcome.job.out)
            outcomes.append(outcome)
            if progress:
                progress(outcome)
    order = {id(j): i for i, j in enumerate(jobs)}
    return sorted(outcomes, key=lambda o: order[id(o.job)])
