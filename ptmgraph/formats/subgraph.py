"""Choose what to draw for an ancestry or impact result: a small, honest subgraph.

The drawn set is the focus model (``result.summary.model``) plus the models in ``result.rows``,
with every graph edge among them (for impact, only edges whose relation was followed).

**Cap rule.** Models are taken depth by depth, nearest first, while fewer than ``max_nodes`` are
kept and fewer than ``max_per_depth`` (if not 0) at their depth. At one depth only models whose
``via`` (the model one hop nearer the focus) was kept can be taken, and the relations (of each
model's own hop) take turns: first the most downloaded model of each relation, then the second of
each, and so on (within a turn most downloads first, unknown last, then by id). So every relation
present at a depth is drawn before any relation gets a second model there, every kept model's
``via`` chain to the focus is kept, and no depth (one rank of the drawing) holds more than
``max_per_depth`` models. Each hidden model is counted in exactly one ``+K more`` node: the one
attached to its nearest kept model along its ``via`` chain (the focus if none), with a breakdown by
the relation of the hidden model's own hop. So ``shown + hidden == total`` and the ``+K`` of all
summary nodes add up to ``hidden``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import polars as pl

from ptmgraph.formats.drawing import (
    DrawnEdge,
    DrawnGraph,
    DrawnNode,
    Scope,
    TableList,
    TableRow,
    relation_sort_key,
)
from ptmgraph.graph import LineageGraph
from ptmgraph.records import Relation
from ptmgraph.result import AnalysisResult, AncestrySummary, ImpactSummary
from ptmgraph.words import plural

if TYPE_CHECKING:  # a drawing draws the walk an analysis made, and imports no walk
    from ptmgraph.traverse import Direction

_REQUIRED_COLUMNS = ("id", "depth", "via", "relation")


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def cap_order_key(row: dict[str, Any]) -> tuple[int, bool, int, str]:
    """Nearest first, then most downloads (unknown last), then id: the order ``+K more`` nodes list
    hidden models in."""
    downloads = _int_or_none(row.get("downloads"))
    return (int(row["depth"]), downloads is None, -(downloads or 0), str(row["id"]))


def _relations_take_turns(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (one depth, in :func:`cap_order_key` order) with the relations taking turns: the first
    of each relation, then the second of each ..., each turn in :func:`cap_order_key` order."""
    seen: Counter[str | None] = Counter()
    turn: dict[str, int] = {}
    for row in rows:
        turn[row["id"]] = seen[row["relation"]]
        seen[row["relation"]] += 1
    return sorted(rows, key=lambda r: (turn[r["id"]], cap_order_key(r)))


def _kept_models(order: list[dict[str, Any]], focus: str, rows: dict[str, dict[str, Any]], max_nodes: int,
                 max_per_depth: int) -> set[str]:
    """The ids the cap rule keeps (see the module docstring); ``order`` is in :func:`cap_order_key` order."""
    kept: set[str] = set()
    by_depth: dict[int, list[dict[str, Any]]] = {}
    for row in order:
        by_depth.setdefault(int(row["depth"]), []).append(row)
    for depth in sorted(by_depth):
        eligible = [r for r in by_depth[depth]
                    if r["via"] is None or r["via"] == focus or r["via"] not in rows or r["via"] in kept]
        room = max_nodes - len(kept)
        if max_per_depth:
            room = min(room, max_per_depth)
        kept.update(row["id"] for row in _relations_take_turns(eligible)[:room])
        if len(kept) >= max_nodes:
            break
    return kept


