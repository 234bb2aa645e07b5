"""The examples of the README and of every docs page keep commands and their output apart: a
shell block (``sh``, ``bash``, ``console``, ``shell``) holds only commands, so pasting it runs
nothing but commands, and what a command prints stands in a block of its own (``text``,
``json``). Every block names its language, so that a block of output is never taken for one
of commands by a reader or by this test."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.support import ROOT

PAGES = sorted({ROOT / "README.md", *(ROOT / "docs").rglob("*.md")})
SHELL = {"sh", "bash", "console", "shell"}
#: what a line of a shell block may start with: the commands the pages tell a reader to run
#: (a page that teaches a new one adds it here)
COMMANDS = {
    "make", "curl", "newsapi", ".venv/bin/newsapi", "dask", "export", "source", "uvicorn",
    "python", ".venv/bin/python", "pip", "git", "cd", "kill", "sudo", "apt-get", "systemctl",
    "podman", "docker", "kubectl", "helm", "haproxy",
}  # fmt: skip
FENCE = re.compile(r"^\s*(```+|~~~+)\s*(\S*)")


def blocks(page: Path) -> list[tuple[int, str, list[str]]]:
    """(first line number, language, lines) of each fenced block of ``page``."""
    found = []
    lines = page.read_text(encoding="utf-8").splitlines()
    number = 0
    while number < len(lines):
        opening = FENCE.match(lines[number])
        if opening:
            fence, language = opening.groups()
            end = number + 1
            while end < len(lines) and not lines[end].strip().startswith(fence):
                end += 1
            found.append((number + 1, language, lines[number + 1 : end]))
            number = end
        number += 1
    return found


def commands(lines: list[str]) -> list[list[str]]:
    """The block's commands as the shell reads them: continued lines (a trailing ``\\``, an
    open quote) joined, comments dropped, each split into words."""
    read, pending = [], ""
    for line in lines:
        pending = f"{pending}\n{line}" if pending else line
        if pending.endswith("\\"):
            continue
        try:
            words = shlex.split(pending, comments=True)
        except ValueError:  # an open quote: the command goes on
            continue
        if words:
            read.append(words)
        pending = ""
    assert not pending, f"a command is never finished: {pending!r}"
    return read


def first_command(words: list[str]) -> str:
    """The command of a line, after any ``NAME=value`` assignments before it."""
    rest = [word for word in words if not re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", word)]
    return rest[0] if rest else words[0]


def problems(page: Path) -> list[str]:
    """What keeps a block of ``page`` from being pasted as it stands, one line each."""
    found = []
    for line, language, lines in blocks(page):
        if not language:
            found.append(f"{page.name}:{line}: a block without a language (text for output)")
        elif language in SHELL:
            found += [
                f"{page.name}:{line}: {' '.join(words)[:80]!r} is not a command; output goes "
                "in a block of its own (```text, after the command's block)"
                for words in commands(lines)
                if first_command(words) not in COMMANDS
            ]
    return found


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_shell_block_holds_only_commands(page: Path) -> None:
    assert problems(page) == []


def test_output_in_a_shell_block_or_a_block_without_language_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```sh\ncurl -s localhost:8000/prediction -H 'content-type: application/json' \\\n"
        '     -d \'{"text": "rocket"}\'\n{"category":"sci.space"}\n```\n\n'
        "```\nnewsapi: cannot start\n```\n"
    )
    assert problems(page) == [
        "page.md:1: '{category:sci.space}' is not a command; output goes in a block of its own "
        "(```text, after the command's block)",
        "page.md:7: a block without a language (text for output)",
    ]
    page.write_text(
        "```sh\ncurl -s localhost:8000/prediction -H 'content-type: application/json' \\\n"
        '     -d \'{"text": "rocket"}\'\n```\n\nprints:\n\n```text\n'
        '{"category":"sci.space"}\n```\n'
    )
    assert problems(page) == []
