"""engine.yamlsafe: safe, located YAML with YAML 1.2-like scalars and hard limits."""

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import CODES, WorkflowError
from engine.yamlsafe import MAX_BYTES, MAX_DEPTH, decode_utf8, format_path, load_located

SEED = Path(__file__).parent.parent / "notebooks" / "workflows" / "order-fulfillment.yaml"


def codes_of(text, **kwargs):
    with pytest.raises(WorkflowError) as info:
        load_located(text, **kwargs)
    return info.value.codes


def only(text, **kwargs):
    """The single diagnostic that `text` produces."""
    with pytest.raises(WorkflowError) as info:
        load_located(text, **kwargs)
    (diagnostic,) = info.value.diagnostics
    return diagnostic


# -- values ----------------------------------------------------------------------------

@pytest.mark.parametrize("plain, value", [
    ("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False), ("FALSE", False),
    ("null", None), ("Null", None), ("NULL", None), ("~", None), ("", None),
    ("0", 0), ("42", 42), ("-7", -7), ("+3", 3),
    ("1.0", 1.0), (".5", 0.5), ("1e3", 1000.0), ("1.5e-3", 0.0015), ("-2.5", -2.5),
    ("5s", "5s"), ("order-service", "order-service"), ("/validate", "/validate"), ("1.0.0", "1.0.0"),
    ("2024-01-02", "2024-01-02"), ("tRUE", "tRUE"), ("nulls", "nulls"), ("08:30", "08:30"),
])
def test_plain_scalars_resolve_like_yaml_1_2_core(plain, value):
    data, _ = load_located(f"k: {plain}\n")
    assert data["k"] == value and type(data["k"]) is type(value)


@pytest.mark.parametrize("quoted", ['"no"', "'true'", '"1.0"', "'0755'", '"1:30"', '""', "'~'"])
def test_quoted_scalars_are_always_text(quoted):
    data, _ = load_located(f"k: {quoted}\n")
    assert data["k"] == quoted[1:-1]


def test_block_scalars_are_text():
    data, _ = load_located("k: |\n  no\n")
    assert data["k"] == "no\n"


@pytest.mark.parametrize("plain", [
    "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "off", "OFF", "y", "Y", "n", "N",
    "1:30", "12:30:45", "-1:30", "1:30.5",
    "0755", "00", "09", "-012",
    "0x1F", "0b101", "0o17", "0x_", "-0b1_0",
    ".inf", "-.inf", ".NaN", "1_000", "3.9__", ".6_8",
])
def test_yaml_1_1_surprises_are_errors_asking_for_quotes(plain):
    d = only(f"a: 1\nk: {plain}\n")
    assert (d.code, d.path, d.line, d.column) == ("ambiguous-scalar", "k", 2, 4)
    assert "quote" in d.hint


def test_ambiguous_messages_say_what_yaml_1_1_would_do():
    assert "false" in only("k: no").message
    assert "90" in only("k: 1:30").message
    assert "493" in only("k: 0755").message


def test_keys_are_always_text():
    data, _ = load_located("1: a\nyes: b\nnull: c\ntrue: d\n")
    assert data == {"1": "a", "yes": "b", "null": "c", "true": "d"}


def test_nested_values_and_lists():
    data, _ = load_located("a:\n  - {b: 1, c: [x, 'y']}\n  - ~\n")
    assert data == {"a": [{"b": 1, "c": ["x", "y"]}, None]}


# -- the locator -------------------------------------------------------------------------

def test_locator_positions_are_one_based():
    data, loc = load_located(SEED.read_text())
    assert data["workflow"][2]["depends_on"] == ["validate-order"]
    assert loc.value(("workflow", 2, "depends_on", 0)) == (26, 18)
    assert loc.key(("workflow", 2, "depends_on")) == (26, 5)
    assert loc.value(("name",)) == (3, 7)
    assert loc.key(("name",)) == (3, 1)


def test_locator_raw_keeps_the_text_as_written():
    _, loc = load_located("version: 1.10\nother: 1.0\nq: '1.0'\nm: {a: 1}\n")
    assert loc.raw(("version",)) == "1.10"
    assert loc.raw(("other",)) == "1.0"
    assert loc.raw(("q",)) == "1.0"
    assert loc.raw(("m",)) is None


def test_locator_missing_paths_fall_back_to_the_nearest_parent():
    _, loc = load_located("a:\n  b:\n    c: 1\n")
    assert loc.value(("a", "b", "zzz", 3)) == loc.value(("a", "b")) == (3, 5)
    assert loc.key(("a", "b", "missing")) == (3, 5)
    assert loc.value(("nothing",)) == (1, 1)


def test_format_path():
    assert format_path(("workflow", 2, "depends_on", 0)) == "workflow[2].depends_on[0]"
    assert format_path(("compensation_flows", "process-payment", 0, "service")) == \
        "compensation_flows.process-payment[0].service"
    assert format_path(("services", "a.b")) == 'services["a.b"]'
    assert format_path(()) == ""


# -- rejections --------------------------------------------------------------------------

def test_syntax_error_is_located_at_the_problem():
    d = only("a: 1\nb: c: d\n", source="w.yaml")
    assert (d.code, d.line, d.column, d.file) == ("yaml-syntax", 2, 5, "w.yaml")


def test_tab_indentation_gets_a_hint():
    d = only("a:\n\tb: 1\n")
    assert d.code == "yaml-syntax" and "tab" in d.hint


def test_unprintable_characters_are_syntax_errors():
    d = only("a: 1\nb: x\x00y\n")
    assert (d.code, d.line, d.column) == ("yaml-syntax", 2, 5)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "--- \n...\n"])