def lineage_subgraph(
    lg: LineageGraph,
    result: AnalysisResult,
    *,
    direction: Scope,
    max_nodes: int = 150,
    max_per_depth: int = 0,
    relations: Iterable[str] | None = None,
) -> DrawnGraph:
    """The part of ``result`` (from :func:`ptmgraph.analyses.lineage.ancestry` or ``impact``) to draw.

    ``relations`` (impact only) restricts drawn edges to those relations; when None, the relations the
    impact analysis followed (``summary.relations_followed``) are used, and all when it followed all.
    See the module docstring for the cap rule applied beyond ``max_nodes`` models.
    """
    if direction not in ("ancestry", "impact"):  # "both" is two subgraphs, see combine()
        raise ValueError(f"direction must be 'ancestry' or 'impact', not {direction!r}")
    if max_nodes < 0 or max_per_depth < 0:
        raise ValueError(f"max_nodes and max_per_depth must be >= 0, not {max_nodes} and {max_per_depth}")
    summary = result.summary
    if not isinstance(summary, AncestrySummary | ImpactSummary):
        raise ValueError("result.summary has no 'model': not an ancestry or impact result")
    focus = summary.model
    missing = [c for c in _REQUIRED_COLUMNS if c not in result.rows.columns]
    if missing:
        raise ValueError(f"result rows lack column(s) {', '.join(missing)}: not an ancestry or impact result")

    wanted: set[str] | None = None
    if direction == "impact":
        if relations is not None:
            wanted = {str(getattr(r, "value", r)) for r in relations}
        elif isinstance(summary, ImpactSummary) and isinstance(summary.relations_followed, list):
            wanted = set(summary.relations_followed)

    table = result.rows.filter(pl.col("id") != focus).unique("id", keep="first", maintain_order=True)
    for column in ("downloads", "likes", "license", "has_record"):
        if column not in table.columns:
            table = table.with_columns(pl.lit(None).alias(column))
    # cap_order_key's order, as a sort of the table (nearest, most downloads with unknown last, id)
    order_table = table.sort([pl.col("depth"), pl.col("downloads").is_null(), pl.col("downloads"), pl.col("id")],
                             descending=[False, False, True, False], maintain_order=True)
    total = order_table.height

    hidden_under: dict[str, list[dict[str, Any]]] = {}
    if total <= max_nodes and not max_per_depth:
        kept_table = order_table  # the cap rule keeps every model when all fit: no row needs reading one by one
        kept: set[str] = set()
    else:
        order = order_table.to_dicts()
        rows = {row["id"]: row for row in order}
        kept = _kept_models(order, focus, rows, max_nodes, max_per_depth)
        kept_table = order_table.filter(pl.col("id").is_in(list(kept)))
        # Every hidden model goes to the summary node of its nearest kept model along its via chain. A via
        # is one hop nearer, so it comes earlier in cap order and its anchor is already known.
        anchor_of: dict[str, str] = {}
        for row in order:
            if row["id"] in kept:
                continue
            via = row["via"]
            anchor = via if via == focus or via in kept else anchor_of.get(via, focus)
            anchor_of[row["id"]] = anchor
            hidden_under.setdefault(anchor, []).append(row)

    kept_ids: list[str] = kept_table["id"].to_list()
    drawn_ids = [focus, *kept_ids]
    records = _model_records(lg, drawn_ids)
    walked: Direction = "ancestors" if direction == "ancestry" else "descendants"
    from_rows = {c: [None, *kept_table[c].to_list()] for c in ("downloads", "likes", "license", "has_record")}
    found = {c: records[c].to_list() if c in records.columns else [None] * len(drawn_ids)
             for c in ("downloads", "likes", "license", "has_record")}
    depths, relations, vias = ([0, *kept_table[c].to_list()] for c in ("depth", "relation", "via"))
    nodes: list[DrawnNode] = []
    for i, model_id in enumerate(drawn_ids):
        # the record's value, else the walk's row's (a model named only by an edge has no record)
        downloads, likes, license_, has_record = (
            found[c][i] if found[c][i] is not None else from_rows[c][i]
            for c in ("downloads", "likes", "license", "has_record"))
        nodes.append(DrawnNode(
            key=model_id, kind="model" if i else "focus", id=model_id, depth=int(depths[i]),
            relation=relations[i] if i else None, via=vias[i] if i else None, walked=walked if i else None,
            downloads=_int_or_none(downloads), likes=_int_or_none(likes),
            license=license_ if isinstance(license_, str) else None,
            has_record=has_record if isinstance(has_record, bool) else None,
            attributes=TableRow(records, i, hidden=("id",), present="id"),
        ))

    position = {n.key: i for i, n in enumerate(nodes)}
    edge_table = _edges_among(lg, drawn_ids)
    if wanted is not None:
        edge_table = edge_table.filter(pl.col("relation").is_in(sorted(wanted)))
    places = pl.DataFrame({"id": drawn_ids, "at": range(len(drawn_ids))}, schema={"id": pl.String, "at": pl.Int64})
    edge_table = (
        edge_table.join(places.rename({"id": "base", "at": "_tail"}), on="base")
        .join(places.rename({"id": "child", "at": "_head"}), on="child")
        .sort("_tail", "_head").drop("_tail", "_head")
    )
    edge_table = _with_evidence(lg, edge_table, drawn_ids)
    edges = _drawn_edges(edge_table)

    used_keys = set(drawn_ids)
    anchors = sorted(hidden_under, key=lambda a: position[a])
    for anchor in anchors:
        members = hidden_under[anchor]
        counts = Counter(str(m["relation"]) if m["relation"] is not None else Relation.UNKNOWN.value for m in members)
        key = f"more:{anchor}"
        while key in used_keys:
            key += "'"
        used_keys.add(key)
        anchor_depth = nodes[position[anchor]].depth
        nodes.append(
            DrawnNode(
                key=key, kind="more", depth=anchor_depth + 1, anchor=anchor,
                hidden_by_relation={r: counts[r] for r in sorted(counts, key=relation_sort_key)},
                hidden_ids=tuple(m["id"] for m in members),
            )
        )
        # base above derived: hidden descendants hang below their anchor, hidden ancestors above it
        edges.append(
            DrawnEdge(tail=anchor, head=key, relation=None)
            if direction == "impact"
            else DrawnEdge(tail=key, head=anchor, relation=None)
        )

    shown = len(kept_ids)
    hidden = total - shown
    caption = _caption(direction, shown, total, hidden, max_per_depth)
    return DrawnGraph(
        focus=focus, direction=direction, nodes=tuple(nodes), edges=tuple(edges), shown=shown, total=total,
        hidden=hidden, max_nodes=max_nodes, max_per_depth=max_per_depth, caption=caption,
        relations=tuple(sorted(wanted, key=relation_sort_key)) if wanted is not None else None,
        records=records, edge_records=edge_table,
    )


