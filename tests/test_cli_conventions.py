"""Option values converted without typer's per-parameter validators read as typer's own conversion reads them.

The oracle is typer's conversion: the same command line is run with the quick conversion switched off
(every value sent to typer's validators) and the output and exit code compared.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ptmgraph import cli_conventions
from ptmgraph.cli import app

LLAMA_CHAT = "meta-llama/Llama-2-7b-chat-hf"


def run(argv: list[str]) -> tuple[int, str, str]:
    done = CliRunner().invoke(app, argv)
    return done.exit_code, done.stdout, done.stderr


def typer_only(*args: object, **kwargs: object) -> object:
    raise cli_conventions._Slow


COMMAND_LINES = [
    ["impact", LLAMA_CHAT, "--depth", "1", "-f", "json", "-r", "quantized", "--relation", "adapter"],
    ["impact", LLAMA_CHAT, "--limit", "-1"],
    ["impact", LLAMA_CHAT, "--limit", "007"],
    ["impact", LLAMA_CHAT, "--limit", "1e3"],
    ["impact", LLAMA_CHAT, "--limit", " 5"],
    ["impact", LLAMA_CHAT, "--depth", "0"],
    ["impact", LLAMA_CHAT, "--depth", "99999999999999999999999"],
    ["impact", LLAMA_CHAT, "--format", "JSON"],
    ["impact", LLAMA_CHAT, "--min-confidence", "certain"],
    ["impact", LLAMA_CHAT, "-r", "finetune", "-r", "bogus"],
    ["impact", LLAMA_CHAT, "--snapshot", ""],
    ["impact", LLAMA_CHAT, "--snapshot", "no/such/dir", "--limit", "3"],
    ["ancestry", "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B", "--max-paths", "0", "-f", "csv"],
    ["ancestry", "AmberYifan/Gemma-7B-sft-SPIN-Gemma-2-27B", "--max-paths", "2", "-f", "csv"],
    ["--color", "sometimes", "stats"],
    ["dangling", "--reason", "local_path", "-f", "json", "--limit", "2"],
    ["dangling", "--reason", "Local_Path"],
    ["reach", "--by", "author", "--top", "3", "-f", "json"],
    ["reach", "--top", "-3"],
    ["crawl", "--out", "x", "--seed", "a/b", "--workers", "33"],
    ["crawl", "--out", "x", "--seed", "a/b", "--timeout", "0"],
    ["export", LLAMA_CHAT, "--impact", "--format", "tiff"],
    ["stats", "--min-confidence", "high", "-f", "json"],
]


@pytest.mark.parametrize("argv", COMMAND_LINES, ids=[" ".join(a) for a in COMMAND_LINES])
def test_every_value_reads_as_typer_reads_it(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    quick = run(argv)
    monkeypatch.setattr(cli_conventions, "_quick_value", typer_only)
    assert quick == run(argv)
