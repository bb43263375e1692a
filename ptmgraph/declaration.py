"""How an analysis declares itself: its command, options, result and exit rule, as plain data.

Each analysis module (``analyses/*.py``) exposes ``COMMANDS``, a tuple of :class:`Analysis`, one per
command it answers; the command line (:mod:`ptmgraph.cli`) builds those commands from them, so an
option shared by several commands (:data:`SNAPSHOT`, :data:`FORMAT`, :data:`CSV_RAW`,
:data:`MIN_CONFIDENCE` ...) is defined here once and appears on every command that names it. The
choices of options are defined here too, once. This module imports nothing heavy (no typer, no polars):
the command line reads it before it knows which command runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ptmgraph.result import AnalysisResult

LARGEST_WHOLE_NUMBER = 2**53 - 1
"""The largest value of any whole-number option (9,007,199,254,740,991, the largest integer a JSON reader
holds exactly); a larger one is a usage error (exit 2) before any command runs. Every count, depth and size
option means the same up to it ("all" is 0 where an option has it)."""


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class FindingsFormat(str, Enum):
    """The formats of a command whose rows are findings (``check``): :class:`OutputFormat` and SARIF."""

    table = "table"
    json = "json"
    csv = "csv"
    sarif = "sarif"


class ChangesFormat(str, Enum):
    """The formats of a command whose rows are changes (``diff``): :class:`OutputFormat` and Markdown."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class RelationChoice(str, Enum):
    finetune = "finetune"
    adapter = "adapter"
    quantized = "quantized"
    merge = "merge"
    unknown = "unknown"


class ConfidenceChoice(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"


class ColorChoice(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


WHOLE_NUMBER = re.compile(r"0|[1-9][0-9]{0,17}")
"""A whole number as the command line takes it quickly (no sign, no leading zero, at most 18 digits); any
other number is left to typer, which words the error."""

Kind = Literal["flag", "text", "int", "float", "path", "choice"]


@dataclass(frozen=True)
class Option:
    """One command-line parameter. ``names``: its long name first, then aliases and a short name (an
    argument: its metavar alone); ``param``: the name the command receives it under; ``kind``: what it
    takes (``choice``: a member of ``choices``); ``many``: repeatable (a list); ``default``: its value
    when not given (None: required for an argument with ``required``); ``least``/``most``: bounds of
    a number. ``filter``: it chooses what the answer holds, so the answer's provenance names it."""

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
        return Path(self.default) if self.kind == "path" else self.default

    @property
    def name(self) -> str:
        """The name it is shown by: the long name of an option, the metavar of an argument."""
        return self.names[0]


def _formats(choices: type[Enum]) -> Option:
    return Option(("--format", "-f"), "fmt", "Output format.", "choice", choices.table,  # type: ignore[attr-defined]
                  metavar="|".join(c.value for c in choices), choices=choices)


SNAPSHOT = Option(("--snapshot", "-s"), "snapshot", "Snapshot directory (default: the bundled Hub sample).", "path",
                  metavar="DIR")
FORMAT = _formats(OutputFormat)
FINDINGS_FORMAT = _formats(FindingsFormat)
CHANGES_FORMAT = _formats(ChangesFormat)
LIMIT = Option(("--limit",), "limit", "Table rows (tree lines) to print (0: all). JSON and CSV are never cut.", "int",
               50, metavar="N", least=0)
CSV_RAW = Option(("--csv-raw",), "csv_raw", "CSV: keep cells starting with = + - @ as they are (no leading ').",
                 "flag", False)
PROVENANCE = Option(("--provenance",), "provenance", "CSV: begin with the answer's provenance as '# key: value' lines "
                    "(snapshot, date, sources, seeds, version, filters); JSON always carries it.", "flag", False)
MIN_CONFIDENCE = Option(("--min-confidence",), "min_confidence",
                        "Drop edges whose parent confidence is below this (high: the child's card, Hub tags or an "
                        "edge list; medium: the Hub's tree or config files only; low: card prose or the name).",
                        "choice", metavar="low|medium|high", choices=ConfidenceChoice, filter=True)
RELATION = Option(("--relation", "-r"), "relation", "Follow only edges of this relation: finetune, adapter, quantized, "
                  "merge, unknown (repeatable).", "choice", metavar="RELATION", choices=RelationChoice, many=True,
                  filter=True)
MAX_DEPTH = Option(("--max-depth", "--depth"), "max_depth", "Follow at most this many hops.", "int", metavar="N",
                   least=1, filter=True)
MODELS = Option(("MODEL",), "model", "Model ids (ORG/NAME or a Hub URL).", many=True, argument=True)
MODEL = Option(("MODEL",), "model", "Model id (ORG/NAME or a Hub URL).", argument=True, required=True)
FROM_FILE = Option(("--from-file",), "from_file", "More model ids, one a line (# comments, ORG/NAME@REVISION "
                   "accepted).", "path", metavar="FILE")
COMPROMISED = Option(("--compromised", "-c"), "compromised", "A model to treat as compromised (repeatable).",
                     metavar="MODEL", many=True)
PATHS = Option(("--paths",), "paths", "JSON and CSV: add each row's relation_path (capped at 32 hops; rows always "
               "carry depth and via).", "flag", False)
IGNORE = Option(("--ignore",), "ignore", "Waive findings of this kind (about MODEL only: the ancestor the finding "
                "names); listed as waived, never failing (repeatable).", metavar="FINDING[:MODEL]", many=True)
BASELINE = Option(("--baseline",), "baseline", "Waive the findings listed in this baseline file (written by check "
                  "--write-baseline).", "path", metavar="FILE")

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
class Analysis:
    """An analysis as a command. ``name`` and ``help`` (its first line is the command list's);
    ``options`` in the order ``--help`` lists them; ``reads``: the snapshot columns it reads, by table
    (None: the whole snapshot; see :func:`ptmgraph.graph.load_graph_columns`); ``summary``: the name of
    its result's summary type (its rows are the result's ``rows``); ``columns``: the table's default
    columns, most important first; ``answer``: the columns that answer the question, kept longest on a
    narrow terminal (:func:`ptmgraph.formats.console.drop_order`); ``fails``: its exit rule, true when
    the command exits 1 on this result (None: it exits 0 whenever it answers); ``query``: it walks the
    graph, so it takes the :data:`QUERY` options; ``function``: the analysis a command without a body of
    its own (:mod:`ptmgraph.cli_commands`) calls, with the graph and the options named like its
    parameters, and whose result it prints."""

    name: str
    help: str
    options: tuple[Option, ...]
    summary: str = "dict"
    columns: tuple[str, ...] = ()
    answer: tuple[str, ...] = ()
    reads: dict[str, list[str]] | None = None
    fails: Callable[[AnalysisResult], bool] | None = field(default=None, compare=False)
    query: bool = True
    function: Callable[..., AnalysisResult] | None = field(default=None, compare=False)

    def all_options(self) -> tuple[Option, ...]:
        """Its options, with the :data:`QUERY` ones right after ``--snapshot`` when it queries the graph."""
        if not self.query:
            return self.options
        at = next((i + 1 for i, o in enumerate(self.options) if o is SNAPSHOT), len(self.options))
        return (*self.options[:at], *QUERY, *self.options[at:])


def choices(name: str, values: Any) -> type[Enum]:
    """An option's choices made from the words an analysis defines (a tuple, a dict's keys, a ``Literal``'s
    arguments): the words stay defined once, in the analysis."""
    from typing import get_args

    words = get_args(values) or tuple(values)
    return Enum(name, {str(word): str(word) for word in words}, type=str)  # type: ignore[return-value]
