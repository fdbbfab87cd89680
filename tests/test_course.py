"""The course as a course: quick checks that test judgement, every term defined before its first use,
the same sections in every notebook, the three main sliders in every axis notebook, and a coverage
table of the seeds that points at sections that exist.

These read the notebooks' sources (no kernel), so they are fast and name the notebook and cell at fault.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from kit import lesson
from kit.catalog import load_catalog
from kit.notebooks import sequence
from kit.paths import NOTEBOOKS

NOTEBOOK_PATHS = sequence()
AXIS_NOTEBOOKS = ("02_", "03_", "04_", "05_", "06_")
MAIN_SLIDERS = {"monthly_requests", "sensitivity", "team_fte"}
MAX_SHARE = 0.40  # no option position may hold more than this share of the course's correct answers

# Words in capitals that are names, not jargon a learner must look up (products, firms, places, file
# formats the reader never has to understand, placeholders in command examples).
NAMES = {
    "AI", "EU", "US", "UK", "USD", "EUR", "README", "HTML", "URL", "CSV", "JSON", "YAML", "SVG", "PDF",
    "OpenAI", "JupyterLab", "JupyterHub", "SmolLM2", "OLMo", "DeepInfra", "DeepSeek", "MiniMax", "GLM",
    "GPT", "MIT", "NAME", "LOW", "LIKELY", "HIGH", "CLI", "ID", "IDs", "OK", "LLaMA", "GitHub", "PyPI",
    "SemiAnalysis", "RouteLLM", "TogetherAI", "NVIDIA", "AMD", "AWS", "GCP", "CoreWeave", "RunPod", "QwQ",
}  # fmt: skip
# Jargon a newcomer would have to look up; used in a notebook's text, it must be in the glossary.
JARGON = (
    "lean",
    "FTE",
    "replica",
    "KV cache",
    "roofline",
    "TTFT",
    "time to first token",
    "LoRA",
    "tanh",
    "goodput",
    "throughput",
    "latency",
    "quantisation",
    "fine-tuning",
    "context window",
    "utilisation",
    "break-even",
    "percentile",
    "Monte Carlo",
    "tornado",
    "escalation",
    "misrouting",
    "guardrail",
    "red-teaming",
    "model card",
    "SLA",
    "rate limit",
    "lock-in",
    "amortised",
    "MoE",
    "mixture of experts",
    "GGUF",
    "prefill",
    "batching",
    "few-shot",
    "base model",
    "temperature",
    "N+1",
    "air-gapped",
    "DPA",
    "BAA",
    "MLOps",
    "inference engine",
    "vLLM",
    "calibration",
    "payback",
    "plausible worlds",
)


def markdown_cells(path: Path) -> list[tuple[int, str]]:
    """Return (cell index, prose) of each markdown cell: code, link targets, HTML tags and URLs removed."""
    nb = nbformat.read(path, as_version=4)
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or "terms" in cell.metadata.get("tags", []):
            continue
        text = re.sub(r"```.*?```", " ", cell.source, flags=re.S)
        text = re.sub(r"`[^`]*`", " ", text)
        text = re.sub(r"\]\([^)]*\)", "]", text)
        text = re.sub(r"https?://\S+", " ", text)
        text = re.sub(r"<[^>]+>", " ", text)
        out.append((i, text))
    return out


def calls(path: Path, name: str) -> list[tuple[int, ast.Call]]:
    """Return (cell index, call) for every call of ``lesson.<name>(...)`` in a notebook's code."""
    nb = nbformat.read(path, as_version=4)
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            f = node.func if isinstance(node, ast.Call) else None
            if isinstance(f, ast.Attribute) and f.attr == name and getattr(f.value, "id", "") == "lesson":
                found.append((i, node))
    return found


def patterns() -> dict[str, re.Pattern]:
    """Return, per glossary entry, a pattern matching its term (unless parenthesised) and aliases."""
    out = {}
    for entry in load_catalog().glossary:
        names = [] if "(" in entry["term"] else [entry["term"]]
        names += entry.get("aliases", [])
        alts = "|".join(re.escape(n) + ("(?:s|es)?" if n[-1].isalpha() else "") for n in names)
        flags = 0 if all(n.isupper() or re.search(r"[A-Z].*[A-Z]", n) for n in names) else re.I
        if alts:
            out[entry["term"]] = re.compile(rf"(?<![\w-])(?:{alts})(?![\w-])", flags)
    return out


def entry_of(word: str) -> str | None:
    """Return the glossary term whose term or aliases name ``word`` (case-insensitive), else None."""
    for entry in load_catalog().glossary:
        if word.lower() in [n.lower() for n in [entry["term"], *entry.get("aliases", [])]]:
            return entry["term"]
    return None


