"""The configuration reference, generated from the settings at build time (an mkdocs hook).

``docs/serve/configuration.md`` holds the placeholder ``<!-- config-reference -->``; this hook
replaces it with one table per group of
:func:`newsapi.settings_reference.documented_variables`, so the page always lists the
variables, defaults and constraints that the code reads, and nobody copies them by hand. A
page without the placeholder fails the build.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from mkdocs.exceptions import PluginError

from newsapi.settings_reference import Variable, documented_variables

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

PAGE = "serve/configuration.md"
PLACEHOLDER = "<!-- config-reference -->"
COLUMNS = ("variable", "type", "default", "meaning")


def cell(text: str) -> str:
    """Text as one Markdown table cell: no line breaks, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def code(text: str) -> str:
    """Text as inline code in a table cell (a dash when empty)."""
    if not text:
        return "-"
    return f"`` {cell(text)} ``" if "`" in text else f"`{cell(text)}`"


def kind(variable: Variable) -> str:
    """The type and its constraints: ``int``, > 0."""
    constraints = cell(variable.constraints)
    return f"{code(variable.type)}, {constraints}" if constraints else code(variable.type)


def render(variables: Iterable[Variable]) -> str:
    """One Markdown table per group, groups and rows in the order the settings give them."""
    groups: dict[str, list[Variable]] = {}
    for variable in variables:
        groups.setdefault(variable.group, []).append(variable)
    if not groups:
        raise PluginError("newsapi.settings_reference.documented_variables() returned no variable")
    parts = []
    for group, members in groups.items():
        rows = [
            "| " + " | ".join(COLUMNS) + " |",
            "|" + "---|" * len(COLUMNS),
            *(
                f"| {code(v.name)} | {kind(v)} | {code(v.default)} | {cell(v.description)} |"
                for v in members
            ),
        ]
        parts.append(f"## {group[:1].upper()}{group[1:]}\n\n" + "\n".join(rows))
    return "\n\n".join(parts)


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """mkdocs' hook: fill the configuration page's placeholder, leave other pages alone."""
    if page.file.src_uri != PAGE:
        return markdown
    if markdown.count(PLACEHOLDER) != 1:
        raise PluginError(f"{PAGE} must hold {PLACEHOLDER} exactly once")
    return markdown.replace(PLACEHOLDER, render(documented_variables()))
