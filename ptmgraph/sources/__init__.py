"""Sources: each turns one kind of input into a :class:`~ptmgraph.records.Harvest`."""

from ptmgraph.sources.interface import Source, SourceError

__all__ = ["Source", "SourceError"]