def combine(up: DrawnGraph, down: DrawnGraph) -> DrawnGraph:
    """One drawing of a model's ancestry ``up`` and its impact set ``down`` (same focus).

    Nodes and edges are the union; ``depth`` stays hops from the focus on either side; each side keeps
    its own cap and ``+K more`` nodes (renamed when both sides summarise at the same anchor).
    """
    if (up.direction, down.direction) != ("ancestry", "impact") or up.focus != down.focus or up.focus is None:
        raise ValueError("combine() takes an ancestry and an impact subgraph of the same model")
    keys = {n.key for n in up.nodes}
    renamed: dict[str, str] = {}
    nodes = list(up.nodes)
    for node in down.nodes:
        if node.kind == "more":
            key = node.key
            while key in keys:
                key += "'"
            renamed[node.key] = key
            node = replace(node, key=key)
        elif node.key in keys:
            continue
        keys.add(node.key)
        nodes.append(node)
    edges = list(up.edges)
    pairs = {(e.tail, e.head) for e in edges}
    for edge in down.edges:
        edge = replace(edge, tail=renamed.get(edge.tail, edge.tail), head=renamed.get(edge.head, edge.head))
        if (edge.tail, edge.head) not in pairs:
            pairs.add((edge.tail, edge.head))
            edges.append(edge)
    records = _joined(up.records, down.records)
    edge_records = _joined(up.edge_records, down.edge_records)
    if records is not None:  # the models read the joined table, so a data format reads it a column at a time
        nodes = [_moved_node(n, records, up.records, down.records) for n in nodes]
    if edge_records is not None:
        edges = [_moved_edge(e, edge_records, up.edge_records, down.edge_records) for e in edges]
    return DrawnGraph(
        focus=up.focus, direction="both", nodes=tuple(nodes), edges=tuple(edges), shown=up.shown + down.shown,
        total=up.total + down.total, hidden=up.hidden + down.hidden, max_nodes=max(up.max_nodes, down.max_nodes),
        max_per_depth=max(up.max_per_depth, down.max_per_depth),
        caption=f"ancestors: {up.caption}; descendants: {down.caption}", relations=down.relations,
        records=records, edge_records=edge_records,
    )


