"""The compact lineage graph: integer node ids and CSR adjacency in both directions.

Definitions:

- **position** (node id) of a model: its row number in the ``models`` table; models named only by
  edges (no row of their own) follow, numbered in the order the ``edges`` table first names them
  (base before child), as :class:`networkx.DiGraph` would add them.
- **CSR adjacency**: for direction d (``children``: base -> derived, ``parents``: derived -> base),
  the neighbours of node v are ``neighbour[d][indptr[d][v]:indptr[d][v + 1]]`` (int32 positions),
  sorted by model id (Unicode code point order, as Python sorts ``str``), so a walk visits them in id
  order. Each entry carries its edge's relation code and confidence code at the same offset.
- **relation code**: a small int, ``relation_names[code]`` the relation; the table starts with
  :data:`RELATION_CODES` (0 finetune, 1 adapter, 2 quantized, 3 merge, 4 unknown) and appends any
  other spelling found in the edges; -1 is a missing relation.
- **confidence code**: the edge's parent confidence (``parent_confidence``, what ``--min-confidence``
  filters on): 0 low, 1 medium, 2 high (:data:`CONFIDENCE_CODES`); -1 missing.
- **small graph**: at most :data:`SMALL_GRAPH_NODES` positions. A cold point query on a small graph
  reads, checks and walks the index without numpy, whose import would cost it more than the work; a
  larger graph is checked and walked with numpy.

A pair (base, child) named twice in ``edges`` is one edge carrying the last row's relation and
confidence, as networkx's ``add_edges_from`` keeps it. Self-loops are kept.

The index is built from the tables (:func:`build`), written beside them as ``index.npz`` (plain
arrays, never pickled) by :func:`write`, which returns its :class:`Manifest` (the tables' digest, the
index's counts, the file's size and CRC-32) for the snapshot's ``meta.json``. :func:`read` trusts a
stored index only when it is the file that manifest describes and it is *consistent*: it returns None
when the file, its digest or its counts differ from the manifest or the ``models`` table, and raises
:class:`IndexFileError` when its arrays break the CSR rules (offsets from 0 to the edge count, never
decreasing; neighbours, relation and confidence codes in range; the relation table as :func:`build`
makes it). Either way the caller builds the index from the tables: never a wrong answer, never a crash.
:func:`read` maps the file and parses numpy's format with the standard library (:func:`stored_arrays`),
so the arrays it gives are typed memoryviews of the file; an index built in memory holds numpy
arrays. Both index to ints and slice to arrays with ``tolist()``, which is all the point lookups of
:class:`Adjacency` and :class:`CompactGraph` use; the whole-graph passes read the numpy attributes
(:attr:`Adjacency.indptr` ...), made from the same memory on first use.
"""

from __future__ import annotations

import ast
import mmap
import re
import struct
import sys
import zipfile
import zlib
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union

import polars as pl

from ptmgraph.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")  # the point queries on a small graph never import it (module docstring)

INDEX_FILE = "index.npz"
"""The snapshot file holding the index (numpy's uncompressed ``.npz``: a zip of ``.npy`` arrays)."""

INDEX_VERSION = 1

RELATION_CODES = ("finetune", "adapter", "quantized", "merge", "unknown")
"""The first relation codes, in code order (see the module docstring)."""

CONFIDENCE_CODES = ("low", "medium", "high")
"""The confidence codes, in code order (weakest first)."""

SMALL_GRAPH_NODES = 100_000
"""The most positions of a *small graph* (module docstring). Measured on a 2-core machine: numpy's
import costs some 50 ms of CPU; checking the index one value at a time costs about 90 ns per model and
direction (numpy: 4 ns), and a walk one edge at a time about 0.7 µs per model reached (numpy: 0.15 µs;
199k models reached at 3M models: 145 ms against 30 ms). Up to 100,000 models, the work without numpy
costs about what numpy's import would, at most."""

Side = Literal["children", "parents"]
"""``children`` lists each model's derived models; ``parents`` each model's bases."""

IntArray = Union["np.ndarray", memoryview]
"""A one-dimensional array of integers: a numpy array (an index built in memory) or a typed memoryview
of the stored file (an index read from it)."""


class IndexFileError(ValueError):
    """A stored index file that cannot be used; the message says why."""


