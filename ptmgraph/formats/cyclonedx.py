"""A CycloneDX 1.6 ML-BOM (JSON) of a model's set (its ancestry, impact or both), built with
``cyclonedx-python-lib``: the set as a graph that SBOM tools read.

- ``metadata.component`` is the subject (the focus model); ``components`` holds every other model of
  the set (all of them unless ``--max-nodes`` cut it: ``metadata.properties`` ``ptmgraph:shown``,
  ``ptmgraph:total``, ``ptmgraph:hidden`` say so). Each is a ``machine-learning-model`` component with
  the bom-ref ``model:ORG/NAME``, the purl ``pkg:huggingface/ORG/NAME@SHA``
  (:func:`ptmgraph.ids.hub_purl` from Hub-shaped ids only: a local id has no purl and no Hub link; the
  sha only where the snapshot knows it), its licence, a link to its Hub page, the properties
  ``ptmgraph:depth`` (hops from the subject), ``ptmgraph:downloads`` and ``ptmgraph:has_record``
  (``false`` for a model known only as someone's base), and, where the snapshot's ``files`` table has
  them, one nested ``file`` component per file with its SHA-256 (the LFS object id) and
  ``ptmgraph:part`` (weights, config, ...).
- ``dependencies`` links each model to its bases in the set (every edge of the set, base named in
  ``dependsOn``). What an edge is travels on the derived model, one property per base ``B``:
  ``ptmgraph:relation:B`` (finetune, adapter, quantized, merge, unknown),
  ``ptmgraph:dependency:B`` (``runtime``: it loads B's weights when it runs, an adapter;
  ``runtime_code``: it runs B's code, its ``auto_map`` names B; ``inherited``: it carries a copy made
  from B's weights; the runtime rule :func:`ptmgraph.relations.dependency` of that one hop), and
  ``ptmgraph:relation_rule:B``, ``ptmgraph:parent_confidence:B``, ``ptmgraph:relation_confidence:B``
  and one ``ptmgraph:evidence:B`` per piece of evidence (``kind field @ source``) where known. A whole
  path's dependency follows from its hops (README *Definitions*).
- The subject keeps its pedigree: ``pedigree.ancestors`` lists every model of the set it derives
  from, ``pedigree.descendants`` every model derived from it, nearest first, each with
  ``ptmgraph:depth``, ``ptmgraph:relation`` and the evidence of its own hop along the shortest path the
  analysis' walk found to the subject (its ``via``; bom-refs ``pedigree:up:ID`` and ``pedigree:down:ID``).
  The BOM draws the walks the analyses made and never walks the graph itself.

Evidence and ids come from untrusted metadata; the library's JSON serializer escapes them.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentType, Pedigree
from cyclonedx.model.dependency import Dependable, Dependency
from cyclonedx.output.json import JsonV1Dot6

from ptmgraph.formats.drawing import DrawnEdge, DrawnGraph, DrawnNode
from ptmgraph.formats.interface import ExportError, GraphFormat
from ptmgraph.ids import hub_purl, hub_url
from ptmgraph.records import EvidenceKind
from ptmgraph.relations import dependency

if TYPE_CHECKING:
    from ptmgraph.traverse import Direction

MODEL_REF = "model:"
"""The bom-ref of a model of the set is ``model:`` and its id."""


def _indexed_bom() -> Bom:
    """A :class:`Bom` whose ``register_dependency`` finds a registered model through a dict: the
    library's own looks through every dependency each time, which makes a BOM of thousands of models
    take minutes (it is called again for every component when the BOM is written). Set on the
    instance: the library's serializer knows the class ``Bom`` only, not a subclass."""
    bom = Bom()
    registered: dict[BomRef, Dependency] = {}

    def register_dependency(target: Dependable, depends_on: Iterable[Dependable] | None = None) -> None:
        bases = list(depends_on or ())
        found = registered.get(target.bom_ref)
        if found is None or bases:
            needs = [Dependency(ref=base.bom_ref) for base in bases]
            if found is not None:  # a sorted set places (and hashes) it by its dependencies: replace it
                bom.dependencies.discard(found)
                needs += found.dependencies
            found = Dependency(ref=target.bom_ref, dependencies=needs)
            registered[target.bom_ref] = found
            bom.dependencies.add(found)
        for base in bases:
            register_dependency(base)

    bom.register_dependency = register_dependency  # type: ignore[method-assign]
    return bom


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


def _hop_properties(hop: DrawnEdge, suffix: str = "") -> list[Property]:
    """The relation, its rule, its two confidences and evidence of ``hop``, named ``ptmgraph:NAME`` + ``suffix``."""
    properties = [Property(name=f"ptmgraph:relation{suffix}", value=hop.relation or "unknown")]
    if hop.relation_rule:
        properties.append(Property(name=f"ptmgraph:relation_rule{suffix}", value=hop.relation_rule))
    for attribute in ("parent_confidence", "relation_confidence"):
        if hop.attributes.get(attribute) is not None:
            properties.append(Property(name=f"ptmgraph:{attribute}{suffix}", value=str(hop.attributes[attribute])))
    properties += [Property(name=f"ptmgraph:evidence{suffix}", value=line) for line in _evidence_lines(hop)]
    return properties


