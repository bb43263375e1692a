"""What a drawing holds: the models and edges chosen to draw (:class:`DrawnGraph`), each drawn model's and
edge's attributes as a view of one row of a table (:class:`TableRow`, :class:`TableList`), and the order
relations are listed in. Made by :mod:`ptmgraph.formats.subgraph`, written by every graph format.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

import polars as pl

from ptmgraph.records import Relation

if TYPE_CHECKING:  # a drawing draws the walk an analysis made, and imports no walk
    from ptmgraph.traverse import Direction

Scope = Literal["ancestry", "impact", "both", "snapshot"]
"""What a drawing shows (``DrawnGraph.direction``): a model's ancestry, its impact, both, or a whole snapshot.
Not a :data:`ptmgraph.traverse.Direction`, the direction of one walk."""
NodeKind = Literal["focus", "model", "more"]

RELATION_ORDER: tuple[str, ...] = tuple(r.value for r in Relation)
"""The order relations are listed in (legend, ``+K more`` breakdowns); unrecognised values follow, sorted."""


def relation_sort_key(relation: str) -> tuple[int, str]:
    return (RELATION_ORDER.index(relation), "") if relation in RELATION_ORDER else (len(RELATION_ORDER), relation)


class TableRow(Mapping[str, Any]):
    """Row ``index`` of ``table`` as a read-only mapping of its columns but ``hidden``, read on first use:
    a drawn model's attributes stay in one table (read by the data formats a column at a time) instead of a
    dict per model. Empty when ``table[present]`` is null at the row (a model with no ``models`` row)."""

    __slots__ = ("_at", "_hidden", "_present", "_row", "table")

    def __init__(self, table: pl.DataFrame, index: int, hidden: tuple[str, ...] = (), present: str | None = None):
        self.table, self._at, self._hidden, self._present = table, index, hidden, present
        self._row: dict[str, Any] | None = None

    @property
    def row(self) -> int:
        """The row of :attr:`table` this mapping reads."""
        return self._at

    def moved(self, table: pl.DataFrame, shift: int) -> TableRow:
        """The same row in ``table``, which holds this one's rows ``shift`` rows further down."""
        return TableRow(table, self._at + shift, self._hidden, self._present)

    def _values(self) -> dict[str, Any]:
        if self._row is None:
            row = self.table.row(self._at, named=True)
            empty = self._present is not None and row.get(self._present) is None
            self._row = {} if empty else {k: v for k, v in row.items() if k not in self._hidden}
        return self._row

    def __getitem__(self, key: str) -> Any:
        return self._values()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())

    def __repr__(self) -> str:
        return repr(self._values())


class TableList(Sequence[dict[str, Any]]):
    """The list held in column ``column`` of row ``index`` of ``table`` (a list of structs: an edge's
    evidence rows) as a read-only sequence of dicts, read on first use; empty when null."""

    __slots__ = ("_at", "_column", "_items", "table")

    def __init__(self, table: pl.DataFrame, index: int, column: str):
        self.table, self._at, self._column = table, index, column
        self._items: list[dict[str, Any]] | None = None

    def _values(self) -> list[dict[str, Any]]:
        if self._items is None:
            value = self.table[self._column][self._at] if self._column in self.table.columns else None
            self._items = list(value) if value is not None else []
        return self._items

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[dict[str, Any]]: ...
    def __getitem__(self, i: int | slice) -> dict[str, Any] | Sequence[dict[str, Any]]:
        return self._values()[i]

    def __len__(self) -> int:
        return len(self._values())

    def moved(self, table: pl.DataFrame, shift: int) -> TableList:
        """The same list in ``table``, which holds this one's rows ``shift`` rows further down."""
        return TableList(table, self._at + shift, self._column)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self._values()) == list(other)

    __hash__ = None  # type: ignore[assignment]  # a list of dicts: not hashable


