"""A safe YAML loader that remembers where every value came from.

`load_located` turns YAML text into plain Python data (dict, list, str, int,
float, bool, None) plus a `Locator` that maps a path such as
``("workflow", 2, "depends_on", 0)`` back to a line and column. It is meant
for files a learner writes by hand, so it refuses what would surprise them:

* PyYAML's SafeLoader only parses and composes; this module builds the
  values itself, with YAML 1.2-core-like rules for plain scalars.
* YAML 1.1 readings that a reader would not expect (``no`` → false,
  ``1:30`` → 90, ``0755`` → 493) are errors asking for quotes.
* Tags, anchors, aliases and merge keys are rejected from the event stream
  *before* composing, so an alias bomb never expands; depth is checked there
  too, so deep nesting never reaches PyYAML's recursive composer.
* Duplicate keys, which YAML silently resolves to the last, are errors.

Every problem becomes a `Diagnostic`; all of them are raised together as one
`WorkflowError`. Mapping keys are always strings (``1: x`` has the key "1"):
workflow keys are names, and a key that YAML 1.1 would turn into a boolean
is just a word here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from types import MappingProxyType

import yaml

from .errors import Diagnostic, WorkflowError

__all__ = ["Locator", "load_located", "decode_utf8", "format_path", "MAX_BYTES", "MAX_DEPTH"]

#: Largest document accepted, in bytes of UTF-8. Workflows are a few KiB.
MAX_BYTES = 256 * 1024
#: Deepest nesting of mappings and lists accepted. A workflow needs about 5.
MAX_DEPTH = 40
#: Event-level problems reported per document; an alias bomb has hundreds.
_MAX_EVENT_PROBLEMS = 50

_CORE_TAG = "tag:yaml.org,2002:"
_SIMPLE_KEY = re.compile(r"[A-Za-z0-9_-]+")

# YAML 1.2 core schema, for plain scalars only.
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")
_NULL = ("", "~", "null", "Null", "NULL")
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_MAX_DIGITS = 1000  # CPython refuses int() of > 4300 digits; no workflow needs 1000

# Plain scalars that YAML 1.1 (PyYAML's default) reads differently.
_V11_BOOL = re.compile(r"(?i:y|n|yes|no|on|off)")
_V11_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+")
_V11_RADIX = re.compile(r"[-+]?0(?:[xX][0-9a-fA-F_]+|[bB][01_]+|[oO][0-7_]+)")
_V11_SEXAGESIMAL = re.compile(r"[-+]?(?:[1-9][0-9_]*(?::[0-5]?[0-9])+|[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*)")
_V11_SPECIAL = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_V11_UNDERSCORE = re.compile(r"[-+]?(?=[0-9.]*_)(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+][0-9]+)?")


# -- paths and positions -------------------------------------------------------

def format_path(path) -> str:
    """``("workflow", 2, "depends_on", 0)`` → ``workflow[2].depends_on[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _SIMPLE_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:  # a key with dots or spaces would be ambiguous written bare
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def _position(mark) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


class Locator:
    """1-based positions and raw scalar text of the values in one document."""

    def __init__(self) -> None:
        self._values: dict[tuple, tuple[int, int]] = {}
        self._keys: dict[tuple, tuple[int, int]] = {}
        self._raw: dict[tuple, str] = {}

    def value(self, path) -> tuple[int, int]:
        """Where the value at `path` starts; a missing path gives its nearest existing parent."""
        path = tuple(path)
        while path and path not in self._values:
            path = path[:-1]
        return self._values.get(path, (1, 1))

    def key(self, path) -> tuple[int, int]:
        """Where the mapping key of `path` is written; falls back like `value`."""
        path = tuple(path)
        return self._keys[path] if path in self._keys else self.value(path)

    def raw(self, path) -> str | None:
        """The scalar text as written (``1.10`` stays "1.10"); None when not a scalar."""
        return self._raw.get(tuple(path))


# -- the loader ----------------------------------------------------------------

def load_located(text: str, *, source: str = "<string>", max_bytes: int = MAX_BYTES,
                 max_depth: int = MAX_DEPTH):
    """``(data, Locator)`` from YAML text whose top level is a mapping.

    Raises `WorkflowError` carrying every problem found at the YAML level.
    """
    if not isinstance(text, str):
        raise TypeError(f"load_located takes the YAML text as str, not {type(text).__name__}")
    size = len(text) if len(text) > max_bytes else len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        # Checked before parsing: PyYAML's pure-Python parser takes seconds on megabytes.
        raise WorkflowError([_diag(source, "too-large", (1, 1), f"the document is {size:,} bytes; the limit is "
                                   f"{max_bytes:,}", "split it, or check that this is the file you meant")])
    problems = _EventScan(text, source, max_depth).run()
    if problems:
        raise WorkflowError(_sorted(problems))
    root = yaml.compose(text, Loader=yaml.SafeLoader)  # safe now: one document, shallow, no aliases
    if root is None or (isinstance(root, yaml.ScalarNode) and root.style is None and root.value == ""):
        raise WorkflowError([_diag(source, "empty-document", (1, 1), "the document is empty",
                                   "a workflow starts with name:, version: and workflow:")])
    if not isinstance(root, yaml.MappingNode):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        raise WorkflowError([_diag(source, "not-a-mapping", _position(root.start_mark),
                                   f"the top level is {kind}, not a mapping of keys to values",
                                   "write key: value lines at the top level, e.g. name: my-workflow")])
    builder = _Builder(source)
    data = builder.build(root, ())
    if builder.problems:
        raise WorkflowError(_sorted(builder.problems))
    return data, builder.loc


def decode_utf8(data: bytes, *, source: str = "<string>") -> str:
    """Text from UTF-8 bytes; invalid bytes are a located `yaml-syntax` error, not a traceback."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise WorkflowError([_diag(source, "yaml-syntax", (line, column),
                                   f"byte 0x{data[exc.start]:02x} is not valid UTF-8",
                                   "save the file as UTF-8")]) from None


def _diag(source, code, position, message, hint=None, path=()) -> Diagnostic:
    line, column = position
    return Diagnostic(code=code, message=message, path=format_path(path), line=line, column=column,
                      hint=hint, file=source)


def _sorted(diagnostics) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.line, d.column))


# -- pass 1: the event stream ----------------------------------------------------

@dataclass
class _Frame:
    """An open mapping or list while walking events."""

    path: tuple
    is_mapping: bool
    count: int = 0  # nodes seen so far; in a mapping, even = key, odd = value
    key: str = field(default="?")


class _EventScan:
    """Finds what must be rejected before composing: it never builds a node."""

    def __init__(self, text: str, source: str, max_depth: int) -> None:
        self.text, self.source, self.max_depth = text, source, max_depth
        self.problems: list[Diagnostic] = []
        self.frames: list[_Frame] = []
        self.documents = 0
        self.too_deep = False

    def run(self) -> list[Diagnostic]:
        try:
            for event in yaml.parse(self.text, Loader=yaml.SafeLoader):
                self.on_event(event)
                if self.too_deep:
                    break  # PyYAML slows down with depth; the levels below say nothing new
        except yaml.YAMLError as exc:
            self.problems.append(self.syntax_error(exc))
        return self.problems

    def add(self, code, mark, message, hint=None, path=()) -> None:
        if len(self.problems) < _MAX_EVENT_PROBLEMS:
            self.problems.append(_diag(self.source, code, _position(mark), message, hint, path))

    def on_event(self, event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents == 2:
                self.add("multiple-documents", event.start_mark, "a second YAML document starts here",
                         "a workflow file holds one document: remove the '---' and what follows, "
                         "or split it into two files")
        elif isinstance(event, yaml.CollectionEndEvent):
            self.frames.pop()
        elif isinstance(event, yaml.NodeEvent):
            path, is_key = self.place(event)
            self.check_node(event, path, is_key)
            if isinstance(event, yaml.CollectionStartEvent):
                self.frames.append(_Frame(path, isinstance(event, yaml.MappingStartEvent)))
                if len(self.frames) > self.max_depth:
                    self.too_deep = True
                    self.add("too-deep", event.start_mark, f"the document is nested more than "
                             f"{self.max_depth} levels deep", "a workflow needs about 5 levels", path)

    def place(self, event) -> tuple[tuple, bool]:
        """The path of the node this event starts, and whether it is a mapping key."""
        if not self.frames:
            return (), False
        frame = self.frames[-1]
        frame.count += 1
        if not frame.is_mapping:
            return frame.path + (frame.count - 1,), False
        is_key = frame.count % 2 == 1
        if is_key:
            frame.key = event.value if isinstance(event, yaml.ScalarEvent) else "?"
        return frame.path + (frame.key,), is_key

    def check_node(self, event, path, is_key) -> None:
        if isinstance(event, yaml.AliasEvent):
            self.add("yaml-anchor", event.start_mark, f"the alias *{event.anchor} is not allowed",
                     "write the value out in full where it is needed", path)
            return
        if event.anchor is not None:
            self.add("yaml-anchor", event.start_mark, f"the anchor &{event.anchor} is not allowed",
                     "write the value out in full where it is needed; anchors and aliases hide "
                     "what a step contains", path)
        if event.tag is not None:
            tag = "!!" + event.tag[len(_CORE_TAG):] if event.tag.startswith(_CORE_TAG) else event.tag
            self.add("yaml-tag", event.start_mark, f"the explicit tag {tag} is not allowed: a workflow "
                     "holds plain data only", "remove the tag; quote the value if it is text", path)
        if is_key and isinstance(event, yaml.ScalarEvent) and event.style is None and event.value == "<<":
            self.add("yaml-anchor", event.start_mark, "the merge key << is not allowed",
                     "write the merged keys out in full", path)

    def syntax_error(self, exc: yaml.YAMLError) -> Diagnostic:
        if isinstance(exc, yaml.reader.ReaderError):
            position = _offset_position(self.text, exc.position)
            char = exc.character if isinstance(exc.character, str) else chr(exc.character)
            message = f"the character U+{ord(char):04X} cannot appear in a YAML document"
            return _diag(self.source, "yaml-syntax", position, message, "remove it, or write it escaped "
                         "inside a double-quoted string")
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        position = _position(mark) if mark is not None else (1, 1)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        message = f"{problem} ({context})" if context else problem
        hint = _SYNTAX_HINTS.get(problem)
        return _diag(self.source, "yaml-syntax", position, message, hint)


_SYNTAX_HINTS = MappingProxyType({
    "found character '\\t' that cannot start any token": "indent with spaces: YAML does not allow tabs",
    "mapping values are not allowed here": "quote a value that contains ': ', or check the indentation",
})


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# -- pass 2: values from the composed nodes ------------------------------------

class _Builder:
    """Plain Python values from a composed, already-vetted node graph."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.loc = Locator()
        self.problems: list[Diagnostic] = []

    def add(self, code, node, message, hint=None, path=()) -> None:
        self.problems.append(_diag(self.source, code, _position(node.start_mark), message, hint, path))

    def build(self, node, path: tuple):
        self.loc._values[path] = _position(node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            self.loc._raw[path] = node.value
            return self.scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
        return self.mapping(node, path)

    def mapping(self, node, path: tuple) -> dict:
        out: dict = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.add("wrong-type", key_node, "a mapping key must be a name, not a list or mapping",
                         "write key: value", path)
                continue
            key = key_node.value
            if key in first_line:
                self.add("duplicate-key", key_node, f"the key {key!r} appears twice in this mapping; "
                         f"the first is on line {first_line[key]}",
                         "remove one: YAML would silently keep only the last", path + (key,))
                continue
            first_line[key] = key_node.start_mark.line + 1
            self.loc._keys[path + (key,)] = _position(key_node.start_mark)
            out[key] = self.build(value_node, path + (key,))
        return out

    def scalar(self, node, path: tuple):
        text = node.value
        if node.style is not None:  # quoted, literal or folded: always text
            return text
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        if text in _NULL:
            return None
        surprise = yaml11_surprise(text)
        if surprise:
            self.add("ambiguous-scalar", node, surprise[0], surprise[1], path)
            return text
        if _INT.fullmatch(text):
            if len(text) > _MAX_DIGITS:
                self.add("bad-value", node, f"this number has {len(text):,} digits", "is it meant as text? "
                         "quote it", path)
                return text
            return int(text)
        if _FLOAT.fullmatch(text):
            return float(text)
        return text


def yaml11_surprise(text: str) -> tuple[str, str] | None:
    """(message, hint) when YAML 1.1 would read this plain scalar as something else."""
    quote = f"quote it as \"{text}\" if you mean text"
    if _V11_BOOL.fullmatch(text):
        meant = "true" if text.lower() in ("y", "yes", "on") else "false"
        return (f"{text!r} is the boolean {meant} in YAML 1.1 but text in YAML 1.2",
                f"{quote}, or write {meant} for a boolean")
    if _V11_RADIX.fullmatch(text):
        versions = "YAML 1.2 but text in YAML 1.1" if text.lstrip("+-")[1] in "oO" else "YAML 1.1"
        try:
            number = f"the number {int(text.replace('_', ''), 0)}"
        except ValueError:  # "0x_": a prefix without digits
            number = "a number"
        return f"{text!r} is {number} in {versions}", f"{quote}, or write the number in decimal"
    if _V11_LEADING_ZERO.fullmatch(text):
        digits = text.lstrip("+-").replace("_", "")
        octal = f"the octal number {int(digits, 8)}" if set(digits) <= set("01234567") else "text"
        return (f"{text!r} has a leading zero: YAML 1.1 reads it as {octal}, YAML 1.2 as {int(digits)}",
                f"{quote}, or drop the leading zero")
    if _V11_SEXAGESIMAL.fullmatch(text):
        return (f"{text!r} is a base-60 number in YAML 1.1 ({_sexagesimal(text):g})",
                f"{quote}; a duration is written with a unit, e.g. '90s'")
    if _V11_SPECIAL.fullmatch(text):
        return (f"{text!r} is infinity or not-a-number in YAML", f"{quote}; a workflow needs finite numbers")
    if _V11_UNDERSCORE.fullmatch(text):
        return (f"{text!r} is the number {text.replace('_', '')} in YAML 1.1 but text in YAML 1.2",
                f"{quote}, or write the number without underscores")
    return None


def _sexagesimal(text: str) -> float:
    sign = -1 if text.startswith("-") else 1
    value = 0.0
    for part in text.lstrip("+-").replace("_", "").split(":"):
        value = value * 60 + float(part)
    return sign * value
