"""Plain output (not a terminal, no colour) is written without rich's console: it must print the
characters rich's console prints for the same lines. The oracle is rich's console itself."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from ptmgraph.analyses.lineage import ancestry, impact
from ptmgraph.formats import views
from ptmgraph.formats.console import print_styled
from ptmgraph.formats.lines import StyledLine, plain_text, printable, prose
from ptmgraph.graph import load_graph


def through_rich(lines: list[StyledLine], width: int) -> str:
    """What the command line's console (ptmgraph.terminal.Screen, writing to a pipe) prints for ``lines``."""
    console = Console(file=io.StringIO(), width=width, force_terminal=False, no_color=True, color_system=None,
                      highlight=False, soft_wrap=False, emoji=False)
    print_styled(console, lines)
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


# words, runs of spaces, wide (two-cell) and combining characters, and ids as the Hub spells them
PIECES = st.sampled_from(["a", "model", " ", "  ", "-", "/", "google/gemma-7b", "微调", "模型", "é", "e\u0301",
                          "🤗", "x" * 30, "(*)", ",", "\u3000", "\xa0"])


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=40), st.integers(1, 50), st.sampled_from(["", "dim", "bold"]))
def test_a_wrapping_line_folds_as_rich_folds_it(pieces: list[str], width: int, style: str) -> None:
    line = prose(printable("".join(pieces)), style)
    assert plain_text([line], width) == through_rich([line], width)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(PIECES, st.sampled_from(["", "dim", "bold", "cyan"])), min_size=1, max_size=12),
       st.integers(1, 50))
def test_a_fitted_line_prints_whole_as_rich_prints_it(pieces: list[tuple[str, str]], width: int) -> None:
    line = StyledLine(tuple(pieces), wraps=False)
    assert plain_text([line], width) == through_rich([line], width)


@pytest.mark.parametrize("width", [8, 40, 140])
@pytest.mark.parametrize(("query", "model"), [(impact, "google/gemma-7b"), (impact, "meta-llama/Llama-2-7b-chat-hf"),
                                              (ancestry, "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B")])
def test_a_tree_on_plain_output_is_what_rich_prints(width: int, query: object, model: str) -> None:
    lg = load_graph()
    result = query(lg, model)  # type: ignore[operator]
    lines = views.lineage_tree(lg, result, limit=20, width=width)
    shown = plain_text(lines, width)
    assert shown == through_rich(lines, width)
    unfolded = shown.replace("\n", "")  # at 8 columns every word is a line
    assert unfolded.startswith(("Impact", "Ancestry")) and model in unfolded
