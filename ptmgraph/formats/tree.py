"""Format: a lineage tree for the terminal, as ``npm ls`` and ``cargo tree`` print one.

One line per edge of the walk the analysis made (``AnalysisResult.tree``, :mod:`ptmgraph.tree_lines`): branch
drawing, the model id, then the *tree columns* (:data:`TREE_COLUMNS`). A model already shown ends in ``(*)``
and its branches are not repeated. The tree fits the terminal's width: ids are never cut; a line too wide for
all its columns drops them right to left, i.e. the last of ``--columns`` first (by default ``created``, then
``license``, ``downloads`` and ``relation`` last). A model with no record of its own (only named in a listing)
shows its relation and ``no record``.

The relation is said so that it reads the right way round (:func:`relation_label`): in an impact tree a
line's model is derived from the model above (``finetune of ↑``); in an ancestry tree it is the base of
the model above (``base of ↑ (finetune)``). A line too wide even without columns (a long id
deep in the tree) is printed whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len

from ptmgraph.formats.lines import StyledLine, printable
from ptmgraph.graph import LineageGraph

if TYPE_CHECKING:  # a format draws the walk an analysis made (result.tree), and imports no walk
    from ptmgraph.traverse import Direction
    from ptmgraph.tree_lines import TreeLine

TREE_COLUMNS: dict[str, str] = {
    "relation": "the edge to the model above: finetune of ↑ (impact), base of ↑ (finetune) (ancestry)",
    "downloads": "downloads (the Hub's 30-day count), as 1.2k / 3.4M",
    "license": "the licence the model states",
    "created": "the day the model was created",
    "likes": "likes, as ♥12",
    "confidence": "the parent confidence of the edge to the model above (what --min-confidence filters on)",
}
"""Every column a tree line may show, with what it is."""

DEFAULT_TREE_COLUMNS = ("relation", "downloads", "license", "created")
"""The columns shown unless ``--columns`` names others; they drop right to left when the tree is too wide."""

RELATION_STYLES = {
    "finetune": "cyan",
    "adapter": "magenta",
    "quantized": "yellow",
    "merge": "green",
    "unknown": "red",
}
REPEATED = " (*)"


def relation_label(relation: str, direction: Direction) -> str:
    """How a tree line names the edge to the line above it, so that it reads the right way round: the
    line's model is derived from the one above (``descendants``: ``finetune of ↑``) or is its base
    (``ancestors``: ``base of ↑ (finetune)``)."""
    return f"{relation} of ↑" if direction == "descendants" else f"base of ↑ ({relation})"


def compact_count(value: int | None) -> str:
    """``value`` in at most four significant characters: 950, 12.3k, 4.5M; ``-`` when unknown."""
    if value is None:
        return "-"
    for scale, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if value >= scale:
            shown = value / scale
            return f"{shown:.1f}{suffix}" if shown < 100 else f"{shown:.0f}{suffix}"
    return str(value)


def _cell(node: Mapping[str, Any], line: TreeLine, column: str, direction: Direction) -> tuple[str, str]:
    """The text of one tree column on ``line`` (whose model has the attributes ``node``), and its style."""
    if column == "relation":
        if line.above is None or line.relation is None:
            return "", ""
        relation = line.relation
        return printable(relation_label(relation, direction)), RELATION_STYLES.get(relation, "")
    if column == "downloads":
        return "↓" + compact_count(node.get("downloads")), "dim"
    if column == "likes":
        return "♥" + compact_count(node.get("likes")), "dim"
    if column == "license":
        return printable(str(node.get("license") or "no-licence")), "dim"
    if column == "created":
        created = node.get("created_at")
        return (created.strftime("%Y-%m-%d") if isinstance(created, datetime) else "-"), "dim"
    if column == "confidence":
        if line.above is None:
            return "", ""
        return printable(str(line.confidence or "-")), "dim"
    raise ValueError(f"unknown tree column {column!r}")


def _prefix(line: TreeLine, open_levels: list[bool]) -> str:
    """The branch drawing before ``line``'s id; ``open_levels[k]`` says whether level k still has siblings below."""
    if line.level == 0:
        return ""
    trunk = "".join("│   " if open_levels[k] else "    " for k in range(1, line.level))
    return trunk + ("└── " if line.last else "├── ")


def render_tree(
    lg: LineageGraph,
    lines: Iterable[TreeLine],
    *,
    width: int,
    columns: Sequence[str] = DEFAULT_TREE_COLUMNS,
    limit: int = 0,
    marker: Callable[[TreeLine], str] | None = None,
    line_count: int | None = None,
    direction: Direction = "descendants",
) -> tuple[list[StyledLine], int]:
    """The first ``limit`` lines (all when 0) as styled lines that fit ``width``, and how many lines were left out.

    ``marker`` adds a short word after the id (e.g. ``root``); it counts as part of the id and never drops.
    ``line_count``, when the caller knows how many ``lines`` there are (:func:`ptmgraph.tree_lines.tree_line_count`),
    spares making the lines left out just to count them. ``direction`` is the walk's (see :func:`relation_label`).
    """
    stream = iter(lines)
    taken = list(islice(stream, limit)) if limit > 0 else list(stream)
    left_out = line_count - len(taken) if line_count is not None else sum(1 for _ in stream)
    nodes = lg.nodes_of(list(dict.fromkeys(line.model for line in taken)))  # the printed models' rows only
    open_levels: list[bool] = [False]
    rows: list[tuple[str, str, list[tuple[str, str]]]] = []
    for line in taken:
        del open_levels[line.level :]
        prefix = _prefix(line, open_levels)
        open_levels.append(not line.last)
        head = printable(line.model) + (f" {marker(line)}" if marker and marker(line) else "")
        head += REPEATED if line.repeated else ""
        node = nodes[line.model]
        if node.get("has_record") is False:
            # Known only as a name in a listing: the relation is all there is to show.
            cells = [_cell(node, line, c, direction) for c in columns if c in ("relation", "confidence")]
            cells.append(("no record", "dim"))
        else:
            cells = [_cell(node, line, c, direction) for c in columns]
        rows.append((prefix, head, cells))
    texts = []
    for prefix, head, cells in rows:
        pieces = [(prefix, "dim"), (head, "bold" if not prefix else "")]
        used = cell_len(prefix + head)
        for value, style in cells:
            if not value:
                continue
            if used + 2 + cell_len(value) > width:
                break  # this line drops this column and every later one
            pieces += [("  ", ""), (value, style)]
            used += 2 + cell_len(value)
        texts.append(StyledLine(tuple(pieces), wraps=False))
    return texts, left_out


def describe_columns(names: Iterable[str]) -> list[str]:
    """Checked ``--columns`` names, in the order given; an unknown name raises ValueError naming the valid ones."""
    chosen = [n.strip() for name in names for n in name.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in TREE_COLUMNS]
    if unknown:
        raise ValueError(f"unknown column {unknown[0]!r}; choose from {', '.join(TREE_COLUMNS)}")
    return chosen
