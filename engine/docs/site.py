"""Checked Program + worked examples → the documentation's pages, as document nodes.

One page per requirement, notice, amount, definition and barème, and an index by purchase case and by
piece type. Each page says in French what the rule says, cites its source, links the rules it uses and
those that use it, and shows the fixture dossiers that exercise it.
"""

from __future__ import annotations

import attrs

from .. import ir
from ..coverage import coverage
from ..frozen import frozen
from ..outcome import AmountStatus, Outcome, Status
from ..program import Program
from . import french as fr
from . import links
from .cases import CASES, CaseFinder
from .codes import CODES_PAGE, codes_link, codes_page
from .document import (
    TERMS_HEADING, Bullets, Callout, Code, Definitions, Details, Heading, Link, Page, Para, Phrase, Strong, Table,
    phrase,
)
from .legifrance import cite
from .limits import LIMITS, LIMITS_TITLE, limits_link, limits_page
from .prose import Context, Group, Listing, Prose, preposition

KIND_TITLES = {"exigence": "Exigence", "recevabilité": "Condition de recevabilité", "définition": "Définition",
               "montant": "Montant", "barème": "Barème", "avis": "Avis au demandeur"}
KIND_WORDS = {"exigence": "exigence", "définition": "définition", "montant": "montant", "barème": "barème",
              "avis": "avis"}
NOT_HANDLED_HEADING = "Ce que cette règle ne traite pas"
FOLDED_EXAMPLES = 12  # more worked examples than this are folded, so the rule itself stays in view
STATUS = {Status.SATISFIED: "remplie", Status.MISSING: "non remplie", Status.NOT_APPLICABLE: "sans objet",
          Status.UNKNOWN: "information à compléter", Status.ERROR: "erreur"}


@frozen
class Example:
    """A fixture dossier used as a worked example: its folder name, what it shows, and its outcome."""

    name: str
    description: str
    outcome: Outcome


def page_paths(items) -> dict[links.Key, str]:
    """Each documented rule's page name (without extension), by (kind, name): unique, stable, readable."""
    prefixes = {"exigence": "exigence", "avis": "avis", "montant": "montant", "définition": "definition",
                "barème": "bareme"}
    paths: dict[links.Key, str] = {}
    taken: set[str] = {"index"}
    for kind, name in items:
        base = f"{prefixes[kind]}-{links.slug(name)}"
        path, n = base, 2
        while path in taken:
            path, n = f"{base}-{n}", n + 1
        taken.add(path)
        paths[(kind, name)] = path
    return paths


def _key(span) -> tuple[str, int]:
    # The form coverage gives what a fixture reached: (file, offset) of the rule's text.
    return (span.path, span.start)


