"""Checked rule expressions → French sentences that a lawyer reads without knowing the rule syntax.

Two forms: `value` gives a noun phrase (« l'âge du véhicule », « la somme de … »), `clause` a sentence
that holds or not (« l'âge du véhicule est supérieur à 4 ans »). Dossier fields are named by the French
`title` of the dossier schema; booleans read as the schema's own « Vrai si … » sentence.
"""

from __future__ import annotations

import re

import attrs

from .. import ir
from ..frozen import frozen
from ..ir import DefRef, FieldRef, TableRef
from ..program import Program
from ..values import Duration, Money, Percentage, format_number, format_percent
from ..vocabulary import lower_first
from . import french as fr
from .document import Link, Phrase, Term, phrase, plain
from .fields import Fields
from .merge import NEGATED, OneOf, merge_one_of, merge_undeclared

ORDERED_KINDS = ("entier", "décimal", "montant", "durée")
UNIT_WORDS = {"an": "d'années entières", "ans": "d'années entières", "mois": "de mois entiers",
              "jour": "de jours", "jours": "de jours"}
# Verbs a schema sentence (« le véhicule est dispensé… ») may hinge on, to write its negation.
VERBS = frozenset({"est", "a", "fait", "porte", "sont", "ont", "peut", "doit", "dispose", "possède", "contient",
                   "bénéficie", "choisit", "remplit", "vérifie"})
COMPLEMENT = re.compile(r"\b(de|du|des|d'|à|au|aux)\b|\bd'")


@frozen
class NP:
    """A noun phrase: its words (article first) and what adjectives and verbs agree with."""

    words: Phrase
    gender: fr.Gender = fr.MASCULINE

    def of(self) -> Phrase:
        return preposition("de", self.words)

    def to(self) -> Phrase:
        return preposition("à", self.words)


def preposition(prep: str, words: Phrase) -> Phrase:
    if words and isinstance(words[0], str):
        return phrase(fr.contract(prep, words[0]), words[1:])
    first = plain(words[:1])
    glue = "d'" if prep == "de" and fr.starts_with_vowel(first) and first[:1].isalpha() else prep + " "
    return phrase(glue, words)


def _que(clause: Phrase) -> Phrase:
    return phrase("qu'" if fr.starts_with_vowel(plain(clause)) else "que ", clause)


def _si(clause: Phrase) -> Phrase:
    text = plain(clause)
    return phrase("s'" if text.startswith(("il ", "ils ")) else "si ", clause)


@frozen
class Var:
    """A name bound by « pour chaque », a quantifier or a piece filter: how to call it, and its list."""

    np: NP
    collection: NP
    pointer: str  # the schema pointer of one element, e.g. /titulaires/*


@frozen
class Context:
    scope: dict[str, Var] = attrs.field(factory=dict)
    implicit: str | None = None  # the variable a piece filter's fields belong to, left unsaid

    def bind(self, name: str, var: Var, implicit: bool = False) -> Context:
        return Context({**self.scope, name: var}, name if implicit else self.implicit)


@frozen
class Group:
    """Conditions too many or too nested for one sentence: all of them (every) or at least one."""

    every: bool
    items: tuple


Cond = Phrase | Group


@frozen
class Listing:
    """A sum or product too long for one sentence: « la somme de : » and one line per term."""

    lead: Phrase
    items: tuple[Phrase, ...]


