"""A seeded generator of Hub-shaped API records at any size, streamed to disk.

Usage: python -m benchmarks generate N DIR [--seed S]

Writes ``DIR/models.jsonl`` (one ``GET /api/models/{id}`` record per line, the shape `ptmgraph ingest`
reads, like ../shared/data/hub-sample/models.jsonl) and ``DIR/shape.json`` (what was generated: counts,
the biggest root, a deepest leaf, the most depended-on bases).

The process, model by model in creation order (every parameter is in :mod:`benchmarks.hub_shape`):
a model is a root with probability ``ROOT_SHARE``; otherwise it draws the depth of its base from
``parent_depth_shares`` and picks a base at that depth with probability proportional to the base's
attractiveness (Pareto, tail from ``fan_out_alpha``, capped at ``ATTRACTIVENESS_CAP``): heavy-tailed
fan-out, most models childless, a few bases with tens of thousands of children. A share
``multi_base_share`` are merges of 2 to 5 bases. Everything else (relation, dates, downloads, likes,
licence, library, files, gating) is drawn from the sample's distributions.

Memory: a few compact arrays of at most 25 bytes per model (no records are held), so 3M models take
about 75 MiB whatever the record size.
"""

from __future__ import annotations

import bisect
import heapq
import json
import random
from array import array
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.hub_shape import ATTRACTIVENESS_CAP, FROM_SAMPLE, ROOT_SHARE

T = TypeVar("T")

RELATIONS = ("finetune", "adapter", "quantized", "merge")
"""Relation codes of the generator (index = code); roots get code 255."""
ROOT = 255
LEVELS = 4
"""Depth levels a base is drawn from: 0, 1, 2 and 3-or-more (as in ``parent_depth_shares``)."""

NAME_STEM = {"finetune": "ft", "adapter": "lora", "quantized": "GGUF", "merge": "merge"}
"""How each relation's repos tend to be named; GGUF is the marker the relation rule reads in a name."""

WEIGHT_FILE = {".safetensors": "model.safetensors", ".bin": "pytorch_model.bin", ".pt": "training_args.pt",
               ".pth": "model.pth"}
"""One file name per weight ending of ``weight_suffix_shares`` (the names the sample shows most)."""

# File layouts of the tools that make adapters (PEFT), GGUF quantizations (llama.cpp) and merges
# (mergekit): the sample holds no records of those (only their ids in tree lists), so these are the
# tools' conventions, not measured shares.
ADAPTER_FILES = ["adapter_config.json", "adapter_model.safetensors"]
MERGE_FILES = ["mergekit_config.yml", "model.safetensors"]

LINEAGE_FILES = {"adapter_config.json", "config.json"}
"""Files that change how ptmgraph decides a relation: never added as padding, only by relation."""

DATASET_POOL = 200
"""Distinct dataset names cards draw from (a pool; the names carry no lineage)."""


@dataclass
class GeneratedShape:
    """What one generator run wrote (``shape.json``)."""

    models: int
    seed: int
    edges: int = 0
    roots: int = 0
    merges: int = 0
    relation_counts: dict[str, int] = field(default_factory=dict)
    max_depth: int = 0
    deep_leaf: str = ""
    biggest_root: str = ""
    biggest_root_children: int = 0
    top_bases: list[str] = field(default_factory=list)
    """The 100 models with the most direct children, most first."""
    record_bytes: int = 0
    """Mean size of a generated record as JSON (compare ``sample_record_bytes``)."""


