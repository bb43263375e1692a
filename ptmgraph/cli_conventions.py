"""The command line's manners, the same for every command: ``-h``, plain usage lines and plain errors.

Typer writes a required argument as ``{MODEL}`` in usage lines and prefixes the messages of bad
values with pydantic's "Value error,"; these classes write ``MODEL`` and the message alone, as
click, git and pip do; arguments and options show a metavar (``MODEL``, ``N``) instead of the Python
type (``<list[str]>``). Every command of :class:`App` gets them without naming them.

Typer (0.2x) checks each value with a pydantic validator built for it on every run, which costs a
start-up about 70 ms of CPU (pydantic's import and a validator per parameter). The values this
command line takes (text, whole numbers with bounds, choices, paths, lists of these) are converted
here instead, exactly as typer converts them; a value that would be an error, and any other kind of
parameter, still goes through typer's own conversion, so every message stays typer's. This uses typer's
private conversion interface (``typer._coercion``), kept because dropping it was measured (issue 18,
median CPU of 21 cold runs) to cost a command line typer parses 100-120 ms (``impact MODEL -f json``
through typer: 397 ms with it, 516 ms without); with another typer it is simply not used.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, ClassVar, get_args, get_origin

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from ptmgraph.declaration import LARGEST_WHOLE_NUMBER, PATH_KINDS, WHOLE_NUMBER, Option

try:  # typer's conversion interface (typer >= 0.20); older typers convert without pydantic anyway
    from typer._click.exceptions import BadParameter
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer._param_types import coerce_cli_path
except ImportError:  # pragma: no cover - another typer
    RuntimeParam = None  # type: ignore[assignment,misc]

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


_METAVARS = {"int": "N", "float": "X", "str": "TEXT", "path": "PATH", "directory": "DIR", "file": "FILE"}
"""Metavars for options that name none, by the type typer would show (``<int range>`` -> ``N``)."""


def plain_message(message: str) -> str:
    """A parameter error without the validation library's prefixes."""
    return message.replace("Value error, ", "")


class _Slow(Exception):
    """A value for typer's own conversion: it may be an error, whose message typer words."""


def _quick_value(annotation: Any, info: Any, value: Any, param: Any, ctx: Any) -> Any:
    """``value`` converted to ``annotation`` as typer's pydantic validator would, or :class:`_Slow`."""
    if get_origin(annotation) is list:
        if not isinstance(value, list | tuple):
            raise _Slow
        return [_quick_value(get_args(annotation)[0], info, item, param, ctx) for item in value]
    if annotation is str and isinstance(value, str):
        return value
    if annotation is int and not info.clamp:
        if isinstance(value, str) and WHOLE_NUMBER.fullmatch(value):
            number = int(value)
        elif type(value) is int:
            number = value
        else:
            raise _Slow
        if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
            raise _Slow
        return number
    if isinstance(annotation, type) and issubclass(annotation, Enum) and info.case_sensitive:
        if isinstance(value, annotation):
            return value
        if ctx is None or ctx.token_normalize_func is None:
            for member in annotation:
                if isinstance(value, str) and str(member.value) == value:
                    return member
        raise _Slow
    if annotation is Path and info.path_type is None and isinstance(value, str | Path) and str(value):
        # typer's own check of the path (exists, readable ...), given a Path so it needs no validator
        return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
    raise _Slow


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class _QuickParam(RuntimeParam):
        """Typer's conversion of one parameter, done by :func:`_quick_value` when it can."""

        descriptor: Any

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                converted = _quick_value(self.annotation, self.parameter_info, value, param, ctx)
            except _Slow:
                converted = build_runtime_param(self.descriptor)._coerce_value(value, param=param, ctx=ctx)
            for number in converted if isinstance(converted, list | tuple) else [converted]:
                if type(number) is int and abs(number) > LARGEST_WHOLE_NUMBER:
                    raise BadParameter(f"{number} is over {LARGEST_WHOLE_NUMBER:,}, the largest whole number "
                                       "ptmgraph takes", ctx=ctx, param=param)
            return converted


