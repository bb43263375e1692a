"""The reader: hostile cards, YAML and JSON become Problems naming the input and the bound, in bounded time and memory.

Expected values are built by hand here; bounds on time and memory are generous (CI shares two busy cores)
because the point is "bounded", not "fast": the unbounded cases took minutes and gigabytes.
"""

from __future__ import annotations

import io
import json
import random
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_sample import hub_sample_dir

from ptmgraph import reader
from ptmgraph.reader import Limits
from ptmgraph.records import Problem

MiB = 1024 * 1024
BOUNDED_SECONDS = 30
"""What "bounded" allows: a tenth of a second here when idle, seconds on a loaded 2-core machine; the
unbounded cases took minutes."""


def measured(call: Callable[[], Any]) -> tuple[Any, float, int]:
    """The call's answer, its wall-clock seconds and its peak Python allocation in bytes."""
    tracemalloc.start()
    start = time.monotonic()
    try:
        answer = call()
    finally:
        seconds = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return answer, seconds, peak


def alias_bomb(levels: int = 9, fan_out: int = 9) -> str:
    """The "billion laughs" YAML: each level lists the previous one ``fan_out`` times."""
    lines = ["base_model: org/base", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * fan_out) + "]")
    return "\n".join(lines)


def card(front_matter: str, body: str = "# A model\n") -> str:
    return f"---\n{front_matter}\n---\n{body}"


# --- cards and YAML ---------------------------------------------------------------------------------


def test_a_plain_card_is_read() -> None:
    text = card("base_model: org/base\nlicense: mit\ntags:\n- a\n- b")
    assert reader.card_yaml(text, "x/README.md") == {"base_model": "org/base", "license": "mit", "tags": ["a", "b"]}


def test_front_matter_rules_match_the_hub_conventions() -> None:
    assert reader.card_yaml("# no front matter\n", "r") is None
    assert reader.card_yaml("\ufeff\n\n---\r\nlicense: mit\r\n...\r\nbody", "r") == {"license": "mit"}
    assert reader.card_yaml("---\n---\n", "r") == {}
    assert reader.card_yaml("----\nlicense: mit\n---\n", "r") is None  # a rule, not front matter
    never_closed = reader.card_yaml("---\nlicense: mit\n", "r")
    assert isinstance(never_closed, Problem)
    assert never_closed.message == "front matter opened with '---' is never closed"
    not_a_mapping = reader.card_yaml("---\n- a\n- b\n---\n", "r")
    assert isinstance(not_a_mapping, Problem) and not_a_mapping.message == "front matter is a list, not a mapping"
    broken = reader.card_yaml("---\nlicense: mit\nbase_model: [unclosed\n---\n", "r", model="o/m")
    # README line 1 is '---', so the YAML's third line is README line 4 (where the parser gives up).
    assert broken == Problem("r", "o/m", "front matter is not valid YAML at line 4")


def test_the_alias_bomb_is_refused_in_bounded_time_and_memory() -> None:
    bomb = card(alias_bomb())
    assert len(bomb) < 1100  # the 1 KB bomb of the issue: 9**10 "lol"s once expanded
    answer, seconds, peak = measured(lambda: reader.card_yaml(bomb, "bomb/README.md", model="bomb/x"))
    assert isinstance(answer, Problem)
    assert answer.source == "bomb/README.md" and answer.model == "bomb/x"
    assert "expands to more than 1,000,000 values" in answer.message
    assert seconds < BOUNDED_SECONDS, seconds  # unbounded: about 2 minutes
    assert peak < 50 * MiB, peak  # unbounded: 6.8 GB


def test_a_small_alias_that_expands_to_little_is_fine() -> None:
    text = "defaults: &d {license: mit}\nbase_model: org/base\nother: *d"
    assert reader.yaml_mapping(text, "y") == {"defaults": {"license": "mit"}, "base_model": "org/base",
                                             "other": {"license": "mit"}}


def test_too_many_aliases_are_refused_even_when_small() -> None:
    text = "a: &a x\nb: [" + ",".join(["*a"] * 101) + "]"
    answer = reader.yaml_mapping(text, "y")
    assert isinstance(answer, Problem) and answer.message == "has more than 100 aliases"
    assert reader.yaml_mapping(text, "y", limits=Limits(yaml_aliases=101)) == {"a": "x", "b": ["x"] * 101}


def test_a_node_that_contains_its_own_alias_is_refused() -> None:
    answer = reader.yaml_mapping("a: &loop [1, *loop]", "y")
    assert isinstance(answer, Problem) and answer.message == "has an alias *loop inside the node it names"


def test_a_3_mb_yaml_readme_is_bounded() -> None:
    entries = "\n".join(f"  - org/model-{i}" for i in range(150_000))
    text = card("base_model:\n" + entries)
    assert len(text) > 3_000_000
    answer, seconds, peak = measured(lambda: reader.card_yaml(text, "big/README.md"))
    assert isinstance(answer, Problem)
    assert answer.message.startswith("front matter is ") and "over the 262,144-byte limit" in answer.message
    assert seconds < BOUNDED_SECONDS, seconds  # unbounded: 90 s
    assert peak < 64 * MiB, peak  # unbounded: 910 MB


