"""The columnar reader of models.jsonl reads every file exactly as the per-record reader does.

The oracle is the per-record reader itself (``hub_rows.read_model_rows`` + ``HarvestTables.of``):
for the real Hub sample, a generated file, and hand-made hostile lines, ``read_models_table`` must give
the same records, references and problems, row for row and in the same order.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal, assert_series_equal

from benchmarks.generate import generate
from ptmgraph.records import Harvest, HarvestTables
from ptmgraph.sources import HubRecordsSource, SourceError, hub_columnar, hub_columnar_checks
from ptmgraph.sources.hub_columnar import read_models_table
from ptmgraph.sources.hub_rows import read_model_rows


def per_record(path: Path) -> HarvestTables:
    """The oracle: what the per-record reader makes of a models file."""
    harvest = Harvest()
    read_model_rows(path, harvest)
    return HarvestTables.of(harvest)


def assert_same(got: HarvestTables, want: HarvestTables) -> None:
    assert_frame_equal(got.records, want.records)
    assert_frame_equal(got.references, want.references)
    assert_frame_equal(got.problems, want.problems)
    assert_frame_equal(got.dangling, want.dangling)
    assert_series_equal(got.known_ids, want.known_ids)


class PerRecordLines:
    """Counts the lines the columnar reader hands to the per-record path."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lines: list[int] = []
        original = hub_columnar._per_record

        def counted(name: str, items: list[tuple[int, int, bytes]]) -> Any:
            self.lines.extend(lineno for lineno, _, _ in items)
            return original(name, items)

        monkeypatch.setattr(hub_columnar, "_per_record", counted)


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines))
    return path


BASE: dict[str, Any] = {
    "id": "org/model-a", "author": "org", "sha": "0123abc", "createdAt": "2023-01-02T03:04:05.000Z",
    "lastModified": "2023-05-06T07:08:09.000Z", "private": False, "gated": False, "disabled": False,
    "downloads": 5, "likes": 1, "library_name": "transformers", "pipeline_tag": "text-generation",
    "tags": ["transformers", "base_model:org/base", "base_model:finetune:org/base", "license:MIT", "dataset:foo/bar"],
    "cardData": {"license": "mit", "base_model": "org/base", "datasets": ["foo/bar"], "library_name": "transformers"},
    "siblings": [{"rfilename": "README.md"}, {"rfilename": "model.safetensors"}, {"rfilename": "config.json"}],
    "spaces": ["org/space"], "config": {"model_type": "llama", "_name_or_path": "org/base"},
}


def variant(n: int, **changes: Any) -> bytes:
    """BASE with its own id and ``changes`` (a value of ``...`` removes the key)."""
    row = {**BASE, "id": f"org/model-{n}"}
    for key, value in changes.items():
        if value is ...:
            row.pop(key, None)
        else:
            row[key] = value
    return json.dumps(row).encode()


def card(n: int, **fields: Any) -> bytes:
    return variant(n, cardData={**BASE["cardData"], **fields})


