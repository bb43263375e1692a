"""The command line in a narrow and a wide terminal: lines fit, ids stay whole, trees show the lineage."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from raw_sample import raw_edges, raw_records
from rich.cells import cell_len
from typer.testing import CliRunner

from ptmgraph.cli import app

runner = CliRunner()
LLAMA = "meta-llama/Llama-2-7b-chat-hf"
DEPTH3 = "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B"
TREE_BRANCH = re.compile(r"^((?:│   |    )*)(├── |└── )(\S+)")

QUERIES: list[tuple[list[str], int]] = [
    (["ancestry", DEPTH3], 0),
    (["ancestry", DEPTH3, "--flat"], 0),
    (["impact", LLAMA], 0),
    (["impact", LLAMA, "--flat"], 0),
    (["impact", "google/gemma-7b", "-r", "finetune"], 0),
    (["info", LLAMA], 0),
    (["info", DEPTH3], 0),
    (["search", "llama-2-7b-chat"], 0),
    (["list", "--author", "TheBloke"], 0),
    (["stats"], 0),
    (["dangling"], 0),
    (["problems"], 0),
    (["audit-relations"], 0),
    (["licenses"], 0),
    (["audit"], 0),
    (["reach"], 0),
    (["reach", "--by", "author"], 0),
    (["stale"], 0),
    (["stale", "TheBloke/Llama-2-7B-Chat-GGML"], 0),
    (["risk", "-c", LLAMA], 1),
    (["check", "TheBloke/Llama-2-7B-Chat-GGML"], 1),
    (["why", DEPTH3, "google/gemma-7b"], 0),
]


@pytest.fixture(scope="module")
def known_ids(hub_sample: Path) -> set[str]:
    """Every model id of the raw sample (records, card bases, tags, model trees), as written there."""
    ids = {row["id"] for row in raw_records(hub_sample)}
    for line in (hub_sample / "model_tree.jsonl").open():
        row = json.loads(line)
        ids.add(row["id"])
        for heading in ("finetunes", "adapters", "quantizations", "merges"):
            ids.update(row[heading])
    return ids


def cut_ids(text: str, known: set[str]) -> list[str]:
    """Tokens that are the beginning of a known id without being one: an id cut at the line's end."""
    prefixes = {i[:k] for i in known for k in range(i.index("/") + 2, len(i))}
    tokens = {t.strip(",;()[]'\"") for t in text.split()}
    return sorted(t for t in tokens if "/" in t and t not in known and t in prefixes)


def invoke(argv: list[str], columns: int) -> str:
    result = runner.invoke(app, ["--no-pager", *argv], env={"COLUMNS": str(columns), "NO_COLOR": "1"})
    return result.stdout + result.stderr if result.exit_code not in (0, 1) else result.stdout, result.exit_code  # type: ignore[return-value]


@pytest.mark.parametrize("columns", [80, 200])
@pytest.mark.parametrize(("argv", "code"), QUERIES, ids=[" ".join(q[0]) for q in QUERIES])
def test_every_line_fits_and_every_id_is_whole(argv: list[str], code: int, columns: int, known_ids: set[str]) -> None:
    text, exit_code = invoke(argv, columns)
    assert exit_code == code, text
    lines = text.splitlines()
    assert lines, "the command printed nothing"
    # An id longer than the terminal (the sample has some of 91 and 102 characters) is never cut: it
    # stands alone on its line. Every other line fits.
    too_wide = [line for line in lines if cell_len(line) > columns and TREE_BRANCH.sub(r"\3", line) not in known_ids]
    assert not too_wide, too_wide[:3]
    assert not cut_ids(text, known_ids)
    for line in lines:
        branch = TREE_BRANCH.match(line)
        if branch:  # the id on a tree line is a whole, known id
            assert branch.group(3) in known_ids, line


def test_the_first_rows_of_each_table_show_their_ids_whole(known_ids: set[str]) -> None:
    for argv in (["impact", LLAMA, "--flat"], ["search", "gemma"], ["reach"], ["list", "--author", "TheBloke"]):
        text, _ = invoke([*argv, "--limit", "10"], 80)
        doc = json.loads(runner.invoke(app, [*argv, "-f", "json"]).stdout)
        printed = {line.split()[0] for line in text.splitlines() if line.strip()}
        for row in doc["rows"][:10]:
            assert row["id"] in printed, (argv, row["id"])


