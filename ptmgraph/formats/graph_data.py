"""A drawable subgraph as a :class:`networkx.DiGraph` whose attributes a file format can hold.

Nodes are keyed by :attr:`DrawnNode.key` (the model id; ``more:ID`` for a ``+K more`` node). Each
carries ``label`` (the id, or the ``+K more (...)`` text), ``kind`` (focus / model / more), ``depth``
(hops from the focus), ``relation`` (of its own hop) and the model's record attributes; a ``more``
node carries ``anchor``, ``hidden_count``, ``hidden_ids`` and ``hidden_by_relation``. Edges (base ->
derived) carry the snapshot's edge columns (``relation``, ``relation_rule``, the declared / Hub /
inferred relations side by side, ``parent_confidence`` and ``relation_confidence`` ...), ``evidence`` (the
evidence rows) and ``summary`` (true for the edge to a ``+K more`` node). The graph carries
``focus``, ``direction``, ``title``, ``caption``, ``shown``, ``total`` and ``hidden``.

**Projection.** Missing values (None) are left out; datetimes become ISO 8601 text; with
``flat=True`` (GraphML, GEXF: scalars only) lists and mappings become JSON text, otherwise (JSON)
they stay lists and objects. Strings, integers, floats and booleans are kept as they are.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

import networkx as nx

from ptmgraph.formats.subgraph import DrawnGraph, DrawnNode


def project(value: Any, *, flat: bool) -> Any:
    """``value`` as a type the file format accepts (see the module docstring); None stays None."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        native = {str(k): project(v, flat=False) for k, v in value.items()}
        return json.dumps(native, ensure_ascii=False, sort_keys=True) if flat else native
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [project(v, flat=False) for v in value]
        return json.dumps(items, ensure_ascii=False) if flat else items
    return str(value)


def _projected(values: Mapping[str, Any], flat: bool, text: Callable[[str], str]) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        projected = project(value, flat=flat)
        if projected is not None:
            out[text(name)] = text(projected) if isinstance(projected, str) else projected
    return out


def _same(value: str) -> str:
    return value


def node_values(node: DrawnNode) -> dict[str, Any]:
    """The attributes of ``node`` before projection (see the module docstring)."""
    values: dict[str, Any] = dict(node.attributes)
    values |= {"label": node.summary_text if node.kind == "more" else node.id, "kind": node.kind, "depth": node.depth}
    if node.kind == "more":
        values |= {
            "anchor": node.anchor, "hidden_count": node.hidden_count, "hidden_ids": list(node.hidden_ids),
            "hidden_by_relation": dict(node.hidden_by_relation),
        }
    else:
        for name in ("downloads", "likes", "license", "has_record"):
            if values.get(name) is None:
                values[name] = getattr(node, name)
        values["relation"] = node.relation
    return values


def to_networkx(drawn: DrawnGraph, *, title: str, flat: bool, text: Callable[[str], str] = _same) -> nx.DiGraph:
    """``drawn`` as a DiGraph with projected attributes (see the module docstring); every string (node keys,
    attribute names and text values, JSON text included) written through ``text``, the escaping of the
    file format (:func:`ptmgraph.formats.escaping.xml_text` for GraphML and GEXF)."""
    graph = nx.DiGraph()
    graph.graph.update(
        _projected(
            {"focus": drawn.focus, "direction": drawn.direction, "title": title, "caption": drawn.caption,
             "shown": drawn.shown, "total": drawn.total, "hidden": drawn.hidden},
            flat, text,
        )
    )
    for node in drawn.nodes:
        graph.add_node(text(node.key), **_projected(node_values(node), flat, text))
    for edge in drawn.edges:
        values: dict[str, Any] = dict(edge.attributes)
        values.pop("base", None)
        values.pop("child", None)
        values["relation"] = edge.relation
        values["summary"] = edge.is_summary
        if edge.evidence:
            values["evidence"] = [{k: v for k, v in row.items() if k not in ("base", "child")} for row in edge.evidence]
        graph.add_edge(text(edge.tail), text(edge.head), **_projected(values, flat, text))
    return graph
