"""The relation rule (what one edge's evidence says the child is, which rule said it, how sure that is)
and the runtime rule (what a model loads from another repo when it runs: weights, code).

An edge's relation answers the runtime question first: an **adapter** loads its base's weights at run
time; a **finetune**, **merge** or **quantization** carries its own copy of them. So the child's own
files decide before any label, and labels (the card's ``base_model_relation``, the Hub's tags and
model-tree headings) decide only what the files leave open.

Weight shapes (what a child repo's files show, see :class:`WeightShape`):

- *adapter weights*: ``adapter_model.*``, ``adapter_config.json``, diffusers ``pytorch_lora_weights.*``
  or a weight file named ``*lora*``, anywhere in the repo;
- *full weights*: standard whole-model files at the repo root or in a pipeline component folder one
  level down (``model*.safetensors``, ``pytorch_model*.bin``, ``diffusion_pytorch_model*``,
  ``consolidated*``, ``tf_model.h5``, ``flax_model.msgpack``, ``model.onnx``); files under
  ``checkpoint-N/`` are training state, not the model;
- *quantized weights*: GGUF/GGML files without full weights beside them, EXL2's ``measurement.json``,
  GPTQ's ``quantize_config.json``, or a ``quantization_config`` in ``config.json`` (GPTQ, AWQ,
  bitsandbytes, MLX, FP8 ...) that the base does not share.

The rule is :data:`RULE_TABLE`, tried top to bottom, first match wins; README's Data model section
prints the same table and the tests hold it too.

The runtime rule (:func:`dependency`): a model depends on a source at ``runtime`` when it loads the
source's weights (adapter hops only), at ``runtime_code`` when it runs the source's Python code (its
``config.json`` ``auto_map`` names the source, :func:`code_sources`), else ``inherited``.

**Two confidences** per edge, each high, medium or low (README's Definitions state the same):

- **parent confidence**, how surely the parent is named, from the strongest evidence naming it
  (:class:`ParentSource`, strongest first): *high*: the child's own metadata declares it (the card's
  ``base_model``, a Hub tag ``base_model:...``, an edge list); *medium*: only the Hub's model-tree
  listing of the base (the child's own record unseen), or only the child's ``config.json`` /
  ``adapter_config.json``; *low*: only words: card prose (rule ``prose_parent`` included), or the
  child's name (rule ``name_parent``). ``--min-confidence`` filters on this one.
- **relation confidence**, how surely the relation is decided (:func:`relation_confidence`):
  *high*: the child's weight files were seen and show this relation (adapter weights: adapter;
  quantized weights: quantized; full weights: finetune or merge); *medium*: no weight files seen
  (files unknown, or none of them weights, as in a llamafile or empty repo) and a label states the
  relation (the card's ``base_model_relation``, an edge list, the Hub's tag or tree heading, a merge
  tag or mergekit config, card prose, two declared bases, or the Hub's default finetune for a named
  base); *low*: the name alone, nothing at all, or a relation the weight files contradict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from ptmgraph.ids import id_key
from ptmgraph.records import EvidenceKind, Relation
from ptmgraph.vocabulary import Confidence as Confidence  # defined there, light, for the command line's choices


class ParentSource(str, Enum):
    """The strongest evidence that names an edge's parent, strongest first (see the module docstring)."""

    DECLARED = "declared"  # the child's card base_model, a Hub tag, an edge list
    TREE = "tree"  # only the Hub's model-tree listing of the base
    CONFIG = "config"  # only config.json _name_or_path or adapter_config.json base_model_name_or_path
    PROSE = "prose"  # only card prose or quantizer fields (and every prose_parent edge)
    NAME = "name"  # only the child's name (name_parent edges)


_SOURCE_OF_KIND = {
    EvidenceKind.CARD_BASE_MODEL: ParentSource.DECLARED,
    EvidenceKind.HUB_TAG: ParentSource.DECLARED,
    EvidenceKind.EDGE_LIST: ParentSource.DECLARED,
    EvidenceKind.MODEL_TREE: ParentSource.TREE,
    EvidenceKind.CONFIG: ParentSource.CONFIG,
    EvidenceKind.ADAPTER_CONFIG: ParentSource.CONFIG,
    EvidenceKind.CARD_TEXT: ParentSource.PROSE,
    # An auto_map entry names the repo whose code the child runs; a wrong one would not load, so it is
    # as sure as a declaration (and --min-confidence high keeps the runtime_code exposure).
    EvidenceKind.CONFIG_AUTO_MAP: ParentSource.DECLARED,
}
_SOURCE_ORDER = list(ParentSource)