class Prose(ir.ExpressionVisitor):
    """Renders the expressions of one checked Program, naming fields from its dossier schema."""

    prefix = "_v_"  # the noun phrase of each kind of expression; `clause` has its own, with a fallback

    def __init__(self, program: Program) -> None:
        self.program = program
        self.fields = Fields(program.schema.document)

    def node(self, pointer: str) -> dict:
        return self.fields.node(pointer)

    def enum(self, pointer: str) -> dict[str, str]:
        return self.fields.enum(pointer)

    def piece_label(self, piece_type: str) -> tuple[str, str]:
        return self.fields.piece_label(piece_type)

    def _field_hint(self, pointer: str) -> str:
        return self.fields.hint(pointer)

    # -------------------------------------------------------------- noun phrases

    def value(self, e, ctx: Context = Context(), enum: dict | None = None) -> NP:
        return self.visit(e, ctx, enum) if isinstance(e, ir.Literal) else self.visit(e, ctx)

    def fallback(self, e, *args):
        raise TypeError(f"aucune rédaction en français pour {type(e).__name__}")

    def _v_Literal(self, e, ctx, enum=None):
        value = e.value
        if isinstance(value, bool):
            return NP(("oui" if value else "non",))
        if isinstance(value, str):
            shown = f"« {value} »"
            return NP((Term(shown, enum[value]),) if enum and enum.get(value) else (shown,))
        if isinstance(value, Percentage):
            return NP((format_percent(value),))
        if isinstance(value, Money):
            return NP((str(value),))
        if isinstance(value, Duration):
            written = " ".join(e.span.text.split())  # « 6 mois », « 4 ans », as the rule says it
            return NP((written,), fr.Gender(plural=not written.startswith("1 ")))
        if e.type.kind == "date":
            return NP(("le ", fr.long_date(value)))
        return NP((format_number(value),))

    def _named(self, parts: tuple[str, ...]) -> NP:
        words = fr.humanize(parts[-1])
        return NP((fr.article(words), Term(words, f"nom « {'.'.join(parts)} » des règles")), fr.gender_of(words))

    def _fact(self, e, ctx) -> NP:
        return NP(phrase("le fait ", _que(self.clause(e, ctx))))

    _v_Or = _v_And = _v_Not = _v_Compare = _v_Quantifier = _v_IsSet = _v_Contains = _fact

    def _v_Arith(self, e, ctx):
        if e.op == "+" and {e.left.type.kind, e.right.type.kind} == {"date", "durée"}:
            date, duration = (e.left, e.right) if e.left.type.kind == "date" else (e.right, e.left)
            return NP(phrase(self.value(duration, ctx).words, " après ", self.value(date, ctx).words),
                      fr.Gender(feminine=True))
        if e.op in ("+", "*"):
            operands = self._flatten_arith(e, e.op)
            head = "la somme " if e.op == "+" else "le produit "
            parts = [self._operand(o, ctx, e.op).of() for o in operands]
            words = phrase(head, fr.join(parts, "et"))
            return NP(words, fr.Gender(feminine=e.op == "+"))
        left, right = self._operand(e.left, ctx, e.op), self._operand(e.right, ctx, e.op)
        if e.op == "-" and e.left.type.kind == "date" and e.right.type.kind == "durée":
            return NP(phrase(right.words, " avant ", left.words), fr.Gender(feminine=True))
        joint = " moins " if e.op == "-" else " divisé par "
        return NP(phrase(left.words, joint, right.words), left.gender)

    def formula(self, e, ctx: Context = Context()) -> Phrase | Listing:
        """A value for a page of its own: a long sum or product as a list of its terms."""
        if isinstance(e, ir.Arith) and e.op in ("+", "*"):
            operands = self._flatten_arith(e, e.op)
            words = [self.value(o, ctx).words for o in operands]
            long = sum(len(plain(w)) for w in words) > 120
            if len(operands) > 2 or long or any(isinstance(o, (ir.Arith, TableRef)) for o in operands):
                return Listing(("la somme de" if e.op == "+" else "le produit de",), tuple(words))
        return self.value(e, ctx).words

    def _flatten_arith(self, e, op: str) -> list:
        if isinstance(e, ir.Arith) and e.op == op:
            return self._flatten_arith(e.left, op) + self._flatten_arith(e.right, op)
        return [e]

    def _operand(self, e, ctx, op: str) -> NP:
        np = self.value(e, ctx)
        if isinstance(e, ir.Arith) and (e.op != op or op in ("-", "/")):
            return NP(phrase("(", np.words, ")"), np.gender)
        return np

    def _v_Negate(self, e, ctx):
        inner = self.value(e.operand, ctx)
        if isinstance(e.operand, ir.Literal):
            return NP(phrase("−", inner.words), inner.gender)
        return NP(phrase("l'opposé ", inner.of()))

    def _v_Between(self, e, ctx):
        start, end = self.value(e.start, ctx), self.value(e.end, ctx)
        return NP(phrase("la durée écoulée entre ", start.words, " et ", end.words), fr.Gender(feminine=True))

    def _v_UnitsBetween(self, e, ctx):
        start, end = self.value(e.start, ctx), self.value(e.end, ctx)
        unit = UNIT_WORDS.get(e.unit, f"de {e.unit}")
        ended = "écoulées" if "entières" in unit else "écoulés"
        return NP(phrase(f"le nombre {unit} {ended} entre ", start.words, " et ", end.words))

    def _v_Count(self, e, ctx):
        collection = self.value(e.collection, ctx)
        words = phrase("le nombre ", collection.of())
        if e.condition is not None:
            inner = ctx.bind(e.var, self._var(e.var, e.collection, ctx))
            which = " pour lesquelles " if collection.gender.feminine else " pour lesquels "
            words = phrase(words, which, self.clause(e.condition, inner))
        return NP(words)

    def _v_TableRef(self, e, ctx):
        return self._lookup(e.table.name, e.table.title, e.key, e.date, ctx)

    def _lookup(self, name: str, title: str, key, date, ctx) -> NP:
        words = phrase("la valeur du barème « ", Link("barème", name, lower_first(title)), " »")
        if key is not None:
            words = phrase(words, " pour ", self.value(key, ctx).words)
        when = self.value(date, ctx).to() if date is not None else ("à la date de référence",)
        return NP(phrase(words, ", dans sa version en vigueur ", when), fr.Gender(feminine=True))

    def _v_Default(self, e, ctx):
        operand = self.value(e.operand, ctx)
        fallback = self.value(e.fallback, ctx, self._enum_of(e.operand))
        it = "les" if operand.gender.plural else "l'"
        return NP(phrase(operand.words, " (", fallback.words, f" si le dossier ne {it}indique pas)"), operand.gender)

    def _v_Rank(self, e, ctx):
        var = ctx.scope.get(e.var)
        if var is None:
            return NP((f"la position de « {e.var} » dans sa liste",), fr.Gender(feminine=True))
        return NP(phrase("la position ", var.np.of(), " dans la liste ", var.collection.of()), fr.Gender(feminine=True))

    def _v_First(self, e, ctx):
        collection = self.value(e.collection, ctx)
        first = "la première " if collection.gender.feminine else "le premier "
        return NP(phrase(first, collection.of()), fr.Gender(feminine=collection.gender.feminine))

    def _v_Prefix(self, e, ctx):
        operand = self.value(e.operand, ctx)
        if e.count == 1:
            return NP(phrase("le premier caractère ", operand.of()))
        return NP(phrase(f"les {e.count} premiers caractères ", operand.of()), fr.Gender(plural=True))

    def _v_KeyRef(self, e, ctx):
        return NP(("la ", Term("clé", "« clé » des règles : la valeur avec laquelle le barème est consulté")),
                  fr.Gender(feminine=True))

    def _v_OutOfScope(self, e, ctx):
        return NP(("un cas que les règles ne couvrent pas (« ", e.message, " »)"))

    def _v_FieldRef(self, e, ctx):
        pointer = e.type.pointer
        if not pointer:
            return self._named(((e.base,) if e.base else ()) + e.parts)
        prefix = [p for p in pointer.split("/") if p][: -len(e.parts)]
        owner = self._owner(e, ctx)
        return self._chain(prefix, list(e.parts), owner)

    def _owner(self, e: FieldRef, ctx: Context) -> NP | None:
        if e.base is None or e.base == ctx.implicit:
            return None
        if e.definition:
            return self._v_DefRef(DefRef(e.base, type=ir.ANY, span=e.span), ctx)
        var = ctx.scope.get(e.base)
        return var.np if var else NP((f"« {e.base} »",))

    def _chain(self, prefix: list[str], parts: list[str], owner: NP | None) -> NP:
        pointer = "/" + "/".join(prefix + parts)
        title = lower_first(self.node(pointer).get("title") or fr.humanize(parts[-1]))
        gender = fr.gender_of(title)
        leaf = NP((fr.article(title, gender), Term(title, self._field_hint(pointer))), gender)
        parent = owner if len(parts) == 1 else self._chain(prefix, parts[:-1], owner)
        if parent is None or (owner is None and COMPLEMENT.search(title)):
            return leaf
        return NP(phrase(leaf.words, " ", parent.of()), gender)

    def _v_VarRef(self, e, ctx):
        var = ctx.scope.get(e.name)
        return var.np if var else NP((f"« {e.name} »",))

    def _v_DefRef(self, e, ctx):
        words = fr.humanize(e.name)
        gender = fr.gender_of(words)
        return NP((fr.article(words, gender), Link("définition", e.name, words)), gender)

    def _v_AmountRef(self, e, ctx):
        amount = self.program.amounts.get(e.name)
        title = lower_first(amount.title) if amount else fr.humanize(e.name)
        gender = fr.gender_of(title)
        return NP((fr.article(title, gender), Link("montant", e.name, title)), gender)

    def _var(self, name: str, collection, ctx: Context) -> Var:
        """How to call the element a quantifier or « pour chaque » walks over."""
        coll = self.value(collection, ctx)
        pointer = (collection.type.pointer if isinstance(collection, FieldRef) else "") + "/*"
        if len(name) > 2:
            noun = fr.humanize(name)
        else:
            noun = plain(coll.words).split(" ")[-1]  # « les titulaires » → titulaires
            title = self.node(pointer.removesuffix("/*")).get("title", "")
            noun = (title.split(" ")[0] if title else noun).lower()
            noun = noun[:-1] if noun.endswith("s") else noun
        gender = fr.Gender(feminine=fr.gender_of(noun).feminine)
        return Var(NP((fr.article(noun, gender), noun), gender), coll, pointer)

    def holder(self, ctx: Context, per_holder: bool) -> Context:
        """The scope of a « pour chaque titulaire » requirement."""
        if not per_holder:
            return ctx
        titles = self.node("/titulaires").get("title", "titulaires")
        collection = NP(("les ", Term(lower_first(titles), self._field_hint("/titulaires"))), fr.Gender(plural=True))
        return ctx.bind("titulaire", Var(NP(("le titulaire",)), collection, "/titulaires/*"))

    def piece(self, ctx: Context) -> Context:
        """The scope of a piece filter: `pièce` is the piece being looked at, left unsaid."""
        title = lower_first(self.node("/pieces").get("title", "pièces"))
        collection = NP(("les ", title), fr.Gender(True, True))
        return ctx.bind("pièce", Var(NP(("la pièce",), fr.Gender(True)), collection, "/pieces/*"), implicit=True)

    # -------------------------------------------------------------- clauses

    def clause(self, e, ctx: Context = Context(), neg: bool = False) -> Phrase:
        method = getattr(self, "_c_" + type(e).__name__, None)
        if method is not None:
            return method(e, ctx, neg)
        np = self.value(e, ctx)
        return phrase(np.words, " ", np.gender.verb("vaut", "valent"), " « non »" if neg else " « oui »")

    def _c_Literal(self, e, ctx, neg):
        if e.type.kind != "booléen":
            return self._default_value_clause(e, ctx, neg)
        return ("toujours",) if e.value != neg else ("jamais",)

    def _c_Not(self, e, ctx, neg):
        return self.clause(e.operand, ctx, not neg)

    def _c_And(self, e, ctx, neg):
        return self._connective(e, ctx, neg)

    _c_Or = _c_And

    def _connective(self, e, ctx, neg: bool) -> Phrase:
        every, items = self.operands(e, neg)
        parts = []
        for item, item_neg in items:
            if self._is_connective(item, item_neg, every) is not None:
                inner_every, inner = self.operands(item, item_neg)
                clauses = [self._item_clause(x, ctx, n) for x, n in inner]
                if inner_every:
                    parts.append(phrase("à la fois ", fr.join(clauses, "et")))
                else:
                    parts.append(phrase("soit ", [phrase(", soit " if i else "", c) for i, c in enumerate(clauses)]))
            else:
                parts.append(self._item_clause(item, ctx, item_neg))
        return phrase(fr.join(parts, "et" if every else "ou"))

    def _is_connective(self, e, neg: bool, outer_every: bool) -> bool | None:
        """Whether e joins clauses with the other connective than its parent (every, or None)."""
        if isinstance(e, ir.Not):
            return self._is_connective(e.operand, not neg, outer_every)
        if isinstance(e, (ir.And, ir.Or)):
            every = isinstance(e, ir.And) != neg
            return every if every != outer_every else None
        return None

    def operands(self, e, neg: bool) -> tuple[bool, list]:
        """A conjunction or disjunction as (every, [(operand, negated)…]), after De Morgan and flattening."""
        every = isinstance(e, ir.And) != neg
        items: list = []
        for operand in e.operands:
            items.extend(self._flatten(operand, neg, every))
        return every, merge_one_of(merge_undeclared(items, every), every)

    def _flatten(self, e, neg: bool, every: bool) -> list:
        if isinstance(e, ir.Not):
            return self._flatten(e.operand, not neg, every)
        if isinstance(e, (ir.And, ir.Or)) and (isinstance(e, ir.And) != neg) == every:
            return [x for operand in e.operands for x in self._flatten(operand, neg, every)]
        return [(e, neg)]

    def _item_clause(self, e, ctx, neg) -> Phrase:
        if isinstance(e, OneOf):
            left = self.value(e.left, ctx)
            rights = [self.value(r, ctx, self._enum_of(e.left)).words for r in e.rights]
            if e.equal:
                return phrase(left.words, " ", left.gender.verb("est", "sont"), " ", fr.join(rights, "ou"))
            nis = [phrase(" ni ", r) for r in rights]
            return phrase(left.words, " ", left.gender.verb("n'est", "ne sont"), nis)
        return self.clause(e, ctx, neg)

    def _c_Compare(self, e, ctx, neg):
        op = NEGATED[e.op] if neg else e.op
        for side, other in ((e.right, e.left), (e.left, e.right)):
            if isinstance(side, ir.Literal) and other.type.kind == side.type.kind == "booléen" and op in ("=", "!="):
                return self.clause(other, ctx, neg=side.value != (op == "="))
        if isinstance(e.left, ir.Rank) and isinstance(e.right, ir.Literal) and op in ("=", "!=") \
                and isinstance(e.right.value, int) and e.left.var in ctx.scope:
            var = ctx.scope[e.left.var]
            verb = "est" if op == "=" else "n'est pas"
            rank = fr.ordinal(e.right.value) if not var.np.gender.feminine else fr.ordinal(e.right.value).replace(
                "premier", "première")
            return phrase(var.np.words, f" {verb} {'la' if var.np.gender.feminine else 'le'} {rank} ",
                          "de la liste ", var.collection.of())
        left = self.value(e.left, ctx, self._enum_of(e.right))
        right = self.value(e.right, ctx, self._enum_of(e.left))
        kind = e.left.type.kind if e.left.type is not ir.ANY else e.right.type.kind
        return phrase(left.words, " ", self._relation(op, kind, left.gender, right))

    def _relation(self, op: str, kind: str | None, g: fr.Gender, right: NP) -> Phrase:
        est, nest = g.verb("est", "sont"), g.verb("n'est", "ne sont")
        if kind == "date":
            words = {"=": (est, None), "!=": (f"{nest} pas", None), "<": (f"{est} {g.adjective('antérieur')}", "à"),
                     ">": (f"{est} {g.adjective('postérieur')}", "à"),
                     "<=": (f"{nest} pas {g.adjective('postérieur')}", "à"),
                     ">=": (f"{nest} pas {g.adjective('antérieur')}", "à")}[op]
        elif kind in ORDERED_KINDS:
            words = {"=": (g.verb("vaut", "valent"), None), "!=": (g.verb("ne vaut pas", "ne valent pas"), None),
                     "<": (f"{est} {g.adjective('inférieur')}", "à"),
                     ">": (f"{est} {g.adjective('supérieur')}", "à"),
                     "<=": (f"{est} {g.adjective('inférieur')} ou {g.adjective('égal')}", "à"),
                     ">=": (f"{est} {g.adjective('supérieur')} ou {g.adjective('égal')}", "à")}[op]
        else:
            words = {"=": (est, None), "!=": (f"{nest} pas", None), "<": (f"{est} {g.adjective('inférieur')}", "à"),
                     ">": (f"{est} {g.adjective('supérieur')}", "à"),
                     "<=": (f"{est} {g.adjective('inférieur')} ou {g.adjective('égal')}", "à"),
                     ">=": (f"{est} {g.adjective('supérieur')} ou {g.adjective('égal')}", "à")}[op]
        verb, prep = words
        return phrase(verb, " ", right.to() if prep else right.words)

    def _enum_of(self, e) -> dict | None:
        if isinstance(e, ir.Default):
            return self._enum_of(e.operand)
        if isinstance(e, FieldRef) and e.type.enum and e.type.pointer:
            return self.enum(e.type.pointer)
        return None

    def _c_Quantifier(self, e, ctx, neg):
        collection = self.value(e.collection, ctx)
        inner = ctx.bind(e.var, self._var(e.var, e.collection, ctx))
        f = collection.gender.feminine
        if e.every and not neg:
            head, cond_neg = ("chacune" if f else "chacun"), False
        elif e.every:
            head, cond_neg = ("au moins une" if f else "au moins un"), True
        elif not neg:
            head, cond_neg = ("au moins une" if f else "au moins un"), False
        else:
            return phrase("aucune " if f else "aucun ", collection.of(), " ne remplit la condition : ",
                          self.clause(e.condition, inner))
        return phrase(head, " ", collection.of(), " remplit la condition : ", self.clause(e.condition, inner, cond_neg))

    def _c_IsSet(self, e, ctx, neg):
        said = self._predicate(e.operand, ctx) if isinstance(e.operand, FieldRef) else None
        if said is not None:
            return phrase("le dossier ne dit pas " if neg else "le dossier dit ", _si(said[0]))
        if isinstance(e.operand, FieldRef):
            said = "le dossier n'indique pas " if neg else "le dossier indique "
            return phrase(said, self.value(e.operand, ctx).words)
        np = self.value(e.operand, ctx)
        verb = np.gender.verb("n'est pas", "ne sont pas") if neg else np.gender.verb("est", "sont")
        return phrase(np.words, f" {verb} {np.gender.adjective('renseigné')}")

    def _c_Contains(self, e, ctx, neg):
        text, part = self.value(e.text, ctx), self.value(e.part, ctx)
        verb = text.gender.verb("ne contient pas", "ne contiennent pas") if neg else text.gender.verb("contient",
                                                                                                        "contiennent")
        return phrase(text.words, f" {verb} ", part.words)

    def _c_Default(self, e, ctx, neg):
        if e.operand.type.kind != "booléen":
            return self._default_value_clause(e, ctx, neg)
        # Said against the clause as written, so that a negated one does not read as its opposite.
        if isinstance(e.fallback, ir.Literal):
            assumed = "c'est le cas" if e.fallback.value != neg else "ce n'est pas le cas"
        else:
            assumed = self.clause(e.fallback, ctx, neg)
        return phrase(self.clause(e.operand, ctx, neg), " (si le dossier ne le dit pas : ", assumed, ")")

    def _default_value_clause(self, e, ctx, neg):
        np = self.value(e, ctx)
        return phrase(np.words, " ", np.gender.verb("vaut", "valent"), " « non »" if neg else " « oui »")

    def _c_FieldRef(self, e, ctx, neg):
        said = self._predicate(e, ctx)
        if said is None:
            np = self.value(e, ctx)
            return phrase(np.words, " ", np.gender.verb("vaut", "valent"), " « non »" if neg else " « oui »")
        positive, negative = said
        words = negative if neg else positive
        owner = self._owner(e, ctx) if e.definition else None
        return phrase("pour ", owner.words, ", ", words) if owner else words

    def _predicate(self, e: FieldRef, ctx) -> tuple[Phrase, Phrase] | None:
        """A boolean field as the sentence its schema description states (« Vrai si le véhicule est … »)."""
        pointer = e.type.pointer
        description = self.node(pointer).get("description", "") if pointer else ""
        if e.type.kind != "booléen" or not description.startswith("Vrai si "):
            return None
        # The sentence ends at a colon, a full stop, a bracket, « et non … » or an apposed participle.
        sentence = re.split(r" : |\. | \(| et non |\.$|, (?=\w+é(?:e|s|es)? )", description.removeprefix("Vrai si "),
                            maxsplit=1)[0]
        sentence = sentence.rstrip(" ,.")
        hint = self._field_hint(pointer)
        return (Term(sentence, hint),), (Term(negate(sentence), hint),)

    def _c_DefRef(self, e, ctx, neg):
        if e.type.kind != "booléen":
            np = self.value(e, ctx)
            return phrase(np.words, " ", np.gender.verb("vaut", "valent"), " « non »" if neg else " « oui »")
        words = fr.humanize(e.name)
        state = "n'est pas remplie" if neg else "est remplie"
        return ("la condition « ", Link("définition", e.name, words), f" » {state}")

    # -------------------------------------------------------------- conditions as blocks

    def condition(self, e, ctx: Context = Context(), neg: bool = False) -> Cond:
        """A condition as one sentence, or as a list when it has more than two parts or nests them."""
        if isinstance(e, ir.Not):
            return self.condition(e.operand, ctx, not neg)
        if not isinstance(e, (ir.And, ir.Or)):
            return self.clause(e, ctx, neg)
        every, items = self.operands(e, neg)
        nested = any(self._is_connective(x, n, every) is not None for x, n in items)
        sentence = self._connective(e, ctx, neg)
        if len(items) <= 2 and not nested and len(plain(sentence)) <= 180:
            return sentence
        return Group(every, tuple(self._condition_item(x, ctx, n) for x, n in items))

    def _condition_item(self, e, ctx, neg) -> Cond:
        if isinstance(e, OneOf):
            return self._item_clause(e, ctx, neg)
        return self.condition(e, ctx, neg)

    # -------------------------------------------------------------- pieces

    def _duration(self, e, ctx: Context) -> Phrase:
        """A duration as a reader wants it: « 6 mois », even when a definition names it (then named after)."""
        definition = self.program.definitions.get(e.name) if isinstance(e, DefRef) else None
        value = definition.value if definition is not None else None
        if value is not None and isinstance(value.base, ir.Literal) and not value.cases:
            named = self.value(e, ctx)
            return phrase(value.base.span.text, " (", named.words, ")")
        return self.value(e, ctx).words

    def piece_filter(self, f, ctx: Context) -> Phrase:
        if isinstance(f, ir.Dated):
            reference = self.value(f.reference, ctx)
            return phrase("datée d'au plus ", self._duration(f.max_age, ctx), " avant ", reference.words)
        if isinstance(f, ir.OfHolder):
            return ("au nom de ce titulaire",)
        inner = self.piece(ctx)
        clause = self.clause(f.condition, inner)
        condition = f.condition
        if isinstance(condition, ir.Compare) and isinstance(condition.left, FieldRef) \
                and condition.left.base == "pièce" and condition.left.type.kind != "booléen":
            return phrase("dont ", clause)
        return phrase(_si(clause))


def negate(sentence: str) -> str:
    """« le véhicule est dispensé … » → « le véhicule n'est pas dispensé … »."""
    words = sentence.split(" ")
    for i, word in enumerate(words):
        if word in VERBS:
            words[i] = ("n'" if fr.starts_with_vowel(word) else "ne ") + word + " pas"
            return " ".join(words)
    return "il n'est pas vrai que " + sentence
