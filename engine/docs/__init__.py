"""Checked Program + worked examples → the rule pack as a documentation site, in HTML or Markdown.

The pages are written for a lawyer who has never seen the rule syntax: conditions as French sentences,
dossier fields by their French titles, every rule with its legal source. `build_site` returns the files
to write (name → text); it reads and writes nothing itself.
"""

from __future__ import annotations

from ..program import Program
from .document import HtmlWriter, Link, MarkdownWriter
from . import links
from .site import Example, Site, nav, page_paths

FORMATS = {"html": (HtmlWriter, ".html"), "markdown": (MarkdownWriter, ".md")}
SITE_TITLE = "Règles de la carte grise"

__all__ = ["Example", "FORMATS", "build_site", "page_files"]


def build_site(program: Program, examples=(), fmt: str = "html") -> dict[str, str]:
    """Every page of the site as {file name: text}: index, then one page per rule, fields named from the
    pack's dossier schema."""
    writer_class, extension = FORMATS[fmt]
    site = Site(program, examples)

    def resolve(link: Link) -> str | None:
        target = site.target(link)
        if target is None:
            return None
        page, _, anchor = target.partition("#")
        return page + extension + (f"#{anchor}" if anchor else "")

    writer = writer_class(resolve, [(label, resolve(link)) for label, link in nav()], SITE_TITLE)
    return {page.path + extension: writer.page(page) for page in site.pages()}


def page_files(program: Program, fmt: str = "html") -> dict[tuple[str, str], str]:
    """The file of each rule's page in the site `build_site` writes, by (kind, name): « exigence » (for a
    recevabilité too), « avis », « montant », « définition », « barème »."""
    extension = FORMATS[fmt][1]
    return {key: path + extension for key, path in page_paths(links.items(program)).items()}
