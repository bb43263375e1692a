"""Source: model repositories on local disk, as plain folders or in the Hugging Face cache.

What counts as a model repo
    Any directory holding ``README.md``, ``config.json``, ``adapter_config.json`` or (diffusers)
    ``model_index.json``. Everything below such a directory belongs to that repo (``1_Pooling/``,
    ``unet/``, ``checkpoint-500/`` ...): the search does not look for further repos inside it.
    A Hugging Face cache folder ``models--ORG--NAME/`` is one repo, read from one of its
    ``snapshots/<rev>/``: the revision ``refs/main`` names, else the most recently modified one.
    ``datasets--*`` and ``spaces--*`` cache folders are skipped.

Accepted paths
    - a single repo folder (plain, a cache ``models--ORG--NAME/`` folder, or a ``snapshots/<rev>/``);
    - a folder searched for repos (at most :data:`MAX_SEARCH_DEPTH` levels deep), including a
      ``HF_HUB_CACHE`` folder full of ``models--*`` folders or ``~/.cache/huggingface`` above it.

How a repo gets its id (first rule that applies)
    1. ``model_id=`` given explicitly (only when the path holds exactly one repo);
    2. a cache folder ``models--ORG--NAME`` -> ``ORG/NAME`` (the Hub's own spelling);
    3. a repo found by searching at ``ORG/NAME`` (two levels below the given folder) -> ``ORG/NAME``;
    4. any other repo folder ``NAME`` (a *flat* folder: one level below the given folder, or deeper than
       two, or the given folder itself) -> its ``config.json`` ``_name_or_path`` when that is a Hub id
       ``ORG/NAME`` of the same name (letter case aside); else ``NAMESPACE/NAME`` with the ``namespace``
       given (``ingest --namespace``); else, for the given folder itself, ``PARENT/NAME`` when both are
       valid Hub name parts; else ``NAME``.
    Two repos that end up with the same id: the first (in sorted path order) is read, the others
    become problems. A flat folder's id is reported in :attr:`Harvest.local_names`: assembly resolves a
    reference ``OTHER/NAME`` that names nothing else to a flat folder ``NAME`` without a namespace, and
    makes it a ``namespace_mismatch`` dangling reference when the folder has another namespace
    (:mod:`ptmgraph.assemble`).

Safety
    Only ``README.md``, ``config.json`` and ``adapter_config.json`` are opened (and read by
    :mod:`ptmgraph.reader`, whose bounds apply), and only when they are regular files of at most
    :data:`MAX_METADATA_BYTES`. Weights are only listed by name, nothing is executed. Directory
    symlinks are never followed; a metadata file that is a symlink is read only when it resolves
    inside the tree (the given folder, or the ``models--*`` folder whose ``blobs/`` cache snapshots
    point into). A broken file becomes a :class:`~ptmgraph.records.Problem` naming it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ptmgraph import extract, file_rules, reader
from ptmgraph.ids import id_key, normalize_reference, written_id
from ptmgraph.records import Harvest, ModelRecord, Problem, Reference
from ptmgraph.sources.interface import SourceError

MARKER_FILES = (extract.CARD, extract.CONFIG, extract.ADAPTER_CONFIG, "model_index.json")
"""A directory holding any of these is a model repo."""
MAX_SEARCH_DEPTH = 6
"""How many directory levels below the given folder are searched for repos."""
MAX_FILE_DEPTH = 8
"""How many directory levels inside a repo are listed."""
MAX_FILES = 20_000
"""Files listed per repo; a longer listing is cut and reported as a problem."""
MAX_METADATA_BYTES = 4 * 1024 * 1024
"""README.md / config.json / adapter_config.json larger than this are not read."""

_CACHE_PREFIX = "models--"
_OTHER_CACHE_PREFIXES = ("datasets--", "spaces--")
_SKIP_DIRS = {".git", ".cache", ".huggingface", ".ipynb_checkpoints", "__pycache__", ".locks"}


@dataclass(frozen=True)
class LocalRepo:
    """One repo found on disk: the directory read, the id given to it, and the tree it may read from."""

    directory: Path
    id: str
    contain: Path  # metadata symlinks must resolve inside this (resolved) directory
    sha: str | None = None  # the snapshot revision, for a cache repo
    flat: bool = False  # a folder whose layout gives no namespace (rule 4 of the module docstring)


class LocalReposSource:
    """Model repos in a folder tree or a Hugging Face cache (see the module docstring for the rules)."""

    def __init__(self, path: Path, model_id: str | None = None, *, namespace: str | None = None) -> None:
        self.path = Path(path)
        self.namespace = namespace
        if model_id is not None:
            written = written_id(model_id)
            if written is None:
                raise SourceError(f"{model_id.strip()!r}: not a Hub model id (expected ORG/NAME)")
            model_id = written
        self.model_id = model_id

    def describe(self) -> str:
        return f"local repos: {self.path}"

    @staticmethod
    def looks_like(path: Path) -> bool:
        """True when ``path`` is a directory that is, or contains, a model repo or a cache."""
        try:
            return bool(_find_repos(Path(path), []))
        except SourceError:
            return False

    def repos(self) -> list[LocalRepo]:
        """The repos this source reads; raises :class:`SourceError` when there are none."""
        return self._repos([])

    def _repos(self, problems: list[Problem]) -> list[LocalRepo]:
        found = _find_repos(self.path, problems)
        if not found:
            raise SourceError(
                f"{self.path}: no model repo found (no README.md, config.json or adapter_config.json, "
                f"and no models--ORG--NAME cache folder, within {MAX_SEARCH_DEPTH} levels)"
            )
        if self.model_id is not None:
            if len(found) > 1:
                raise SourceError(f"{self.path}: a model id was given but this folder holds {len(found)} repos")
            found = [LocalRepo(found[0].directory, self.model_id, found[0].contain, found[0].sha)]
        found = [self._flat_id(repo) if repo.flat else repo for repo in found]
        unique: dict[str, LocalRepo] = {}
        for repo in found:
            other = unique.get(id_key(repo.id))
            if other is not None:
                problems.append(
                    Problem(str(repo.directory), repo.id, f"same model id as {other.directory}; not read")
                )
                continue
            unique[id_key(repo.id)] = repo
        return list(unique.values())

    def _flat_id(self, repo: LocalRepo) -> LocalRepo:
        """A flat folder under its id (rule 4 of the module docstring); ``repo.id`` is the layout's guess."""
        name = repo.directory.name if repo.directory.name else repo.id
        named = (_read_json(repo, extract.CONFIG, []) or {}).get("_name_or_path")
        hub_id = normalize_reference(named).id if isinstance(named, str) else None
        if hub_id is not None and "/" in hub_id and id_key(hub_id.split("/", 1)[1]) == id_key(name):
            return LocalRepo(repo.directory, hub_id, repo.contain, repo.sha, flat=True)
        if self.namespace is not None and _valid_part(name):
            return LocalRepo(repo.directory, f"{self.namespace}/{name}", repo.contain, repo.sha, flat=True)
        return repo

    def harvest(self) -> Harvest:
        out = Harvest(sources=[self.describe()])
        for repo in self._repos(out.problems):
            record, refs = read_repo(repo, out.problems)
            out.records.append(record)
            out.references.extend(refs)
            if repo.flat:
                out.local_names.append((repo.id, str(repo.directory)))
        return out


