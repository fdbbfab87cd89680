"""Formatting shared by the engine's sentences and every surface."""

from __future__ import annotations


def money(x: float | None) -> str:
    """Format a USD amount for people: $1,234 (n/a when unknown)."""
    if x is None:
        return "n/a"
    return f"-${-x:,.0f}" if x < -0.5 else f"${abs(x) if abs(x) < 0.5 else x:,.0f}"
