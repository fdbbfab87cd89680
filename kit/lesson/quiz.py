"""Quick checks: multiple-choice questions with immediate feedback and a static answer key."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as w

from kit.style import ERROR, GOOD

e = html.escape


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
            raise ValueError(
                f"quick check question {i}: answer must be an index from 0 to {len(options) - 1} "
                f"of at least two options, got {item['answer']!r}"
            )
        out.append(Question(item["q"], options, item["answer"], item["why"]))
    return out


class QuickCheck:
    """A few questions with immediate feedback; read without a kernel, the answers fold out below each one."""

    def __init__(self, items: Sequence[dict[str, Any]]):
        self.questions = questions(items)
        self.pickers, self.feedback = [], []
        rows: list[w.Widget] = []
        for n, q in enumerate(self.questions, 1):
            picker = w.RadioButtons(
                options=[(o, i) for i, o in enumerate(q.options)], value=None, layout=w.Layout(width="auto")
            )
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
        colour = GOOD if ok else ERROR
        note.value = f'<div style="color:{colour};margin:0 0 10px 0">{e(text)}</div>' if text else ""

    def static_html(self) -> str:
        """Return the questions with their answers folded under each one."""
        parts = []
        for n, q in enumerate(self.questions, 1):
            opts = "".join(f"<li>{e(o)}</li>" for o in q.options)
            parts.append(
                f"<p><b>{n}. {e(q.text)}</b></p><ol type='a'>{opts}</ol><details><summary>Answer</summary>"
                f"<p>{e(q.options[q.answer])}. {e(q.why)}</p></details>"
            )
        return "".join(parts)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.static_html()
        bundle["text/plain"] = "\n".join(
            f"{n}. {q.text} -> {q.options[q.answer]}" for n, q in enumerate(self.questions, 1)
        )
        return bundle


def quick_check(items: Sequence[dict[str, Any]]) -> QuickCheck:
    """Return a quick check over ``items`` ({q, options, answer (index), why})."""
    return QuickCheck(items)
