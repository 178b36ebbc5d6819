"""Small value helpers shared by every room: finite floats and ages in words."""

from __future__ import annotations

import math


def finite(x: object) -> float | None:
    """`x` as a float, or None when it is missing, NaN, infinite or not a number."""
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def age_words(seconds: float | None) -> str:
    """`42 s`, `12 min`, `3.5 h`, `4 days`: how old data is, for a banner or a note."""
    if seconds is None:
        return "unknown"
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"
