"""Where things live: the repository, its data and notebooks, and the kit's cache folder."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
NOTEBOOKS = ROOT / "notebooks"
TEMPLATES = PACKAGE / "share" / "jupyter"


def data_dir() -> Path:
    """Return the data folder: $KIT_DATA_DIR, else ``data/`` beside the package."""
    env = os.environ.get("KIT_DATA_DIR")
    return Path(env) if env else ROOT / "data"


def cache_dir(*parts: str) -> Path:
    """Return (and create) a folder in the kit's cache: $KIT_CACHE_DIR, else ~/.cache/llm-decision-kit."""
    base = os.environ.get("KIT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "llm-decision-kit"
    )
    path = Path(base, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