# --- quick checks ---------------------------------------------------------------------------------


def course_questions() -> list[tuple[str, int, dict]]:
    out = []
    for path in NOTEBOOK_PATHS:
        for i, call in calls(path, "quick_check"):
            items = ast.literal_eval(call.args[0])
            out += [(path.stem, i, item) for item in items]
    return out


def test_every_notebook_has_a_quick_check_of_at_least_three_questions():
    per = Counter(stem for stem, _, _ in course_questions())
    short = {p.stem: per[p.stem] for p in NOTEBOOK_PATHS if per[p.stem] < 3}
    assert not short, f"notebooks with fewer than three quick-check questions: {short}"


def test_every_question_has_three_options_and_feedback_for_each():
    for stem, cell, item in course_questions():
        try:
            (q,) = lesson.questions([item])
        except ValueError as err:
            pytest.fail(f"{stem} cell {cell}: {err} ({item.get('q', '')[:60]!r})")
        assert len(q.options) >= 3 and len(q.feedback) == len(q.options)
        assert len(set(q.feedback)) == len(q.feedback), f"{stem} cell {cell}: two options share one feedback line"


def test_correct_answers_are_spread_over_positions():
    positions = Counter(item["answer"] for _, _, item in course_questions())
    total = sum(positions.values())
    worst, count = positions.most_common(1)[0]
    assert count / total <= MAX_SHARE, f"option {worst} is right in {count} of {total} questions: {dict(positions)}"


def test_a_wrong_pick_gives_its_own_feedback_and_a_retry_before_the_answer():
    qc = lesson.quick_check(
        [
            {
                "q": "Q?",
                "options": ["a", "b", "c"],
                "feedback": ["tempting, but a", "yes, b", "no, c"],
                "answer": 1,
            }
        ]
    )
    qc.pickers[0].value = 0
    assert "tempting, but a" in qc.feedback[0].value and "Try another" in qc.feedback[0].value
    assert "yes, b" not in qc.feedback[0].value and qc.show[0].layout.display == ""
    qc.pickers[0].value = 2
    assert "no, c" in qc.feedback[0].value and "tempting" not in qc.feedback[0].value
    qc._reveal(0)
    assert "\u201cb\u201d" in qc.feedback[0].value and qc.show[0].layout.display == "none"
    static = qc.static_html()
    assert all(f in static for f in ("tempting, but a", "yes, b", "no, c"))


@pytest.mark.parametrize(
    "item, message",
    [
        ({"q": "x", "options": ["a", "b"], "feedback": ["1", "2"], "answer": 0}, "at least 3 options"),
        ({"q": "x", "options": ["a", "b", "c"], "feedback": ["1", "2"], "answer": 0}, "one non-empty feedback"),
        ({"q": "x", "options": ["a", "b", "c"], "feedback": ["1", "", "3"], "answer": 0}, "one non-empty feedback"),
        ({"q": "x", "options": ["a", "b", "c"], "feedback": ["1", "2", "3"], "answer": 3}, "from 0 to 2"),
        ({"q": "x", "options": ["a", "a", "c"], "feedback": ["1", "2", "3"], "answer": 0}, "same text"),
        ({"q": "x", "options": ["a", "b", "c"], "answer": 0}, "missing feedback"),
    ],
)
def test_a_malformed_question_is_refused_by_name(item, message):
    with pytest.raises(ValueError, match=f"question 1: .*{message}"):
        lesson.quick_check([item])


# --- glossary --------------------------------------------------------------------------------------


def test_every_term_of_art_used_in_the_notes_is_in_the_glossary():
    missing = []
    for path in NOTEBOOK_PATHS:
        for i, text in markdown_cells(path):
            for word in re.findall(r"(?<![\w.-])[A-Za-z]*[A-Z][a-z0-9]*[A-Z][A-Za-z0-9]*(?![\w-])", text):
                if word not in NAMES and entry_of(word) is None:
                    missing.append(f"{path.stem} cell {i}: {word}")
            for word in JARGON:
                if re.search(rf"(?<![\w-]){re.escape(word)}", text, re.I) and entry_of(word) is None:
                    missing.append(f"{path.stem} cell {i}: {word}")
    assert not missing, "terms used but not in data/glossary.yaml:\n" + "\n".join(sorted(set(missing)))


def terms_cells(path: Path) -> list[tuple[int, set[str]]]:
    """Return (cell index, glossary terms it defines) for each terms cell of a notebook."""
    out = []
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if "terms" in cell.metadata.get("tags", []):
            names = lesson.terms_names(cell.source)
            assert cell.source == lesson.terms_markdown(names), (
                f"{path.stem} cell {i}: the terms cell differs from data/glossary.yaml; run `make notebooks`"
            )
            out.append((i, {entry_of(n) for n in names}))
    return out