HOSTILE: list[bytes] = [
    # base_model in every shape a card holds
    card(1, base_model=["a/b", "c/d,e/f"]), card(2, base_model={"a": 1}), card(3, base_model=5),
    card(4, base_model=None), card(5, base_model=[None, "x/y"]), card(6, base_model=""), card(7, base_model=[]),
    card(8, base_model="a/b, c/d", base_model_relation=" Quantized "), card(9, base_model_relation=["adapter"]),
    # cardData that is not a mapping, or holds what the fast path must not guess at
    variant(10, cardData="text"), variant(11, cardData=["a"]), variant(12, cardData={}), variant(13, cardData=None),
    card(14, license=None), card(15, quantized_by="someone"), card(16, original_model="org/orig"),
    card(17, model_creator="Org Name"), card(18, license=["MIT", " apache-2.0 "]), card(19, license="other",
    license_name="My Licence"), card(20, license="license", licence="BSD"), card(21, license=["mit", 3]),
    card(22, datasets="foo"), card(23, datasets=[" a ", "", "b"]), card(24, datasets=5), card(25, license=True),
    card(26, library_name=7), card(27, library_name=["x"], pipeline_tag=" fill-mask "), card(28, new_version="o/n"),
    card(29, tags=["x"], config={"a": 1}, pipeline_tag=None), card(30, **{"model-index": [{"name": "x"}]}),
    card(31, license="Ünïcode-İ"), card(32, base_model="a\\b", license="x\ty"), card(33, **{"we\\ird": 1}),
    card(34, base_model_relation="merge", base_model=["a/b", "c/d"]), card(35, datasets=["ä/ö"], license="MIT"),
    card(36, license="other", license_link=" https://AI.google.dev/gemma/terms "),
    card(37, license="other", license_name=" ", license_link="LICENSE"), card(38, license="other", license_link=5),
    card(39, license="mit", license_link="LICENSE"), card(40, license="other", license_link=["x"]),
    # ids
    variant(40, id=5), variant(39, id=-(2**63) - 1), variant(38, id=2**64), variant(37, author=2**63),
    variant(36, downloads=2**63, likes=-(2**63) - 1), variant(41, id="  "),
    variant(42, id=..., modelId="org/from-model-id"),
    variant(43, id={"a": 1}, modelId="x/y"), variant(44, id=" org/spaced "), variant(45, id="noslash"),
    variant(46, id=..., model_id="org/snake"), variant(47, id=None, modelId="org/null-id"), variant(48, author="  "),
    # counts, flags, dates
    variant(50, downloads="7"), variant(51, downloads=1.5), variant(52, downloads=True), variant(53, downloads=10**30),
    variant(54, likes=None, downloadsAllTime=9), variant(55, gated="Auto"), variant(56, gated=1),
    variant(57, gated=["x"]),
    variant(58, gated="İ"), variant(59, gated="true"), variant(60, private="false"), variant(61, spaces="x"),
    variant(62, spaces=[1, None, "s"]), variant(63, createdAt="2023-01-02"),
    variant(64, createdAt="2023-01-02T03:04:05+02:00"),
    variant(65, createdAt="2016-12-31T23:59:60Z"), variant(66, createdAt="2023-02-30T00:00:00Z"),
    variant(67, createdAt=""),
    variant(68, createdAt=5), variant(69, createdAt=..., created_at="2020-01-01T00:00:00.123456Z"),
    variant(70, lastModified="0999-01-01T00:00:00Z"), variant(71, createdAt="2023-01-02T03:04:05.1Z"),
    # tags and files
    variant(80, tags="base_model:x/y"), variant(81, tags=[1, "a"]), variant(82, tags=[None, "dataset:d/e"]),
    variant(83, tags=["base_model:adapter:a/b", "base_model:a/b", "base_model:c/d", "base_model:c/d",
                      "base_model:merge:a/b", "base_model:weird:x/y", "base_model:", "license:Apache-2.0"]),
    variant(84, siblings=None), variant(85, siblings=...), variant(86, siblings={"rfilename": "a"}),
    variant(87, siblings=["a"]), variant(88, siblings=[{"rfilename": 1}]), variant(89, siblings=[{}, {"x": 1}]),
    variant(90, siblings=[{"rfilename": n} for n in [
        "MODEL.SAFETENSORS", "ＭＯＤＥＬ.bin", "x.p\u212a\u212al", "a.gguf", "model.safetensors", "ggml-q4.bin",
        "checkpoint-5/model.bin"]]),
    variant(91, siblings=[{"rfilename": n} for n in ["ggml-model-q4_0.bin", "README.md"]]),
    variant(92, siblings=[{"rfilename": n} for n in ["measurement.json", "quant_config.json", "x.gguf"]]),
    variant(93, siblings=[{"rfilename": n} for n in ["unet/diffusion_pytorch_model.fp16.safetensors", "a\nb.bin"]]),
    variant(94, siblings=[{"rfilename": "adapter_model.safetensors"}, {"rfilename": "adapter_config.json"}]),
    # config.json
    variant(100, config="x"), variant(101, config={"model_type": 5}), variant(102, config={"_name_or_path": None}),
    variant(103, config={"_name_or_path": "ORG/Model-103 "}), variant(104, config={"_name_or_path": 7}),
    variant(105, config={"quantization_config": {"quant_method": "GPTQ"}}),
    variant(106, config={"quantization_config": {"load_in_4bit": True}}),
    variant(107, config={"quantization_config": {}}, library_name="MLX"),
    variant(108, config={"quantization_config": "x"}),
    variant(109, config={"quantization_config": {"load_in_8bit": 1}}),
    variant(110, config={"model_type": " bert ", "tokenizer_config": {"model_type": "x"}}),
    # config.json auto_map: another repo's code (strings, lists, nulls), the repo's own, odd values
    variant(111, config={"auto_map": {"AutoConfig": "d/R1--configuration_d.C", "AutoModel": "d/r1--modeling_d.M",
                                      "AutoTokenizer": [None, "e/tok--tokenization_e.T"], "X": 5}},
            siblings=[{"rfilename": n} for n in ["custom.py", "modeling_x.py", "sub/modeling_y.py", "a.py"]]),
    variant(112, config={"auto_map": {"AutoModel": "custom.Model", "AutoConfig": "org/model-112--conf.C"}},
            siblings=[{"rfilename": n} for n in ["custom.py", "conf.py", "configuration_z.py"]]),
    variant(113, config={"auto_map": "x/y--m.C"}), variant(114, config={"auto_map": None}),
    variant(115, config={"auto_map": ["x/y--m.C"]}), variant(116, config={"auto_map": {"A": "a\\b/c--m.C"}}),
    variant(117, config={"auto_map": {"A": "x/y--m.C"}}, cardData={"auto_map": "z"}),
    variant(118, config={"auto_map": {"A": "\u00e9/\"y--m.C", "B": "q/r--\tm.C"}}),
    variant(119, config={"auto_map": {}, "tokenizer_config": {"auto_map": {"AutoTokenizer": ["t/k--a.B"]}}}),
    # research-dump rows: raw README text under card / readme
    json.dumps({"modelId": "org/dump-1", "created_at": "2021-01-01T00:00:00Z", "card": "---\nbase_model: a/b\n---\n"
                "Original model: https://huggingface.co/o/p\n"}).encode(),
    json.dumps({"model_id": "org/dump-2", "readme": "---\nlicense: [\n---\n"}).encode(),
    json.dumps({"id": "org/dump-3", "cardData": {"license": "mit"}, "readme": "quants of https://hf.co/a/b"}).encode(),
    json.dumps({"id": "org/dump-4", "card_data": {"base_model": "q/r"}}).encode(),
    # repeated keys, escapes, odd JSON
    b'{"id": "org/dup-1", "id": "org/dup-2", "tags": []}',
    b'{"id": "org/dup-3", "cardData": {"base_model": "a/b", "base_model": "c/d"}}',
    b'{"id": "org/dup-4", "siblings": [{"rfilename": "a.bin", "rfilename": "b.gguf"}]}',
    b'{"id": "org/dup-5", "config": {"model_type": "a"}, "config": {"model_type": "b"}}',
    b'{"id": "org/esc-\\u00e9", "tags": ["\\ud83d\\ude00"], "cardData": {"base_model": "x/\\ud83d\\ude00"}}',
    b'{"id": "org/esc-2", "cardData": {"base_model": "a\\\\", "license": "\\t", "x": "\\"\\\\\\""}}',
    b'{"id": "org/esc-3", "tags": ["t\\u0061gs"], "t\\u0061gs": ["base_model:z/z"]}',
    b'{"id": "org/esc-4", "cardData": {"license": "\\ue000"}}',
    b'{"id": "org/nan", "downloads": NaN}', b'{"id": "org/big", "x": ' + b"9" * 150 + b"}",
    b'{"id": "org/trunc", "tags": [', b"[1, 2]", b'"string"', b"null", b"{}", b"   ", b"",
    b'  {"id": "org/leading-space"}', b'{"id": "org/crlf"}\r', b'\xef\xbb\xbf{"id": "org/bom-not-first-line"}',
    b'{"id": "org/bad-\xff-byte"}', b'{"id": "org/ctrl\x01"}',
    b'{"id": "org/deep", "x": ' + b"[" * 150 + b"]" * 150 + b"}",
    b'{"id": "org/deep-100", "x": ' + b"[" * 99 + b"]" * 99 + b"}", b'{"id": "org/unbalanced", "x": [[[[' + b"[" * 200,
    b'{"id": "org/nul-esc", "tags": ["a\\u0000"]}', b'{"id": "org/\\u2028sep"}',
    b'{"id": "org/transformers-info", "pipeline_tag": "a", "transformersInfo": {"pipeline_tag": null}}',
    b'{"id": "org/transformers-info-2", "transformersInfo": {"pipeline_tag": "x", "auto_model": "y"}}',
    b'{"id": "org/nested-key", "widgetData": [{"id": 1, "tags": null}]}',
    # repeated ids: with the same data (no problem) and with different data (a problem)
    variant(200), variant(200), variant(201), variant(201, downloads=999),
]