def test_the_impact_tree_at_depth_1_lists_the_direct_children_with_their_relations(hub_sample: Path) -> None:
    base = LLAMA.lower()
    expected = {child for parent, child in raw_edges(hub_sample) if parent == base}
    headings = {}
    for line in (hub_sample / "model_tree.jsonl").open():
        row = json.loads(line)
        if row["id"].lower() == base:
            headings = {h: {c.lower() for c in row[h]} for h in ("finetunes", "adapters", "quantizations", "merges")}
    text, code = invoke(["impact", LLAMA, "--depth", "1", "--limit", "0"], 200)
    assert code == 0
    shown: dict[str, str] = {}
    for line in text.splitlines():
        branch = TREE_BRANCH.match(line)
        if branch:
            assert branch.group(1) == "", "a deeper line at --depth 1"
            shown[branch.group(3).lower()] = line[branch.end():].split()[0]
    assert set(shown) == expected and len(expected) > 1000
    # Models listed under the Hub's adapter, quantization and merge headings have no record of their own:
    # the heading is all that is known, so it is their relation (those the name_parent rule hangs under a
    # model below the base are not direct children: raw_edges moves them).
    for heading, relation in (("adapters", "adapter"), ("quantizations", "quantized"), ("merges", "merge")):
        listed = headings[heading] & expected
        assert listed and all(shown[c] == relation for c in listed), heading
    # A listed fine-tune may ship adapter or quantized weights, or a mergekit config, and then is one.
    assert {shown[c] for c in headings["finetunes"]} <= {"finetune", "adapter", "quantized", "merge"}


def test_the_ancestry_tree_runs_up_to_the_root_once_with_the_summary_said_once() -> None:
    text, _ = invoke(["ancestry", DEPTH3], 80)
    lines = text.splitlines()
    assert lines[0].startswith(f"Ancestry of {DEPTH3}: 3 ancestors")
    ids = [m.group(3) for m in map(TREE_BRANCH.match, lines) if m]
    assert ids == ["AmberYifan/Gemma-7b-sft-ultrachat-safeRLHF", "AmberYifan/Gemma-7b-sft-ultrachat", "google/gemma-7b"]
    assert text.count("google/gemma-7b root") == 1
    assert "paths to the roots" not in text  # the tree is the paths: no second table repeats them


def test_a_model_with_two_parents_in_the_tree_is_marked_the_second_time(hub_sample: Path) -> None:
    # A merge of two models that share a base: it hangs under both, expanded once.
    pairs = raw_edges(hub_sample)
    parents: dict[str, set[str]] = {}
    for base, child in pairs:
        parents.setdefault(child, set()).add(base)
    roots = {"meta-llama/llama-2-7b-chat-hf", "google/gemma-7b"}
    merge = next(c for c, ps in sorted(parents.items()) if len(ps) > 1 and ps & roots)
    root = sorted(parents[merge] & roots)[0]
    text, _ = invoke(["impact", root, "--limit", "0", "--columns", "relation"], 200)
    tree_ids = [m.group(3).lower() for m in map(TREE_BRANCH.match, text.splitlines()) if m]
    occurrences = [line for line in text.splitlines() if TREE_BRANCH.match(line)
                   and TREE_BRANCH.match(line).group(3).lower() == merge]  # type: ignore[union-attr]
    assert tree_ids.count(merge) == len(parents[merge] & ({root} | set(tree_ids)))
    assert sum(line.endswith("(*)") or " (*)" in line for line in occurrences) == len(occurrences) - 1


def test_tree_columns_are_chosen_and_the_last_drops_first_when_narrow() -> None:
    wide, _ = invoke(["impact", LLAMA, "--depth", "1", "--limit", "3", "--columns", "downloads,relation"], 200)
    first = next(line for line in wide.splitlines() if TREE_BRANCH.match(line))
    assert re.search(r"  ↓\S+  (finetune|adapter|quantized|merge) of ↑$", first), first
    narrow, _ = invoke(["ancestry", DEPTH3, "--columns", "relation,downloads,license,created"], 60)
    deepest = next(line for line in narrow.splitlines() if TREE_BRANCH.match(line) and "google/gemma-7b" in line)
    assert "base of ↑ (finetune)" in deepest and "2024-02-08" not in deepest
    assert all(cell_len(x) <= 60 for x in narrow.splitlines())
    bad = runner.invoke(app, ["impact", LLAMA, "--columns", "relation,colour"])
    assert bad.exit_code == 2 and "colour" in bad.stderr and "relation" in bad.stderr