class Site:
    def __init__(self, program: Program, examples=()) -> None:
        self.program = program
        self.prose = Prose(program)
        self.items = links.items(program)
        self.graph = links.graph(self.items)
        self.examples = sorted(examples, key=lambda e: e.name)
        self.reached = {e.name: coverage(program, [e.outcome]).reached for e in self.examples}
        self.paths = page_paths(self.items)

    def target(self, link: Link) -> str | None:
        """A link's page (without extension) and anchor, or None when nothing documents that name."""
        if link.kind in ("index", LIMITS, CODES_PAGE):
            return link.kind + (f"#{link.name}" if link.name else "")
        return self.paths.get((link.kind, link.name))

    # -------------------------------------------------------------- shared pieces

    def link(self, key: links.Key) -> Link:
        kind, name = key
        item = self.items[key]
        title = getattr(item, "title", None) or fr.upper_first(fr.humanize(name))
        return Link(kind, name, title)

    def cond_blocks(self, lead: str, cond, end: str = ".") -> list:
        if isinstance(cond, Group):
            what = ("toutes les conditions suivantes sont remplies :" if cond.every
                    else "l'une au moins des conditions suivantes est remplie :")
            return [Para(phrase(lead, what)), Bullets(tuple(tuple(self.cond_blocks("", c, "")) for c in cond.items),
                                                      style="conditions")]
        return [Para(phrase(lead, cond, end))]

    def value_blocks(self, lead: str, value, end: str = ".") -> list:
        if isinstance(value, Listing):
            return [Para(phrase(_after(lead, value.lead), " :")), Bullets(tuple((Para(i),) for i in value.items))]
        return [Para(phrase(_after(lead, value), end))]

    def source(self, text: str) -> Callout:
        return Callout("Source", (Para(cite(text)),), "source")

    def commentary(self, item) -> list:
        """The rule's notes for lawyers and what it leaves out: on its page, never in a report."""
        blocks: list = []
        for heading, texts in (("Notes de rédaction", item.notes), (NOT_HANDLED_HEADING, item.not_handled)):
            if texts:
                items = tuple((Para(cite(n.text)),) for n in texts)
                blocks += [Heading(2, (heading,)), Bullets(items, style="redaction")]
        return blocks

    def note(self, span) -> list:
        text = links.comment_above(span)
        return [Callout("Note des rédacteurs des règles", (Para((text,)),), "note")] if text else []

    def where(self, span, name: str) -> Para:
        return Para(phrase("Écrite dans ", Code(span.path), f", ligne {span.line} ; identifiant ", Code(name), "."),
                    "where")

    def relations(self, key: links.Key) -> list:
        """The rules this one uses (definitions with their meaning) and those that use it."""
        blocks = []
        definitions = self.graph.closure(key, "définition")
        if definitions:
            entries = tuple((phrase(Link(*k, fr.upper_first(fr.humanize(k[1])))), tuple(self.meaning(k)))
                            for k in definitions)
            blocks += [Heading(2, ("Définitions utilisées",)), Definitions(entries)]
        others = [k for k in self.graph.uses.get(key, ()) if k[0] in ("montant", "barème")]
        others += [k for k in self.graph.closure(key, "barème") if k not in others]
        if others:
            blocks += [Heading(2, ("Montants et barèmes utilisés",)), self.link_list(others)]
        users = self.graph.used_by.get(key, [])
        if users:
            blocks += [Heading(2, ("Utilisée par" if key[0] == "définition" else "Utilisé par",)),
                       self.link_list(users)]
        return blocks

    def link_list(self, keys) -> Bullets:
        return Bullets(tuple((Para(phrase(self.link(k), f" ({self.kind_word(k)})")),) for k in keys))

    def kind_word(self, key: links.Key) -> str:
        item = self.items[key]
        return "recevabilité" if getattr(item, "kind", "") == "recevabilité" else KIND_WORDS[key[0]]

    def meaning(self, key: links.Key) -> list:
        """A definition in one sentence or list, with each of its exceptions, for the pages that use it."""
        definition = self.program.definitions[key[1]]
        blocks = self._definition_value(definition, short=True)
        for exc in definition.value.cases:
            blocks += self.value_exception(exc, self._is(definition, pronoun=True) + " ")
        return blocks

    @staticmethod
    def _append(block, words: Phrase):
        if isinstance(block, Para):
            return Para(phrase(block.text, words), block.style)
        return block

    def _definition_value(self, definition: ir.Definition, short: bool = False) -> list:
        if definition.type.kind == "booléen":
            lead = "Remplie quand " if short else "Cette condition est remplie quand "
            return self.cond_blocks(lead, self.prose.condition(definition.value.base))
        name = fr.humanize(definition.name)
        subject = fr.upper_first(fr.article(name) + name)
        return self.value_blocks("Vaut " if short else f"{subject} {self._is(definition)} ",
                                 self.prose.formula(definition.value.base))

    def _is(self, definition: ir.Definition, pronoun: bool = False) -> str:
        """« vaut » for a number or an amount, « est » otherwise; with « il » or « elle » when asked."""
        gender = fr.gender_of(fr.humanize(definition.name))
        numeric = definition.type.kind in ("entier", "décimal", "montant")
        verb = gender.verb("vaut", "valent") if numeric else gender.verb("est", "sont")
        if not pronoun:
            return verb
        subject = ("elles" if gender.feminine else "ils") if gender.plural else ("elle" if gender.feminine else "il")
        return f"{subject} {verb}"

    def examples_table(self, header: str, rows: list, fold: bool = True) -> list:
        """The fixture dossiers that exercise a rule: each with its result here, then what it shows."""
        blocks: list = [Heading(2, ("Exemples tirés des dossiers de test",))]
        if not rows:
            return blocks + [Para(("Aucun dossier d'exemple ne fait jouer cette règle.",), "empty")]
        intro = Para((f"{header} pour chaque dossier d'exemple qui fait jouer cette règle, puis ce que le "
                      "dossier illustre.",), "note")
        entries = Definitions(tuple(rows))
        if fold and len(rows) > FOLDED_EXAMPLES:
            return blocks + [intro, Details((f"Les {len(rows)} dossiers d'exemple",), (entries,))]
        return blocks + [intro, entries]

    def _example_row(self, example: Example, result: Phrase) -> tuple:
        return (phrase(Code(example.name), " — ", result), (Para((example.description or "—",)),))

    # -------------------------------------------------------------- requirements

    def requirement(self, req: ir.Requirement) -> Page:
        ctx = self.prose.holder(Context(), req.per_holder)
        receivable = req.kind == "recevabilité"
        consequence = ("Si elle n'est pas remplie, la demande est rejetée." if receivable else
                       "Si elle n'est pas remplie, le dossier est incomplet : le demandeur doit le compléter.")
        blocks: list = [Para((consequence,), "lead"), self.source(req.source), *self.note(req.span),
                        *self.commentary(req), Heading(2, ("Quand elle s'applique",))]
        first_only, applies = first_holder_only(req)
        if first_only:
            blocks.append(Para(("Elle est vérifiée pour le titulaire seul, le premier de la liste des titulaires, "
                                "et non pour les cotitulaires.",)))
        elif req.per_holder:
            blocks.append(Para(("Elle est vérifiée pour chaque titulaire, séparément.",)))
        if applies is None:
            blocks.append(Para(("Elle s'applique à toutes les demandes.",)))
        else:
            blocks += self.cond_blocks("Elle s'applique quand ", self.prose.condition(applies, ctx))
        if req.demand.cases:
            blocks += [Heading(2, ("Exceptions",)), self._exceptions(req, ctx)]
        blocks += self.demand(req.demand.base, ctx, "Ce qu'il faut fournir")
        blocks += [Heading(2, ("Message au demandeur",)), Callout("Message", (Para((req.message,)),), "message")]
        blocks += self.relations(("exigence", req.name))
        blocks += self.examples_table("Le résultat de cette exigence", self._requirement_examples(req), fold=False)
        blocks.append(self.where(req.span, req.name))
        kicker = KIND_TITLES[req.kind] + (f" — {holders(req)}" if req.per_holder else "")
        return Page(self.paths[("exigence", req.name)], req.title, kicker, tuple(blocks))

    def _exceptions(self, req: ir.Requirement, ctx) -> Bullets:
        items = []
        cases = req.demand.cases
        for i, exc in enumerate(cases, start=1):
            label = f"Exception {i} — sauf si " if len(cases) > 1 else "Sauf si "
            body = self.cond_blocks(label, self.prose.condition(exc.condition, ctx), "")
            if exc.consequence is None:
                body[-1] = self._append(body[-1], (" : l'exigence ne s'applique pas.",))
                if isinstance(body[-1], Bullets):
                    body.append(Para(("Alors l'exigence ne s'applique pas.",)))
            else:
                body += self.demand(exc.consequence, ctx, None, lead="Il faut alors, à la place, ")
            items.append(tuple(body))
        return Bullets(tuple(items))

    def demand(self, demand: ir.Demand, ctx, heading: str | None, lead: str = "Il faut ") -> list:
        blocks: list = []
        if isinstance(demand, ir.ConditionDemand):
            if heading:
                blocks.append(Heading(2, ("Ce qui est exigé",)))
            what = "que le dossier remplisse cette condition : "
            return blocks + self.cond_blocks(lead + what, self.prose.condition(demand.condition, ctx))
        if heading:
            blocks.append(Heading(2, (heading,)))
        several = len(demand.alternatives) > 1
        blocks.append(Para((lead + ("fournir l'une des pièces suivantes (une seule suffit) :" if several
                                    else "fournir la pièce suivante :"),)))
        blocks.append(Bullets(tuple(self._alternative(spec, ctx) for spec in demand.alternatives), joiner="ou",
                              style="alternatives"))
        return blocks

    def _alternative(self, spec: ir.PieceSpec, ctx) -> tuple:
        label, description = self.prose.piece_label(spec.piece_type)
        blocks: list = [Para(phrase(Strong(label), " ", Code(spec.piece_type)))]
        if description and description.rstrip(".") != label:
            blocks.append(Para((description,), "note"))
        if spec.filters:
            blocks.append(Bullets(tuple((Para(self.prose.piece_filter(f, ctx)),) for f in spec.filters)))
        return tuple(blocks)

    def _requirement_examples(self, req: ir.Requirement) -> list:
        keys = {_key(req.span)} | {_key(e.span) for e in req.demand.cases}
        rows = []
        for example in self.examples:
            reached = self.reached[example.name]
            if not keys & reached:
                continue
            results = [o for o in example.outcome.requirements if o.rule.id == req.name]
            lines = [self._requirement_result(req, o, reached) for o in results]
            joined = phrase(*[phrase("; " if i else "", line) for i, line in enumerate(lines)])
            rows.append(self._example_row(example, joined))
        return rows

    def _requirement_result(self, req: ir.Requirement, o, reached) -> Phrase:
        tone = {Status.SATISFIED: "ok", Status.MISSING: "ko", Status.ERROR: "ko"}.get(o.status)
        words = phrase(f"{o.holder.name} : " if o.holder else "", Strong(STATUS[o.status], tone))
        held = [i for i, e in enumerate(req.demand.cases, start=1) if _key(e.span) in reached]
        if held and o.status is Status.NOT_APPLICABLE:
            words = phrase(words, " (exception" + (f" {held[0]}" if len(req.demand.cases) > 1 else "") + ")")
        used = [spec for d in req.demands() if isinstance(d, ir.PieceDemand) and len(d.alternatives) > 1
                for spec in d.alternatives if _key(spec.span) in reached]
        if used and o.status is Status.SATISFIED:
            words = phrase(words, " — pièce retenue : ", self.prose.piece_label(used[0].piece_type)[0])
        if o.missing_fields:
            words = phrase(words, " — à compléter : ", ", ".join(o.missing_fields))
        if o.error:
            words = phrase(words, f" — {o.error}")
        return words

    # -------------------------------------------------------------- notices, amounts, definitions

    def notice(self, notice: ir.Notice) -> Page:
        blocks: list = [Para(("Une information donnée au demandeur ; elle ne change pas le verdict.",), "lead"),
                        self.source(notice.source), *self.note(notice.span), *self.commentary(notice),
                        Heading(2, ("Quand il est donné",))]
        if notice.applies is None:
            blocks.append(Para(("Il est donné pour toutes les demandes.",)))
        else:
            blocks += self.cond_blocks("Il est donné quand ", self.prose.condition(notice.applies))
        if notice.when_pieces_missing:
            blocks.append(Para(("Et seulement quand une pièce exigée manque.",)))
        blocks += [Heading(2, ("Message",)), Callout("Message", (Para((notice.message,)),), "message")]
        blocks += self.relations(("avis", notice.name))
        rows = [self._example_row(e, (Strong("affiché"),)) for e in self.examples
                if any(n.rule.id == notice.name for n in e.outcome.notices)]
        blocks += self.examples_table("Le résultat", rows)
        blocks.append(self.where(notice.span, notice.name))
        return Page(self.paths[("avis", notice.name)], notice.title, KIND_TITLES["avis"], tuple(blocks))

    def amount(self, amount: ir.Amount) -> Page:
        blocks: list = [self.source(amount.source), *self.note(amount.span), *self.commentary(amount),
                        Heading(2, ("Quand il est dû",))]
        if amount.applies is None:
            blocks.append(Para(("Il est dû pour toutes les demandes.",)))
        else:
            blocks += self.cond_blocks("Il est dû quand ", self.prose.condition(amount.applies))
            blocks.append(Para(("Sinon, il compte pour 0 € dans les totaux.",), "note"))
        blocks += [Heading(2, ("Calcul",)),
                   *self.value_blocks("Il est égal à ", self.prose.formula(amount.value.base))]
        blocks += self._value_exceptions(amount.value.cases, "il est égal à ")
        blocks += self.relations(("montant", amount.name))
        blocks += self.examples_table("Le montant calculé", self._amount_examples(amount))
        blocks.append(self.where(amount.span, amount.name))
        return Page(self.paths[("montant", amount.name)], amount.title, KIND_TITLES["montant"], tuple(blocks))

    def _value_exceptions(self, exceptions, conclusion: str) -> list:
        if not exceptions:
            return []
        items = tuple(tuple(self.value_exception(exc, conclusion)) for exc in exceptions)
        return [Heading(2, ("Exceptions",)), Bullets(items)]

    def value_exception(self, exc: ir.Case, conclusion: str) -> list:
        """« Sauf si … : value. », or, when the condition is a list, the list then « Alors … value. »."""
        body = self.cond_blocks("Sauf si ", self.prose.condition(exc.condition), "")
        if isinstance(exc.consequence, ir.OutOfScope):
            value = phrase("les règles ne couvrent pas ce cas (", Strong("hors barème"),
                           f") : « {exc.consequence.message} »")
        else:
            value = _after(conclusion, self.prose.value(exc.consequence).words)
        if isinstance(body[-1], Para):
            body[-1] = self._append(body[-1], phrase(" : ", value, "."))
        else:
            body.append(Para(phrase("Alors ", value, ".")))
        return body

    def _amount_examples(self, amount: ir.Amount) -> list:
        keys = {_key(amount.span)} | {_key(e.span) for e in amount.value.cases}
        rows = []
        for example in self.examples:
            if not keys & self.reached[example.name]:
                continue
            for o in example.outcome.amounts:
                if o.rule.id == amount.name:
                    rows.append(self._example_row(example, self._amount_result(o)))
        return rows

    @staticmethod
    def _amount_result(o) -> Phrase:
        if o.status is AmountStatus.COMPUTED:
            return (Strong(str(o.value)),)
        words = {AmountStatus.NOT_APPLICABLE: "sans objet", AmountStatus.NOT_COVERED: "non couvert",
                 AmountStatus.UNKNOWN: "information à compléter", AmountStatus.ERROR: "erreur"}[o.status]
        detail = o.error or (", ".join(o.missing_fields) if o.missing_fields else "")
        return phrase(Strong(words), f" — {detail}" if detail else "")

    def definition(self, definition: ir.Definition) -> Page:
        key = ("définition", definition.name)
        blocks: list = [*self.note(definition.span), Heading(2, ("Ce qu'elle désigne",)),
                        *self._definition_value(definition)]
        blocks += self._value_exceptions(definition.value.cases, self._is(definition, pronoun=True) + " ")
        blocks += self.relations(key)
        blocks.append(self.where(definition.span, definition.name))
        title = fr.upper_first(fr.humanize(definition.name))
        return Page(self.paths[key], title, KIND_TITLES["définition"], tuple(blocks))

    # -------------------------------------------------------------- the index

    def index(self) -> Page:
        blocks: list = [
            Para(("Les règles qu'applique immat pour vérifier une demande de certificat d'immatriculation "
                  "(carte grise), rédigées en français à partir des règles vérifiées. Chaque page cite la source "
                  "légale de la règle, dit quand elle s'applique, ce qu'elle exige, et montre des dossiers "
                  "d'exemple.",),
                 "lead"),
            *self._pack(),
            Heading(2, ("Comment lire ces pages",)),
            Bullets(tuple((Para((t,)),) for t in READING_NOTES)),
            Heading(2, (LIMITS_TITLE,), "limites"),
            Para(phrase("Les cas hors barème et les points qu'une règle ne traite pas, avec ce que le rapport dit "
                        "alors, sont réunis sur une page : ", limits_link(), ".")),
            Para(phrase("Pour les auteurs des règles, ce que signale chaque code d'erreur ou d'avertissement : ",
                        codes_link(), ".")),
            Heading(2, ("Par cas d'achat",), "cas"),
            *self._by_case(),
            Heading(2, ("Par pièce justificative",), "pieces"),
            self._by_piece(),
        ]
        blocks += self._catalogue()
        return Page("index", "Règles de la demande de certificat d'immatriculation", "", tuple(blocks))

    def _pack(self) -> list:
        # A lawyer who quotes these pages can say which rules they describe, as every report does.
        pack = self.program.pack
        return [Para((f"Règles décrites : {pack.signed()}.",), "note")] if pack is not None else []

    def _by_case(self) -> list:
        origins = tuple(self.prose.enum("/achat/origine")) or ("france",)
        finder = CaseFinder(self.program, origins)
        buckets: dict[str, list] = {"tous": []} | {c.key: [] for c in CASES}
        for req in self.program.requirements:
            exempt = [e.condition for e in req.demand.cases if e.consequence is None]
            found = finder.cases(req.applies, exempt)
            for bucket in (["tous"] if len(found) in (0, len(CASES)) else [c.key for c in found]):
                buckets[bucket].append(req)
        blocks: list = []
        titles = {"tous": "Dans tous les cas"} | {c.key: c.title for c in CASES}
        for key, reqs in buckets.items():
            blocks.append(Heading(3, (titles[key],), f"cas-{key}"))
            if key == "tous":
                blocks.append(Para(("Ces règles valent quel que soit le cas d'achat (elles peuvent dépendre "
                                    "d'autres circonstances).",), "note"))
            blocks.append(self._requirement_list(reqs) if reqs else Para(("Aucune règle propre.",), "empty"))
        return blocks

    def _requirement_list(self, reqs) -> Bullets:
        items = []
        for req in reqs:
            words = phrase(self.link(("exigence", req.name)))
            if req.kind == "recevabilité":
                words = phrase(words, " — ", Strong("recevabilité"))
            if req.per_holder:
                words = phrase(words, f" ({holders(req)})")
            items.append((Para(words),))
        return Bullets(tuple(items))

    def _by_piece(self) -> Table:
        accepted: dict[str, list] = {t: [] for t in self.prose.enum("/pieces/*/type")}
        for req in self.program.requirements:
            for demand in req.demands():
                for spec in getattr(demand, "alternatives", ()):
                    accepted.setdefault(spec.piece_type, [])
                    if req not in accepted[spec.piece_type]:
                        accepted[spec.piece_type].append(req)
        rows = []
        for piece_type, reqs in accepted.items():
            label = self.prose.piece_label(piece_type)[0]
            users = phrase(*[phrase("; " if i else "", self.link(("exigence", r.name))) for i, r in enumerate(reqs)])
            rows.append((phrase(Strong(label), " ", Code(piece_type)), users or ("aucune exigence",)))
        return Table((("Pièce",), ("Acceptée par",)), tuple(rows))

    def _catalogue(self) -> list:
        sections = (("Toutes les exigences", "exigence", "exigences"), ("Avis au demandeur", "avis", "avis"),
                    ("Montants", "montant", "montants"), ("Barèmes", "barème", "baremes"),
                    ("Définitions", "définition", "definitions"))
        blocks: list = []
        for title, kind, anchor in sections:
            keys = [k for k in self.items if k[0] == kind]
            if kind == "définition":
                keys.sort(key=lambda k: links.slug(k[1]))
            blocks += [Heading(2, (title,), anchor), self._catalogue_list(keys)]
        return blocks

    def _catalogue_list(self, keys) -> Bullets | Para:
        if not keys:
            return Para(("Aucune.",), "empty")
        items = []
        for key in keys:
            words = phrase(self.link(key), " ", Code(key[1]))
            if self.kind_word(key) == "recevabilité":
                words = phrase(words, " — ", Strong("recevabilité"))
            items.append((Para(words),))
        return Bullets(tuple(items))

    def pages(self) -> list[Page]:
        from .tables import table_page

        pages = [self.index()]
        pages += [self.requirement(r) for r in self.program.requirements]
        pages += [self.notice(n) for n in self.program.notices]
        pages += [self.amount(a) for a in self.program.amounts.values()]
        pages += [self.definition(d) for d in self.program.definitions.values()]
        pages += [table_page(self, t) for t in self.program.tables.values()]
        return pages + [limits_page(self), codes_page()]