@dataclass(frozen=True)
class DrawnNode:
    """One box of the picture: the focus, a related model, or a ``+K more`` summary of hidden models.

    ``key`` is unique within the drawing (the model id for models). For ``more`` nodes ``anchor`` is
    the kept model the hidden ones hang from, and ``hidden_ids`` lists them in cap order.
    """

    key: str
    kind: NodeKind
    id: str | None = None
    depth: int = 0
    relation: str | None = None  # the hop into this model along its via chain (None for the focus)
    via: str | None = None  # the model one hop nearer the focus on the walk's shortest path (None for the focus)
    walked: Direction | None = None  # the walk that found it, ancestors or descendants (None: focus, snapshot)
    downloads: int | None = None
    likes: int | None = None
    license: str | None = None
    has_record: bool | None = None
    anchor: str | None = None
    hidden_by_relation: dict[str, int] = field(default_factory=dict)
    hidden_ids: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The model's node attributes in the graph (:data:`ptmgraph.graph.NODE_ATTRIBUTES`); empty for ``more``
    and for a model with no ``models`` row. A drawing cut from a snapshot holds them in one table
    (:attr:`DrawnGraph.records`; this is a :class:`TableRow` of it)."""

    @property
    def hidden_count(self) -> int:
        return len(self.hidden_ids)

    @property
    def summary_text(self) -> str:
        """``+K more (finetune: a, adapter: b)`` for a ``more`` node; empty otherwise."""
        if self.kind != "more":
            return ""
        parts = ", ".join(f"{rel}: {n}" for rel, n in self.hidden_by_relation.items())
        return f"+{self.hidden_count} more ({parts})" if parts else f"+{self.hidden_count} more"


@dataclass(frozen=True)
class DrawnEdge:
    """An edge between two drawn nodes (by ``key``), base -> derived. ``relation`` is None for summary edges."""

    tail: str
    head: str
    relation: str | None
    relation_rule: str | None = None
    evidence_kinds: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The edge's columns in the snapshot (relation, the rule, the relations side by side ...); a
    :class:`TableRow` of :attr:`DrawnGraph.edge_records` in a drawing cut from a snapshot."""
    evidence: Sequence[Mapping[str, Any]] = field(default=(), compare=False)
    """The snapshot's evidence rows for this edge (kind, field, source, relation, raw) without base and child;
    a :class:`TableList` of :attr:`DrawnGraph.edge_records` in a drawing cut from a snapshot."""

    @property
    def is_summary(self) -> bool:
        return self.relation is None


@dataclass(frozen=True)
class DrawnGraph:
    """What to draw, and what was left out.

    ``total`` counts the result's models (the focus excluded); ``shown`` of them are drawn as boxes and
    ``hidden`` are counted in ``+K more`` nodes; ``caption`` states the rule in one sentence.
    """

    focus: str | None  # None for a whole snapshot (see snapshot_subgraph)
    direction: Scope
    nodes: tuple[DrawnNode, ...]
    edges: tuple[DrawnEdge, ...]
    shown: int
    total: int
    hidden: int
    max_nodes: int
    caption: str
    max_per_depth: int = 0
    relations: tuple[str, ...] | None = None  # relations followed (impact), None for all
    files: dict[str, tuple[tuple[str, str, str], ...]] = field(default_factory=dict, compare=False)
    """(path, part, sha256) of each drawn model's files whose sha256 is known, by model id: filled by
    :func:`with_file_hashes` for the formats that list them (an ML-BOM), empty otherwise."""
    records: pl.DataFrame | None = field(default=None, compare=False)
    """The drawn models' attributes as one table (``id``, null for a model with no ``models`` row, and the
    node attributes), which the models' :attr:`DrawnNode.attributes` read (:class:`TableRow`); None when
    they are plain mappings (a drawing made by hand). The data formats read it a column at a time."""
    edge_records: pl.DataFrame | None = field(default=None, compare=False)
    """The drawn model edges' ``edges`` rows, and their evidence rows as a list column ``evidence``, as one
    table, which :attr:`DrawnEdge.attributes` and :attr:`DrawnEdge.evidence` read; None as for records."""

    @property
    def capped(self) -> bool:
        return self.hidden > 0

    def node(self, key: str) -> DrawnNode:
        for node in self.nodes:
            if node.key == key:
                return node
        raise KeyError(key)

    @property
    def relations_drawn(self) -> list[str]:
        """The relations of the drawn model edges, in legend order."""
        return sorted({e.relation for e in self.edges if e.relation is not None}, key=relation_sort_key)
