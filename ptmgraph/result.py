"""The shape every analysis returns: a main table, a typed summary, secondary tables.

It lives in ``ptmgraph`` rather than ``analyses`` so that formats render results without importing analyses.
Each analysis states its summary as a frozen dataclass (a :class:`Summary`): the summaries a view reads by
field (ancestry, impact, info, why) are defined here, so that formats can name them without importing an
analysis; the others beside their analysis (``StatsSummary`` in ``analyses/overview.py``, ...). A view that
reads a field the summary does not have is a type error (``mypy``), not a failure at run time.
Document formats (JSON, CSV, Markdown) write a summary through :meth:`Summary.as_dict`: its fields in the
order declared, one member each.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, runtime_checkable

import polars as pl

if TYPE_CHECKING:
    from ptmgraph.tree_lines import LineageTree

_OMITTED_WHEN_NONE = "omitted_when_none"


def omitted_when_none() -> Any:
    """A summary field that documents leave out while it is None (a fact stated only when it applies, such as
    the filters that narrowed an answer); other fields are always written, None as ``null``."""
    return field(default=None, metadata={_OMITTED_WHEN_NONE: True})


DOCUMENT_MEMBERS = frozenset({"title", "rows", "tables", "provenance"})
"""The members a result's document holds beside its summary's (:mod:`ptmgraph.formats.json_doc`): no summary
field takes one of these names, which would hide it or the member."""


@dataclass(frozen=True)
class Summary(Mapping[str, object]):
    """An analysis' scalar facts and small lists, one field each, documented where it is declared.

    The base class is the empty summary. A summary also reads as a read-only mapping of its
    :meth:`as_dict` (``summary["failed"]``, ``dict(summary)``), for scripts written against the earlier
    dict summaries; the package's code reads attributes, which a type checker checks.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        taken = sorted(set(inspect.get_annotations(cls)) & DOCUMENT_MEMBERS)
        if taken:
            raise TypeError(f"{cls.__name__}: a summary field cannot be named {', '.join(taken)}: a document's own "
                            "member has that name")

    def as_dict(self) -> dict[str, Any]:
        """The fields in the order declared, by name, as documents write them (the values themselves, not
        copies; a field :func:`omitted_when_none` left out while None)."""
        return {f.name: value for f in fields(self)
                if (value := getattr(self, f.name)) is not None or not f.metadata.get(_OMITTED_WHEN_NONE)}

    def __getitem__(self, name: str) -> object:
        return self.as_dict()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_dict())

    def __len__(self) -> int:
        return len(self.as_dict())


S = TypeVar("S", bound=Summary, covariant=True)


@runtime_checkable
class AboutModel(Protocol):
    """A summary of an answer about one model (ancestry, impact, info, why, ...): that model's id."""

    @property
    def model(self) -> str: ...


@dataclass(frozen=True, kw_only=True)
class AncestrySummary(Summary):
    """The summary of ``ancestry`` (:func:`ptmgraph.analyses.lineage.ancestry`)."""

    model: str
    """The model asked about, as the snapshot spells it."""
    ancestors: int
    """Models with a path to it (its rows)."""
    max_depth: int
    """The largest depth (hops) of an ancestor; 0 without ancestors."""
    roots: list[str]
    """Its ancestors that are roots, sorted (the model itself when it has no ancestor)."""
    paths: int
    """Paths to the roots listed (``tables["paths"]``), at most ``--max-paths``."""
    paths_truncated: bool
    """More paths to roots exist than were listed."""
    ancestors_in_cycles: list[str]
    """Its ancestors that lie on a cycle, sorted."""
    has_record: bool
    """Whether the snapshot holds the model's own record (else it knows it only from references)."""
    filtered_out: int | None = omitted_when_none()
    """Ancestors the query's filters left out (set by the command line when a filter is given)."""


