"""`show_source`: a function or type from a file of the repository, shown as code — never pasted."""

from __future__ import annotations

import pathlib
import re

__all__ = ["show_source", "excerpt"]

ROOT = pathlib.Path(__file__).resolve().parents[2]
LANGUAGES = {".go": "go", ".rs": "rust", ".ts": "typescript", ".py": "python", ".md": "markdown"}


def excerpt(path, start: str, end: str | None = None) -> str:
    """The lines of `path` (relative to the repository) from the first matching `start` (a regular
    expression) to the first following line matching `end` (default: the next line, after some
    indented lines, that begins a new top-level block), inclusive."""
    file = ROOT / path
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError:
        raise ValueError(f"no file {path} in the repository") from None
    first = next((n for n, line in enumerate(lines) if re.search(start, line)), None)
    if first is None:
        raise ValueError(f"nothing in {path} matches {start!r}")
    stop = len(lines)
    for n in range(first + 1, len(lines)):
        line = lines[n]
        if end is not None and re.search(end, line):
            stop = n + 1
            break
        if end is None and line and not line[0].isspace() and n > first + 1 and line.strip() not in ("}", "};"):
            stop = n
            break
        if end is None and line.strip() in ("}", "};") and not line[0].isspace():
            stop = n + 1
            break
    return "\n".join(lines[first:stop]).rstrip()


def show_source(path, start: str, end: str | None = None):
    """`excerpt(...)` as a syntax-highlighted code block in Jupyter (plain text elsewhere)."""
    from IPython.display import Code

    language = LANGUAGES.get(pathlib.Path(path).suffix, "text")
    return Code(excerpt(path, start, end), language=language)