def test_empty_documents(text):
    assert codes_of(text) == ["empty-document"]


@pytest.mark.parametrize("text, kind", [("- a\n- b\n", "list"), ("just text\n", "single value"), ("~\n", "single")])
def test_top_level_must_be_a_mapping(text, kind):
    d = only(text)
    assert d.code == "not-a-mapping" and kind in d.message


def test_multiple_documents_point_at_the_second():
    d = only("a: 1\n---\nb: 2\n")
    assert (d.code, d.line) == ("multiple-documents", 2)


@pytest.mark.parametrize("text", [
    "a: !!python/object/apply:os.system ['echo pwned']\n",
    "a: !!python/name:os.system\n",
    "a: !foo 1\n",
    "a: !!str 1\n",
    "a: ! x\n",
    "a: !!map {b: 1}\n",
])
def test_explicit_tags_are_rejected(text):
    d = only(text)
    assert (d.code, d.path, d.line, d.column) == ("yaml-tag", "a", 1, 4)


def test_python_tag_at_top_level_is_rejected_before_anything_runs():
    d = only("!!python/object/apply:os.system ['echo pwned']\n")
    assert d.code == "yaml-tag" and "!!python/object/apply:os.system" in d.message


def test_anchors_aliases_and_merge_keys_are_rejected():
    err = codes_of("base: &b {x: 1}\nuse: *b\nmerged:\n  <<: {x: 2}\n")
    assert err == ["yaml-anchor", "yaml-anchor", "yaml-anchor"]


def test_quoted_merge_key_is_just_a_key():
    data, _ = load_located("'<<': 1\n")
    assert data == {"<<": 1}


def test_duplicate_keys_point_at_the_second_and_name_the_first_line():
    d = only("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert (d.code, d.path, d.line, d.column) == ("duplicate-key", "b.c", 4, 3)
    assert "line 3" in d.message


def test_complex_keys_are_rejected():
    assert codes_of("? [a, b]\n: c\n") == ["wrong-type"]


def test_every_problem_of_one_kind_is_reported_at_once():
    text = "a: !foo 1\nb: &x 2\nc: *x\nd: !bar 3\n"
    assert codes_of(text) == ["yaml-tag", "yaml-anchor", "yaml-anchor", "yaml-tag"]
    assert codes_of("a: no\nb: 1\nb: 2\nc: 0x1\n") == ["ambiguous-scalar", "duplicate-key", "ambiguous-scalar"]


def test_decode_utf8_locates_a_bad_byte():
    with pytest.raises(WorkflowError) as info:
        decode_utf8(b"a: 1\nb: \xff\n", source="w.yaml")
    (d,) = info.value.diagnostics
    assert (d.code, d.line, d.column, d.file) == ("yaml-syntax", 2, 4, "w.yaml")


def test_non_text_input_is_a_programming_error():
    with pytest.raises(TypeError):
        load_located(b"a: 1")


# -- limits ------------------------------------------------------------------------------------

def alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_rejected_quickly_without_expanding():
    text = alias_bomb()
    assert len(text) < 1000  # expands to 9**9 ≈ 3.9e8 strings if walked
    start = time.perf_counter()
    codes = codes_of(text)
    assert time.perf_counter() - start < 0.5
    assert set(codes) == {"yaml-anchor"}


def test_oversized_documents_are_rejected_before_parsing():
    text = "a: [" + ", ".join(["x"] * (MAX_BYTES // 3)) + "]\n"
    start = time.perf_counter()
    d = only(text)
    assert time.perf_counter() - start < 0.5
    assert d.code == "too-large" and f"{MAX_BYTES:,}" in d.message


def test_size_counts_utf8_bytes():
    text = "a: " + "é" * (MAX_BYTES // 2) + "\n"  # fewer characters than the limit, more bytes
    assert codes_of(text) == ["too-large"]


@pytest.mark.parametrize("style", ["flow", "block"])
def test_two_thousand_levels_give_too_deep_not_recursion_error(style):
    n = 2000
    if style == "flow":
        text = "a: " + "[" * n + "]" * n + "\n"
    else:
        text = "a:\n" + "- " * n + "v\n"  # compact block lists: one level per "- "
    assert codes_of(text) == ["too-deep"]


def test_depth_limit_boundary():
    def nested(depth):  # `depth` mappings and lists, the top-level mapping included
        return "a: " + "[" * (depth - 1) + "]" * (depth - 1) + "\n"
    load_located(nested(MAX_DEPTH))
    assert codes_of(nested(MAX_DEPTH + 1)) == ["too-deep"]


# -- no traceback for any text -----------------------------------------------------------------
# Example counts come from the Hypothesis profile in conftest.py (HYPOTHESIS_PROFILE=deep: 5,000).

@settings(deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_data_or_workflow_error(text):
    try:
        data, _ = load_located(text)
    except WorkflowError as err:
        assert err.diagnostics and all(d.code in CODES and d.line >= 1 and d.column >= 1
                                       for d in err.diagnostics)
        str(err)
    else:
        assert isinstance(data, dict)


YAMLISH = st.sampled_from(list(":-[]{},#&*!|>'\"%@`?\t\n ") + ["<<", "---", "...", "no", "1:30", "&a", "*a",
                                                                 "!!python/object:x", "- ", ": ", "\\"])


@settings(deadline=None)
@given(st.lists(YAMLISH, max_size=60).map("".join))
def test_yaml_punctuation_soup_gives_data_or_workflow_error(text):
    try:
        load_located(text)
    except WorkflowError:
        pass