@dataclass(frozen=True, kw_only=True)
class ImpactSummary(Summary):
    """The summary of ``impact`` (:func:`ptmgraph.analyses.lineage.impact`)."""

    model: str
    """The model asked about, as the snapshot spells it."""
    affected_models: int
    """Its descendants (its rows)."""
    affected_downloads: int
    """Their recorded download counts summed (the Hub's 30-day count)."""
    models_without_download_count: int
    """Descendants with no download count (left out of ``affected_downloads``)."""
    affected_space_links: int
    """Their Spaces links summed."""
    max_depth: int
    """The largest depth (hops) of a descendant; 0 without descendants."""
    relations_followed: list[str] | Literal["all"]
    """The relations walked, sorted, or ``"all"``."""
    depth_limit: int | None
    """``--max-depth``: the most hops walked (None: no limit)."""
    filtered_out: int | None = omitted_when_none()
    """Descendants the query's filters left out (set by the command line when a filter is given)."""


@dataclass(frozen=True, kw_only=True)
class ModelInfoSummary(Summary):
    """The summary of ``info`` (:func:`ptmgraph.analyses.overview.model_info`)."""

    model: str
    """The model asked about, as the snapshot spells it."""
    record: dict[str, Any]
    """Its record (the models table's columns), ``files`` as a count, without ``tags``."""
    parents: int
    """Its direct parents."""
    children: int
    """Its direct children."""


@dataclass(frozen=True, kw_only=True)
class WhySummary(Summary):
    """The summary of ``why`` (:func:`ptmgraph.analyses.why.why`)."""

    model: str
    """The model asked about."""
    ancestor: str
    """The ancestor whose paths to ``model`` are listed."""
    paths: int
    """Paths listed (0: ``model`` does not derive from ``ancestor``), at most ``--max-paths``."""
    paths_truncated: bool
    """More paths exist than were listed."""
    shortest: int | None
    """Hops of the shortest path; None without a path."""


@dataclass
class AnalysisResult(Generic[S]):
    """One analysis' answer.

    ``rows`` is the main table (one row per model, the model under ``id``); ``summary`` holds scalar
    facts and small lists, typed per analysis (:class:`Summary`); ``tables`` holds secondary tables (e.g.
    the summary by depth).
    ``deferred`` adds to given rows the columns built only when printed: a path per row held for
    every row would make memory quadratic in depth (see :mod:`ptmgraph.traverse`). ``tree`` is the walk
    the rows come from, ready to draw, when one does (ancestry, impact): a view draws it (the lineage tree)
    and never walks again.
    """

    title: str
    rows: pl.DataFrame
    summary: S = field(default_factory=Summary)  # type: ignore[assignment]
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    deferred: Callable[[pl.DataFrame], pl.DataFrame] | None = None
    tree: LineageTree | None = field(default=None, compare=False, repr=False)

    def output_rows(self, limit: int = 0, *, deferred: bool = True) -> pl.DataFrame:
        """The first ``limit`` rows (all when 0), with the deferred columns added unless ``deferred`` is
        false: what formats print. Tables printed for reading add them; JSON and CSV only when asked
        (``--paths``), so that a document's size stays linear in its rows by default."""
        rows = self.rows.head(limit) if limit > 0 else self.rows
        return self.deferred(rows) if self.deferred is not None and deferred else rows


@dataclass
class Figure:
    """A chart to draw, as data: ``kind`` ``bar`` (a value per category), ``loglog`` (points on log-log axes)
    or ``hist`` (a histogram of the values in ``x``; ``y`` unused). ``name`` is the file stem."""

    name: str
    title: str
    kind: str
    x: list[Any]
    y: list[float] = field(default_factory=list)
    xlabel: str = ""
    ylabel: str = ""


@dataclass
class ReportSection:
    """One section of a report: prose lines (plain text, escaped by the writer), tables and figures."""

    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[tuple[str, pl.DataFrame]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Report:
    """A document of sections, every number taken from an analysis' result."""

    title: str
    sections: list[ReportSection] = field(default_factory=list)
