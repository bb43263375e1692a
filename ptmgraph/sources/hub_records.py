"""Source: files of Hub API records, raw READMEs and model-tree listings.

Layouts (one JSON object per line, or the same columns in Parquet):
- models:  ``GET /api/models/{id}`` records with ``expand`` (``id``, ``tags``, ``cardData``, ``siblings``, ...)
- readmes: ``{"id", "readme"}`` with the raw README.md, YAML front matter included
- model tree: ``{"id", "finetunes", "adapters", "quantizations", "merges"}``: the children the Hub lists
"""

from __future__ import annotations

from pathlib import Path

from ptmgraph import extract
from ptmgraph.records import Harvest, HarvestTables, ModelRecord, Problem
from ptmgraph.sources.hub_columnar import read_models_table
from ptmgraph.sources.hub_rows import Duplicates, read_model_rows
from ptmgraph.sources.interface import SourceError
from ptmgraph.sources.jsonl import read_rows

_MODELS_NAMES = ("models.jsonl", "models.parquet", "models.json")
_READMES_NAMES = ("readmes.jsonl", "readmes.parquet")
_TREE_NAMES = ("model_tree.jsonl", "model_tree.parquet")


class HubRecordsSource:
    """Hub API records, optionally with README files and model-tree listings."""

    def __init__(self, models: Path | None = None, readmes: Path | None = None, tree: Path | None = None) -> None:
        if models is None and readmes is None and tree is None:
            raise SourceError("no Hub record files given")
        self.models, self.readmes, self.tree = models, readmes, tree

    @classmethod
    def from_directory(cls, folder: Path) -> HubRecordsSource:
        """The files of a directory laid out like ``hub-sample/`` (models.jsonl, readmes.jsonl, model_tree.jsonl)."""

        def first(names: tuple[str, ...]) -> Path | None:
            return next((folder / n for n in names if (folder / n).is_file()), None)

        files = {"models": first(_MODELS_NAMES), "readmes": first(_READMES_NAMES), "tree": first(_TREE_NAMES)}
        if not any(files.values()):
            raise SourceError(f"{folder}: no models.jsonl, readmes.jsonl or model_tree.jsonl in this directory")
        return cls(**files)

    @staticmethod
    def role_of_file(path: Path) -> str | None:
        """'models', 'readmes' or 'tree' for a file named or shaped like one of the layouts."""
        name = path.name.lower()
        for role, names in (("models", _MODELS_NAMES), ("readmes", _READMES_NAMES), ("tree", _TREE_NAMES)):
            if name in names:
                return role
        return None

    def describe(self) -> str:
        return "hub records: " + ", ".join(str(p) for p in (self.models, self.readmes, self.tree) if p)

    def harvest(self) -> Harvest:
        out = Harvest(sources=[self.describe()])
        if self.models is not None:
            read_model_rows(self.models, out)
        if self.readmes is not None:
            self._read_readmes(self.readmes, out)
        if self.tree is not None:
            self._read_tree(self.tree, out)
        return out

    def harvest_tables(self) -> HarvestTables:
        """:meth:`harvest` as tables: the models file read by the columnar reader (the same rows, parsed
        in batches; see :mod:`ptmgraph.sources.hub_columnar`), READMEs and model trees per record."""
        parts = [HarvestTables.of(Harvest(sources=[self.describe()]))]
        if self.models is not None:
            parts.append(read_models_table(self.models))
        rest = Harvest()
        if self.readmes is not None:
            self._read_readmes(self.readmes, rest)
        if self.tree is not None:
            self._read_tree(self.tree, rest)
        parts.append(HarvestTables.of(rest))
        tables = HarvestTables.concat(parts)
        tables.known_ids = tables.known_ids.sort()  # as HarvestTables.of(harvest()) lists them
        return tables

    def _read_readmes(self, path: Path, out: Harvest) -> None:
        duplicates = Duplicates()
        for where, row in read_rows(path, out.problems):
            model_id, text = row.get("id"), row.get("readme")
            if not isinstance(model_id, str) or not model_id.strip():
                out.problems.append(Problem(where, None, "readme row has no 'id'"))
                continue
            model_id = model_id.strip()
            duplicates.check(model_id, where, row, out.problems)
            record = ModelRecord(id=model_id, has_card=True, source=where)
            out.records.append(record)
            if not isinstance(text, str):
                out.problems.append(Problem(where, model_id, "readme row has no 'readme' text"))
                continue
            try:
                card = extract.card_metadata(text)
            except extract.CardError as err:
                out.problems.append(Problem(where, model_id, f"model card: {err}"))
                continue
            if card is None:
                continue
            extract.apply_card(record, card)
            out.references.extend(extract.references_from_card(model_id, card, where))
            out.references.extend(extract.references_from_card_text(model_id, text, card, where))

    def _read_tree(self, path: Path, out: Harvest) -> None:
        duplicates = Duplicates()
        for where, row in read_rows(path, out.problems):
            if not isinstance(row.get("id"), str):
                out.problems.append(Problem(where, None, "model-tree row has no 'id'"))
                continue
            duplicates.check(row["id"].strip(), where, row, out.problems)
            refs, children = extract.references_from_model_tree(row, where)
            out.references.extend(refs)
            out.known_ids.add(row["id"].strip())
            out.known_ids.update(children)