PARENT_CONFIDENCE: dict[ParentSource, Confidence] = {
    ParentSource.DECLARED: Confidence.HIGH,
    ParentSource.TREE: Confidence.MEDIUM,
    ParentSource.CONFIG: Confidence.MEDIUM,
    ParentSource.PROSE: Confidence.LOW,
    ParentSource.NAME: Confidence.LOW,
}
"""The parent confidence of each :class:`ParentSource` (the module docstring's levels)."""


def parent_source(kinds: Iterable[EvidenceKind | str], *, prose_parent: bool = False,
                  name_parent: bool = False) -> ParentSource:
    """What names an edge's parent: the strongest of ``kinds`` (the evidence kinds naming this very base),
    except that a ``prose_parent`` edge's parent is named by prose and a ``name_parent`` edge's by the
    child's name, whatever the evidence of the base they replace says (no kinds: the weakest, a name)."""
    if name_parent:
        return ParentSource.NAME
    if prose_parent:
        return ParentSource.PROSE
    sources = [_SOURCE_OF_KIND[EvidenceKind(k)] for k in kinds]
    return min(sources, key=_SOURCE_ORDER.index) if sources else ParentSource.NAME


class WeightShape(str, Enum):
    """What a child repo's files show about its weights (see the module docstring for the file names)."""

    ADAPTER_ONLY = "adapter_only"  # adapter weights or config, no full weights
    MERGED_ADAPTER = "merged_adapter"  # full weights and adapter files
    QUANTIZED = "quantized"  # quantized weights or a quantization config the base lacks
    FULL = "full"  # full weights only
    NO_WEIGHTS = "no_weights"  # files listed, none of the above
    UNKNOWN = "unknown"  # the repo's files are not known


class RelationRule(str, Enum):
    """Which rule decided an edge's relation (first match wins; see the module docstring)."""

    CODE_ONLY = "code_only"
    PROSE_PARENT = "prose_parent"
    NAME_PARENT = "name_parent"
    ADAPTER_WEIGHTS = "adapter_weights"
    QUANTIZED_FILES = "quantized_files"
    DECLARED = "declared"
    MERGED_ADAPTER = "merged_adapter"
    MERGE_EVIDENCE = "merge_evidence"
    NAME = "name"
    DECLARED_FINETUNE = "declared_finetune"
    HUB = "hub"
    PROSE = "prose"
    BASE_COUNT = "base_count"
    DEFAULT_FINETUNE = "default_finetune"
    NONE = "none"


RULE_TABLE: list[tuple[RelationRule, str, str]] = [
    (RelationRule.CODE_ONLY, "only an auto_map entry names the base: the child runs its code, nothing says how "
     "the weights relate", "unknown"),
    (RelationRule.PROSE_PARENT, "a quantization's card prose names a model whose own base is the declared base: "
     "the named model is the parent", "quantized"),
    (RelationRule.NAME_PARENT, "a child with no record, listed under one base only and not as an adapter, named X "
     "plus a quantization suffix, where exactly one model X descends from that base: X is the parent", "quantized"),
    (RelationRule.ADAPTER_WEIGHTS, "adapter weights and no full weights", "adapter"),
    (RelationRule.QUANTIZED_FILES, "quantized weights (GGUF/GGML, EXL2, GPTQ files, a quantization_config the "
     "base lacks)", "quantized"),
    (RelationRule.DECLARED, "card or edge list states adapter/quantized/merge (adapter only without full weights)",
     "as stated"),
    (RelationRule.MERGED_ADAPTER, "full weights and adapter files: a LoRA merged into the weights", "finetune"),
    (RelationRule.MERGE_EVIDENCE, "mergekit_config.yml, a merge/mergekit tag, or the Hub's merge label", "merge"),
    (RelationRule.NAME, "a quantization marker in the name that the base lacks; card and Hub say finetune or nothing",
     "quantized"),
    (RelationRule.DECLARED_FINETUNE, "card or edge list states finetune", "finetune"),
    (RelationRule.HUB, "the Hub's tag or model-tree heading", "as labelled"),
    (RelationRule.PROSE, "quantized_by, 'quantized version of', 'GGUF of', the Trainer's 'fine-tuned version of'",
     "as worded"),
    (RelationRule.BASE_COUNT, "two or more declared bases, no Hub label says otherwise", "merge"),
    (RelationRule.DEFAULT_FINETUNE, "a known base and a seen repo or a card naming it, nothing else", "finetune"),
    (RelationRule.NONE, "nothing at all is known", "unknown"),
]
"""(rule, when, relation), in the order the rules are tried: README's table and the tests' table."""