def test_the_hub_sample_reads_the_same_and_mostly_by_the_fast_path(
    hub_sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = hub_sample / "models.jsonl"
    fallbacks = PerRecordLines(monkeypatch)
    got = read_models_table(path)
    assert_same(got, per_record(path))
    lines = path.read_bytes().count(b"\n")
    assert got.records.height == lines == 1614
    assert len(fallbacks.lines) < lines // 20  # the fast path read at least 95% of the real records


def test_a_generated_file_reads_the_same_and_wholly_by_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate(3_000, tmp_path, seed=5)
    path = tmp_path / "models.jsonl"
    fallbacks = PerRecordLines(monkeypatch)
    got = read_models_table(path, batch_bytes=400_000)  # several batches
    assert_same(got, per_record(path))
    assert got.references.height > 2_000
    assert fallbacks.lines == []


def test_hostile_lines_read_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_lines(tmp_path / "models.jsonl", HOSTILE)
    fallbacks = PerRecordLines(monkeypatch)
    got = read_models_table(path)
    want = per_record(path)
    assert_same(got, want)
    # The file really is hostile: the per-record reader reports these, and the fast path read the plain lines.
    messages = dict(zip(want.problems["source"], want.problems["message"], strict=True))
    nan_line = HOSTILE.index(b'{"id": "org/nan", "downloads": NaN}') + 1
    assert f"models.jsonl:{nan_line}" not in messages  # Python reads NaN: a record, by the per-record path
    assert nan_line in fallbacks.lines
    assert any("nested deeper" in m for m in messages.values())
    assert any("not UTF-8" in m for m in messages.values())
    assert any("same id as" in m for m in messages.values())
    assert any("record has no 'id'" in m for m in messages.values())
    assert any(m.startswith("model card:") for m in messages.values())
    assert 20 < len(set(fallbacks.lines)) < len(HOSTILE) - 40


@pytest.mark.parametrize("batch_bytes", [1, 700, 5_000])
def test_batches_of_any_size_read_the_same(tmp_path: Path, batch_bytes: int) -> None:
    path = write_lines(tmp_path / "models.jsonl", HOSTILE[:60] + HOSTILE[-4:])
    assert_same(read_models_table(path, batch_bytes=batch_bytes), per_record(path))


def test_nesting_100000_deep_costs_one_line(tmp_path: Path) -> None:
    deep = b'{"id": "org/deep", "cardData": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    braces_in_a_string = b'{"id": "x/' + b"{" * 100_000 + b'"}'
    path = write_lines(tmp_path / "models.jsonl", [variant(1), deep, braces_in_a_string, variant(2)])
    got = read_models_table(path)
    assert_same(got, per_record(path))
    assert got.records["id"].to_list() == ["org/model-1", "x/" + "{" * 100_000, "org/model-2"]
    assert got.problems.rows() == [("models.jsonl:2", None, "nested deeper than the 100-level limit")]


def test_a_line_over_the_32_mib_bound_is_skipped_not_held(tmp_path: Path) -> None:
    long_line = b'{"id": "org/long", "x": "' + b"a" * (33 * 1024 * 1024) + b'"}'
    path = write_lines(tmp_path / "models.jsonl", [variant(1), long_line, variant(2)])
    got = read_models_table(path)
    assert_same(got, per_record(path))
    assert got.problems["message"].to_list() == ["line is over the 33,554,432-byte limit; not read"]
    # A line just under the bound is read (by the per-record path: it is over FAST_LINE_BYTES).
    under = b'{"id": "org/under", "x": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    path = write_lines(tmp_path / "models.jsonl", [under, variant(3)])
    assert_same(read_models_table(path), per_record(path))


def test_parquet_input_reads_the_same(tmp_path: Path, hub_sample: Path) -> None:
    rows = [json.loads(line) for line in (hub_sample / "models.jsonl").read_bytes().splitlines()[:200]]
    path = tmp_path / "models.parquet"
    columns = ("id", "author", "tags", "downloads", "createdAt")
    pl.DataFrame([{k: r.get(k) for k in columns} for r in rows]).write_parquet(path)
    got = read_models_table(path)
    assert_same(got, per_record(path))
    assert got.records.height == 200


def test_a_file_with_no_json_object_fails_like_the_per_record_reader(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "models.jsonl", [b"[1]", b"not json"])
    with pytest.raises(SourceError) as per_record_error:
        per_record(path)
    with pytest.raises(SourceError) as columnar_error:
        read_models_table(path)
    assert str(columnar_error.value) == str(per_record_error.value)
    with pytest.raises(SourceError, match="no such file"):
        read_models_table(tmp_path / "missing.jsonl")
    empty = write_lines(tmp_path / "empty.jsonl", [b"", b"  "])
    assert_same(read_models_table(empty), per_record(empty))


def test_the_source_offers_the_same_harvest_as_tables(hub_sample: Path) -> None:
    source = HubRecordsSource.from_directory(hub_sample)
    got = source.harvest_tables()
    want = HarvestTables.of(source.harvest())
    assert_same(got, want)
    assert got.sources == want.sources


def test_python_whitespace_is_what_str_strip_removes() -> None:
    every = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert every == hub_columnar_checks.PY_WHITESPACE


# Property: records built from pieces of every shape read the same by both paths.
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", " ", "a/b", "A/B,c/d", "mit", "Other", "İ", "x\\y", "2023-01-02T03:04:05Z", "gguf", "\t"]),
    st.text(max_size=8),
)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["base_model", "license", "rfilename", "x", "model_type", "quant_method"]), inner, max_size=3),
    max_leaves=6)