# --- finding repos ---------------------------------------------------------------------------------


def _kind(path: Path) -> str | None:
    """'dir', 'file', 'link' (any symlink) or 'other' without following symlinks; None if absent or unreadable."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return None
    if stat.S_ISLNK(mode):
        return "link"
    return "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"


def _is_repo_dir(directory: Path) -> bool:
    return any(os.path.lexists(directory / name) for name in MARKER_FILES)


def _cache_id(folder_name: str) -> str | None:
    """``models--ORG--NAME`` -> ``ORG/NAME`` (``models--gpt2`` -> ``gpt2``); None if not that shape."""
    if not folder_name.startswith(_CACHE_PREFIX):
        return None
    parts = folder_name[len(_CACHE_PREFIX) :].split("--")
    if not all(parts) or len(parts) > 2:
        return None
    return "/".join(parts)


def _cache_repo(folder: Path, problems: list[Problem]) -> LocalRepo | None:
    """The snapshot to read for a cache folder ``models--ORG--NAME`` (None if it has none)."""
    model_id = _cache_id(folder.name)
    snapshots = folder / "snapshots"
    if model_id is None or _kind(snapshots) != "dir":
        return None
    revisions = _subdirs(snapshots, problems)
    if not revisions:
        problems.append(Problem(str(folder), model_id, "cache folder has no snapshot"))
        return None
    chosen = None
    ref = folder / "refs" / "main"
    if _kind(ref) == "file":
        try:
            wanted = ref.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            wanted = ""
        chosen = next((p for p in revisions if p.name == wanted), None)
    if chosen is None:
        chosen = max(revisions, key=lambda p: (_mtime(p), p.name))
    return LocalRepo(chosen, model_id, folder.resolve(), chosen.name)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _subdirs(directory: Path, problems: list[Problem]) -> list[Path]:
    """Real (non-symlink) subdirectories, sorted by name; an unreadable directory gives none and a problem."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as err:
        problems.append(_unreadable_directory(directory, err))
        return []
    return [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]


