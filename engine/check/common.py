"""Names and small helpers every part of the checker shares."""

from __future__ import annotations

import difflib

from .. import syntax as s

REFERENCE_DATE = "date_de_référence"
OPERATOR_WORDS = {"*": "×", "-": "−"}
KIND_WORDS = {s.Requirement: "exigence", s.Definition: "définition", s.Amount: "montant", s.Table: "barème",
              s.Notice: "avis"}
PIECE_VAR = "pièce"
HOLDER_VAR = "titulaire"


def describe(item: s.Item) -> str:
    kind = item.kind if isinstance(item, s.Requirement) else KIND_WORDS[type(item)]
    title = getattr(item, "title", "")
    return f"{kind} {item.name}" + (f" ({title})" if title else "")


def suggest(word: str, candidates) -> str | None:
    match = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f"vouliez-vous dire « {match[0]} » ?" if match else None
