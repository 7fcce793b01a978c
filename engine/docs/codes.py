"""The page « Codes des diagnostics »: every code `immat check` and `immat validate` give, what it means and how
to mend it, from the same catalogue as SARIF's rule help and `immat check --code`."""

from __future__ import annotations

from ..codes import CODES, SUBJECTS
from .document import Code, Heading, Link, Page, Para

CODES_PAGE = "codes"  # the page's file name, and the kind of the links that lead to it
CODES_TITLE = "Codes des diagnostics"


def codes_page() -> Page:
    blocks: list = [Para(("Chaque erreur ou avertissement d'immat porte un code, entre crochets après sa gravité "
                          "(par exemple « erreur[conflit-exceptions] ») : ce qu'il signale, et comment y remédier. "
                          "« immat check --code CODE » affiche la même explication.",), "lead")]
    for subject, heading in SUBJECTS.items():
        blocks.append(Heading(2, (heading,), f"sujet-{subject}"))  # apart from the codes, « syntaxe » is both
        for name, code in sorted((n, c) for n, c in CODES.items() if c.subject == subject):
            blocks += [Heading(3, (Code(name), " — ", code.title), name), Para((code.help,))]
    return Page(CODES_PAGE, CODES_TITLE, "Pour les auteurs des règles", tuple(blocks))


def codes_link() -> Link:
    return Link(CODES_PAGE, "", CODES_TITLE)
