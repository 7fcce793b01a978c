"""Names and small helpers every part of the checker shares."""

from __future__ import annotations

from .. import syntax as s
from ..dossier import closest

OPERATOR_WORDS = {"*": "×", "-": "−"}
KIND_WORDS = {s.Requirement: "exigence", s.Definition: "définition", s.Amount: "montant", s.Table: "barème",
              s.Notice: "avis"}
PIECE_VAR = "pièce"
HOLDER_VAR = "titulaire"
# Where « clé » has a type: the scope of a barème row's value. Not a name a rule can bind (it has spaces).
ROW_KEY = "clé de la ligne"


def describe(item: s.Item) -> str:
    kind = item.kind if isinstance(item, s.Requirement) else KIND_WORDS[type(item)]
    title = getattr(item, "title", "")
    return f"{kind} {item.name}" + (f" ({title})" if title else "")


def suggest(word: str, candidates) -> str | None:
    match = closest(word, sorted(candidates))
    return f"vouliez-vous dire « {match} » ?" if match else None