@dataclass(frozen=True)
class EdgeEvidence:
    """Everything known about one base -> child edge, reduced to what the rule reads.

    ``declared``: the relation the card (``base_model_relation``) or an edge list states; ``hub``: the
    Hub's tag or model-tree heading; ``prose``: the relation card prose or quantizer fields word;
    ``weights``: the child's :class:`WeightShape`; ``name_quantized``: the child's name carries a
    quantization marker its base's name lacks; ``merge_signs``: a mergekit config or merge tag;
    ``declared_bases``: how many bases the child's card or edge list names; ``hub_labels_other``: the
    Hub labels some base of this child finetune / adapter / quantized; ``parent``: what names this
    base (:func:`parent_source`); ``prose_parent``: card prose names this base and the declared base is
    this base's own base; ``name_parent``: the child's name is this base's name plus a quantization
    suffix, and the Hub lists the child under a model this base descends from; ``seen``: the child's repo was read
    (files or card), or its card names this base; ``code_only``: the only evidence is an ``auto_map``
    entry naming this base's code (see :func:`code_sources`), which says nothing about the weights.
    """

    declared: Relation | None = None
    hub: Relation | None = None
    prose: Relation | None = None
    weights: WeightShape = WeightShape.UNKNOWN
    name_quantized: bool = False
    merge_signs: bool = False
    declared_bases: int = 0
    hub_labels_other: bool = False
    parent: ParentSource = ParentSource.DECLARED
    prose_parent: bool = False
    name_parent: bool = False
    seen: bool = False
    code_only: bool = False


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`decide` for one edge."""

    relation: Relation
    rule: RelationRule
    parent_confidence: Confidence
    relation_confidence: Confidence


_STATED = {Relation.ADAPTER, Relation.QUANTIZED, Relation.MERGE}
_HIGH, _MEDIUM, _LOW = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW


def decide(ev: EdgeEvidence) -> Decision:
    """The relation of one edge, the rule that decided it and its two confidences (first match wins)."""
    relation, rule = _relation(ev)
    return Decision(relation, rule, PARENT_CONFIDENCE[ev.parent], relation_confidence(ev, relation, rule))


_WEIGHTS_SHOW = {
    WeightShape.ADAPTER_ONLY: {Relation.ADAPTER},
    WeightShape.QUANTIZED: {Relation.QUANTIZED},
    WeightShape.FULL: {Relation.FINETUNE, Relation.MERGE},
    WeightShape.MERGED_ADAPTER: {Relation.FINETUNE, Relation.MERGE},
}
"""The relations each weight shape shows (a full copy: a finetune or a merge)."""


def relation_confidence(ev: EdgeEvidence, relation: Relation, rule: RelationRule) -> Confidence:
    """How surely ``relation`` (decided by ``rule``) is the edge's relation: high when the child's weight
    files show it, medium when no weight files were seen and a label states it, low for the name alone,
    nothing, or a relation the weight files contradict (the module docstring)."""
    shown = _WEIGHTS_SHOW.get(ev.weights)
    if shown is not None:
        return _HIGH if relation in shown else _LOW
    if rule in (RelationRule.NAME, RelationRule.NONE, RelationRule.CODE_ONLY):
        return _LOW
    if rule in (RelationRule.PROSE_PARENT, RelationRule.NAME_PARENT):
        return _MEDIUM if relation in (ev.declared, ev.hub, ev.prose) else _LOW
    return _MEDIUM


def _relation(ev: EdgeEvidence) -> tuple[Relation, RelationRule]:
    full = ev.weights in (WeightShape.FULL, WeightShape.MERGED_ADAPTER)
    if ev.code_only:
        return Relation.UNKNOWN, RelationRule.CODE_ONLY
    if ev.prose_parent:
        return Relation.QUANTIZED, RelationRule.PROSE_PARENT
    if ev.name_parent:
        return Relation.QUANTIZED, RelationRule.NAME_PARENT
    if ev.weights is WeightShape.ADAPTER_ONLY:
        return Relation.ADAPTER, RelationRule.ADAPTER_WEIGHTS
    if ev.weights is WeightShape.QUANTIZED:
        return Relation.QUANTIZED, RelationRule.QUANTIZED_FILES
    if ev.declared in _STATED and not (ev.declared is Relation.ADAPTER and full):
        return ev.declared, RelationRule.DECLARED
    if ev.weights is WeightShape.MERGED_ADAPTER:
        return Relation.FINETUNE, RelationRule.MERGED_ADAPTER
    if ev.merge_signs or ev.hub is Relation.MERGE:
        return Relation.MERGE, RelationRule.MERGE_EVIDENCE
    weakly_said = {ev.declared, ev.hub} <= {None, Relation.FINETUNE}
    if ev.name_quantized and weakly_said:
        return Relation.QUANTIZED, RelationRule.NAME
    if ev.declared is Relation.FINETUNE:
        return Relation.FINETUNE, RelationRule.DECLARED_FINETUNE
    if ev.hub is not None and not (ev.hub is Relation.ADAPTER and full):
        return ev.hub, RelationRule.HUB
    if ev.prose is not None:
        return ev.prose, RelationRule.PROSE
    if ev.declared_bases >= 2 and not ev.hub_labels_other:
        return Relation.MERGE, RelationRule.BASE_COUNT
    if ev.seen:
        return Relation.FINETUNE, RelationRule.DEFAULT_FINETUNE
    return Relation.UNKNOWN, RelationRule.NONE


_WEIGHTS_SAY = {
    WeightShape.ADAPTER_ONLY: Relation.ADAPTER,
    WeightShape.QUANTIZED: Relation.QUANTIZED,
    WeightShape.MERGED_ADAPTER: Relation.FINETUNE,
}


def stored_confidences(
    kinds: Iterable[str] | None, rule: str | None, weights: str | None, declared: str | None, hub: str | None,
    prose: str | None, relation: str | None,
) -> tuple[Confidence, Confidence]:
    """The parent and relation confidence of an edge stored without them (a snapshot of format 1, whose
    one ``confidence`` mixed the two), from what such an edge stores: its evidence kinds, the rule that
    decided it, the child's weight shape, the stated relations and the relation. The same definitions as
    :func:`decide`; a value this version does not know reads as the weakest."""
    try:
        decided_by = RelationRule(rule)
        ev = EdgeEvidence(
            declared=Relation(declared) if declared else None, hub=Relation(hub) if hub else None,
            prose=Relation(prose) if prose else None, weights=WeightShape(weights or WeightShape.UNKNOWN.value),
        )
        parent = parent_source(kinds or [], prose_parent=decided_by is RelationRule.PROSE_PARENT,
                               name_parent=decided_by is RelationRule.NAME_PARENT)
        return PARENT_CONFIDENCE[parent], relation_confidence(ev, Relation(relation), decided_by)
    except (ValueError, KeyError):
        return _LOW, _LOW


def inferred_relation(ev: EdgeEvidence) -> Relation | None:
    """The relation the child's own repo suggests, independent of any label: files, name, merge signs,
    bases (the edges table's ``inferred_relation``, compared with the labels for ``relations_disagree``)."""
    if ev.weights in _WEIGHTS_SAY:
        return _WEIGHTS_SAY[ev.weights]
    if ev.name_quantized:
        return Relation.QUANTIZED
    if ev.merge_signs or (ev.declared_bases >= 2 and not ev.hub_labels_other):
        return Relation.MERGE
    return None


# --- the runtime rule: what a model loads from another repo when it runs -------------------------

RUNTIME_RELATIONS = frozenset({Relation.ADAPTER.value})
"""Relations whose derived model loads the base's *weights* at run time (an adapter); the others copy them."""


class Dependency(str, Enum):
    """How a model depends on a source (README *Definitions*: runtime, runtime_code, inherited)."""

    RUNTIME_CODE = "runtime_code"  # runs the source's Python code when loaded (trust_remote_code=True)
    RUNTIME = "runtime"  # loads the source's weights when run (adapter hops only)
    INHERITED = "inherited"  # carries a copy made from the source's weights


@dataclass(frozen=True)
class DependencyPath:
    """The paths by which a model depends on a source as ``kind``, hops from the source end: the first
    hop loads the source's code (``code_hop``: its child's ``auto_map`` names the source) or else is one of
    ``relations``; every later hop is one of ``relations`` (None: any relation). A walk finds them from
    the source down (the code hops, then ``relations``) or from the model up (``relations``, then a code
    hop into the models reached or the model itself)."""

    kind: Dependency
    code_hop: bool
    relations: frozenset[str] | None

    def allows(self, relation: str | None) -> bool:
        """Whether a hop of ``relation`` may come after the first."""
        return self.relations is None or relation in self.relations

    def follows(self, hops: Sequence[tuple[str | None, bool]]) -> bool:
        """Whether the path of ``hops`` (source end first, each ``(relation, loads_code)``) is one of these."""
        if not hops:
            return self.relations is None and not self.code_hop
        first = hops[0][1] if self.code_hop else self.allows(hops[0][0])
        return first and all(self.allows(relation) for relation, _ in hops[1:])


DEPENDENCY_PATHS: tuple[DependencyPath, ...] = (
    DependencyPath(Dependency.RUNTIME_CODE, code_hop=True, relations=RUNTIME_RELATIONS),
    DependencyPath(Dependency.RUNTIME, code_hop=False, relations=RUNTIME_RELATIONS),
    DependencyPath(Dependency.INHERITED, code_hop=False, relations=None),
)
"""The runtime rule (:func:`dependency`): each kind with its paths, most direct first."""

DEPENDENCY_ORDER: tuple[Dependency, ...] = tuple(path.kind for path in DEPENDENCY_PATHS)
"""Most direct exposure first: when several paths join a model to a source, the first kind any path has wins
(the source's code executing is the most direct; loading its weights the next)."""

PATH_OF: dict[Dependency, DependencyPath] = {path.kind: path for path in DEPENDENCY_PATHS}
"""The :class:`DependencyPath` of each kind."""


def dependency(hops: Sequence[tuple[str | None, bool]]) -> Dependency:
    """How a model depends on a source along one path of ``hops``, source end first, each ``(relation,
    loads_code)``: ``loads_code`` when the hop's child runs its base's code (an ``auto_map`` entry names
    the base, :func:`code_sources`).

    ``runtime_code`` when the first hop loads the source's code and every later hop is an adapter (each
    loads the model above it, which runs the source's code); ``runtime`` when every hop is an adapter;
    else ``inherited``: the first kind of :data:`DEPENDENCY_PATHS` whose paths it is. Across several
    paths the strongest wins (:data:`DEPENDENCY_ORDER`).
    """
    return next(path.kind for path in DEPENDENCY_PATHS if path.follows(hops))


def strongest(dependencies: Iterable[Dependency]) -> Dependency:
    """The most direct of several dependencies (:data:`DEPENDENCY_ORDER`); ``inherited`` for none."""
    found = set(dependencies)
    return next((d for d in DEPENDENCY_ORDER if d in found), Dependency.INHERITED)


def _auto_map_entries(auto_map: object) -> list[tuple[str, str]]:
    """(auto class, class reference) of each entry of an ``auto_map``; a list value (AutoTokenizer's
    [slow, fast]) gives one entry per string in it; anything that is not a string is skipped."""
    if not isinstance(auto_map, Mapping):
        return []
    entries = []
    for key, value in auto_map.items():
        for reference in value if isinstance(value, list | tuple) else [value]:
            if isinstance(reference, str) and reference.strip():
                entries.append((str(key), reference.strip()))
    return entries


def code_sources(auto_map: object, model_id: str | None = None) -> list[tuple[str, str]]:
    """The repos whose Python code a model runs when loaded with ``trust_remote_code=True``: per repo
    named by an ``auto_map`` entry ``org/repo--module.Class`` (config.json; the Hub's ``config`` summary
    carries it), ``(org/repo, "AutoClass: entry")`` for its first entry, in entry order.

    An entry without ``--`` (``module.Class``) names the model's own code, and so does one naming
    ``model_id`` itself (letter case aside): neither is a source here (see :func:`own_code_files`).
    """
    found: dict[str, tuple[str, str]] = {}
    own = id_key(model_id or "")
    for key, reference in _auto_map_entries(auto_map):
        repo, sep, _ = reference.partition("--")
        repo = repo.strip()
        if sep and repo and id_key(repo) != own:
            found.setdefault(id_key(repo), (repo, f"{key}: {reference}"))
    return list(found.values())


CODE_FILE = re.compile(
    r"(?:modeling|configuration|tokenization|processing|image_processing|feature_extraction)_[^/]*\.py")
"""Python modules at a repo's root named as ``transformers`` names the code a repo ships for
``trust_remote_code`` (``modeling_x.py``, ``configuration_x.py`` ...): a name that matches it whole."""


def own_code_files(files: Iterable[str], auto_map: object = None, model_id: str | None = None) -> list[str]:
    """The repo's own Python files that loading it with ``trust_remote_code=True`` runs, sorted: root
    ``*.py`` files its own ``auto_map`` entries name (``module.Class`` -> ``module.py``; or
    ``model_id--module.Class``), and root files named like remote code (:data:`CODE_FILE`)."""
    own = id_key(model_id or "")
    modules = set()
    for _, reference in _auto_map_entries(auto_map):
        repo, sep, rest = reference.partition("--")
        if sep and id_key(repo.strip()) != own:
            continue  # another repo's code (code_sources)
        module = (rest if sep else reference).rpartition(".")[0]
        if module:
            modules.add(module + ".py")
    return sorted({f for f in files if f in modules or CODE_FILE.fullmatch(f)})
