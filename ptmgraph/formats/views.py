"""Format: what each query command prints on the terminal (``--format table``), fitted to its width.

``ancestry`` and ``impact`` print a tree (:mod:`ptmgraph.formats.tree`) under a one-paragraph summary,
or with ``--flat`` one table; ``info`` prints the record, the parents, and the children grouped by
relation, most downloaded first. Every other command prints its summary and tables
(:func:`ptmgraph.formats.console.print_result`), columns listed by priority.

The tree is made as styled lines (:mod:`ptmgraph.formats.lines`), so plain output writes it without
rich's console; rich is imported by the functions that print through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import polars as pl

from ptmgraph.formats.lines import StyledLine, folded, plain_text, printable, prose
from ptmgraph.formats.tree import DEFAULT_TREE_COLUMNS, render_tree
from ptmgraph.graph import LineageGraph
from ptmgraph.result import AnalysisResult
from ptmgraph.words import plural

if TYPE_CHECKING:
    from rich.console import Console

    from ptmgraph.terminal import Screen
    from ptmgraph.tree_lines import TreeLine

TREE_NODE_COLUMNS = ["downloads", "likes", "license", "created_at", "has_record"]
"""The node attributes :mod:`ptmgraph.formats.tree` shows or reads (its columns, and whether a model
has a record): a tree reads these columns of the models table and no others."""


def no_record(model: str) -> str:
    """What a view says of a model the snapshot knows only from references to it: that, and how to fetch it."""
    return (f"the snapshot has no record of {model}, only references to it; "
            f"fetch it: ptmgraph crawl --seed {model} --ancestors --max-depth 0 --out DIR")


def lineage_summary(result: AnalysisResult) -> str:
    """The one paragraph above an ancestry or impact: what the tree and the table both show, said once."""
    s = result.summary
    if "ancestors" in s:
        roots = ", ".join(s["roots"])
        text = (f"{result.title}: {plural(s['ancestors'], 'ancestor')}, {plural(s['paths'], 'path')}"
                f"{' (cut)' if s['paths_truncated'] else ''} to {plural(len(s['roots']), 'root')}: {roots}")
        if s["ancestors_in_cycles"]:
            text += f"; {plural(len(s['ancestors_in_cycles']), 'ancestor')} on a cycle"
        if s.get("has_record") is False:
            text += f"; {no_record(s['model'])}"
        return text
    by_relation = result.tables["by_relation"]
    parts = ", ".join(f"{r} {n:,}" for r, n in by_relation.select("relation", "models").iter_rows())
    text = (f"{result.title}: {plural(s['affected_models'], 'model')}"
            f"{f' ({parts})' if parts else ''}, {s['affected_downloads']:,} downloads")
    if s["models_without_download_count"]:
        text += f" (no count for {s['models_without_download_count']:,})"
    return text + f", {s['max_depth']} deep"


def show_lineage_tree(
    screen: Screen,
    lg: LineageGraph,
    result: AnalysisResult,
    *,
    columns: Sequence[str] = DEFAULT_TREE_COLUMNS,
    limit: int = 0,
) -> None:
    """:func:`print_lineage_tree` on standard output; plain output is written without rich's console."""
    width = screen.width if screen.plain else screen.console.width
    lines = lineage_tree(lg, result, columns=columns, limit=limit, width=width)
    if screen.plain:
        screen.write(plain_text(lines, width))
    else:
        from ptmgraph.formats.console import print_styled

        print_styled(screen.console, lines)


def print_lineage_tree(
    console: Console,
    lg: LineageGraph,
    result: AnalysisResult,
    *,
    columns: Sequence[str] = DEFAULT_TREE_COLUMNS,
    limit: int = 0,
) -> None:
    """The summary paragraph, then the tree of ``result.summary["model"]`` (``limit`` lines, all when 0)."""
    from ptmgraph.formats.console import print_styled

    print_styled(console, lineage_tree(lg, result, columns=columns, limit=limit, width=console.width))


def lineage_tree(
    lg: LineageGraph,
    result: AnalysisResult,
    *,
    columns: Sequence[str] = DEFAULT_TREE_COLUMNS,
    limit: int = 0,
    width: int,
) -> list[StyledLine]:
    """The lines :func:`print_lineage_tree` prints at ``width`` columns: the tree of the walk the analysis
    made (``result.tree``), its roots marked in an ancestry from the result's ``is_root`` column."""
    tree = result.tree
    if tree is None:
        raise ValueError(f"{result.title}: not an ancestry or impact result, no tree to draw")
    shown = [prose(printable(lineage_summary(result)))]
    roots: set[str] = set()
    if "is_root" in result.rows.columns:  # only an ancestry marks its roots
        roots = set(result.rows.filter(pl.col("is_root"))["id"].to_list())

    def root_mark(line: TreeLine) -> str:
        return "root" if line.level and line.model in roots else ""

    lines, left_out = render_tree(lg.with_node_columns(TREE_NODE_COLUMNS), tree.lines(), width=width,
                                  columns=columns, limit=limit, marker=root_mark, line_count=tree.count(),
                                  direction=tree.direction)
    shown += lines
    if left_out:
        shown.append(prose(f"{plural(left_out, 'more line')}; --limit 0 shows all, --depth N fewer levels, "
                           "--flat a table", "dim"))
    if columns:
        shown.append(prose(f"columns: {', '.join(columns)}; (*): shown above", "dim"))
    return shown