class IndexBuildError(ValueError):
    """Tables the index cannot describe (more distinct relations than its int8 codes hold)."""


MAX_RELATIONS = 127
"""The most distinct relations an index holds (its relation codes are int8)."""


@dataclass(frozen=True)
class Manifest:
    """What a snapshot's ``meta.json`` records of the index written with its tables (:func:`write`).

    ``digest`` is the :func:`fingerprint` of the tables the index was built from, computed when they
    were saved, so reading never hashes them; ``nodes`` and ``edges`` are the index's counts (positions;
    distinct base -> child pairs); ``size`` and ``crc32`` are those of the ``index.npz`` file.
    """

    digest: int
    nodes: int
    edges: int
    size: int
    crc32: int

    def as_meta(self) -> dict[str, int]:
        return {"digest": self.digest, "nodes": self.nodes, "edges": self.edges, "size": self.size,
                "crc32": self.crc32}

    @classmethod
    def from_meta(cls, value: Any) -> Manifest | None:
        """The manifest stored in ``meta.json`` (its ``index`` member); None when absent or malformed."""
        if not isinstance(value, Mapping):
            return None
        fields = [value.get(name) for name in ("digest", "nodes", "edges", "size", "crc32")]
        if not all(type(f) is int and f >= 0 for f in fields):
            return None
        return cls(*fields)  # type: ignore[arg-type]


class Adjacency:
    """One direction of the CSR adjacency (see the module docstring).

    The point lookups (:meth:`of`, :meth:`neighbours`, :meth:`relations`, :meth:`relation_code`,
    :meth:`confidence_code`) read the arrays as they are held; the attributes :attr:`indptr`,
    :attr:`neighbour`, :attr:`relation` and :attr:`confidence` are numpy arrays for the whole-graph
    passes (views of the same memory, made on first use).
    """

    def __init__(self, indptr: IntArray, neighbour: IntArray, relation: IntArray, confidence: IntArray) -> None:
        self.held = (indptr, neighbour, relation, confidence)
        """indptr (int64, one more than the node count), neighbour (int32 positions), relation and
        confidence codes (int8), as given."""

    @cached_property
    def indptr(self) -> np.ndarray:
        return np.asarray(self.held[0])

    @cached_property
    def neighbour(self) -> np.ndarray:
        return np.asarray(self.held[1])

    @cached_property
    def relation(self) -> np.ndarray:
        return np.asarray(self.held[2])

    @cached_property
    def confidence(self) -> np.ndarray:
        return np.asarray(self.held[3])

    def of(self, node: int) -> slice:
        """The offsets of ``node``'s neighbours."""
        indptr = self.held[0]
        return slice(int(indptr[node]), int(indptr[node + 1]))

    def neighbours(self, node: int) -> list[int]:
        """The positions of ``node``'s neighbours, in id order."""
        return self.held[1][self.of(node)].tolist()  # type: ignore[no-any-return]

    def relations(self, node: int) -> list[int]:
        """The relation codes of ``node``'s edges, in the order of :meth:`neighbours`."""
        return self.held[2][self.of(node)].tolist()  # type: ignore[no-any-return]

    def relation_code(self, offset: int) -> int:
        return int(self.held[2][offset])

    def confidence_code(self, offset: int) -> int:
        return int(self.held[3][offset])