def _is_first_rank(e) -> bool:
    return (isinstance(e, ir.Compare) and e.op == "=" and isinstance(e.left, ir.Rank) and e.left.var == "titulaire"
            and isinstance(e.right, ir.Literal) and e.right.value == 1 and e.right.type.kind == "entier")


def first_holder_only(req: ir.Requirement) -> tuple[bool, ir.Expr | None]:
    """Whether a « pour chaque titulaire » requirement holds only for the first holder (« rang de titulaire
    = 1 », alone or in a top-level « et »), and its condition without that test."""
    if not req.per_holder or req.applies is None:
        return False, req.applies
    operands = req.applies.operands if isinstance(req.applies, ir.And) else (req.applies,)
    rest = tuple(o for o in operands if not _is_first_rank(o))
    if len(rest) == len(operands):
        return False, req.applies
    return True, (None if not rest else rest[0] if len(rest) == 1 else attrs.evolve(req.applies, operands=rest))


def holders(req: ir.Requirement) -> str:
    """Whom a « pour chaque titulaire » requirement is checked for, as the index and its page say it."""
    return "pour le titulaire, le premier de la liste" if first_holder_only(req)[0] else "pour chaque titulaire"


def _after(lead: str, words: Phrase) -> Phrase:
    """« Il est égal à » + « le produit de … » → « Il est égal au produit de … »."""
    if lead.endswith(" à "):
        return phrase(lead[:-2], preposition("à", words))
    return phrase(lead, words)