def _unreadable_directory(directory: Path, err: OSError, model_id: str | None = None) -> Problem:
    reason = err.strerror or type(err).__name__
    return Problem(str(directory), model_id, f"directory cannot be read ({reason}); skipped")


def _valid_part(name: str) -> bool:
    return "/" not in name and normalize_reference(name).id == name


def _find_repos(root: Path, problems: list[Problem]) -> list[LocalRepo]:
    if not os.path.lexists(root):
        raise SourceError(f"{root}: no such directory")
    try:
        is_dir = root.is_dir()
    except OSError:
        is_dir = False
    if not is_dir:
        raise SourceError(f"{root}: not a directory (expected a model repo, a folder of repos or a Hugging Face cache)")
    absolute = Path(os.path.abspath(root))
    contain = root.resolve()

    if _cache_id(absolute.name) is not None:  # models--ORG--NAME itself
        repo = _cache_repo(absolute, problems)
        return [repo] if repo else []
    if absolute.parent.name == "snapshots" and _cache_id(absolute.parent.parent.name):  # .../snapshots/<rev>
        model_id = _cache_id(absolute.parent.parent.name)
        return [LocalRepo(root, str(model_id), absolute.parent.parent.resolve(), absolute.name)]
    if _is_repo_dir(root):  # the folder is itself one repo
        parent, name = absolute.parent.name, absolute.name
        model_id = f"{parent}/{name}" if _valid_part(parent) and _valid_part(name) else name
        return [LocalRepo(root, model_id, contain, flat=True)]

    found: list[LocalRepo] = []

    def search(directory: Path, rel: tuple[str, ...]) -> None:
        for sub in _subdirs(directory, problems):
            name = sub.name
            if name in _SKIP_DIRS or name.startswith(_OTHER_CACHE_PREFIXES):
                continue
            if _cache_id(name) is not None and _kind(sub / "snapshots") == "dir":
                repo = _cache_repo(sub, problems)
                if repo is not None:
                    found.append(repo)
                continue
            here = (*rel, name)
            if _is_repo_dir(sub):
                model_id = "/".join(here) if len(here) == 2 else name
                found.append(LocalRepo(sub, model_id, contain, flat=len(here) != 2))
            elif len(here) < MAX_SEARCH_DEPTH:
                search(sub, here)

    search(root, ())
    return found


# --- reading one repo ------------------------------------------------------------------------------