_TOP_KEYS = ["id", "modelId", "author", "sha", "createdAt", "lastModified", "downloads", "likes", "gated", "private",
             "tags", "siblings", "cardData", "config", "spaces", "library_name", "pipeline_tag", "transformersInfo"]
_CARD_KEYS = ["license", "licence", "license_name", "base_model", "base_model_relation", "datasets", "library_name",
              "pipeline_tag", "new_version", "tags", "quantized_by", "model_type"]


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    row = dict(BASE)
    row["id"] = draw(st.sampled_from(["org/a", "org/b", "Org/A-GGUF", " org/c ", "x"]))
    for key in draw(st.lists(st.sampled_from(_TOP_KEYS), max_size=4)):
        row[key] = draw(_VALUES)
    card_data = dict(BASE["cardData"])
    for key in draw(st.lists(st.sampled_from(_CARD_KEYS), max_size=4)):
        card_data[key] = draw(_VALUES)
    if draw(st.booleans()):
        row["cardData"] = card_data
    if draw(st.booleans()):
        row["tags"] = draw(st.lists(st.sampled_from(
            ["base_model:a/b", "base_model:adapter:a/b", "base_model:quantized:c/d", "license:MIT", "dataset:x/y",
             "base_model:Merge:a/b", "merge"]), max_size=5))
    if draw(st.booleans()):
        row["siblings"] = [{"rfilename": n} for n in draw(st.lists(st.sampled_from(
            ["README.md", "model.safetensors", "a.gguf", "quantize_config.json", "adapter_model.bin", "x.PT",
             "checkpoint-1/model.bin", "ggml-x.bin"]), max_size=4))]
    return row


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(records(), min_size=1, max_size=12), st.integers(1, 3_000))
def test_any_mix_of_record_shapes_reads_the_same(tmp_path: Path, rows: list[dict[str, Any]], batch_bytes: int) -> None:
    buffer = io.BytesIO()
    for row in rows:
        buffer.write(json.dumps(row).encode() + b"\n")
    path = tmp_path / "models.jsonl"
    path.write_bytes(buffer.getvalue())
    assert_same(read_models_table(path, batch_bytes=batch_bytes), per_record(path))


def test_a_lone_surrogate_escape_becomes_the_replacement_character_in_both_readers(tmp_path: Path) -> None:
    """`"\\ud800"` alone cannot be stored as UTF-8: it reads as U+FFFD, the rest of the record is kept."""
    path = write_lines(tmp_path / "models.jsonl", [
        b'{"id": "org/lone\\ud800", "cardData": {"base_model": "org/base\\udc00"}, "tags": ["a\\ud83d\\ude00"]}',
        variant(2),
    ])
    got, want = read_models_table(path), per_record(path)
    assert_same(got, want)
    assert got.records["id"].to_list()[0] == "org/lone\ufffd"
    assert got.records["tags"].to_list()[0] == ["a\U0001f600"]  # a paired escape is one character
    assert "org/base\ufffd" in got.references["raw"].to_list()
