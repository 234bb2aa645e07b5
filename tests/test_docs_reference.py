"""The API reference (docs/reference/) renders every module of the package, each once, and
names no module that does not exist: a module added without its page entry fails here."""

from __future__ import annotations

import pkgutil
import re

import newsapi
from tests.support.files import ROOT

PAGES = sorted((ROOT / "docs" / "reference").glob("*.md"))


def modules() -> set[str]:
    found = {"newsapi"}
    for module in pkgutil.walk_packages(newsapi.__path__, "newsapi."):
        found.add(module.name)
    return found


def rendered() -> list[str]:
    return [
        name
        for page in PAGES
        for name in re.findall(r"^::: (\S+)$", page.read_text(), flags=re.MULTILINE)
    ]


def test_every_module_of_the_package_is_in_the_reference_once() -> None:
    names = rendered()
    assert sorted(modules() - set(names)) == []
    assert sorted({name for name in names if names.count(name) > 1}) == []


def test_the_reference_names_only_modules_that_exist() -> None:
    assert sorted(set(rendered()) - modules()) == []
