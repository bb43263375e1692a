"""The one reader for untrusted text: model cards, YAML blocks, JSON documents and JSON lines.

Everything the tool is given (files, Hub replies, rows of research dumps) is written by strangers, so
every card, YAML block, JSON file and JSON line goes through this module. Each public function
returns the data, or a :class:`~ptmgraph.records.Problem` naming the input (``source``) and the bound
it broke; it never raises anything else, so one hostile document costs only itself.

Bounds (:class:`Limits`; the defaults are :data:`DEFAULT_LIMITS`):

- **bytes**: a JSON document or JSON line holds at most ``document_bytes`` bytes (UTF-8), a card's
  YAML front matter at most ``yaml_bytes``. A longer JSON line is skipped without being held in
  memory.
- **depth**: lists and mappings nest at most ``depth`` levels (a YAML alias counts with the depth of
  what it names). Checked before either parser builds anything, so neither recurses past it (JSON
  whose brackets do not balance is left to the parser, which stops at Python's recursion limit).
- **integer digits**: a decimal integer has at most ``int_digits`` digits. Python refuses to convert
  more than 4,300 (``sys.get_int_max_str_digits``) and the tables store 64-bit integers (19 digits),
  so the bound sits between.
- **YAML aliases**: at most ``yaml_aliases`` aliases (``*name``) per YAML block, none naming a node it
  sits inside (a cycle), and at most ``nodes`` values once aliases are expanded (the "billion laughs"
  bomb: a few aliases per level multiply). Always a safe loader: no tags that build Python objects.
- **text**: a lone surrogate escape in JSON (``"\\ud800"`` with no partner) becomes U+FFFD, the
  replacement character, since it cannot be stored as UTF-8; paired escapes are kept.
- **time**: building one YAML block stops after ``seconds`` of wall-clock time. JSON parsing is
  linear in its bounded size (the C parser), so it needs no clock.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from ptmgraph.records import Problem

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True)
class Limits:
    """The bounds every read enforces (see the module docstring for what each one measures)."""

    document_bytes: int = 32 * MiB
    """A JSON document or one JSON line, in bytes. A Hub listing page of 1,000 expanded models fits."""
    yaml_bytes: int = 256 * KiB
    """A card's YAML front matter, in bytes (the largest among 1,519 real cards is 13 KB)."""
    depth: int = 100
    """Nesting levels of lists and mappings."""
    int_digits: int = 100
    """Decimal digits of one integer."""
    yaml_aliases: int = 100
    """Aliases (``*name``) in one YAML block."""
    nodes: int = 1_000_000
    """Values (scalars, lists, mappings) in one YAML block once its aliases are expanded."""
    seconds: float = 10.0
    """Wall-clock seconds to build one YAML block."""


DEFAULT_LIMITS = Limits()


class _Refused(Exception):
    """A bound was broken; the message says which (internal: public functions return a Problem)."""


# --- JSON ------------------------------------------------------------------------------------------


