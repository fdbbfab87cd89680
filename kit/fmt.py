"""Formatting shared by the engine's sentences and every surface."""

from __future__ import annotations


def money(x: float | None) -> str:
    """Format a USD amount for people: $1,234 (n/a when unknown)."""
    return "n/a" if x is None else f"${x:,.0f}"