def test_every_glossary_term_is_defined_before_its_first_use_in_the_course():
    """The first notebook using a term defines it in a terms cell above that use (title cell excepted)."""
    pats = patterns()
    seen: set[str] = set()
    late = []
    for path in NOTEBOOK_PATHS:
        boxes = terms_cells(path)
        first: dict[str, int] = {}
        for i, text in markdown_cells(path)[1:]:  # the title cell comes before any box
            for term, pat in pats.items():
                if term not in seen and term not in first and pat.search(text):
                    first[term] = i
        for term, i in first.items():
            if not any(cell < i and term in listed for cell, listed in boxes):
                late.append(f"{path.stem} cell {i}: '{term}' (first use in the course) is not in a terms cell above it")
        seen |= set(first)
    assert not late, "\n".join(late)


def test_a_terms_cell_names_only_glossary_terms_and_keeps_its_names():
    with pytest.raises(Exception, match="no entry for 'no such term'"):
        lesson.terms_markdown(["Token", "no such term"])
    cell = lesson.terms_markdown(["KV cache", "ttft"])
    assert lesson.terms_names(cell) == ["KV cache", "ttft"]
    assert "<b>KV cache</b>" in cell and "<b>TTFT</b>" in cell and "<details>" in cell
    with pytest.raises(Exception, match="a terms cell must start with"):
        lesson.terms_names("## not a terms cell")


# --- structure -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.stem)
def test_every_notebook_has_time_to_learn_exercises_and_references(path):
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    assert re.search(r"\*\*Time to learn:\*\* \d+ minutes", text), f"{path.stem}: no 'Time to learn'"
    assert re.search(r"^## Resources and references", text, re.M), f"{path.stem}: no Resources and references"
    exercises = re.split(r"^## Exercises", text, flags=re.M)
    assert len(exercises) == 2, f"{path.stem}: no '## Exercises' section"
    section = re.split(r"^## ", exercises[1], flags=re.M)[0]
    assert len(re.findall(r"^### Exercise", section, re.M)) >= 2, f"{path.stem}: fewer than two exercises"
    assert section.count("<details>") >= 2, f"{path.stem}: exercises need collapsible worked solutions"


@pytest.mark.parametrize("prefix", AXIS_NOTEBOOKS)
def test_every_axis_notebook_has_volume_sensitivity_and_team_sliders(prefix):
    (path,) = [p for p in NOTEBOOK_PATHS if p.name.startswith(prefix)]
    slider_sets = [set(ast.literal_eval(call.args[1])) for _, call in calls(path, "explore")]
    assert any(MAIN_SLIDERS <= s for s in slider_sets), f"{path.stem}: no explorer with {sorted(MAIN_SLIDERS)}"


def test_the_coverage_table_points_at_sections_that_exist():
    readme = (NOTEBOOKS / "README.md").read_text()
    rows = re.findall(r"^\|([^|\n]+)\|([^|\n]+)\|([^|\n]+)\|([^|\n]*)\|$", readme, re.M)
    rows = [r for r in rows if r[0].strip().lower().startswith("seed 00")]
    assert len(rows) >= 30, f"the coverage table has {len(rows)} seed-concept rows"
    headings = {}
    for path in NOTEBOOK_PATHS:
        cells = nbformat.read(path, as_version=4).cells
        headings[path.stem[:2]] = {
            h.strip().lower()
            for c in cells
            if c.cell_type == "markdown"
            for h in re.findall(r"^#+ (.+)$", c.source, re.M)
        }
    seeds = set()
    for seed, concept, where, section in rows:
        nb = re.match(r"\s*(\d\d)", where)
        assert nb and nb.group(1) in headings, f"coverage row '{concept.strip()}': no notebook '{where.strip()}'"
        assert section.strip().lower() in headings[nb.group(1)], (
            f"coverage row '{concept.strip()}': notebook {nb.group(1)} has no section '{section.strip()}'"
        )
        seeds.add(seed.strip()[:8])
    assert seeds == {f"seed 00{n}" for n in range(5)}, f"seeds covered: {sorted(seeds)}"


def test_feedback_that_already_says_right_or_wrong_is_not_prefixed_twice():
    (q,) = lesson.questions(
        [{"q": "x", "options": ["a", "b", "c"], "feedback": ["Right: a.", "No: b is wrong", "Close"], "answer": 0}]
    )
    assert q.grade(0) == (True, "Right: a.")
    assert q.grade(1) == (False, "No: b is wrong. Try another option.")
    assert q.grade(2) == (False, "Not quite. Close. Try another option.")
