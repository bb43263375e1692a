"""Numbers with their nouns, said once for every message: ``1 model``, ``2 models``, ``1,234 problems``.

Light on purpose (no imports): every layer, from the sources to the command line, uses it.
"""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``count`` (with thousands separators) and ``noun``, or its plural ``nouns`` (default: ``noun`` + s)
    unless ``count`` is exactly 1."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"