def _joined(up: pl.DataFrame | None, down: pl.DataFrame | None) -> pl.DataFrame | None:
    """``up``'s rows, then ``down``'s (None unless both drawings hold their rows in a table)."""
    return pl.concat([up, down], how="diagonal_relaxed") if up is not None and down is not None else None


def _moved_node(node: DrawnNode, joined: pl.DataFrame, up: pl.DataFrame | None, down: pl.DataFrame | None
                ) -> DrawnNode:
    view = node.attributes
    if isinstance(view, TableRow) and up is not None and (view.table is up or view.table is down):
        return replace(node, attributes=view.moved(joined, 0 if view.table is up else up.height))
    return node


def _moved_edge(edge: DrawnEdge, joined: pl.DataFrame, up: pl.DataFrame | None, down: pl.DataFrame | None
                ) -> DrawnEdge:
    view, listed = edge.attributes, edge.evidence
    if (isinstance(view, TableRow) and isinstance(listed, TableList) and up is not None
            and (view.table is up or view.table is down)):
        shift = 0 if view.table is up else up.height
        return replace(edge, attributes=view.moved(joined, shift), evidence=listed.moved(joined, shift))
    return edge


def snapshot_subgraph(
    lg: LineageGraph, *, max_nodes: int = 150, relations: Iterable[str] | None = None
) -> DrawnGraph:
    """A whole snapshot to draw, with no focus: every model, or with ``relations`` every model at
    either end of an edge of those relations, and the edges among them (of those relations).

    **Cap rule** (there is no focus to measure depth from): models are taken edge by edge, so that
    what is drawn stays connected: edges in order of the larger ``downloads`` of their two ends
    (most first, unknown last), then base and child id, each adding its ends while fewer than
    ``max_nodes`` models are kept; then models with no such edge, by ``downloads`` and ``id``. The
    others are counted in one ``+K more`` node with no anchor, broken down into ``derived`` and
    ``not derived`` (the child of one of those edges, or not). ``depth`` is 0 and ``relation`` None for every model.
    """
    if max_nodes < 0:
        raise ValueError(f"max_nodes must be >= 0, not {max_nodes}")
    wanted = {str(getattr(r, "value", r)) for r in relations} if relations is not None else None
    index = lg.compact
    position = pl.DataFrame({"id": index.ids}).with_row_index("position").unique("id", keep="first")
    downloads = pl.DataFrame({"id": lg.snapshot.models["id"], "downloads": lg.snapshot.models["downloads"]}).unique(
        "id", keep="last")  # the networkx graph keeps a repeated model's last row
    # each edge once: placed where networkx's adjacency lists it (by base, then first mention), with its last row
    table = lg.snapshot.edges
    first = table.select("base", "child").with_row_index("row").unique(["base", "child"], keep="first")
    followed = (
        table.unique(["base", "child"], keep="last", maintain_order=True)
        .join(first, on=["base", "child"])
        .join(position.rename({"id": "base", "position": "base_position"}), on="base")
        .sort("base_position", "row")
    )
    if wanted is not None:
        followed = followed.filter(pl.col("relation").is_in(sorted(wanted)))
    candidates = (index.ids if wanted is None else pl.concat([followed["base"], followed["child"]])).unique()
    ends = (
        followed.select("base", "child")
        .join(downloads.rename({"id": "base", "downloads": "base_downloads"}), on="base", how="left")
        .join(downloads.rename({"id": "child", "downloads": "child_downloads"}), on="child", how="left")
        .with_columns(pl.max_horizontal("base_downloads", "child_downloads").alias("most"))
        .sort([pl.col("most").is_null(), pl.col("most").fill_null(0), "base", "child"],
              descending=[False, True, False, False])
    )
    placed = ends.select(pl.concat_list("base", "child").alias("id")).explode("id")["id"].unique(maintain_order=True)
    alone = (
        pl.DataFrame({"id": candidates}).filter(~pl.col("id").is_in(placed.implode()))
        .join(downloads, on="id", how="left")
        .sort([pl.col("downloads").is_null(), pl.col("downloads").fill_null(0), "id"], descending=[False, True, False])
    )
    order: list[str] = [*placed.to_list(), *alone["id"].to_list()]
    kept = order[:max_nodes]
    records = _model_records(lg, kept)
    found = {c: records[c].to_list() if c in records.columns else [None] * len(kept)
             for c in ("downloads", "likes", "license", "has_record")}
    nodes = [
        DrawnNode(
            key=m, kind="model", id=m, downloads=_int_or_none(found["downloads"][i]),
            likes=_int_or_none(found["likes"][i]),
            license=found["license"][i] if isinstance(found["license"][i], str) else None,
            has_record=found["has_record"][i] if isinstance(found["has_record"][i], bool) else None,
            attributes=TableRow(records, i, hidden=("id",), present="id"),
        )
        for i, m in enumerate(kept)
    ]
    shown_edges = followed.filter(pl.col("base").is_in(kept) & pl.col("child").is_in(kept)).drop(
        "row", "base_position")
    shown_edges = _with_evidence(lg, shown_edges, kept)
    edges = _drawn_edges(shown_edges)
    hidden = order[max_nodes:]
    if hidden:
        children = set(followed["child"].to_list())
        counts = Counter("derived" if m in children else "not derived" for m in hidden)
        nodes.append(DrawnNode(key="more:snapshot", kind="more", hidden_by_relation=dict(sorted(counts.items())),
                               hidden_ids=tuple(hidden)))
    total, shown = len(order), len(kept)
    if not total:
        caption = "no models in this snapshot"
    elif not hidden:
        caption = f"showing all {plural(total, 'model')}" if total > 1 else "showing the 1 model"
    else:
        caption = (f"showing {shown:,} of {plural(total, 'model')}: the most downloaded and the models linked to "
                   f"them; {total - shown:,} more in a '+N more' box")
    return DrawnGraph(
        focus=None, direction="snapshot", nodes=tuple(nodes), edges=tuple(edges), shown=shown, total=total,
        hidden=total - shown, max_nodes=max_nodes, caption=caption,
        relations=tuple(sorted(wanted, key=relation_sort_key)) if wanted is not None else None,
        records=records, edge_records=shown_edges,
    )