def json_document(
    data: bytes | str, source: str, *, model: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> Any:
    """The JSON value in ``data`` (UTF-8 bytes, a BOM allowed, or text), or a :class:`Problem`."""
    try:
        return _json(data, limits)
    except _Refused as err:
        return Problem(source, model, str(err))
    except MemoryError:
        return Problem(source, model, "not read: out of memory")


def json_object(
    data: bytes | str, source: str, *, model: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> dict[str, Any] | Problem:
    """Like :func:`json_document`, but anything other than a JSON object is a :class:`Problem`."""
    value = json_document(data, source, model=model, limits=limits)
    if isinstance(value, Problem | dict):
        return value
    return Problem(source, model, f"a JSON {_json_kind(value)}, not an object")


def json_lines(
    handle: IO[bytes], name: str, *, limits: Limits = DEFAULT_LIMITS
) -> Iterator[tuple[str, dict[str, Any] | Problem]]:
    """``(location, row or Problem)`` for each non-blank line of a JSON Lines stream; location is ``name:line``.

    Each line is decoded and parsed alone, so a line that is not UTF-8, not JSON, not an object or
    over a bound costs that line only. Blank lines are skipped.
    """
    lineno = 0
    while True:
        lineno += 1
        try:
            line = handle.readline(limits.document_bytes + 1)
        except OSError as err:
            yield f"{name}:{lineno}", Problem(f"{name}:{lineno}", None, f"cannot be read ({err.strerror or err})")
            return
        if not line:
            return
        where = f"{name}:{lineno}"
        if len(line) > limits.document_bytes and not line.endswith(b"\n"):
            _skip_rest_of_line(handle)
            yield where, Problem(where, None, f"line is over the {limits.document_bytes:,}-byte limit; not read")
            continue
        if lineno == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if not line.strip():
            continue
        yield where, json_object(line, where, limits=limits)


def _skip_rest_of_line(handle: IO[bytes]) -> None:
    while True:
        chunk = handle.readline(MiB)
        if not chunk or chunk.endswith(b"\n"):
            return


def _json(data: bytes | str, limits: Limits) -> Any:
    size = len(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    if size > limits.document_bytes:
        raise _Refused(f"is {size:,} bytes, over the {limits.document_bytes:,}-byte limit; not read")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise _Refused(f"not UTF-8 text (byte {err.start + 1})") from None
    else:
        text = data
    _check_json_depth(text, limits.depth)

    def bounded_int(digits: str) -> int:
        if len(digits) - digits.startswith("-") > limits.int_digits:
            raise _Refused(f"an integer has {len(digits):,} digits, over the {limits.int_digits}-digit limit")
        return int(digits)

    try:
        value = json.loads(text, parse_int=bounded_int)
        return _without_lone_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value
    except json.JSONDecodeError as err:
        at = f" at line {err.lineno}" if err.lineno > 1 else ""
        raise _Refused(f"not valid JSON ({err.msg}{at})") from None
    except RecursionError:  # the depth scan makes this unreachable; kept so the contract holds regardless
        raise _Refused(f"nested deeper than the {limits.depth}-level limit") from None
    except (_Refused, MemoryError):
        raise
    except Exception as err:  # any other parser failure is still this document's problem, not the run's
        raise _Refused(f"could not be read ({type(err).__name__})") from None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _without_lone_surrogates(value: Any) -> Any:
    """``value`` with each lone surrogate (an unpaired ``\\ud800``-style escape) in its strings and keys
    replaced by U+FFFD: such a string cannot be written as UTF-8, so one would fail a whole table."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"\[\]|\{\}")


def _check_json_depth(text: str, limit: int) -> None:
    """Refuse text whose brackets nest deeper than ``limit``, before the (recursive) parser sees it.

    Strings are dropped, then the innermost bracket pairs are removed once per level: text nested
    ``d`` deep is empty after ``d`` rounds. Each round is one regex pass, so the check runs at C speed.
    Unbalanced brackets stop the rounds early and are left to the parser to report.
    """
    if text.count("[") + text.count("{") <= limit:
        return  # cannot nest deeper than the brackets it has
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _ in range(limit):
        fewer = _INNERMOST_PAIR.sub("", brackets)
        if not fewer or fewer == brackets:
            return
        brackets = fewer
    raise _Refused(f"nested deeper than the {limit}-level limit")


def _json_kind(value: object) -> str:
    kinds = {list: "array", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


# --- YAML and model cards --------------------------------------------------------------------------

_DECIMAL_INT = re.compile(r"[-+]?[0-9][0-9_]*")
_INT_TAGS = {"tag:yaml.org,2002:int", "!!int"}


@functools.cache
def _loaders() -> tuple[type[Any], type[Any]]:
    """PyYAML's safe loader (libyaml's when PyYAML has it) and the timed one built on it.

    Built on first use: a command that reads no YAML (every query of a snapshot) does not import PyYAML.
    """
    import yaml

    safe: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class TimedLoader(safe):  # type: ignore[misc,valid-type]
        """The safe loader, stopping once its deadline (``time.monotonic()`` seconds) has passed."""

        deadline = float("inf")
        seconds = 0.0
        _built = 0

        def construct_object(self, node: Any, deep: bool = False) -> Any:
            self._built += 1
            if self._built % 1024 == 0 and time.monotonic() > self.deadline:
                raise _Refused(f"took longer than the {self.seconds:g}-second limit to read")
            return super().construct_object(node, deep)

    return safe, TimedLoader


def yaml_mapping(
    text: str, source: str, *, model: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> dict[str, Any] | Problem:
    """The YAML block ``text`` as a mapping (empty text: ``{}``), or a :class:`Problem`."""
    return _mapping(text, source, model, limits, line_offset=0, subject="")


def card_yaml(
    readme: str, source: str, *, model: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> dict[str, Any] | Problem | None:
    """The YAML front matter of a raw README.md as a mapping; None when the card has none.

    Front matter opens with a ``---`` line at the top (after a BOM, blank lines, Windows line ends)
    and closes with ``---`` or ``...``. Front matter that is unclosed, not valid YAML, not a mapping or
    over a bound is a :class:`Problem` whose message starts with ``front matter``.
    """
    try:
        block = _front_matter(readme, limits)
    except _Refused as err:
        return Problem(source, model, f"front matter {err}")
    if block is None:
        return None
    # README line 1 is the opening '---', so the block's first line is the README's second.
    return _mapping(block, source, model, limits, line_offset=1, subject="front matter ")


def _mapping(
    text: str, source: str, model: str | None, limits: Limits, *, line_offset: int, subject: str
) -> dict[str, Any] | Problem:
    try:
        data = _yaml(text, limits, line_offset=line_offset)
    except _Refused as err:
        return Problem(source, model, f"{subject}{err}")
    except MemoryError:
        return Problem(source, model, f"{subject}is not read: out of memory")
    if data is None:
        return {}
    if not isinstance(data, dict):
        return Problem(source, model, f"{subject}is a {type(data).__name__}, not a mapping")
    return data


_OPENING = re.compile(r"[\ufeff]?[ \t\r\n]*---[ \t]*(?:\r\n|\r|\n|$)")
_CLOSING = re.compile(r"^[ \t]*(?:---|\.\.\.)[ \t]*$", re.MULTILINE)


def _front_matter(readme: str, limits: Limits) -> str | None:
    """The text between a README's opening ``---`` line and its closing ``---``/``...`` line."""
    opening = _OPENING.match(readme)
    if opening is None:
        return None
    # Only the front matter is normalised, so a 30 MB README costs one regex scan, not copies of itself.
    window = readme[opening.end() : opening.end() + 4 * limits.yaml_bytes + 16]
    window = window.replace("\r\n", "\n").replace("\r", "\n")
    closing = _CLOSING.search(window)
    if closing is None:
        if len(readme) - opening.end() > len(window):
            raise _Refused(f"is over the {limits.yaml_bytes:,}-byte limit; not read")
        raise _Refused("opened with '---' is never closed")
    block = window[: closing.start()].removesuffix("\n")
    size = len(block.encode("utf-8", "surrogatepass"))
    if size > limits.yaml_bytes:
        raise _Refused(f"is {size:,} bytes, over the {limits.yaml_bytes:,}-byte limit; not read")
    return block


def _yaml(text: str, limits: Limits, *, line_offset: int) -> Any:
    """Survey the events of ``text`` against the bounds, then build it with the timed safe loader."""
    if len(text.encode("utf-8", "surrogatepass")) > limits.yaml_bytes:
        raise _Refused(f"is over the {limits.yaml_bytes:,}-byte limit; not read")
    import yaml

    deadline = time.monotonic() + limits.seconds
    try:
        _survey(text, limits, deadline)
        loader = _loaders()[1](text)
        loader.deadline, loader.seconds = deadline, limits.seconds
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        if "nesting depth" in str(getattr(err, "problem", "")):  # libyaml's own cap (1,000) met first
            raise _Refused(f"is nested deeper than the {limits.depth}-level limit") from None
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1 + line_offset}" if mark is not None else ""
        raise _Refused(f"is not valid YAML{where}") from None
    except (ValueError, TypeError, OverflowError) as err:  # e.g. a plain 2024-13-45 read as a date
        raise _Refused(f"has a value YAML cannot build ({str(err)[:80]})") from None
    except RecursionError:  # the survey bounds depth first; kept so the contract holds regardless
        raise _Refused(f"is nested deeper than the {limits.depth}-level limit") from None
    except (_Refused, MemoryError):
        raise
    except Exception as err:  # any other parser failure is still this document's problem, not the run's
        raise _Refused(f"could not be read ({type(err).__name__})") from None


def _survey(text: str, limits: Limits, deadline: float) -> None:
    """Walk the YAML event stream (no recursion, nothing built) and refuse what breaks a bound.

    Tracks nesting depth, the size and height of every anchored node (so an alias counts as what it
    expands to), the alias count, the digits of plain integers and the clock.
    """
    # One frame per open list or mapping: [anchor, expanded values inside, height below it].
    open_frames: list[list[Any]] = []
    anchored: dict[str, tuple[int, int]] = {}  # anchor -> (expanded values, height)
    total = aliases = events = 0
    import yaml

    loader = _loaders()[0](text)
    try:
        while loader.check_event():
            event = loader.get_event()
            events += 1
            if events % 1024 == 0 and time.monotonic() > deadline:
                raise _Refused(f"took longer than the {limits.seconds:g}-second limit to read")
            size = height = 0
            if isinstance(event, yaml.ScalarEvent):
                _check_int(event, limits)
                size = 1
                if event.anchor:
                    anchored[event.anchor] = (1, 0)
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > limits.yaml_aliases:
                    raise _Refused(f"has more than {limits.yaml_aliases} aliases")
                if any(frame[0] == event.anchor for frame in open_frames):
                    raise _Refused(f"has an alias *{event.anchor} inside the node it names")
                size, height = anchored.get(event.anchor, (1, 0))
                if len(open_frames) + height > limits.depth:
                    raise _Refused(f"is nested deeper than the {limits.depth}-level limit")
            elif isinstance(event, yaml.CollectionStartEvent):
                open_frames.append([event.anchor, 1, 0])
                total += 1
                if len(open_frames) > limits.depth:
                    raise _Refused(f"is nested deeper than the {limits.depth}-level limit")
                continue
            elif isinstance(event, yaml.CollectionEndEvent):
                anchor, size, below = open_frames.pop()
                height = below + 1
                if anchor:
                    anchored[anchor] = (size, height)
                if open_frames:
                    open_frames[-1][1] += size
                    open_frames[-1][2] = max(open_frames[-1][2], height)
                continue
            else:
                continue
            total += size
            if total > limits.nodes:
                raise _Refused(f"expands to more than {limits.nodes:,} values")
            if open_frames:
                open_frames[-1][1] += size
                open_frames[-1][2] = max(open_frames[-1][2], height)
    finally:
        loader.dispose()


def _check_int(event: Any, limits: Limits) -> None:
    value: str = event.value
    if len(value) <= limits.int_digits:
        return
    plain = not event.style and event.implicit[0]  # libyaml gives '' for plain, the Python parser None
    if (plain or event.tag in _INT_TAGS) and _DECIMAL_INT.fullmatch(value):
        digits = sum(c.isdigit() for c in value)
        if digits > limits.int_digits:
            raise _Refused(f"has an integer of {digits:,} digits, over the {limits.int_digits}-digit limit")
