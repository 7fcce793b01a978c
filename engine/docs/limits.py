"""Checked Program → the page « Ce que ces règles ne couvrent pas »: every « hors barème » and « non traité ».

A lawyer reviewing the pack's scope finds here, in one place, each case the rules leave out: where it is
written (linked to its page) and what the report says then.
"""

from __future__ import annotations

from .. import ir
from ..program import CompiledTable
from ..vocabulary import lower_first
from . import french as fr
from . import links
from .document import Bullets, Heading, Link, Page, Para, Phrase, Strong, phrase
from .legifrance import cite
from .prose import Context
from .tables import group_label, key_label, period_label

LIMITS = "non-couvert"  # the page's file name, and the kind of the links that lead to it
LIMITS_TITLE = "Ce que ces règles ne couvrent pas"


def limits_page(site) -> Page:
    blocks: list = [
        Para(("Les cas que les règles laissent de côté, dits par les règles elles-mêmes : où chacun est écrit, et "
              "ce que le rapport de vérification dit alors.",), "lead"),
        Heading(2, ("Cas hors barème",), "hors-bareme"),
        Para(("Un cas hors barème n'est jamais compté pour zéro : le rapport indique le montant « non couvert », "
              "avec la raison donnée ici, et un total qui en dépend n'est pas calculé.",), "note"),
        *_by_rule(site, [(k, _out_of_scope(site, k, item)) for k, item in site.items.items()]),
        Heading(2, ("Points que les règles ne traitent pas",), "non-traite"),
        Para(("Ce que chaque règle laisse de côté délibérément, et ce que fait alors le rapport.",), "note"),
        *_by_rule(site, [(k, [cite(n.text) for n in getattr(item, "not_handled", ())])
                         for k, item in site.items.items()]),
    ]
    return Page(LIMITS, LIMITS_TITLE, "Limites des règles", tuple(blocks))


def _by_rule(site, found: list[tuple[links.Key, list[Phrase]]]) -> list:
    blocks: list = []
    for key, lines in found:
        if lines:
            blocks += [Heading(3, phrase(site.link(key), f" ({site.kind_word(key)})")),
                       Bullets(tuple((Para(line),) for line in lines))]
    return blocks or [Para(("Aucun.",), "empty")]


def _reported(where, message: str) -> Phrase:
    return phrase(where, " : le rapport indique ", Strong("non couvert"), f" — « {message} »")


def _out_of_scope(site, key: links.Key, item) -> list[Phrase]:
    if isinstance(item, CompiledTable):
        return [_reported(where, value.message) for where, value in _table_cells(item)
                if isinstance(value, ir.OutOfScope)]
    ctx = site.prose.holder(Context(), getattr(item, "per_holder", False))
    valued = getattr(item, "value", None)  # a definition's or amount's « sauf si »
    value, exceptions = (valued.base, valued.cases) if valued is not None else (None, ())
    if isinstance(value, ir.OutOfScope):
        found = [_reported(("dans tous les cas où la règle s'applique",), value.message)]
    else:
        found = [_reported(("dans son calcul",), n.message) for n in _cases(value)]
    for exc in exceptions:
        found += [_reported(phrase("quand ", site.prose.clause(exc.condition, ctx)), n.message)
                  for n in _cases(exc.consequence)]
    seen = {id(n) for n in _cases((value, tuple(e.consequence for e in exceptions)))}
    return found + [_reported(("dans ses conditions",), n.message) for n in _cases(item) if id(n) not in seen]


def _cases(node) -> list[ir.OutOfScope]:
    return [n for n in links.nodes(node) if isinstance(n, ir.OutOfScope)]


def _table_cells(table: CompiledTable):
    """(where, value) for every row and dated value of a barème, where said as the table's page says it."""
    for cp in table.periods:
        when = lower_first(period_label(cp.period))
        if cp.period.value is not None:
            yield (fr.upper_first(when),), cp.period.value
        for row in cp.period.rows:
            yield (f"ligne {key_label(row.key)}, {when}",), row.value
    for key, versions in table.groups.items():
        for period in versions:
            shown = group_label(table, key)
            yield (f"{shown}, {lower_first(period_label(period))}",), period.value


def limits_link() -> Link:
    return Link(LIMITS, "", LIMITS_TITLE)
