"""The source text (``000_57c474bd75c8bbc1.txt``), found and split into its numbered sections.

Used by ``test_source_quotes.py`` and ``test_space.py``. The file is not part of the
repository: it is looked for in ``$NASBOOK_SOURCE_TEXT``, then in ``shared/source-text/``
next to or above the checkout; tests that need it are skipped (with that reason) without it.

Usage: ``text = read(); body = sections(text)["5.2"]``
"""
from __future__ import annotations

import os
import re
from pathlib import Path

FILE_NAME = "000_57c474bd75c8bbc1.txt"
_HEADING = re.compile(r"^(#{2,6}) (\d+(?:\.\d+)*)\.? ", re.M)


def path() -> Path | None:
    """Where the source text is, or None."""
    env = os.environ.get("NASBOOK_SOURCE_TEXT")
    candidates = [Path(env)] if env else []
    root = Path(__file__).resolve().parents[1]
    for up in (root, *root.parents):
        candidates.append(up / "shared" / "source-text" / FILE_NAME)
    return next((p for p in candidates if p.is_file()), None)


def read() -> str | None:
    p = path()
    return p.read_text(encoding="utf-8") if p else None


def _fences(text):
    """Character spans of fenced code blocks (a '#' line inside one is not a heading)."""
    spans, start = [], None
    for m in re.finditer(r"^[ \t]*```.*$", text, re.M):
        if start is None:
            start = m.start()
        else:
            spans.append((start, m.end()))
            start = None
    return spans


def sections(text: str) -> dict:
    """{"5.2": (start, end), ...}: each numbered heading's span, up to the next heading that is
    not one of its subsections (so §3.3 contains §3.3.1)."""
    fences = _fences(text)
    heads = [(m.start(), m.group(2)) for m in _HEADING.finditer(text)
             if not any(a <= m.start() < b for a, b in fences)]
    out = {}
    for k, (start, number) in enumerate(heads):
        end = len(text)
        for later, other in heads[k + 1:]:
            if not other.startswith(number + "."):
                end = later
                break
        out[number] = (start, end)
    return out


def section_text(text: str, number: str) -> str:
    start, end = sections(text)[number]
    return text[start:end]


def fenced_code(text: str, number: str, contains: str) -> str:
    """The first ```python block of §number that contains ``contains``, without its fences."""
    blocks = re.findall(r"```python\n(.*?)```", section_text(text, number), re.S)
    return next(b for b in blocks if contains in b)
