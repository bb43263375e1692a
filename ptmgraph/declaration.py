"""How an analysis declares itself: its command, options, result and exit rule, as plain data.

Each analysis module (``analyses/*.py``) exposes ``COMMANDS``, a tuple of :class:`Analysis`, one per
command it answers; the command line (:mod:`ptmgraph.cli`) builds those commands from them, so an
option shared by several commands (:data:`SNAPSHOT`, :data:`FORMAT`, :data:`CSV_RAW`,
:data:`MIN_CONFIDENCE` ...) is defined here once and appears on every command that names it. A
declaration also says what the command does before and after its analysis: how its option values become
the function's arguments (:attr:`Analysis.prepare`, raising :class:`UsageError`), which models it may look
up (:class:`LookUp`), which options name other snapshots to load (the option kinds ``snapshot``,
``history``) and which table columns a result shows (:meth:`Analysis.columns_for`); the command line
does the rest the same way for every command (:func:`ptmgraph.cli_commands.default_body`). The choices of
options are the words the data model defines (:mod:`ptmgraph.vocabulary`) or an analysis defines
(:func:`choices`); ``--format``'s are the result formats serving the command's rows (:attr:`Analysis.rows`),
filled in by the command line. This module imports nothing heavy (no typer, no polars): the command line
reads it before it knows which command runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ptmgraph.vocabulary import Confidence, Relation

if TYPE_CHECKING:
    from datetime import datetime

    from ptmgraph.result import AnalysisResult

LARGEST_WHOLE_NUMBER = 2**53 - 1
"""The largest value of any whole-number option (9,007,199,254,740,991, the largest integer a JSON reader
holds exactly); a larger one is a usage error (exit 2) before any command runs. Every count, depth and size
option means the same up to it ("all" is 0 where an option has it)."""


class ColorChoice(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


WHOLE_NUMBER = re.compile(r"0|[1-9][0-9]{0,17}")
"""A whole number as the command line takes it quickly (no sign, no leading zero, at most 18 digits); any
other number is left to typer, which words the error."""

Kind = Literal["flag", "text", "int", "float", "path", "choice", "snapshot", "history", "baseline"]
"""What an option takes. Besides plain values (``choice``: a member of its ``choices``), three paths that the
command line reads before the analysis runs, handing over what they hold: ``snapshot``, another snapshot
directory (its graph, every column, the query's edges); ``history``, a history directory (its dated
snapshots as ``[(YYYY-MM-DD, graph), ...]``, oldest first); ``baseline``, a baseline file (the finding
identities it lists; none when not given)."""
PATH_KINDS = frozenset({"path", "snapshot", "history", "baseline"})
"""The kinds whose value on the command line is a path."""


class UsageError(ValueError):
    """An option value, or a combination of them, that a command refuses before its analysis runs (raised by
    :attr:`Analysis.prepare`): the command line prints the message as one line and exits 2."""


def iso_date(option: str, value: str | None) -> datetime | None:
    """``value`` of ``option`` as an aware datetime (a day is its midnight; no zone: UTC); :class:`UsageError`
    if it is not an ISO date."""
    from datetime import datetime, timezone

    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{option}: not an ISO date (YYYY-MM-DD or YYYY-MM-DDTHH:MM): {value!r}") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Option:
    """One command-line parameter. ``names``: its long name first, then aliases and a short name (an
    argument: its metavar alone); ``param``: the name the command receives it under; ``kind``: what it
    takes (``choice``: a member of ``choices``); ``many``: repeatable (a list); ``default``: its value
    when not given (None: required for an argument with ``required``); ``least``/``most``: bounds of
    a number (``least`` of a list of models: how many, with those of the option that ``extends`` it).
    ``filter``: it chooses what the answer holds, so the answer's provenance names it. ``extends``: a file
    of model ids, one a line (``--from-file``), whose ids join the list of the option of that parameter."""

    names: tuple[str, ...]
    param: str
    help: str
    kind: Kind = "text"
    default: Any = None
    metavar: str | None = None
    choices: type[Enum] | None = None
    many: bool = False
    least: int | float | None = None
    most: int | float | None = None
    argument: bool = False
    required: bool = False
    filter: bool = False
    hidden: bool = False
    extends: str | None = None

    def but(self, **changes: Any) -> Option:
        """This option with some of its fields changed (a command's own default or help)."""
        return replace(self, **changes)

    @property
    def initial(self) -> Any:
        """Its value when not given, as a command receives it (a choice as its member, a path as a Path)."""
        if self.default is None or self.many:
            return None
        if self.choices is not None:
            return self.choices(self.default)
        return Path(self.default) if self.kind in PATH_KINDS else self.default

    @property
    def name(self) -> str:
        """The name it is shown by: the long name of an option, the metavar of an argument."""
        return self.names[0]


SNAPSHOT = Option(("--snapshot", "-s"), "snapshot", "Snapshot directory (default: the bundled Hub sample).", "path",
                  metavar="DIR")
FORMAT = Option(("--format", "-f"), "fmt", "Output format.", "choice", "table")
"""``--format``: its choices are the result formats that serve the command's kind of rows (:attr:`Analysis.rows`,
``ptmgraph.formats.results``), filled in by the command line, above both."""
LIMIT = Option(("--limit",), "limit", "Table rows (tree lines) to print (0: all). JSON and CSV are never cut.", "int",
               50, metavar="N", least=0)
CSV_RAW = Option(("--csv-raw",), "csv_raw", "CSV: keep cells starting with = + - @ as they are (no leading ').",
                 "flag", False)
PROVENANCE = Option(("--provenance",), "provenance", "CSV: begin with the answer's provenance as '# key: value' lines "
                    "(snapshot, date, sources, seeds, version, filters); JSON always carries it.", "flag", False)
MIN_CONFIDENCE = Option(("--min-confidence",), "min_confidence",
                        "Drop edges whose parent confidence is below this (high: the child's card, Hub tags or an "
                        "edge list; medium: the Hub's tree or config files only; low: card prose or the name).",
                        "choice", metavar="low|medium|high", choices=Confidence, filter=True)
RELATION = Option(("--relation", "-r"), "relation", "Follow only edges of this relation: "
                  + ", ".join(relation.value for relation in Relation) + " (repeatable).", "choice", metavar="RELATION",
                  choices=Relation, many=True, filter=True)
MAX_DEPTH = Option(("--max-depth", "--depth"), "max_depth", "Follow at most this many hops.", "int", metavar="N",
                   least=1, filter=True)
MODELS = Option(("MODEL",), "model", "Model ids (ORG/NAME or a Hub URL).", many=True, argument=True)
MODEL = Option(("MODEL",), "model", "Model id (ORG/NAME or a Hub URL).", argument=True, required=True)
FROM_FILE = Option(("--from-file",), "from_file", "More model ids, one a line (# comments, ORG/NAME@REVISION "
                   "accepted).", "path", metavar="FILE", extends="model")
COMPROMISED = Option(("--compromised", "-c"), "compromised", "A model to treat as compromised (repeatable).",
                     metavar="MODEL", many=True)
PATHS = Option(("--paths",), "paths", "JSON and CSV: add each row's relation_path (capped at 32 hops; rows always "
               "carry depth and via).", "flag", False)
IGNORE = Option(("--ignore",), "ignore", "Waive findings of this kind (about MODEL only: the ancestor the finding "
                "names); listed as waived, never failing (repeatable).", metavar="FINDING[:MODEL]", many=True)
BASELINE = Option(("--baseline",), "baseline", "Waive the findings listed in this baseline file (written by check "
                  "--write-baseline).", "baseline", metavar="FILE")

DEFAULT_MAX_AGE = "1d"
"""Cached look-up answers younger than this are reused (``--max-age``; :mod:`ptmgraph.lookup`)."""
DEFAULT_MAX_MODELS = 1000
"""A descendants look-up holds at most this many models (``--max-models``)."""
OFFLINE = Option(("--offline",), "offline", "Never look a model up on the Hub (also HF_HUB_OFFLINE=1); by default a "
                 "model the snapshot has no record of is fetched from HF_ENDPOINT and cached.", "flag", False)
MAX_AGE = Option(("--max-age",), "max_age", "Reuse a looked-up answer younger than this: seconds, or with a unit "
                 "(12h, 7d); 0: fetch again.", default=DEFAULT_MAX_AGE, metavar="AGE")
LOOKUP_MAX_MODELS = Option(("--max-models",), "max_models", "A look-up holds at most this many descendants (the "
                           "answer says when it cuts).", "int", DEFAULT_MAX_MODELS, metavar="N", least=1)
LOOKUP = (OFFLINE, MAX_AGE)
"""The options of a command that may look up a model its snapshot has no record of (:mod:`ptmgraph.lookup`);
one that asks for descendants also takes :data:`LOOKUP_MAX_MODELS`."""

QUERY = (MIN_CONFIDENCE, PROVENANCE)
"""The options of every command that queries the lineage graph (the CLI hands them over as one ``Query``)."""


@dataclass(frozen=True)
class LookUp:
    """A command that looks up the models it asks about when its snapshot has no record of them
    (:mod:`ptmgraph.lookup`; it takes the :data:`LOOKUP` options): ``models``, the parameter of the option
    naming them (one id or a list); ``need``, what the look-up fetches of them."""

    models: str
    need: Literal["ancestors", "descendants"]


@dataclass(frozen=True)
class Analysis:
    """An analysis as a command. ``name`` and ``help`` (its first line is the command list's);
    ``options`` in the order ``--help`` lists them; ``reads``: the snapshot columns it reads, by table
    (None: the whole snapshot; see :func:`ptmgraph.graph.load_graph_columns`); ``summary``: the name of
    its result's summary type (its rows are the result's ``rows``); ``rows``: what its rows are, for the
    result formats that serve only some kinds (``findings``, ``changes``; ``rows``: none in particular),
    whose words are its ``--format`` choices; ``columns``: the table's default columns, most important
    first; ``adjust_columns``: how a result and the option values change them (:meth:`columns_for`);
    ``answer``: the columns that answer the question, kept longest on a narrow terminal
    (:func:`ptmgraph.formats.console.drop_order`); ``fails``: its exit rule, true when the command exits 1
    on this result (None: it exits 0 whenever it answers); ``query``: it walks the graph, so it takes the
    :data:`QUERY` options.

    ``function``: the analysis the command runs (:func:`ptmgraph.cli_commands.default_body`): with the graph
    of ``--snapshot`` first (a command without that option: none), then the option values named like its
    other parameters, as :meth:`arguments` gives them. ``prepare``: what it does to the option values first,
    returning the values it changes or adds (checked, converted, renamed), or raising :class:`UsageError`
    for a bad one. ``look_up``: the models it may look up (:class:`LookUp`). ``view``: its own table view, by
    its name in :mod:`ptmgraph.formats.views` (formats sit above the analyses: named, not imported), called
    with the console, the result and the option values named like its keyword parameters (None: the table
    format's summary and tables, with :meth:`columns_for`)."""

    name: str
    help: str
    options: tuple[Option, ...]
    summary: str = "dict"
    rows: str = "rows"
    columns: tuple[str, ...] = ()
    answer: tuple[str, ...] = ()
    reads: dict[str, list[str]] | None = None
    fails: Callable[[AnalysisResult], bool] | None = field(default=None, compare=False)
    query: bool = True
    function: Callable[..., Any] | None = field(default=None, compare=False)
    prepare: Callable[[Mapping[str, Any]], dict[str, Any]] | None = field(default=None, compare=False)
    adjust_columns: Callable[[list[str], Any, Mapping[str, Any]], list[str]] | None = field(default=None,
                                                                                          compare=False)
    look_up: LookUp | None = None
    view: str | None = None

    def all_options(self) -> tuple[Option, ...]:
        """Its options, with the :data:`QUERY` ones right after ``--snapshot`` when it queries the graph."""
        if not self.query:
            return self.options
        at = next((i + 1 for i, o in enumerate(self.options) if o is SNAPSHOT), len(self.options))
        return (*self.options[:at], *QUERY, *self.options[at:])

    def arguments(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments of :attr:`function` from the option values (choices as their words, lists
        for repeatable options, what the path kinds hold): :attr:`prepare`'s changes over them, then those
        named like its parameters (after the graph's, when it takes ``--snapshot``). :class:`UsageError`
        from :attr:`prepare`."""
        import inspect

        assert self.function is not None, self.name
        given = {**values, **(self.prepare(values) if self.prepare is not None else {})}
        names = list(inspect.signature(self.function).parameters)
        return {name: given[name] for name in names[1 if self.takes_snapshot else 0:] if name in given}

    @property
    def takes_snapshot(self) -> bool:
        """Whether it answers about ``--snapshot`` (its function's first argument is that graph)."""
        return any(option.param == SNAPSHOT.param for option in self.options)

    def columns_for(self, result: AnalysisResult, values: Mapping[str, Any]) -> list[str]:
        """The table columns of ``result`` for the option ``values``: :attr:`columns`, as
        :attr:`adjust_columns` changes them."""
        shown = list(self.columns)
        return self.adjust_columns(shown, result, values) if self.adjust_columns is not None else shown


def choices(name: str, values: Any) -> type[Enum]:
    """An option's choices made from the words an analysis defines (a tuple, a dict's keys, a ``Literal``'s
    arguments): the words stay defined once, in the analysis."""
    from typing import get_args

    words = get_args(values) or tuple(values)
    return Enum(name, {str(word): str(word) for word in words}, type=str)  # type: ignore[return-value]