def _rule_hop(edge: DrawnEdge) -> tuple[str | None, bool]:
    """The edge as the runtime rule reads a hop: (relation, loads_code)."""
    loads = edge.attributes.get("loads_code")
    code = bool(loads) if loads is not None else EvidenceKind.CONFIG_AUTO_MAP.value in edge.evidence_kinds
    return edge.relation, code


def _component(node: DrawnNode, *, ref: str, depth: int | None, properties: Iterable[Property] = (),
               files: tuple[tuple[str, str, str], ...] = ()) -> Component:
    model_id = str(node.id)
    sha = node.attributes.get("sha") if isinstance(node.attributes.get("sha"), str) else None
    org, _, name = model_id.rpartition("/")
    listed = []
    if depth is not None:
        listed.append(Property(name="ptmgraph:depth", value=str(depth)))
    listed += properties
    if node.downloads is not None:
        listed.append(Property(name="ptmgraph:downloads", value=str(node.downloads)))
    if node.has_record is False:
        listed.append(Property(name="ptmgraph:has_record", value="false"))
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
        properties=listed,
        components=[
            Component(type=ComponentType.FILE, bom_ref=f"file:{model_id}/{path}", name=path,
                      hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha256)],
                      properties=[Property(name="ptmgraph:part", value=part)])
            for path, part, sha256 in files
        ],
    )


def _pedigree(drawn: DrawnGraph) -> Pedigree | None:
    """The subject's ancestors and descendants in the set, nearest first (see the module docstring): the
    models the analyses' walks found, each with the hop to its ``via`` (the next model towards the subject
    on the walk's shortest path)."""
    edges = {(e.tail, e.head): e for e in drawn.edges if not e.is_summary}

    def described(direction: Direction) -> list[Component]:
        nodes = [n for n in drawn.nodes if n.kind == "model" and n.walked == direction]
        found = []
        for node in sorted(nodes, key=lambda n: (n.depth, str(n.id))):
            via = str(node.via)
            hop = edges.get((node.key, via) if direction == "ancestors" else (via, node.key))
            ref = f"pedigree:{'up' if direction == 'ancestors' else 'down'}:{node.key}"
            found.append(_component(node, ref=ref, depth=node.depth,
                                    properties=_hop_properties(hop) if hop is not None else ()))
        return found

    ancestors, descendants = described("ancestors"), described("descendants")
    return Pedigree(ancestors=ancestors or None, descendants=descendants or None) if ancestors or descendants else None


def build_bom(drawn: DrawnGraph, *, title: str) -> Bom:
    """The ML-BOM of ``drawn`` (see the module docstring)."""
    if drawn.focus is None:
        raise ExportError("a CycloneDX ML-BOM describes one model: export MODEL --ancestry, not a whole snapshot")
    focus = drawn.focus
    models = [n for n in drawn.nodes if n.kind in ("focus", "model")]
    bases: dict[str, list[DrawnEdge]] = {}
    for edge in drawn.edges:
        if not edge.is_summary and edge.tail != edge.head:
            bases.setdefault(edge.head, []).append(edge)

    made: dict[str, Component] = {}
    for node in models:
        properties = []
        for edge in bases.get(node.key, []):
            suffix = f":{edge.tail}"
            properties += _hop_properties(edge, suffix)
            properties.append(Property(name=f"ptmgraph:dependency{suffix}", value=dependency([_rule_hop(edge)]).value))
        made[node.key] = _component(node, ref=MODEL_REF + node.key, depth=None if node.key == focus else node.depth,
                                    properties=properties, files=drawn.files.get(node.key, ()))

    subject = made[focus]
    subject.pedigree = _pedigree(drawn)
    subject.description = title
    bom = _indexed_bom()
    bom.metadata.component = subject
    bom.metadata.properties.update([
        Property(name="ptmgraph:direction", value=drawn.direction),
        Property(name="ptmgraph:shown", value=str(drawn.shown)),
        Property(name="ptmgraph:total", value=str(drawn.total)),
        Property(name="ptmgraph:hidden", value=str(drawn.hidden)),
        Property(name="ptmgraph:caption", value=drawn.caption),
    ])
    for node in models:
        if node.key != focus:
            bom.components.add(made[node.key])
    for node in models:
        bom.register_dependency(made[node.key], [made[e.tail] for e in bases.get(node.key, [])])
    return bom


class CycloneDxFormat(GraphFormat):
    name = "cyclonedx"
    extensions = (".cdx.json",)
    description = "CycloneDX 1.6 ML-BOM (JSON): every model of the set and its bases"
    default_max_nodes = 0  # data: every model of the set
    file_hashes = True

    def render(self, drawn: DrawnGraph, *, title: str, rankdir: str | None = None) -> bytes:
        bom = build_bom(drawn, title=title)
        with warnings.catch_warnings():  # an impact set's subject has no base in the set: that is no gap
            warnings.filterwarnings("ignore", "The Component this BOM is describing", UserWarning)
            return (JsonV1Dot6(bom).output_as_string(indent=1) + "\n").encode("utf-8")
