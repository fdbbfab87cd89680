"""The teaching notebooks as files: the sequence, each one's parameters, and executing them.

Used by ``make notebooks`` (refresh the committed outputs), by the tests, and by headless runs.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import nbformat

from kit.errors import DataError, ParamError
from kit.params import NOTEBOOK_SPEC, validate
from kit.paths import NOTEBOOKS

NUMBERED = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def sequence(folder: Path = NOTEBOOKS) -> list[Path]:
    """Return the numbered teaching notebooks in reading order."""
    return sorted(p for p in folder.glob("*.ipynb") if NUMBERED.match(p.name))


def parameters_cells(nb: nbformat.NotebookNode) -> list[int]:
    """Return the indices of the cells tagged ``parameters``."""
    return [i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])]


def parameters(path: Path) -> dict[str, Any]:
    """Return the names and default values of a notebook's parameters cell (plain literals only)."""
    nb = nbformat.read(path, as_version=4)
    cells = parameters_cells(nb)
    if len(cells) != 1:
        raise DataError(f"{path.name}: expected exactly one cell tagged 'parameters', found {len(cells)}")
    out: dict[str, Any] = {}
    for node in ast.parse(nb.cells[cells[0]].source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise DataError(
                f"{path.name}: the parameters cell may only assign plain values, found: {ast.unparse(node)}"
            )
        try:
            out[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError:
            raise DataError(
                f"{path.name}: parameter '{node.targets[0].id}' must be a plain value, not {ast.unparse(node.value)}"
            ) from None
    return out


def check_parameters(path: Path, values: dict[str, Any]) -> dict[str, Any]:
    """Validate ``values`` for one notebook before it runs: known to it and in range; raise ParamError."""
    accepted = parameters(path)
    context = f"notebook {path.stem}"
    for name, value in values.items():
        if name not in accepted:
            raise ParamError(name, value, f"a parameter of this notebook: {', '.join(accepted)}", context)
    return validate(values, context=context, partial=True, spec=NOTEBOOK_SPEC)


def widget_state_bytes(nb: nbformat.NotebookNode) -> int:
    """Return the size of the widget state stored in a notebook's metadata."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE)
    return len(json.dumps(state)) if state else 0


MODEL_ID = re.compile(r"[0-9a-f]{32}")
VIEW = "application/vnd.jupyter.widget-view+json"


def stable_widget_ids(nb: nbformat.NotebookNode, seed: str) -> nbformat.NotebookNode:
    """Rename the random widget model ids to ones derived from ``seed`` and their place in the notebook.

    Ids are numbered in a fixed order (displayed widgets cell by cell, then the models they refer to,
    depth first), so re-executing an unchanged notebook writes the same bytes.
    """
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state")
    if not state:
        return nb
    order: list[str] = []

    def visit(model_id: str) -> None:
        if model_id in order or model_id not in state:
            return
        order.append(model_id)
        for ref in re.findall(r"IPY_MODEL_([0-9a-f]{32})", json.dumps(state[model_id], sort_keys=True)):
            visit(ref)

    for cell in nb.cells:
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(VIEW)
            if view:
                visit(view["model_id"])
    for model_id in sorted(state, key=lambda m: json.dumps(state[m], sort_keys=True)):
        visit(model_id)
    new = {old: hashlib.md5(f"{seed}:{i}".encode()).hexdigest() for i, old in enumerate(order)}
    text = MODEL_ID.sub(lambda m: new.get(m.group(0), m.group(0)), json.dumps(nb))
    out = nbformat.from_dict(json.loads(text))
    renamed = out.metadata["widgets"][WIDGET_STATE]["state"]
    out.metadata["widgets"][WIDGET_STATE]["state"] = {new[m]: renamed[new[m]] for m in order}
    return out


def clean(nb: nbformat.NotebookNode, seed: str = "") -> nbformat.NotebookNode:
    """Drop run-specific metadata (timings, papermill records) and random widget ids, so re-running an
    unchanged notebook changes no bytes."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    return stable_widget_ids(nb, seed) if seed else nb


TERMS_TAG = "terms"


def sync_terms(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Rewrite every terms cell (tagged ``terms``) from data/glossary.yaml, keeping its list of names."""
    from kit.lesson import terms_markdown, terms_names  # delayed: kit.lesson loads ipywidgets; only refreshing needs it

    for cell in nb.cells:
        if TERMS_TAG in cell.get("metadata", {}).get("tags", []):
            cell.source = terms_markdown(terms_names(cell.source))
    return nb


def set_terms(path: Path | str, names: list[str]) -> None:
    """Write a notebook's terms cell (after the title cell) defining ``names``, replacing any earlier one."""
    from kit.lesson import terms_markdown  # delayed: kit.lesson loads ipywidgets; only editing needs it

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    source = terms_markdown(names)
    cells = [c for c in nb.cells if TERMS_TAG in c.get("metadata", {}).get("tags", [])]
    if cells:
        cells[0].source = source
    else:
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(source, metadata={"tags": [TERMS_TAG]}))
    nbformat.write(nb, path)


def execute(path: Path, out: Path | None = None, timeout: int = 600) -> nbformat.NotebookNode:
    """Execute a notebook top to bottom in its own folder and write it (in place unless ``out``)."""
    from nbclient import NotebookClient  # delayed: ~0.5 s to import; only refreshing notebooks needs it

    nb = sync_terms(nbformat.read(path, as_version=4))
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    nb = clean(nb, seed=path.stem)
    nbformat.write(nb, out or path)
    return nb


def clean_file(path: Path) -> None:
    """Clean an executed notebook file in place (see ``clean``)."""
    nb = nbformat.read(path, as_version=4)
    nbformat.write(clean(nb, seed=path.stem), path)