def _convert_quickly(param: Any) -> None:
    """Give ``param`` the quick conversion, when typer has the interface and the parameter no special parsing."""
    descriptor = getattr(param, "type_descriptor", None)
    if RuntimeParam is None or descriptor is None or getattr(param, "_runtime_param", False) is not None:
        return
    info = descriptor.parameter_info
    if descriptor.file_annotation is None and info.parser is None:
        param._runtime_param = _QuickParam(annotation=descriptor.annotation, parameter_info=info, descriptor=descriptor)


class _PlainManners:
    """Mixed into typer's command and group classes (see the module docstring)."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)  # type: ignore[misc]
        except Exception as e:
            # click's exceptions here are typer's vendored copies: recognised by their message, not class.
            if isinstance(getattr(e, "message", None), str):
                e.message = plain_message(e.message)  # type: ignore[attr-defined]
            raise

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            _convert_quickly(param)
            if isinstance(param, TyperArgument):
                param.metavar = param.metavar or str(param.name).upper()
                # The metavar says what to give; typer would add the Python type (``<list[str]>``) beside it.
                param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
            elif isinstance(param, TyperOption) and not param.is_flag and param.metavar is None:
                shown = param.display_type(ctx).strip("<>")
                param.metavar = _METAVARS.get(shown.split(" ")[0], shown)
        return params

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces: list[str] = super().collect_usage_pieces(ctx)  # type: ignore[misc]
        # typer shows a required argument as {NAME} (or {NAME}... when it repeats): the name alone
        return [p.replace("{", "", 1).replace("}", "", 1) if p.startswith("{") and "}" in p else p for p in pieces]


class PlainCommand(_PlainManners, TyperCommand):
    pass


class PlainGroup(_PlainManners, TyperGroup):
    """The program's group of commands. Its ``lazy`` commands (name -> one-line help) are built by
    ``build`` only when run or asked for their help: building one imports its analysis (and polars), which
    the program's own ``--help`` and every other command do without."""

    lazy: ClassVar[dict[str, str]] = {}

    def build(self, name: str) -> Any:
        """The lazy command ``name`` (a subclass builds it)."""
        raise NotImplementedError(name)

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*self.lazy, *super().list_commands(ctx)})

    def get_command(self, ctx: Any, name: str) -> Any:
        if name in self.lazy and name not in self.commands:
            self.add_command(self.build(name), name)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names), default=0)
        rows = []
        for name in names:
            built = self.commands.get(name)
            if built is None:
                built = TyperCommand(name, help=self.lazy[name])
            elif built.hidden:
                continue
            rows.append((name, built.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


_TYPES: dict[str, type] = {"flag": bool, "text": str, "int": int, "float": float,
                           **dict.fromkeys(PATH_KINDS, Path)}


def parameter(option: Option) -> inspect.Parameter:
    """``option`` as a typer parameter: its type, ``typer.Option`` or ``typer.Argument``, and its default."""
    kind: Any = option.choices if option.kind == "choice" else _TYPES[option.kind]
    default = option.initial
    required = option.required and default is None
    if option.many:
        kind = list[kind]  # type: ignore[valid-type]
    if default is None and not required:
        kind = kind | None
    common: dict[str, Any] = {"help": option.help, "metavar": option.metavar, "hidden": option.hidden}
    if option.kind in ("int", "float"):
        common.update(min=option.least, max=option.most)
    if default is None or option.many:
        common["show_default"] = False
    if option.argument:
        common["metavar"] = option.name
        info = typer.Argument(**common)
    else:
        info = typer.Option(*option.names, **common)
    return inspect.Parameter(option.param, inspect.Parameter.KEYWORD_ONLY,
                             default=inspect.Parameter.empty if required else default,
                             annotation=Annotated[kind, info])


def declared(function: Callable[..., None], options: tuple[Option, ...]) -> Callable[..., None]:
    """``function`` with the typer signature of ``options`` (what typer reads to make the command)."""
    parameters = [parameter(option) for option in options]
    function.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    function.__annotations__ = {p.name: p.annotation for p in parameters}
    return function


class App(typer.Typer):
    """A Typer application whose commands are :class:`PlainCommand` unless they name another class."""

    def __init__(self, group: type[PlainGroup] = PlainGroup, **kwargs: Any) -> None:
        super().__init__(cls=group, context_settings=CONTEXT_SETTINGS, rich_markup_mode=None, **kwargs)

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return super().command(*args, cls=cls or PlainCommand, **kwargs)