def print_lineage_flat(console: Console, result: AnalysisResult, *, limit: int) -> None:
    """The summary paragraph, then one table: a row per model, its depth, relation and path."""
    from rich.text import Text

    from ptmgraph.formats.console import frame_table, print_lines

    console.print(Text(printable(lineage_summary(result))))
    if not result.rows.height:
        return
    rows = result.output_rows(limit)
    if "is_root" in rows.columns:
        columns = ["id", "depth", "relation", "relation_path", "is_root", "license", "created_at", "via"]
    else:
        columns = ["id", "depth", "relation", "downloads", "relation_path", "license", "likes", "spaces", "via"]
    print_lines(console, frame_table(rows.select(columns), limit=limit, total=result.rows.height,
                                     width=console.width))


def print_model_info(console: Console, result: AnalysisResult, *, children: int) -> None:
    """The record, the parents with the evidence of each edge, then the children grouped by relation
    (largest group first), ``children`` of each, most downloaded first (all when 0)."""
    from ptmgraph.formats.console import frame_table, print_lines, print_summary

    record = result.summary.get("record")
    if isinstance(record, dict) and record.get("has_record") is not True:  # said in the header
        result = replace(result, title=f"{result.title}: {no_record(str(result.summary['model']))}")
    print_summary(console, result)
    rows = result.rows
    parents = rows.filter(pl.col("direction") == "parent")
    width = console.width
    if parents.height:
        view = parents.select(
            "id", "relation", pl.col("relation_rule").alias("decided by"),
            pl.col("parent_confidence").alias("parent conf."), pl.col("relation_confidence").alias("relation conf."),
            "evidence", "downloads",
        )
        print_lines(console, frame_table(view, title="parents", width=width, line_lists=frozenset({"evidence"})))
    kids = rows.filter(pl.col("direction") == "child")
    groups = kids.group_by("relation").len().sort(["len", "relation"], descending=[True, False])
    for relation, count in groups.iter_rows():
        group = kids.filter(pl.col("relation") == relation).sort(
            ["downloads", "id"], descending=[True, False], nulls_last=True
        )
        view = group.select("id", "downloads", pl.col("relation_rule").alias("decided by"))
        print_lines(console, frame_table(view, title=f"children: {relation} ({count:,})", limit=children,
                                         width=width))
    for name, table in result.tables.items():
        if table.height:
            print_lines(console, frame_table(table, title=name.replace("_", " "), width=width))



def why_lines(result: AnalysisResult, width: int) -> list[StyledLine]:
    """The paths of a ``why`` result as one tree, in the style of ``npm explain``: MODEL on top, each
    line a base of the line above with the edge's relation (:func:`ptmgraph.formats.tree.relation_label`)
    and parent confidence, and under it, indented, the edge's evidence (folded to ``width``). Paths that share
    their first hops share their lines; each ends at the ancestor."""
    from rich.cells import cell_len

    from ptmgraph.formats.tree import RELATION_STYLES, relation_label

    s = result.summary
    if not s["paths"]:
        return [prose(printable(f"{s['model']} does not derive from {s['ancestor']}: no path in this snapshot"))]
    hops = f", the shortest {plural(s['shortest'], 'hop')}" if s["paths"] > 1 else f", {plural(s['shortest'], 'hop')}"
    cut = " (more exist: --max-paths N lists more)" if s["paths_truncated"] else ""
    lines = [prose(printable(f"{result.title}: {plural(s['paths'], 'path')}{hops}{cut}")),
             StyledLine(((printable(s["model"]), "bold"),), wraps=False)]
    # a trie of the paths from MODEL: the key of a line is the bases above it and its own
    tree: dict[tuple[str, ...], dict[str, object]] = {}
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {(): []}
    for rows in result.rows.partition_by("path", maintain_order=True):
        key: tuple[str, ...] = ()
        for hop in rows.sort("hop").iter_rows(named=True):
            below = (*key, hop["base"])
            if below not in tree:
                tree[below] = hop
                children.setdefault(key, []).append(below)
                children[below] = []
            key = below

    def walk(key: tuple[str, ...], trunk: str) -> None:
        kids = children[key]
        for i, kid in enumerate(kids):
            last = i == len(kids) - 1
            hop = tree[kid]
            relation = str(hop["relation"] or "unknown")
            head = [(trunk + ("└── " if last else "├── "), "dim"), (printable(str(hop["base"])), "")]
            label = (printable(relation_label(relation, "ancestors")), RELATION_STYLES.get(relation, ""))
            confidence = (printable(f", parent confidence {hop['parent_confidence']}"), "dim") \
                if hop["parent_confidence"] else ("", "")
            inner = trunk + ("    " if last else "│   ")
            used = sum(cell_len(text) for text, _ in head) + 2
            # the relation is the answer: never dropped; too wide for the line, it goes on the next one
            if used + cell_len(label[0]) + cell_len(confidence[0]) <= width:
                lines.append(StyledLine((*head, ("  ", ""), label, confidence), wraps=False))
            elif used + cell_len(label[0]) <= width:
                lines.append(StyledLine((*head, ("  ", ""), label), wraps=False))
            else:
                lines.append(StyledLine(tuple(head), wraps=False))
                lines.append(StyledLine(((inner + "  ", "dim"), label), wraps=False))
            evidence = list(hop["evidence"] or []) or ["no evidence recorded"]  # type: ignore[call-overload]
            for item in evidence:
                indent = inner + "  "
                for part in folded(printable(f"evidence: {item}"), max(20, width - cell_len(indent))):
                    lines.append(StyledLine(((indent, "dim"), (part.rstrip(), "dim")), wraps=False))
                    indent = inner + "    "
            walk(kid, inner)

    walk((), "")
    return lines


def show_why(screen: Screen, result: AnalysisResult) -> None:
    """:func:`why_lines` on standard output (plain output without rich's console)."""
    lines = why_lines(result, screen.width if screen.plain else screen.console.width)
    if screen.plain:
        screen.write(plain_text(lines, screen.width))
    else:
        from ptmgraph.formats.console import print_styled

        print_styled(screen.console, lines)