def test_several_models_and_a_model_list_give_one_answer_each(tmp_path: Path) -> None:
    listing = tmp_path / "models.txt"
    listing.write_text(f"# what we use\n{LLAMA}@main  # the chat model\n\ngoogle/gemma-7b\n{LLAMA}\n")
    doc = json.loads(runner.invoke(app, ["impact", "--from-file", str(listing), "--depth", "1", "-f", "json"]).stdout)
    assert [r["model"] for r in doc["results"]] == [LLAMA, "google/gemma-7b"]
    text, code = invoke(["ancestry", DEPTH3, "TheBloke/Llama-2-7B-Chat-GGML"], 80)
    assert code == 0 and text.count("Ancestry of ") == 2
    csv = runner.invoke(app, ["check", "--from-file", str(listing), "-f", "csv"]).stdout
    assert csv.splitlines()[0] == "id,severity,finding,ancestor,depth,detail,waived"
    broken = tmp_path / "broken.txt"
    broken.write_text("good/model\nnot an id\n")
    result = runner.invoke(app, ["risk", "--from-file", str(broken)])
    assert result.exit_code == 1 and f"{broken}:2: not a model id" in result.stderr


def test_search_and_list_find_models_most_downloaded_first(hub_sample: Path) -> None:
    records = raw_records(hub_sample)
    bloke = sorted((r for r in records if r.get("author") == "TheBloke"),
                   key=lambda r: (-(r.get("downloads") or 0), r["id"]))
    doc = json.loads(runner.invoke(app, ["list", "--author", "thebloke", "-f", "json"]).stdout)
    assert doc["rows"][0]["id"] == bloke[0]["id"]
    assert {r["id"] for r in bloke} <= {r["id"] for r in doc["rows"]}
    found = json.loads(runner.invoke(app, ["search", "GGUF", "-f", "json"]).stdout)["rows"]
    downloads = [r["downloads"] for r in found if r["downloads"] is not None]
    assert downloads == sorted(downloads, reverse=True)
    assert all("gguf" in r["id"].lower() or r["matched"] in ("author", "tag") for r in found)
    tagged = [r["id"] for r in records if "gguf" in (r.get("tags") or []) and "gguf" not in r["id"].lower()]
    assert set(tagged) <= {r["id"] for r in found if r["matched"] == "tag"}


def test_conventions_short_help_metavars_plain_errors_and_choices() -> None:
    assert runner.invoke(app, ["impact", "-h"]).exit_code == 0
    help_text = runner.invoke(app, ["impact", "-h"], env={"COLUMNS": "80"}).stdout
    assert help_text.splitlines()[0] == "Usage: ptmgraph impact [OPTIONS] [MODEL]..."
    assert "{" not in help_text and "<bool>" not in help_text and "<list" not in help_text
    bad = runner.invoke(app, ["dangling", "--reason", "bogus"])
    assert bad.exit_code == 2 and "local_path" in bad.stderr and "Value error" not in bad.stderr
    assert runner.invoke(app, ["impact", LLAMA, "--limit", "-1"]).exit_code == 2
    local = runner.invoke(app, ["dangling", "--reason", "local_path", "-f", "json"])
    assert local.exit_code == 0 and json.loads(local.stdout)["reason_filter"] == "local_path"


def test_the_relation_and_confidence_choices_are_the_data_model_s_words() -> None:
    helped = " ".join(runner.invoke(app, ["ancestry", "--help"], env={"COLUMNS": "200"}).stdout.split())
    assert "--min-confidence low|medium|high" in helped
    assert "finetune, adapter, quantized, merge, unknown (repeatable)" in helped
    bad = runner.invoke(app, ["impact", LLAMA, "--relation", "lora"])
    assert bad.exit_code == 2
    assert all(f"'{word}'" in bad.stderr for word in ("finetune", "adapter", "quantized", "merge", "unknown"))
    bad = runner.invoke(app, ["stale", "--min-confidence", "certain"])
    assert bad.exit_code == 2 and all(f"'{word}'" in bad.stderr for word in ("low", "medium", "high"))