def with_file_hashes(lg: LineageGraph, drawn: DrawnGraph) -> DrawnGraph:
    """``drawn`` with :attr:`DrawnGraph.files`: the snapshot's ``files`` rows of its models that have a
    sha256 (the LFS object id), by model, in path order."""
    ids = sorted({n.id for n in drawn.nodes if n.id is not None})
    rows = (
        lg.snapshot.files.filter(pl.col("model").is_in(ids) & pl.col("sha256").is_not_null())
        .unique(["model", "path"], keep="first").sort("model", "path")
    )
    found: dict[str, list[tuple[str, str, str]]] = {}
    for model, path, part, sha256 in rows.select("model", "path", "part", "sha256").iter_rows():
        found.setdefault(model, []).append((path, part, sha256))
    return replace(drawn, files={m: tuple(f) for m, f in found.items()})


def _model_records(lg: LineageGraph, ids: list[str]) -> pl.DataFrame:
    """One row per model of ``ids``, in that order: ``id`` and its node attributes as the networkx graph holds
    them (:data:`ptmgraph.graph.NODE_ATTRIBUTES` of its ``models`` row), read for these models only; every
    column null, ``id`` included, for a model named only by an edge (it has no attributes)."""
    positions = lg.compact.positions_of(ids)
    if not lg.compact.rows:  # every model is named only by an edge
        return pl.DataFrame({"id": [None] * len(ids)}, schema={"id": pl.String})
    rows = lg.nodes_at(positions)
    recorded = pl.Series(positions < lg.compact.rows)
    return rows.with_columns(pl.when(recorded).then(pl.col("id")).alias("id"))