@dataclass(frozen=True)
class CompactGraph:
    """The compact lineage graph of one snapshot (see the module docstring)."""

    ids: pl.Series  # String: the model id at each position
    rows: int  # how many positions are rows of the models table (the rest are edge-only models)
    children: Adjacency
    parents: Adjacency
    relation_names: tuple[str, ...]
    fingerprint: int

    @property
    def nodes(self) -> int:
        return self.ids.len()

    @property
    def small(self) -> bool:
        """Whether this is a *small graph* (module docstring): walked without numpy."""
        return self.nodes <= SMALL_GRAPH_NODES

    def side(self, side: Side) -> Adjacency:
        return self.children if side == "children" else self.parents

    def position(self, model: str) -> int:
        """The position of ``model``; KeyError when the graph has no such model.

        A scan of the id column (milliseconds at a million models): a point query looks up one or two
        models, and a dict of every id would cost more than the query.
        """
        found = self.ids.index_of(model)
        if found is None:
            raise KeyError(model)
        return int(found)

    def position_list(self, models: list[str]) -> list[int]:
        """The positions of ``models``, in that order (an id named twice in the graph: its first
        position); KeyError for an unknown model.

        One scan of the ids finds the positions of the models asked for; only those are joined, so a
        lookup of a few models costs milliseconds at a million models, not a table of every id.
        """
        return self._positions(models).to_list()

    def positions_of(self, models: list[str]) -> np.ndarray:
        """:meth:`position_list` as an int64 array, for the whole-graph passes."""
        return self._positions(models).to_numpy().astype(np.int64)

    def _positions(self, models: list[str]) -> pl.Series:
        wanted = pl.Series("id", models, dtype=pl.String())
        hits = self.ids.is_in(wanted.implode()).arg_true().alias("position")
        table = pl.DataFrame({"id": self.ids.gather(hits), "position": hits}).unique("id", keep="first")
        found = wanted.to_frame().join(table, on="id", how="left", maintain_order="left")["position"]
        if found.null_count():
            raise KeyError(models[found.is_null().arg_true()[0]])
        return found

    def name(self, position: int) -> str:
        return str(self.ids[position])

    def names(self, positions: list[int] | np.ndarray | pl.Series) -> list[str]:
        return self.ids.gather(positions).to_list() if len(positions) else []

    def relation_of(self, code: int) -> str | None:
        return self.relation_names[code] if code >= 0 else None

    def edge_offset(self, base: int, child: int) -> int | None:
        """The offset of the edge base -> child in :attr:`children`, or None when there is none."""
        children = self.children.neighbours(base)
        return self.children.of(base).start + children.index(child) if child in children else None


