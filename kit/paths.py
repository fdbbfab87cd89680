"""Where things live: the repository, its data and notebooks, and the kit's cache folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from kit.errors import DataError, KitError

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
NOTEBOOKS = ROOT / "notebooks"
TEMPLATES = PACKAGE / "share" / "jupyter"


def data_dir() -> Path:
    """Return the data folder: $KIT_DATA_DIR, else ``data/`` beside the package."""
    env = os.environ.get("KIT_DATA_DIR")
    return Path(env) if env else ROOT / "data"


def read_bytes(
    path: Path, check_size: Callable[[int], None] | None = None, error: type = DataError, label: str = ""
) -> bytes:
    """Return a file's bytes; ``error`` names it (``label``, else the path) when it cannot be read.

    ``check_size`` sees the size first, so a huge file can be refused unread.
    """
    try:
        if check_size is not None:
            check_size(path.stat().st_size)  # before reading: a huge file is refused unread
        return path.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
        if isinstance(exc, KitError):
            raise
        raise error(f"{label or path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None


def cache_dir(*parts: str) -> Path:
    """Return (and create) a folder in the kit's cache: $KIT_CACHE_DIR, else ~/.cache/llm-decision-kit."""
    base = os.environ.get("KIT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "llm-decision-kit"
    )
    path = Path(base, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