def test_colour_follows_the_flag_and_no_color() -> None:
    plain = runner.invoke(app, ["--color", "always", "--no-pager", "ancestry", DEPTH3], env={"NO_COLOR": "1"})
    assert "\x1b[" in plain.stdout
    never = runner.invoke(app, ["--color", "never", "ancestry", DEPTH3], env={"FORCE_COLOR": "1"})
    assert "\x1b[" not in never.stdout
    auto = runner.invoke(app, ["ancestry", DEPTH3], env={"NO_COLOR": "1", "FORCE_COLOR": ""})
    assert "\x1b[" not in auto.stdout
    forced = runner.invoke(app, ["ancestry", DEPTH3], env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    assert "\x1b[" in forced.stdout
    # No automatic highlighting: the digits inside an id are not styled apart from it.
    assert "AmberYifan/Gemma-7b-sft-ultrachat-safeRLHF" in forced.stdout and DEPTH3 in forced.stdout


def test_help_and_version_load_no_heavy_dependency() -> None:
    code = (
        "import sys; from ptmgraph.cli import app\n"
        "try:\n    app(['--version'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('polars', 'networkx', 'huggingface_hub', 'matplotlib', 'graphviz', 'cyclonedx', 'rich')"
        " if m in sys.modules]\nprint(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("[]"), done.stdout
    helped = subprocess.run([sys.executable, "-X", "importtime", "-m", "ptmgraph", "--help"], capture_output=True,
                            text=True, check=True)
    loaded = {line.rsplit("|", 1)[1].strip() for line in helped.stderr.splitlines() if "|" in line}
    assert not loaded & {"polars", "networkx", "huggingface_hub", "matplotlib", "graphviz", "cyclonedx"}
    assert helped.stdout.splitlines()[0] == "Usage: ptmgraph [OPTIONS] COMMAND [ARGS]..."


def test_a_closed_pipe_exits_quietly() -> None:
    command = f"{sys.executable} -m ptmgraph impact {LLAMA} --limit 0 | head -2"
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=False)
    # Whether the command still writes once `head` has gone depends on the pipe's capacity: no exit code here.
    assert (len(done.stdout.splitlines()), done.stderr) == (2, "")
    # A reader gone before the first write, whatever the pipe holds: 141, as for a process SIGPIPE ended.
    for argv in (["impact", LLAMA, "--limit", "0"], ["stats"]):  # the fast entry and typer's
        read, write = os.pipe()
        os.close(read)
        gone = subprocess.run([sys.executable, "-m", "ptmgraph", *argv], stdout=write, stderr=subprocess.PIPE,
                              text=True, check=False)
        os.close(write)
        assert (gone.returncode, gone.stderr) == (141, ""), argv


def header_of(text: str, first: str) -> list[str]:
    """The column names of the main table: the first line that starts with the column ``first``."""
    return next(line.split() for line in text.splitlines() if line.split()[:1] == [first])


def test_a_narrow_terminal_keeps_the_column_that_answers_the_question() -> None:
    # licenses: the verdict, then the two licences; the base model id is what drops
    text, code = invoke(["licenses", "--limit", "5"], 80)
    assert code == 0
    assert header_of(text, "id") == ["id", "base_license", "license", "verdict"]
    assert "not shown at this width: base " in text
    rows = [line for line in text.splitlines() if line.rstrip().endswith(("likely_violation", "missing", "unclear",
                                                                          "allowed"))]
    assert len(rows) >= 4
    # risk: whether the weights load at run time (dependency) stays; the depth and path are secondary
    text, code = invoke(["risk", "-c", LLAMA, "--limit", "5"], 80)
    assert code == 1 and "dependency" in header_of(text, "id")
    # the same at 60 columns: the id and the answer, the rest dropped and named
    text, _ = invoke(["risk", "-c", LLAMA, "--limit", "5"], 60)
    assert "dependency" in header_of(text, "id") and "relation_path" not in header_of(text, "id")
    # check: severity, finding and ancestor; the detail drops
    text, _ = invoke(["check", "TheBloke/Llama-2-7B-Chat-GGML"], 80)
    assert header_of(text, "severity")[:3] == ["severity", "finding", "ancestor"]
    assert "not shown at this width: detail" in text