def _list_files(repo: LocalRepo, problems: list[Problem]) -> list[str]:
    """Relative POSIX names of the files in a repo (symlinked files included, symlinked dirs not entered)."""
    files: list[str] = []
    base_depth = len(repo.directory.parts)

    def unreadable(err: OSError) -> None:
        problems.append(_unreadable_directory(Path(err.filename or repo.directory), err, repo.id))

    for current, dirnames, filenames in os.walk(repo.directory, onerror=unreadable, followlinks=False):
        here = Path(current)
        depth = len(here.parts) - base_depth
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and depth < MAX_FILE_DEPTH)
        rel = here.relative_to(repo.directory)
        for name in sorted(filenames):
            files.append((rel / name).as_posix())
            if len(files) >= MAX_FILES:
                problems.append(
                    Problem(str(repo.directory), repo.id, f"more than {MAX_FILES} files; file list cut short")
                )
                return sorted(files)
    return sorted(files)


def _read_metadata(repo: LocalRepo, name: str, problems: list[Problem]) -> str | None:
    """The text of a metadata file of the repo, or None (absent, unsafe, too big, unreadable)."""
    path = repo.directory / name
    if not os.path.lexists(path):
        return None

    def problem(message: str) -> None:
        problems.append(Problem(str(path), repo.id, f"{name}: {message}"))

    try:
        if path.is_symlink() and not path.resolve().is_relative_to(repo.contain):
            problem("is a symlink out of the repo tree; not read")
            return None
        # Open without blocking (a FIFO named config.json must not hang us), then check what was opened.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                problem("is not a regular file; not read")
                return None
            if info.st_size > MAX_METADATA_BYTES:
                problem(f"is {info.st_size:,} bytes, over the {MAX_METADATA_BYTES:,}-byte limit; not read")
                return None
            data = handle.read(MAX_METADATA_BYTES + 1)
    except RuntimeError:  # Python < 3.13 reports a symlink loop so
        problem("is a symlink loop; not read")
        return None
    except OSError as err:
        problem(f"cannot be read ({err.strerror or type(err).__name__})")
        return None
    if len(data) > MAX_METADATA_BYTES:
        problem(f"is over the {MAX_METADATA_BYTES:,}-byte limit; not read")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        problem("is not UTF-8 text")
        return None


def _read_json(repo: LocalRepo, name: str, problems: list[Problem]) -> dict[str, Any] | None:
    text = _read_metadata(repo, name, problems)
    if text is None:
        return None
    data = reader.json_object(text, str(repo.directory / name), model=repo.id)
    if isinstance(data, Problem):
        problems.append(Problem(data.source, data.model, f"{name}: {data.message}"))
        return None
    return data


def _text(value: object) -> str | None:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def read_repo(repo: LocalRepo, problems: list[Problem]) -> tuple[ModelRecord, list[Reference]]:
    """One repo on disk -> its record and the references its card, config and adapter config make."""
    files = _list_files(repo, problems)
    record = ModelRecord(
        id=repo.id,
        author=repo.id.split("/", 1)[0] if "/" in repo.id else None,
        sha=repo.sha,
        files=files,
        weight_formats=file_rules.weight_formats(files),
        has_card=extract.CARD in files,
        source=str(repo.directory),
    )
    refs: list[Reference] = []

    readme = _read_metadata(repo, extract.CARD, problems)
    if readme is not None:
        card_path = str(repo.directory / extract.CARD)
        try:
            card = extract.card_metadata(readme)
        except extract.CardError as err:
            problems.append(Problem(card_path, repo.id, f"{extract.CARD}: model card: {err}"))
            card = None
        if card is not None:
            extract.apply_card(record, card)
            refs += extract.references_from_card(repo.id, card, card_path)
        refs += extract.references_from_card_text(repo.id, readme, card, card_path)

    config = _read_json(repo, extract.CONFIG, problems) or {}
    if config:
        record.model_type = _text(config.get("model_type"))
        refs += extract.references_from_config(repo.id, config, str(repo.directory / extract.CONFIG))

    adapter = _read_json(repo, extract.ADAPTER_CONFIG, problems)
    if adapter:
        refs += extract.references_from_adapter_config(
            repo.id, adapter, str(repo.directory / extract.ADAPTER_CONFIG)
        )

    record.quantization = extract.quantization_hint(record, config)
    record.code_files = extract.code_files(record, config)
    return record, refs