def test_a_30_mb_readme_with_small_front_matter_is_read() -> None:
    text = card("base_model: org/base", body="prose line\n" * 3_000_000)
    answer, seconds, _ = measured(lambda: reader.card_yaml(text, "r"))
    assert answer == {"base_model": "org/base"}
    assert seconds < BOUNDED_SECONDS, seconds


@pytest.mark.parametrize("style", ["flow", "block"])
def test_deep_yaml_is_refused_before_it_is_built(style: str) -> None:
    depth = 100_000
    flow = "base_model: " + "[" * depth + "]" * depth
    block = "base_model:\n" + "- " * depth + "x"
    text = flow if style == "flow" else block
    answer, seconds, _ = measured(lambda: reader.yaml_mapping(text, "deep"))
    assert isinstance(answer, Problem) and answer.message == "is nested deeper than the 100-level limit"
    assert seconds < BOUNDED_SECONDS, seconds


def test_depth_through_aliases_counts() -> None:
    inner = "[" * 60 + "]" * 60
    text = f"a: &a {inner}\nb: " + "[" * 50 + "*a" + "]" * 50  # 50 + 60 levels, each part under the limit
    answer = reader.yaml_mapping(text, "y")
    assert isinstance(answer, Problem) and answer.message == "is nested deeper than the 100-level limit"


def test_a_5000_digit_integer_in_yaml_is_refused_and_a_quoted_one_is_text() -> None:
    digits = "9" * 5000
    answer = reader.yaml_mapping(f"downloads: {digits}", "y")
    assert isinstance(answer, Problem)
    assert answer.message == "has an integer of 5,000 digits, over the 100-digit limit"
    assert reader.yaml_mapping(f"note: '{digits}'", "y") == {"note": digits}
    assert reader.yaml_mapping(f"n: {'9' * 100}", "y") == {"n": int("9" * 100)}
    tagged = reader.yaml_mapping(f"n: !!int '{digits}'", "y")
    assert isinstance(tagged, Problem) and "5,000 digits" in tagged.message


def test_a_value_yaml_cannot_build_is_a_problem() -> None:
    answer = reader.yaml_mapping("created: 2024-13-45", "y")
    assert isinstance(answer, Problem) and answer.message.startswith("has a value YAML cannot build")


def test_python_tags_are_never_built() -> None:
    answer = reader.yaml_mapping("x: !!python/object/apply:os.system ['echo pwned']", "y")
    assert isinstance(answer, Problem) and answer.message.startswith("is not valid YAML")


def test_the_time_bound_stops_a_slow_block() -> None:
    text = "base_model:\n" + "\n".join(f"  - org/m{i}" for i in range(15_000))
    answer = reader.yaml_mapping(text, "slow", limits=Limits(seconds=0.0))
    assert isinstance(answer, Problem) and answer.message == "took longer than the 0-second limit to read"
    whole = reader.yaml_mapping(text, "slow")
    assert isinstance(whole, dict) and len(whole["base_model"]) == 15_000


# --- JSON -------------------------------------------------------------------------------------------


def test_json_documents_and_objects() -> None:
    assert reader.json_document(b'\xef\xbb\xbf{"a": [1, 2.5, null]}', "f") == {"a": [1, 2.5, None]}
    assert reader.json_object("[1, 2]", "f") == Problem("f", None, "a JSON array, not an object")
    assert reader.json_object(b"{}", "f") == {}
    bad = reader.json_object(b'{\n"a": }', "cfg.json", model="o/m")
    assert bad == Problem("cfg.json", "o/m", "not valid JSON (Expecting value at line 2)")
    not_utf8 = reader.json_object(b'{"a": "caf\xe9"}', "f")
    assert not_utf8 == Problem("f", None, "not UTF-8 text (byte 11)")


def test_a_5000_digit_integer_in_json_is_refused() -> None:
    answer = reader.json_object('{"downloads": ' + "1" * 5000 + "}", "config.json")
    assert answer == Problem("config.json", None, "an integer has 5,000 digits, over the 100-digit limit")
    assert reader.json_object('{"n": -' + "1" * 100 + "}", "f") == {"n": -int("1" * 100)}


def test_json_nested_100000_deep_is_refused_quickly() -> None:
    text = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    answer, seconds, _ = measured(lambda: reader.json_object(text, "deep.json"))
    assert answer == Problem("deep.json", None, "nested deeper than the 100-level limit")
    assert seconds < BOUNDED_SECONDS, seconds
    # Brackets inside strings are text, not nesting; unclosed ones are the parser's to report.
    assert reader.json_object(json.dumps({"s": "[" * 500}), "f") == {"s": "[" * 500}
    unclosed = reader.json_object('{"a": ' + "[" * 100_000, "f")
    assert isinstance(unclosed, Problem) and unclosed.message.startswith(("not valid JSON", "nested deeper"))
    almost = reader.json_object('{"a": ' + "[" * 100_000 + "]" * 99_999 + "}", "f")
    assert almost == Problem("f", None, "nested deeper than the 100-level limit")


