"""Exercises are generated from solutions, never edited by hand (as nbgrader does).

    python -m engine.checkpoint.generate            # solutions/*.ipynb → exercises/*.ipynb

In code cells, the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION``
become ``# YOUR CODE HERE`` and ``raise NotImplementedError`` at the same
indentation. In markdown cells, text between ``<!-- BEGIN SOLUTION -->`` and
``<!-- END SOLUTION -->`` becomes an invitation to answer, and text between
``<!-- BEGIN INSTRUCTOR -->`` and ``<!-- END INSTRUCTOR -->`` is dropped.
Outputs are cleared; `make exercises` executes the result.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys

__all__ = ["exercise_from_solution", "generate"]

_CODE = re.compile(r"^([ \t]*)### BEGIN SOLUTION[ \t]*\n.*?^[ \t]*### END SOLUTION[ \t]*(?:\n|$)", re.M | re.S)
_MARKDOWN = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->", re.S)
_INSTRUCTOR = re.compile(r"<!-- BEGIN INSTRUCTOR -->.*?<!-- END INSTRUCTOR -->\n?", re.S)
ANSWER_HERE = "*Your answer here — with the numbers from your runs.*"


def _strip_code(source: str) -> str:
    return _CODE.sub(lambda m: f"{m.group(1)}# YOUR CODE HERE\n{m.group(1)}raise NotImplementedError\n", source)


def _strip_markdown(source: str) -> str:
    return _MARKDOWN.sub(ANSWER_HERE, _INSTRUCTOR.sub("", source))


def exercise_from_solution(nb: dict) -> dict:
    """The exercise notebook (a dict in nbformat 4) made from a solution notebook."""
    out = json.loads(json.dumps(nb))
    for cell in out["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code":
            cell["source"] = _strip_code(source).rstrip("\n")
            cell["outputs"], cell["execution_count"] = [], None
        elif cell["cell_type"] == "markdown":
            cell["source"] = _strip_markdown(source)
    return out


def generate(solutions: pathlib.Path, exercises: pathlib.Path) -> list[pathlib.Path]:
    """Write an exercise for every solution notebook; return the files written."""
    written = []
    exercises.mkdir(parents=True, exist_ok=True)
    for path in sorted(solutions.glob("*.ipynb")):
        nb = exercise_from_solution(json.loads(path.read_text()))
        target = exercises / path.name
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        written.append(target)
    return written


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    root = pathlib.Path(__file__).resolve().parents[2]
    solutions = pathlib.Path(args[0]) if args else root / "solutions"
    exercises = pathlib.Path(args[1]) if len(args) > 1 else root / "exercises"
    for path in generate(solutions, exercises):
        print(f"wrote {path.relative_to(root) if path.is_relative_to(root) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
