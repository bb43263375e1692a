"""A CycloneDX 1.6 ML-BOM (JSON) for the focus model of a drawable subgraph, built with
``cyclonedx-python-lib``.

- ``metadata.component`` is the focus model, a ``machine-learning-model`` component with the purl
  ``pkg:huggingface/ORG/NAME@SHA`` (the sha only where the snapshot knows it), built by
  :func:`ptmgraph.ids.hub_purl` from Hub-shaped ids only: a local id has no purl and no Hub link.
- ``pedigree.ancestors`` holds every drawn model the focus derives from, ``pedigree.descendants``
  every drawn model derived from it, nearest first. Each carries its licence, the properties
  ``ptmgraph:depth``, ``ptmgraph:relation`` (of its own hop along the path to the focus) and one
  ``ptmgraph:evidence`` per piece of evidence of that hop (``kind field @ source``).
- ``components`` and ``dependencies`` hold what the focus needs at *run time*, by the runtime rule
  (:func:`ptmgraph.relations.dependency`): a model whose hop is ``adapter`` loads its base's weights
  when it runs, so the base is a dependency (and so on while the bases are adapters themselves); a
  model whose ``auto_map`` names a repo (``loads_code``) runs that repo's code, so it is a dependency
  too (property ``ptmgraph:dependency``: ``runtime`` or ``runtime_code``). A finetune, quantization or
  merge copies its base's weights: that base is *inherited*, recorded in the pedigree only.

Evidence and ids come from untrusted metadata; the library's JSON serializer escapes them.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import ExternalReference, ExternalReferenceType, Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType, Pedigree
from cyclonedx.output.json import JsonV1Dot6

from ptmgraph.formats.interface import ExportError, GraphFormat
from ptmgraph.formats.subgraph import DrawnEdge, DrawnGraph, DrawnNode
from ptmgraph.ids import hub_purl, hub_url
from ptmgraph.records import EvidenceKind
from ptmgraph.relations import RUNTIME_RELATIONS, Dependency, dependency


def _evidence_lines(edge: DrawnEdge | None) -> list[str]:
    if edge is None:
        return []
    lines = []
    for row in edge.evidence:
        where = f" @ {row['source']}" if row.get("source") else ""
        lines.append(f"{row.get('kind')} {row.get('field') or ''}{where}".strip())
    if not lines and edge.evidence_kinds:  # a snapshot without evidence rows still names the kinds
        lines.append("kinds: " + ", ".join(edge.evidence_kinds))
    return lines


def _component(node: DrawnNode, *, ref: str, hop: DrawnEdge | None, depth: int | None) -> Component:
    model_id = str(node.id)
    sha = node.attributes.get("sha") if isinstance(node.attributes.get("sha"), str) else None
    org, _, name = model_id.rpartition("/")
    properties = []
    if depth is not None:
        properties.append(Property(name="ptmgraph:depth", value=str(depth)))
    if hop is not None and hop.relation is not None:
        properties.append(Property(name="ptmgraph:relation", value=hop.relation))
        if hop.relation_rule:
            properties.append(Property(name="ptmgraph:relation_rule", value=hop.relation_rule))
        for attribute in ("parent_confidence", "relation_confidence"):
            if hop.attributes.get(attribute) is not None:
                properties.append(Property(name=f"ptmgraph:{attribute}", value=str(hop.attributes[attribute])))
    properties += [Property(name="ptmgraph:evidence", value=line) for line in _evidence_lines(hop)]
    if node.downloads is not None:
        properties.append(Property(name="ptmgraph:downloads", value=str(node.downloads)))
    if node.has_record is False:
        properties.append(Property(name="ptmgraph:has_record", value="false"))
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        bom_ref=ref,
        group=org or None,
        name=name or model_id,
        version=sha,
        purl=hub_purl(model_id, sha),  # None for a local id
        licenses=[LicenseFactory().make_from_string(node.license)] if node.license else None,
        external_references=[ExternalReference(type=ExternalReferenceType.WEBSITE, url=XsUri(url))
                             for url in [hub_url(model_id)] if url is not None],
        properties=properties,
    )


def _nearest_first(drawn: DrawnGraph, keys: Iterable[str]) -> list[DrawnNode]:
    """The drawn models (not ``+K more`` nodes) among ``keys``, nearest first, then by id."""
    nodes = [drawn.node(key) for key in keys if drawn.node(key).kind == "model"]
    return sorted(nodes, key=lambda n: (n.depth, str(n.id)))


def _hop(focus: str, graph: nx.DiGraph, key: str, toward_focus: bool) -> DrawnEdge:
    """The first edge on a shortest drawn path between ``key`` and the focus."""
    path = nx.shortest_path(graph, key, focus) if toward_focus else nx.shortest_path(graph, focus, key)
    first = (path[0], path[1]) if toward_focus else (path[-2], path[-1])
    return graph.edges[first]["edge"]


def _rule_hop(edge: DrawnEdge) -> tuple[str | None, bool]:
    """The edge as the runtime rule reads a hop: (relation, loads_code)."""
    loads = edge.attributes.get("loads_code")
    code = bool(loads) if loads is not None else EvidenceKind.CONFIG_AUTO_MAP.value in edge.evidence_kinds
    return edge.relation, code


def runtime_bases(drawn: DrawnGraph, model: str, below: tuple[tuple[str | None, bool], ...] = ()
                  ) -> list[tuple[DrawnEdge, Dependency]]:
    """The hops into ``model`` whose base ``model`` needs at run time, with how (see the module docstring):
    ``below`` are the hops from ``model`` down to the focus, which the rule reads after this one."""
    found: list[tuple[DrawnEdge, Dependency]] = []
    for edge in drawn.edges:
        if edge.head == model and not edge.is_summary and edge.tail != model:
            how = dependency([_rule_hop(edge), *below])
            if how is not Dependency.INHERITED:
                found.append((edge, how))
    return found


def build_bom(drawn: DrawnGraph, *, title: str) -> Bom:
    """The ML-BOM of ``drawn.focus`` (see the module docstring)."""
    if drawn.focus is None:
        raise ExportError("a CycloneDX ML-BOM describes one model: export MODEL --ancestry, not a whole snapshot")
    graph = nx.DiGraph()
    graph.add_nodes_from(n.key for n in drawn.nodes)
    graph.add_edges_from((e.tail, e.head, {"edge": e}) for e in drawn.edges if not e.is_summary)
    focus_id = drawn.focus
    focus = drawn.node(focus_id)

    def described(keys: set[str], toward_focus: bool) -> list[Component]:
        return [
            _component(n, ref=f"pedigree:{'up' if toward_focus else 'down'}:{n.key}",
                       hop=_hop(focus_id, graph, n.key, toward_focus), depth=n.depth)
            for n in _nearest_first(drawn, keys)
        ]

    ancestors = described(nx.ancestors(graph, focus_id), True)
    descendants = described(nx.descendants(graph, focus_id), False)
    main = _component(focus, ref=f"model:{focus.key}", hop=None, depth=None)
    main.pedigree = Pedigree(ancestors=ancestors or None, descendants=descendants or None)
    main.description = title

    bom = Bom()
    bom.metadata.component = main
    made: dict[str, Component] = {focus.key: main}
    todo: list[tuple[str, tuple[tuple[str | None, bool], ...]]] = [(focus.key, ())]
    expanded = {focus.key}
    while todo:  # the run-time closure: adapter hops, then their bases' hops ...; a code hop ends a chain
        key, below = todo.pop()
        needed = []
        for edge, how in runtime_bases(drawn, key, below):
            if edge.tail not in made:
                node = _component(drawn.node(edge.tail), ref=f"model:{edge.tail}", hop=None, depth=None)
                node.properties.add(Property(name="ptmgraph:dependency", value=how.value))
                made[edge.tail] = node
                bom.components.add(node)
            if edge.relation in RUNTIME_RELATIONS and edge.tail not in expanded:  # its weights are loaded:
                expanded.add(edge.tail)  # what it needs at run time is needed too
                todo.append((edge.tail, (_rule_hop(edge), *below)))
            needed.append(made[edge.tail])
        bom.register_dependency(made[key], needed)
    return bom


class CycloneDxFormat(GraphFormat):
    name = "cyclonedx"
    extensions = (".cdx.json",)
    description = "CycloneDX 1.6 ML-BOM (JSON) of the focus model"

    def render(self, drawn: DrawnGraph, *, title: str, rankdir: str | None = None) -> bytes:
        return (JsonV1Dot6(build_bom(drawn, title=title)).output_as_string(indent=1) + "\n").encode("utf-8")