READING_NOTES = (
    "Les informations du dossier sont suivies d'un numéro (et soulignées en pointillé) : la liste « "
    + TERMS_HEADING + " », en bas de chaque page, donne sous ce numéro le champ correspondant et sa description.",
    "« si le dossier ne le dit pas : … » donne ce qui est retenu quand le dossier ne dit rien sur ce point (une "
    "déclaration que le demandeur n'a pas faite).",
    "Entre plusieurs pièces reliées par « ou », une seule suffit.",
    "« datée d'au plus 6 mois avant » une date : la pièce doit dater de cette période, et pas d'après cette "
    "date.",
    "Une exigence non remplie rend le dossier incomplet ; une condition de recevabilité non remplie fait rejeter "
    "la demande.",
    "Les noms en caractères de code (par exemple controle_technique) sont les identifiants des règles et des "
    "pièces, tels que les rapports de vérification les citent.",
)


def nav() -> list[tuple[str, Link]]:
    return [("Accueil", Link("index", "", "")), ("Par cas d'achat", Link("index", "cas", "")),
            ("Par pièce", Link("index", "pieces", "")), ("Montants", Link("index", "montants", "")),
            ("Barèmes", Link("index", "baremes", "")), ("Définitions", Link("index", "definitions", "")),
            ("Non couvert", limits_link())]
