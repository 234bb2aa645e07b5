"""The package's docstrings name code with Sphinx roles (:func:`load_artifact`); in the API
reference, Markdown renders the role's name as text before the code. This hook drops it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|attr|data|exc|obj|const):(?=<code>)")


def on_page_content(html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """mkdocs' hook: ``:func:<code>x</code>`` becomes ``<code>x</code>``."""
    return ROLE.sub("", html)
