"""The one family of user-facing errors.

Every error a person can meet (a bad parameter, a malformed data or scenario file, a missing model file,
a command-line mistake, a server that would not start) derives from ``KitError``. Its message is one
line that names the input, the value (shortened when long) and what is allowed. Every surface — the CLI,
the app, the notebooks' validation cell, ``kit run`` — catches ``KitError`` and nothing narrower.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_VALUE_CHARS = 80


def shorten(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """Return ``repr(value)`` on one line, cut to about ``limit`` characters with the full length said."""
    try:
        text = repr(value)
    except Exception:  # a value whose repr fails (or is too big to print) still gets a name
        text = f"<{type(value).__name__}>"
    except BaseException:  # noqa: B036 - e.g. RecursionError on a deeply nested value
        text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    n = len(value) if isinstance(value, (str, bytes, list, tuple, dict)) else len(text)
    unit = "characters" if isinstance(value, str) else "items" if isinstance(value, (list, tuple, dict)) else "chars"
    return f"{text[: limit - 1]}… ({n:,} {unit})"


def listing(items: Iterable[Any], most: int = 8) -> str:
    """Return ``a, b, c`` for a few items, or the first ``most`` and how many there are in all."""
    names = [str(i) for i in items]
    if len(names) <= most:
        return ", ".join(names)
    return ", ".join(names[:most]) + f", … ({len(names)} in all)"


def one_line(message: str, limit: int = 600) -> str:
    """Return ``message`` on one line, cut to ``limit`` characters."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class KitError(Exception):
    """Base of every user-facing error: one line naming the input, the value and what is allowed."""

    def __init__(self, message: str):
        super().__init__(one_line(message))


class ParamError(KitError, ValueError):
    """A scenario or notebook input that is unknown, of the wrong type or out of range."""

    def __init__(self, param: str, value: Any, allowed: str, context: str = ""):
        self.param, self.value, self.allowed, self.context = param, value, allowed, context
        where = f"{context}: " if context else ""
        name = param if len(str(param)) <= MAX_VALUE_CHARS else shorten(param)
        super().__init__(f"{where}parameter '{name}': got {shorten(value)}; allowed: {allowed}")


class DataError(KitError, ValueError):
    """A data file (data/, a params YAML, an eval set) that is missing or malformed: names file, row, column."""


class ScenarioFileError(KitError, ValueError):
    """A file that is not a scenario saved by this kit."""


class ModelFileError(KitError, RuntimeError):
    """A local model file that is missing or does not match its pinned checksum."""


class UsageError(KitError):
    """A command-line mistake: an unknown option, a missing argument, an output folder in use."""


class ServerError(KitError, RuntimeError):
    """A server the kit starts (llama.cpp, Voila) that exited or did not answer in time."""