def _codes(column: pl.Series, first: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """``column`` as int8 codes into a table that starts with ``first``; null -> -1."""
    extra = sorted(set(column.drop_nulls().unique().to_list()) - set(first))
    names = first + tuple(extra)
    if len(names) > MAX_RELATIONS:
        raise IndexBuildError(f"{len(names)} distinct relations, more than the {MAX_RELATIONS} the index holds")
    mapping = pl.DataFrame({"value": list(names), "code": list(range(len(names)))},
                           schema={"value": pl.String(), "code": pl.Int8()})
    coded = pl.DataFrame({"value": column.cast(pl.String)}).join(mapping, on="value", how="left",
                                                                  maintain_order="left")
    return coded["code"].fill_null(-1).to_numpy().astype(np.int8), names


def fingerprint(models: pl.DataFrame, edges: pl.DataFrame) -> int:
    """A 63-bit digest of the content of the columns the index is built from (every row, in order).

    Computed when the tables are saved and stored twice, in the index and in its :class:`Manifest`; a
    read compares the two and never hashes the tables. (polars' hashes may change between polars
    versions: a digest is only ever compared with one computed by the same save.)
    """
    total = models.height * 1_000_003 + edges.height
    for frame, columns in ((models, ["id"]), (edges, ["base", "child", "relation", "parent_confidence"])):
        if frame.height:
            hashed = frame.select(columns).hash_rows(seed=7)
            # Weighted by row so that reordering rows changes it too (the products wrap modulo 2**64).
            weights = pl.int_range(1, frame.height + 1, dtype=pl.UInt64, eager=True)
            total ^= int((hashed * weights).bitwise_xor())  # type: ignore[arg-type]
    return total & ((1 << 63) - 1)


def _adjacency(source: np.ndarray, target: np.ndarray, rank: np.ndarray, relation: np.ndarray,
               confidence: np.ndarray, nodes: int) -> Adjacency:
    order = np.lexsort((rank[target], source))  # by source, then neighbour id
    counts = np.bincount(source, minlength=nodes)
    indptr = np.zeros(nodes + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Adjacency(indptr, target[order].astype(np.int32), relation[order], confidence[order])


def build(models: pl.DataFrame, edges: pl.DataFrame) -> CompactGraph:
    """The compact graph of the ``models`` and ``edges`` tables (see the module docstring)."""
    model_ids = models["id"].cast(pl.String)
    named = pl.DataFrame({"id": pl.concat([edges["base"], edges["child"]]).cast(pl.String)}) if edges.height else None
    extra = pl.Series("id", [], dtype=pl.String)
    if named is not None:
        # edge-only ids in order of first mention, base before child within an edge (networkx's order)
        interleaved = pl.DataFrame({"base": edges["base"], "child": edges["child"]}).select(
            pl.concat_list("base", "child").alias("id")).explode("id")["id"]
        extra = interleaved.filter(~interleaved.is_in(model_ids.implode())).unique(maintain_order=True)
    ids = pl.concat([model_ids, extra]).alias("id")
    nodes = ids.len()
    positions = pl.DataFrame({"id": ids, "position": np.arange(nodes, dtype=np.int32)})
    # A model id repeated in the table keeps its first row, as networkx merges it into one node.
    positions = positions.unique("id", keep="first", maintain_order=True)
    pairs = (
        edges.select("base", "child", "relation", "parent_confidence")
        .with_row_index("row")
        .unique(["base", "child"], keep="last", maintain_order=True)  # networkx keeps the last attributes
        .join(positions.rename({"id": "base", "position": "b"}), on="base", how="left", maintain_order="left")
        .join(positions.rename({"id": "child", "position": "c"}), on="child", how="left", maintain_order="left")
    )
    base = pairs["b"].to_numpy().astype(np.int64)
    child = pairs["c"].to_numpy().astype(np.int64)
    relation, relation_names = _codes(pairs["relation"], RELATION_CODES)
    confidence, _ = _codes(pairs["parent_confidence"], CONFIDENCE_CODES)
    confidence[confidence >= len(CONFIDENCE_CODES)] = -1
    rank = np.empty(nodes, dtype=np.int64)
    rank[ids.arg_sort().to_numpy()] = np.arange(nodes)
    return CompactGraph(
        ids=ids,
        rows=models.height,
        children=_adjacency(base, child, rank, relation, confidence, nodes),
        parents=_adjacency(child, base, rank, relation, confidence, nodes),
        relation_names=relation_names,
        fingerprint=fingerprint(models, edges),
    )


def write(index: CompactGraph, path: Path) -> Manifest:
    """Store ``index`` (without the ids, which the models table holds) as an uncompressed ``.npz``; its
    manifest, for the snapshot's ``meta.json``."""
    arrays: dict[str, np.ndarray] = {
        "version": np.array([INDEX_VERSION], dtype=np.int64),
        "fingerprint": np.array([index.fingerprint], dtype=np.int64),
        "rows": np.array([index.rows], dtype=np.int64),
        "extra_ids": np.array(index.ids.slice(index.rows).to_list(), dtype=np.str_),
        "relation_names": np.array(index.relation_names, dtype=np.str_),
    }
    for side in ("children", "parents"):
        adjacency = index.side(side)  # type: ignore[arg-type]
        for field in ("indptr", "neighbour", "relation", "confidence"):
            arrays[f"{side}_{field}"] = getattr(adjacency, field).astype(_STORED_TYPES[field], copy=False)
    with open(path, "wb") as handle:
        np.savez(handle, allow_pickle=False, **arrays)
    with open(path, "rb") as handle:
        data = handle.read()
    return Manifest(digest=index.fingerprint, nodes=index.nodes, edges=len(index.children.held[1]),
                    size=len(data), crc32=zlib.crc32(data))


_STORED_TYPES = {"indptr": "<i8", "neighbour": "<i4", "relation": "|i1", "confidence": "|i1"}
"""The numpy type each adjacency array is stored as (little-endian, whatever the machine)."""

_FORMATS: dict[str, Literal["q", "i", "b"]] = {"<i8": "q", "<i4": "i", "|i1": "b"}
"""The stored numeric types :func:`stored_arrays` reads, by numpy type, as :mod:`struct` formats."""

_TEXT = re.compile(r"<U([0-9]{1,6})")
"""numpy's fixed-width Unicode type: so many UTF-32 code units per string, padded with NULs."""

_NPY_MAGIC = b"\x93NUMPY"
_HEADER_BYTES = 4096
"""The longest ``.npy`` header read (numpy writes about a hundred bytes)."""


def stored_arrays(path: Path) -> dict[str, memoryview | list[str]]:
    """The one-dimensional arrays of the ``.npz`` file at ``path`` (numpy's uncompressed zip of ``.npy``
    files, as :func:`write` stores them), by name, without numpy: numbers as typed memoryviews of the
    mapped file (no copy), strings as lists.

    Only what :func:`write` writes is accepted: stored (not deflated) members holding a C-ordered
    1-D array of little-endian int8, int32, int64 or fixed-width Unicode; anything else raises
    :class:`IndexFileError`. The header of each member is a Python literal, parsed with
    :func:`ast.literal_eval` (never evaluated). The map stays open while an array uses it; a snapshot is
    replaced by renaming a new directory into place (:func:`ptmgraph.snapshot.save`), never rewritten
    in place, so the mapped file does not change under it.
    """
    return _arrays(path)[1]


def _arrays(path: Path) -> tuple[memoryview, dict[str, memoryview | list[str]]]:
    """The mapped file at ``path`` and its arrays (:func:`stored_arrays`)."""
    try:
        with open(path, "rb") as handle:
            mapped = memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
            members = zipfile.ZipFile(handle).infolist()
        return mapped, {info.filename.removesuffix(".npy"): _member(mapped, info) for info in members}
    except (OSError, ValueError, EOFError, KeyError, IndexError, SyntaxError, RecursionError, struct.error,
            zipfile.BadZipFile) as err:
        raise IndexFileError(f"not a readable index ({type(err).__name__}: {err})") from None


def _member(mapped: memoryview, info: zipfile.ZipInfo) -> memoryview | list[str]:
    """The array stored in the zip member ``info`` of the file ``mapped``."""
    if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
        raise ValueError(f"{info.filename}: not a stored .npy member")
    local = info.header_offset
    if bytes(mapped[local:local + 4]) != b"PK\x03\x04":
        raise ValueError(f"{info.filename}: no local header")
    name_bytes, extra_bytes = struct.unpack_from("<HH", mapped, local + 26)
    start = local + 30 + name_bytes + extra_bytes  # the local header's extra field may differ from the directory's
    member = mapped[start:start + info.file_size]
    if len(member) != info.file_size or bytes(member[:6]) != _NPY_MAGIC:
        raise ValueError(f"{info.filename}: not a .npy array")
    major = member[6]
    if major == 1:
        (header_bytes,), header_start = struct.unpack_from("<H", member, 8), 10
    elif major in (2, 3):
        (header_bytes,), header_start = struct.unpack_from("<I", member, 8), 12
    else:
        raise ValueError(f"{info.filename}: .npy version {major}")
    if header_bytes > _HEADER_BYTES:
        raise ValueError(f"{info.filename}: header too long")
    header = ast.literal_eval(bytes(member[header_start:header_start + header_bytes]).decode("latin-1"))
    if (not isinstance(header, dict) or header.get("fortran_order") is not False
            or not isinstance(header.get("shape"), tuple) or len(header["shape"]) != 1
            or not isinstance(header["shape"][0], int) or header["shape"][0] < 0):
        raise ValueError(f"{info.filename}: not a one-dimensional array")
    count, kind = header["shape"][0], header.get("descr")
    data = member[header_start + header_bytes:]
    text = _TEXT.fullmatch(kind) if isinstance(kind, str) else None
    if text:
        width = int(text.group(1))
        if len(data) < count * width * 4:
            raise ValueError(f"{info.filename}: shorter than its shape")
        chars = bytes(data[:count * width * 4]).decode("utf-32-le")
        return [chars[at:at + width].rstrip("\0") for at in range(0, count * width, width)]
    if kind not in _FORMATS:
        raise ValueError(f"{info.filename}: type {kind!r}")
    size = struct.calcsize(_FORMATS[kind])
    if len(data) < count * size:
        raise ValueError(f"{info.filename}: shorter than its shape")
    if sys.byteorder != "little" and size > 1:  # stored little-endian: a byte-swapped copy on this machine
        swapped = array(_FORMATS[kind], bytes(data[:count * size]))
        swapped.byteswap()
        return memoryview(swapped)
    return data[:count * size].cast(_FORMATS[kind])


def read(path: Path, ids: pl.Series, pairs: int, manifest: Manifest) -> CompactGraph | None:
    """The index stored at ``path``, for a snapshot whose ``models`` table has the ids ``ids``, whose
    ``edges`` table holds ``pairs`` distinct base -> child pairs and whose ``meta.json`` holds
    ``manifest``; None when the file or its content is not the one the manifest describes, or its counts
    are not those of the tables. Raises :class:`IndexFileError` when the file is damaged or its arrays
    are inconsistent (see the module docstring)."""
    mapped, arrays = _arrays(path)
    if len(mapped) != manifest.size or zlib.crc32(mapped) != manifest.crc32 or pairs != manifest.edges:
        return None
    try:
        numbers = {name: arrays[name] for name in ("version", "rows", "fingerprint")}
        if not all(isinstance(n, memoryview) and len(n) == 1 for n in numbers.values()):
            raise ValueError("version, rows and fingerprint are not one number each")
        version, rows, digest = (int(n[0]) for n in numbers.values())  # type: ignore[index]
        if version != INDEX_VERSION or rows != ids.len() or digest != manifest.digest:
            return None
        extra, names = arrays["extra_ids"], arrays["relation_names"]
        if not isinstance(extra, list) or not isinstance(names, list):
            raise ValueError("ids and relation names are not text")
        if rows + len(extra) != manifest.nodes:
            return None
        _check_relation_names(names)
        all_ids = pl.concat([ids.cast(pl.String), pl.Series("id", extra, dtype=pl.String)]).alias("id")
        sides = {}
        for side in ("children", "parents"):
            held = [arrays[f"{side}_{f}"] for f in _STORED_TYPES]
            if not all(isinstance(a, memoryview) and a.format == _FORMATS[t]
                       for a, t in zip(held, _STORED_TYPES.values(), strict=True)):
                raise ValueError(f"{side}: arrays of other types")
            if len(held[1]) != manifest.edges:
                return None
            sides[side] = _checked(Adjacency(*held), all_ids.len(), len(names))  # type: ignore[arg-type]
    except (KeyError, IndexError, TypeError, ValueError) as err:
        raise IndexFileError(f"not a readable index ({type(err).__name__}: {err})") from None
    return CompactGraph(ids=all_ids, rows=rows, relation_names=tuple(names), fingerprint=digest, **sides)


def _check_relation_names(names: list[str]) -> None:
    """ValueError unless ``names`` is a relation table as :func:`build` makes it."""
    if (tuple(names[:len(RELATION_CODES)]) != RELATION_CODES or len(set(names)) != len(names)
            or len(names) > MAX_RELATIONS or not all(names)):
        raise ValueError("the relation names are not those of an index")


def _checked(adjacency: Adjacency, nodes: int, relations: int) -> Adjacency:
    """``adjacency`` when its arrays are consistent with ``nodes`` models and ``relations`` relation
    names; ValueError otherwise.

    On a small graph (module docstring) checked one value at a time, otherwise with numpy.
    """
    indptr, neighbour, relation, confidence = adjacency.held
    edges = len(neighbour)
    if len(indptr) != nodes + 1 or indptr[0] != 0 or indptr[-1] != edges:
        raise ValueError("offsets do not match the models")
    if len(relation) != edges or len(confidence) != edges:
        raise ValueError("edge codes do not match the edges")
    if not edges:
        return adjacency
    if nodes <= SMALL_GRAPH_NODES:
        descending = any(a > b for a, b in pairwise(indptr))
        outside = min(neighbour) < 0 or max(neighbour) >= nodes
        bad_codes = (min(relation) < -1 or max(relation) >= relations or min(confidence) < -1
                     or max(confidence) >= len(CONFIDENCE_CODES))
    else:
        descending = bool(np.any(np.diff(adjacency.indptr) < 0))
        outside = adjacency.neighbour.min() < 0 or adjacency.neighbour.max() >= nodes
        bad_codes = (adjacency.relation.min() < -1 or adjacency.relation.max() >= relations
                     or adjacency.confidence.min() < -1 or adjacency.confidence.max() >= len(CONFIDENCE_CODES))
    if descending:
        raise ValueError("offsets do not match the models")
    if outside:
        raise ValueError("a neighbour outside the models")
    if bad_codes:
        raise ValueError("a relation or confidence code outside its table")
    return adjacency
