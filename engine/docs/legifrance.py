"""Legal texts the rules cite → links to their Légifrance pages, for the documentation only.

Reports never carry these links: an instructor reads the citation, a lawyer follows it. The link goes to
the text as a whole (the code, the decree), since the ids of its articles are not known here.
"""

from __future__ import annotations

import re

from .document import Phrase, Web, phrase

CIBS = "https://www.legifrance.gouv.fr/codes/texte_lc/LEGITEXT000044595989"
CRPA = "https://www.legifrance.gouv.fr/codes/texte_lc/LEGITEXT000031366350"

# How the rules name each text, and its Légifrance page (ids checked by hand).
TEXTS = {
    "Code des impositions sur les biens et services": CIBS,
    "CIBS": CIBS,
    "Code de la route": "https://www.legifrance.gouv.fr/codes/texte_lc/LEGITEXT000006074228",
    "Code des relations entre le public et l'administration": CRPA,
    "CRPA": CRPA,
    "Code de procédure civile": "https://www.legifrance.gouv.fr/codes/texte_lc/LEGITEXT000006070716",
    "arrêté du 9 février 2009": "https://www.legifrance.gouv.fr/affichTexte.do?cidTexte=LEGITEXT000020245458",
    "décret n° 2008-850": "https://www.legifrance.gouv.fr/loda/id/JORFTEXT000019381473/",
}


def _pattern(name: str) -> str:
    # Authors write ' or ’, « n° » with or without its space, and any kind of space between words.
    words = re.escape(name).replace("'", "['’]").replace(r"n°\ ", "n[°º]\\s*")
    return words.replace(r"\ ", r"\s+")


# Longest names first, so « Code des relations … » is one link rather than a shorter name inside it.
CITED = re.compile(
    r"(?<!\w)(?:" + "|".join(_pattern(n) for n in sorted(TEXTS, key=len, reverse=True)) + r")(?!\w)",
    re.IGNORECASE,
)
_URLS = {re.compile(_pattern(n) + "$", re.IGNORECASE): url for n, url in TEXTS.items()}


def cite(text: str) -> Phrase:
    """`text` with the name of each known legal text linked to its page on Légifrance."""
    parts: list = []
    last = 0
    for match in CITED.finditer(text):
        parts += [text[last:match.start()], Web(match.group(), _url(match.group()))]
        last = match.end()
    return phrase(*parts, text[last:])


def _url(name: str) -> str:
    return next(url for pattern, url in _URLS.items() if pattern.match(name))