def test_json_over_the_byte_bound_is_refused() -> None:
    answer = reader.json_object(b'{"a": "' + b"x" * 100 + b'"}', "f", limits=Limits(document_bytes=64))
    assert answer == Problem("f", None, "is 109 bytes, over the 64-byte limit; not read")


def test_a_bad_json_line_costs_only_that_line() -> None:
    lines = [
        b'{"id": "a/one"}\n',
        b'{"id": "caf\xe9"}\n',  # one invalid UTF-8 byte
        b"\n",
        b'{"id": ' + b"[" * 400 + b"]" * 400 + b"}\n",
        b"[1, 2]\n",
        b'{"id": "a/' + b"y" * 2000 + b'"}\n',  # over the line bound below
        b'{"id": "a/two"}',
    ]
    rows = list(reader.json_lines(io.BytesIO(b"".join(lines)), "models.jsonl", limits=Limits(document_bytes=1000)))
    assert [where for where, _ in rows] == [f"models.jsonl:{n}" for n in (1, 2, 4, 5, 6, 7)]
    values = [row for _, row in rows]
    assert values[0] == {"id": "a/one"} and values[-1] == {"id": "a/two"}
    messages = [row.message for row in values[1:-1] if isinstance(row, Problem)]
    assert messages == [
        "not UTF-8 text (byte 12)",
        "nested deeper than the 100-level limit",
        "a JSON array, not an object",
        "line is over the 1,000-byte limit; not read",
    ]


# --- generated inputs -------------------------------------------------------------------------------


def cards_with_front_matter(readmes: Path) -> list[str]:
    """The first 400 cards of a ``readmes.jsonl`` that open with YAML front matter."""
    texts = [json.loads(line)["readme"] for line in readmes.open(encoding="utf-8")]
    return [t for t in texts if isinstance(t, str) and t.lstrip().startswith("---")][:400]


SAMPLE_CARDS = cards_with_front_matter(hub_sample_dir() / "readmes.jsonl")
HOSTILE_SNIPPETS = [
    alias_bomb(),
    "[" * 5000,
    "- " * 5000 + "x",
    "9" * 5000,
    "!!python/object/apply:os.system ['id']",
    "&a [*a]",
    "\x00\x1b[2J\ud800",
    "---",
    "...",
    "key: 2024-13-45",
    "<<: *nowhere",
    "\t- tab",
]


CUTS = st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), max_size=3)
INSERTS = st.lists(st.tuples(st.floats(0, 1), st.sampled_from(HOSTILE_SNIPPETS) | st.text(max_size=20)), max_size=3)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(readme=st.sampled_from(SAMPLE_CARDS), cuts=CUTS, inserts=INSERTS)
def test_mutated_sample_cards_give_data_or_a_problem(
    readme: str, cuts: list[tuple[float, float]], inserts: list[tuple[float, str]]
) -> None:
    check_mutated_card(readme, cuts, inserts)


def check_mutated_card(readme: str, cuts: list[tuple[float, float]], inserts: list[tuple[float, str]]) -> None:
    """A card cut and with hostile text inserted gives data, nothing or a front-matter problem, in bounded time."""
    text = readme[:20_000]
    for a, b in cuts:
        i, j = sorted((int(a * len(text)), int(b * len(text))))
        text = text[:i] + text[j:]
    for at, snippet in inserts:
        i = int(at * len(text))
        text = text[:i] + snippet + text[i:]
    start = time.monotonic()
    answer = reader.card_yaml(text, "m/README.md", model="m/x")
    assert time.monotonic() - start < BOUNDED_SECONDS
    assert answer is None or isinstance(answer, dict | Problem)
    if isinstance(answer, Problem):
        assert answer.source == "m/README.md" and answer.model == "m/x" and answer.message.startswith("front matter")


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_as_json_give_data_or_a_problem(data: bytes) -> None:
    answer = reader.json_document(data, "f")
    if not isinstance(answer, Problem):  # compared as JSON text: NaN is not equal to itself
        assert json.dumps(answer) == json.dumps(json.loads(data.decode("utf-8-sig")))


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    rows=st.lists(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3), max_size=6),
)
def test_json_lines_with_random_byte_damage_keep_every_undamaged_line(seed: int, rows: list[dict[str, Any]]) -> None:
    lines = [json.dumps(row, ensure_ascii=False).encode() for row in rows]
    rng = random.Random(seed)
    damaged = {i for i in range(len(lines)) if rng.random() < 0.4}
    for i in damaged:
        at = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:at] + rng.choice([b"\xff", b"\xc3", b"{", b"]", b'"']) + lines[i][at:]
    got = dict(reader.json_lines(io.BytesIO(b"\n".join(lines)), "f.jsonl"))
    for i, row in enumerate(rows):
        if i not in damaged:
            assert got[f"f.jsonl:{i + 1}"] == row
    assert all(isinstance(v, dict | Problem) for v in got.values())


def test_the_yaml_loaders_are_safe_ones() -> None:
    for loader in reader._loaders():
        assert issubclass(loader, yaml.SafeLoader) or issubclass(loader, yaml.CSafeLoader)
