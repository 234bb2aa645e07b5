"""Print the part of requirements.lock that the image installs: the project's serving extra (or
the extras named) and everything it pulls in, each entry as the lock writes it (version,
markers and hashes).

    python deploy/image/serving_lock.py requirements.lock [serving,tracing,...] > requirements.txt

The lock covers every extra (`make lock`); the image needs only the serving one. Which locked
packages that is comes from the installed project's metadata (run it with the environment that
`make install` made from the same lock), followed through each package's own requirements and
extras (``uvicorn[standard]``), with markers evaluated for this Python and platform, the image's.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = "newsapi"
EXTRAS = ("serving",)


def lock_entries(text: str) -> dict[str, list[str]]:
    """Each locked package's entries (a name has several where markers split it), each its
    requirement line and its hash lines; the lock's comments are left out."""
    entries: dict[str, list[str]] = {}
    lines: list[str] = []

    def close() -> None:
        if lines:
            name = canonicalize_name(lines[0].split("==")[0].split("[")[0].strip())
            entries.setdefault(name, []).append("\n".join(lines))
            lines.clear()

    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            close()
            lines.append(line)
        elif lines and line.lstrip().startswith("--hash="):
            lines.append(line)
    close()
    return entries


def needed(root: str, extras: Iterable[str]) -> set[str]:
    """The names of ``root`` and of every package it needs with ``extras``, transitively."""
    seen: set[str] = set()
    todo: list[tuple[str, frozenset[str]]] = [(root, frozenset(extras))]
    while todo:
        name, wanted = todo.pop()
        key = canonicalize_name(name)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            sys.exit(f"{name} is not installed here: run `make install` first")
        seen.add(key)
        for line in requires:
            requirement = Requirement(line)
            contexts = [{"extra": extra} for extra in wanted] or [{"extra": ""}]
            marker = requirement.marker
            if marker is None or any(marker.evaluate(context) for context in contexts):
                child = canonicalize_name(requirement.name)
                if child not in seen or requirement.extras:
                    todo.append((requirement.name, frozenset(requirement.extras)))
    return seen


def serving_lock(lock: Path, extras: Iterable[str] = EXTRAS) -> str:
    """The lock's entries for the closure of ``extras`` (the project itself left out)."""
    offered = set(distribution(PROJECT).metadata.get_all("Provides-Extra") or [])
    unknown = sorted(set(extras) - offered)
    if unknown:
        sys.exit(
            f"{PROJECT} has no extra {', '.join(unknown)}; it has {', '.join(sorted(offered))}"
        )
    entries = lock_entries(lock.read_text())
    names = sorted(needed(PROJECT, extras) - {PROJECT})
    missing = [name for name in names if name not in entries]
    if missing:
        sys.exit(f"{lock} has no entry for {', '.join(missing)}: run `make lock`")
    return "".join(entry + "\n" for name in names for entry in entries[name])


if __name__ == "__main__":
    arguments = sys.argv[1:]
    lock = Path(arguments[0] if arguments else "requirements.lock")
    extras = [e for e in arguments[1].split(",") if e] if len(arguments) > 1 else EXTRAS
    sys.stdout.write(serving_lock(lock, extras))
