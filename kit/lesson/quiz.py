"""Quick checks: scenario questions with feedback for each option, a retry, and a static answer key.

An item is ``{"q": question, "options": [...], "feedback": [...], "answer": index}``: at least three
options, one feedback line per option (why that option is right, or why it is tempting and wrong).
A wrong pick shows its own feedback and invites another try; the answer appears only when the learner
picks it or asks for it with "Show the answer", which is offered after the first wrong try.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as w

from kit.style import ERROR, GOOD

e = html.escape
MIN_OPTIONS = 3
RIGHT = ("right", "correct", "yes")  # feedback that already says so gets no second "Right."
WRONG = ("not quite", "no", "wrong", "not ")


def _opens_with(text: str, words: tuple[str, ...]) -> bool:
    head = text.lstrip().lower()
    return any(head.startswith(w) and (len(head) == len(w) or not head[len(w)].isalpha()) for w in words)


@dataclass(frozen=True)
class Question:
    """One multiple-choice question: its options, the feedback for each, and the right one."""

    text: str
    options: tuple[str, ...]
    feedback: tuple[str, ...]
    answer: int

    def grade(self, picked: int | None) -> tuple[bool | None, str]:
        """Return (correct?, feedback) for the option index ``picked`` (None: not answered yet)."""
        if picked is None:
            return None, ""
        text = self.feedback[picked]
        if picked == self.answer:
            return True, text if _opens_with(text, RIGHT) else f"Right. {text}"
        text = text if _opens_with(text, WRONG) else f"Not quite. {text}"
        return False, text + ("" if text.rstrip().endswith((".", "!", "?")) else ".") + " Try another option."

    def reveal(self) -> str:
        """Return the answer and its explanation."""
        return f"The answer is \u201c{self.options[self.answer]}\u201d. {self.feedback[self.answer]}"


def questions(items: Sequence[dict[str, Any]]) -> list[Question]:
    """Check and convert quick-check items; raise ValueError naming the question and what is wrong."""
    out = []
    for i, item in enumerate(items, 1):
        missing = [k for k in ("q", "options", "feedback", "answer") if k not in item]
        if missing:
            raise ValueError(f"quick check question {i}: missing {', '.join(missing)}")
        options, feedback = tuple(item["options"]), tuple(item["feedback"])
        if len(options) < MIN_OPTIONS:
            raise ValueError(f"quick check question {i}: needs at least {MIN_OPTIONS} options, got {len(options)}")
        if len(set(options)) != len(options):
            raise ValueError(f"quick check question {i}: two options have the same text")
        if len(feedback) != len(options) or not all(isinstance(f, str) and f.strip() for f in feedback):
            raise ValueError(
                f"quick check question {i}: needs one non-empty feedback line per option "
                f"({len(options)}), got {len(feedback)}"
            )
        answer = item["answer"]
        if not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer < len(options):
            raise ValueError(
                f"quick check question {i}: answer must be an option index from 0 to {len(options) - 1}, got {answer!r}"
            )
        out.append(Question(item["q"], options, feedback, answer))
    return out


class QuickCheck:
    """Questions with feedback per option and a retry; read without a kernel, the answers fold out."""

    def __init__(self, items: Sequence[dict[str, Any]]):
        self.questions = questions(items)
        self.pickers: list[w.RadioButtons] = []
        self.feedback: list[w.HTML] = []
        self.show: list[w.Button] = []
        self.tries: list[int] = []
        rows: list[w.Widget] = []
        for n, q in enumerate(self.questions):
            picker = w.RadioButtons(
                options=[(o, i) for i, o in enumerate(q.options)], value=None, layout=w.Layout(width="auto")
            )
            note = w.HTML("")
            show = w.Button(description="Show the answer", layout=w.Layout(display="none", width="auto"))
            picker.observe(lambda change, n=n: self._answer(n, change["new"]), names="value")
            show.on_click(lambda _button, n=n: self._reveal(n))
            self.pickers.append(picker)
            self.feedback.append(note)
            self.show.append(show)
            self.tries.append(0)
            rows += [w.HTML(f"<b>{n + 1}. {e(q.text)}</b>"), picker, note, show]
        self.widget = w.VBox(rows)
        self.widget.add_class("kit-quick-check")

    def _say(self, n: int, ok: bool | None, text: str) -> None:
        colour = GOOD if ok else ERROR
        self.feedback[n].value = f'<div style="color:{colour};margin:0 0 6px 0">{e(text)}</div>' if text else ""

    def _answer(self, n: int, picked: int | None) -> None:
        ok, text = self.questions[n].grade(picked)
        if ok is False:
            self.tries[n] += 1
            self.show[n].layout.display = ""
        elif ok:
            self.show[n].layout.display = "none"
        self._say(n, ok, text)

    def _reveal(self, n: int) -> None:
        self.show[n].layout.display = "none"
        self._say(n, True, self.questions[n].reveal())

    def static_html(self) -> str:
        """Return the questions; under each, the answer and then every option's feedback fold out."""
        parts = []
        for n, q in enumerate(self.questions, 1):
            opts = "".join(f"<li>{e(o)}</li>" for o in q.options)
            why = "".join(f"<li><i>{e(o)}</i>: {e(f)}</li>" for o, f in zip(q.options, q.feedback, strict=True))
            parts.append(
                f"<p><b>{n}. {e(q.text)}</b></p><ol type='a'>{opts}</ol>"
                f"<details><summary>Answer</summary><p>{e(q.reveal())}</p>"
                f"<details><summary>About each option</summary><ol type='a'>{why}</ol></details></details>"
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
    """Return a quick check over ``items`` ({q, options, feedback (one per option), answer (index)})."""
    return QuickCheck(items)