def _edges_among(lg: LineageGraph, ids: list[str]) -> pl.DataFrame:
    """The ``edges`` row of every edge between two of ``ids``, the last row of a pair named twice (as the
    networkx graph keeps it): the drawn models' subgraph, without building the whole graph."""
    wanted = pl.Series(sorted(set(ids)), dtype=pl.String)
    rows = lg.snapshot.edges.filter(pl.col("base").is_in(wanted.implode()) & pl.col("child").is_in(wanted.implode()))
    return rows.unique(["base", "child"], keep="last", maintain_order=True)


def _with_evidence(lg: LineageGraph, edges: pl.DataFrame, ids: list[str]) -> pl.DataFrame:
    """``edges`` with a column ``evidence``: the evidence rows of each edge (without base and child), in the
    snapshot's order, as a list of structs; null for an edge with none."""
    table = lg.snapshot.evidence
    if table.height == 0:
        return edges.with_columns(pl.lit(None).alias("evidence"))
    wanted = pl.Series(sorted(set(ids)), dtype=pl.String)
    fields = [c for c in table.columns if c not in ("base", "child")]
    found = (
        table.filter(pl.col("base").is_in(wanted.implode()) & pl.col("child").is_in(wanted.implode()))
        .group_by("base", "child", maintain_order=True).agg(pl.struct(fields).alias("evidence"))
    )
    return edges.join(found, on=["base", "child"], how="left", maintain_order="left")


def _drawn_edges(table: pl.DataFrame) -> list[DrawnEdge]:
    """The drawn edges of ``edges`` rows (with their ``evidence``), reading their attributes from the table."""
    relations = table["relation"].to_list() if "relation" in table.columns else [None] * table.height
    rules = table["relation_rule"].to_list() if "relation_rule" in table.columns else [None] * table.height
    kinds = table["evidence_kinds"].to_list() if "evidence_kinds" in table.columns else [None] * table.height
    return [
        DrawnEdge(
            tail=base, head=child, relation=str(relations[i]) if relations[i] is not None else Relation.UNKNOWN.value,
            relation_rule=rules[i], evidence_kinds=tuple(str(k) for k in kinds[i] or ()),
            attributes=TableRow(table, i, hidden=("evidence",)), evidence=TableList(table, i, "evidence"),
        )
        for i, (base, child) in enumerate(zip(table["base"].to_list(), table["child"].to_list(), strict=True))
    ]


def _caption(direction: Scope, shown: int, total: int, hidden: int, max_per_depth: int) -> str:
    """One plain sentence: how many models are drawn and, when some are not, which and where the rest are."""
    kin = "ancestors" if direction == "ancestry" else "descendants"
    if total == 0:
        return f"no {kin} in this snapshot"
    if hidden == 0:
        return f"showing all {plural(total, 'model')}" if total > 1 else "showing the 1 model"
    per_depth = f", at most {max_per_depth} per depth" if max_per_depth else ""
    return (
        f"showing {shown:,} of {plural(total, 'model')}: the nearest, and the most downloaded of each relation"
        f"{per_depth}; {hidden:,} more in '+N more' boxes"
    )
