"""The one interface every source implements."""

from __future__ import annotations

from typing import Protocol

from ptmgraph.records import Harvest, HarvestTables


class SourceError(Exception):
    """Input a source cannot read. The message names the input and the problem, in one line."""


def first_line(err: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none): how a problem row or a
    one-line message quotes an exception."""
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


class Source(Protocol):
    """Something that yields model records and lineage references.

    ``describe`` names the input for messages and snapshot metadata; ``harvest`` reads it all.
    Problems with single rows (a broken card, an odd value) become data; problems with the input
    as a whole (missing file, wrong format) raise :class:`SourceError`.
    """

    def describe(self) -> str: ...

    def harvest(self) -> Harvest: ...


def harvest_tables(source: Source) -> HarvestTables:
    """What ``source`` reads, as tables: by its own columnar reader when it has one (``harvest_tables``,
    equal to the tables of its harvest), else its harvest converted."""
    columnar = getattr(source, "harvest_tables", None)
    if callable(columnar):
        tables: HarvestTables = columnar()
        return tables
    return HarvestTables.of(source.harvest())