def _cumulative(shares: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for share in shares:
        total += share
        out.append(total)
    return out


class _Choice:
    """Draws from a fixed discrete distribution (shares need not sum to 1: they are renormalised)."""

    def __init__(self, values: Sequence[Any], shares: Sequence[float]) -> None:
        self.values = list(values)
        self.cumulative = _cumulative(shares)

    def draw(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_left(self.cumulative, rng.random() * self.cumulative[-1])]


def _interpolate(quantiles: Sequence[float], u: float) -> float:
    """The value at probability ``u`` of a distribution given by evenly spaced quantiles."""
    position = u * (len(quantiles) - 1)
    low = min(int(position), len(quantiles) - 2)
    return quantiles[low] + (quantiles[low + 1] - quantiles[low]) * (position - low)


def _stamp(days: float) -> str:
    moment = datetime.fromtimestamp(days * 86_400, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class HubShapedGenerator:
    """Generates models one at a time; :meth:`write` streams them to a file."""

    def __init__(self, models: int, seed: int = 7) -> None:
        self.n = models
        self.rng = random.Random(seed)
        self.seed = seed
        shape = FROM_SAMPLE
        self.tail = shape["fan_out_alpha"] - 1
        self.level = _Choice(range(LEVELS), list(shape["parent_depth_shares"].values()))
        # A single-base model never gets "merge": merges are the multi-base models.
        below = shape["relation_shares_below_root"]
        deeper = shape["relation_shares_deeper"]
        self.relation_below_root = _Choice(RELATIONS[:3], [below[r] for r in RELATIONS[:3]])
        self.relation_deeper = _Choice(RELATIONS[:3], [deeper[r] for r in RELATIONS[:3]])
        counts = shape["multi_base_counts"]
        self.merge_size = _Choice([int(k) for k in counts], list(counts.values()))
        self.license = _Choice(*zip(*shape["license_shares"], strict=True))
        self.library_pipeline = _Choice(*zip(*shape["library_pipeline_shares"], strict=True))
        self.weights = _Choice(*zip(*shape["weight_suffix_shares"], strict=True))
        self.gated = _Choice(*zip(*shape["gated_shares"], strict=True))
        self.authors = max(1, round(models / shape["models_per_author"]))
        # Per model: author, relation code, depth (capped at 255), direct children.
        self.author = array("i")
        self.relation = bytearray()
        self.depth = bytearray()
        self.children = array("i")
        # Per depth level: members and the running sum of their attractiveness.
        self.members = [array("i") for _ in range(LEVELS)]
        self.weight_sum = [array("d") for _ in range(LEVELS)]

    def model_id(self, index: int) -> str:
        code = self.relation[index]
        stem = "base" if code == ROOT else NAME_STEM[RELATIONS[code]]
        return f"user{self.author[index]}/m{index}-{stem}"

    def _pick(self, level: int) -> int:
        while not self.members[level]:
            level -= 1  # early on the deeper levels are empty; model 0 is always a root
        sums = self.weight_sum[level]
        return self.members[level][bisect.bisect_left(sums, self.rng.random() * sums[-1])]

    def _add(self, index: int, author: int, relation: int, depth: int) -> None:
        self.author.append(author)
        self.relation.append(relation)
        self.depth.append(min(depth, 255))
        self.children.append(0)
        level = min(depth, LEVELS - 1)
        attractiveness = min(self.rng.paretovariate(self.tail), ATTRACTIVENESS_CAP)
        sums = self.weight_sum[level]
        sums.append((sums[-1] if sums else 0.0) + attractiveness)
        self.members[level].append(index)

    def _bases(self, index: int) -> tuple[list[int], int]:
        """The bases of model ``index`` and its relation code (``ROOT`` for none)."""
        rng = self.rng
        if index == 0 or rng.random() < ROOT_SHARE:
            return [], ROOT
        first = self._pick(self.level.draw(rng))
        if rng.random() < FROM_SAMPLE["multi_base_share"]:
            bases = [first]
            size = self.merge_size.draw(rng)
            for _ in range(size * 3):  # merges combine popular bases; a few tries to find distinct ones
                other = self._pick(self.level.draw(rng))
                if other not in bases:
                    bases.append(other)
                if len(bases) == size:
                    break
            if len(bases) > 1:
                return bases, RELATIONS.index("merge")
        rule = self.relation_below_root if self.depth[first] == 0 else self.relation_deeper
        return [first], RELATIONS.index(rule.draw(rng))

    def record(self, index: int) -> dict[str, Any]:
        """Generate model ``index`` (they must be generated in order) and return its API record."""
        rng, shape = self.rng, FROM_SAMPLE
        bases, code = self._bases(index)
        depth = 1 + min(self.depth[b] for b in bases) if bases else 0
        self._add(index, rng.randrange(self.authors), code, depth)
        for base in bases:
            self.children[base] += 1
        model_id = self.model_id(index)
        base_ids = [self.model_id(b) for b in bases]
        relation = RELATIONS[code] if bases else None

        created = _interpolate(shape["created_day_quantiles"], index / max(1, self.n - 1))
        modified = created + _interpolate(shape["modified_lag_day_quantiles"], rng.random())
        library, pipeline = (None if v == "None" else v for v in self.library_pipeline.draw(rng).split("|"))
        license_id = self.license.draw(rng)
        gated = self.gated.draw(rng)

        files = [".gitattributes", "README.md"]
        if relation == "adapter":
            files += ADAPTER_FILES
            library = "peft"
        elif relation == "quantized":
            files.append(f"{model_id.split('/')[1]}.Q4_K_M.gguf")
            library = None
        elif relation == "merge":
            files += MERGE_FILES
        else:
            files += ["config.json"] + [WEIGHT_FILE[s] for s in self.weights.draw(rng).split()]
        files += self._other_files()

        card: dict[str, Any] = {}
        if base_ids:
            card["base_model"] = base_ids[0] if len(base_ids) == 1 else base_ids
        if license_id is not None:
            card["license"] = license_id
        if rng.random() < shape["datasets_share"]:
            card["datasets"] = [f"data{rng.randrange(DATASET_POOL)}/set"]
        if rng.random() < shape["new_version_share"]:
            if base_ids and rng.random() < shape["new_version_is_base_share"]:
                card["new_version"] = base_ids[0]
            else:
                card["new_version"] = self.model_id(rng.randrange(index + 1))
        if library:
            card["library_name"] = library

        tags = [t for t in (library, pipeline) if t]
        for base_id in base_ids:
            tags += [f"base_model:{base_id}", f"base_model:{relation}:{base_id}"]
        if license_id is not None:
            tags.append(f"license:{license_id}")
        tags.append("region:us")

        record: dict[str, Any] = {
            "id": model_id,
            "author": model_id.split("/")[0],
            "sha": f"{rng.getrandbits(160):040x}",
            "createdAt": _stamp(created),
            "lastModified": _stamp(modified),
            "private": False,
            "gated": False if gated == "False" else gated,
            "disabled": False,
            "downloads": self._count(shape["downloads"]),
            "likes": self._count(shape["likes"]),
            "tags": tags,
            "cardData": card,
            "siblings": [{"rfilename": name} for name in files],
            "spaces": [],
        }
        if library:
            record["library_name"] = library
        if pipeline:
            record["pipeline_tag"] = pipeline
        return record

    def _other_files(self) -> list[str]:
        count = round(_interpolate(FROM_SAMPLE["other_file_count_quantiles"], self.rng.random()))
        names = [n for n in FROM_SAMPLE["common_other_files"] if n not in LINEAGE_FILES]
        # Past the common names, repos hold numbered checkpoints and shards.
        return names[:count] + [f"checkpoint-{k}/trainer_state.json" for k in range(count - len(names))]

    def _count(self, fit: dict[str, float]) -> int:
        if self.rng.random() < fit["zero_share"]:
            return 0
        return max(1, round(self.rng.lognormvariate(fit["mu"], fit["sigma"])))

    def write(self, folder: Path) -> GeneratedShape:
        """Stream all models to ``folder/models.jsonl`` and the summary to ``folder/shape.json``."""
        folder.mkdir(parents=True, exist_ok=True)
        shape = GeneratedShape(models=self.n, seed=self.seed)
        counts = dict.fromkeys(RELATIONS, 0)
        total_bytes = 0
        target = folder / "models.jsonl"
        temporary = target.with_suffix(".jsonl.tmp")
        with temporary.open("w", encoding="utf-8") as out:
            for index in range(self.n):
                line = json.dumps(self.record(index), separators=(",", ":"))
                total_bytes += len(line) + 1
                out.write(line + "\n")
                code = self.relation[index]
                if code == ROOT:
                    shape.roots += 1
                else:
                    counts[RELATIONS[code]] += 1
        temporary.replace(target)
        shape.relation_counts = counts
        shape.merges = counts["merge"]
        shape.edges = sum(self.children)
        shape.record_bytes = round(total_bytes / max(1, self.n))
        deepest = max(range(self.n), key=self.depth.__getitem__)
        shape.max_depth, shape.deep_leaf = self.depth[deepest], self.model_id(deepest)
        by_children = heapq.nlargest(100, range(self.n), key=self.children.__getitem__)
        shape.top_bases = [self.model_id(i) for i in by_children]
        biggest = max(range(self.n), key=lambda i: self.children[i] if self.relation[i] == ROOT else -1)
        shape.biggest_root, shape.biggest_root_children = self.model_id(biggest), self.children[biggest]
        (folder / "shape.json").write_text(json.dumps(asdict(shape), indent=1) + "\n")
        return shape


def generate(models: int, folder: Path, seed: int = 7) -> GeneratedShape:
    """Write ``models`` Hub-shaped records to ``folder`` (see the module docstring)."""
    return HubShapedGenerator(models, seed).write(folder)
