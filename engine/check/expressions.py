"""Expression checks: syntax → typed IR, names resolved, dossier fields typed from the schema, operators typed."""

from __future__ import annotations

from .. import ir
from .. import syntax as s
from ..dossier import allowed_values
from ..ir import ANY, BOOL, DATE, DECIMAL, DURATION, INT, MONEY, NUMERIC, REFERENCE_DATE, TEXT, Type
from ..program import CompiledTable
from ..source import Span
from ..values import Percentage
from .common import OPERATOR_WORDS, ROW_KEY, suggest

_LITERAL_TYPES = {s.Text: TEXT, s.DateLit: DATE, s.Boolean: BOOL, s.MoneyLit: MONEY, s.DurationLit: DURATION}


class ExpressionChecks(ir.ExpressionVisitor):
    """Mixed into the checker: needs its `err`, `items`, `visible`, `schema`, `_resolve_item`.

    A visitor of the syntax tree's expressions (`_e_Path`, `_e_Lookup`… included), each giving its typed IR."""

    def _condition(self, e: s.Expr, scope: dict, module: s.Module) -> ir.Expr:
        resolved = self.expr(e, scope, module)
        self._expect(resolved.type, BOOL, e.span, "une condition (vrai ou faux)")
        return resolved

    def _expect(self, actual: Type, expected: Type, span: Span, what: str) -> None:
        if ANY in (actual, expected) or actual.kind == expected.kind:
            return
        if actual.kind in NUMERIC and expected.kind in NUMERIC:
            return
        hint = "écrivez un montant en euros, par exemple 11 € ou 2,76 €" \
            if expected.kind == "montant" and actual.kind in NUMERIC else None
        self.err("type", f"attendu : {what} ; trouvé : {actual}", span, help=hint)

    def expr(self, e: s.Expr, scope: dict, module: s.Module) -> ir.Expr:
        """The typed IR of a syntax expression: its `type` is what the checks below found."""
        return self.visit(e, scope, module)

    def _literal(self, e, scope, module):
        return ir.Literal(e.value, type=_LITERAL_TYPES[type(e)], span=e.span)

    _e_Text = _e_DateLit = _e_Boolean = _e_MoneyLit = _e_DurationLit = _literal

    def _e_Number(self, e, scope, module):
        return ir.Literal(e.value, type=INT if isinstance(e.value, int) else DECIMAL, span=e.span)

    def _e_Percent(self, e, scope, module):
        # A ratio that reads back as « 50 % » in every explanation, and computes as the decimal 0.5.
        return ir.Literal(Percentage(e.value), type=DECIMAL, span=e.span)

    def _e_OutOfScope(self, e, scope, module):
        return ir.OutOfScope(e.message, span=e.span)

    def _e_KeyRef(self, e, scope, module):
        if ROW_KEY not in scope:
            self.err("cle-hors-ligne", "« clé » ne s'emploie que dans la valeur d'une ligne de barème à clés "
                     "numériques, où elle vaut la clé consultée", e.span)
            return ir.KeyRef(type=ANY, span=e.span)
        return ir.KeyRef(type=scope[ROW_KEY], span=e.span)

    def _e_IsSet(self, e, scope, module):
        operand = self.expr(e.operand, scope, module)
        if not isinstance(operand, ir.FieldRef):
            self.err("type", "« est renseigné » s'applique à un champ du dossier", e.span)
        return ir.IsSet(operand, span=e.span)

    def _e_Default(self, e, scope, module):
        operand = self.expr(e.operand, scope, module)
        fallback = self.expr(e.fallback, scope, module)
        self._expect(fallback.type, operand.type, e.fallback.span,
                     f"une valeur de même nature que « {e.operand.span.text} »")
        return ir.Default(operand, fallback, type=operand.type, span=e.span)

    def _e_Contains(self, e, scope, module):
        text, part = self._operands((e.text, e.part), TEXT, "un texte", scope, module)
        return ir.Contains(text, part, span=e.span)

    def _operands(self, operands, expected: Type, what: str, scope, module) -> list[ir.Expr]:
        resolved = [self.expr(o, scope, module) for o in operands]
        for o, r in zip(operands, resolved):
            self._expect(r.type, expected, o.span, what)
        return resolved

    def _e_UnitsBetween(self, e, scope, module):
        start, end = self._operands((e.start, e.end), DATE, "une date", scope, module)
        return ir.UnitsBetween(e.unit, start, end, span=e.span)

    def _e_Between(self, e, scope, module):
        start, end = self._operands((e.start, e.end), DATE, "une date", scope, module)
        return ir.Between(start, end, span=e.span)

    def _e_Rank(self, e, scope, module):
        if e.var not in scope:
            self.err("nom-inconnu", f"« rang de {e.var} » : « {e.var} » n'est pas un élément de liste parcouru ici",
                     e.span, help=suggest(e.var, scope))
        return ir.Rank(e.var, span=e.span)

    def _e_First(self, e, scope, module):
        collection, item = self._collection(e.collection, scope, module)
        return ir.First(collection, type=item, span=e.span)

    def _e_Prefix(self, e, scope, module):
        (operand,) = self._operands((e.operand,), TEXT, "un texte", scope, module)
        return ir.Prefix(e.count, operand, span=e.span)

    def _e_Or(self, e, scope, module):
        return ir.Or(tuple(self._condition(o, scope, module) for o in e.operands), span=e.span)

    def _e_And(self, e, scope, module):
        return ir.And(tuple(self._condition(o, scope, module) for o in e.operands), span=e.span)

    def _e_Not(self, e, scope, module):
        return ir.Not(self._condition(e.operand, scope, module), span=e.span)

    def _e_Negate(self, e, scope, module):
        operand = self.expr(e.operand, scope, module)
        t = operand.type
        if t.kind not in (*NUMERIC, "montant", "durée", "inconnu"):
            self.err("type", f"« − » s'applique à un nombre, un montant ou une durée, pas à : {t}", e.span)
        return ir.Negate(operand, type=t, span=e.span)

    def _e_Compare(self, e, scope, module):
        left, right = self.expr(e.left, scope, module), self.expr(e.right, scope, module)
        self._comparable(e, left.type, right.type)
        self._enum_literal(left.type, e.right)
        self._enum_literal(right.type, e.left)
        return ir.Compare(e.op, left, right, span=e.span)

    def _comparable(self, e: s.Compare, lt: Type, rt: Type) -> None:
        if ANY in (lt, rt):
            return
        same = lt.kind == rt.kind or (lt.kind in NUMERIC and rt.kind in NUMERIC)
        ordered = lt.kind in (*NUMERIC, "montant", "date", "durée")
        if not same:
            self.err("type", f"comparaison impossible entre {lt} et {rt}", e.span)
        elif e.op not in ("=", "!=") and not ordered:
            self.err("type", f"« {e.op} » ne s'applique pas à : {lt}", e.span)

    def _enum_literal(self, t: Type, other: s.Expr) -> None:
        if t.enum and isinstance(other, s.Text) and other.value not in t.enum:
            self.err("valeur-inconnue", f"« {other.value} » n'est pas une valeur possible ; valeurs : "
                     + allowed_values(t.enum), other.span, help=suggest(other.value, t.enum))

    def _e_Arith(self, e, scope, module):
        left, right = self.expr(e.left, scope, module), self.expr(e.right, scope, module)
        lt, rt = left.type, right.type
        result = _arith_type(e.op, lt, rt)
        if result is None:
            self.err("type", f"opération « {OPERATOR_WORDS.get(e.op, e.op)} » impossible entre {lt} et {rt}", e.span,
                     help="pour l'écart entre deux dates, écrivez « durée entre A et B »"
                     if lt.kind == rt.kind == "date" else None)
            result = ANY
        return ir.Arith(e.op, left, right, type=result, span=e.span)

    def _e_Quantifier(self, e, scope, module):
        collection, item = self._collection(e.collection, scope, module)
        condition = self._condition(e.condition, {**scope, e.var: item}, module)
        return ir.Quantifier(e.every, e.var, collection, condition, span=e.span)

    def _e_Count(self, e, scope, module):
        collection, item = self._collection(e.collection, scope, module)
        condition = None
        if e.condition is not None:
            condition = self._condition(e.condition, {**scope, e.var: item}, module)
        return ir.Count(collection, e.var, condition, span=e.span)

    def _collection(self, path: s.Path, scope, module) -> tuple[ir.Expr, Type]:
        resolved = self.expr(path, scope, module)
        t = resolved.type
        if t.kind not in ("liste", "inconnu"):
            self.err("type", f"« {path.dotted} » n'est pas une liste ({t})", path.span)
            return resolved, ANY
        return resolved, self._item_type(t)

    def _item_type(self, t: Type) -> Type:
        if t is ANY or t.schema is None:
            return ANY
        return self.schema.type_of(t.schema, t.pointer + "/*")

    def _list_item_type(self, parts: tuple[str, ...], span: Span) -> Type:
        return self._item_type(self._field(parts, {}, span))

    def _e_Lookup(self, e, scope, module):
        if e.table not in self.items or not isinstance(self.items[e.table][0], s.Table):
            tables = [n for n, (i, _) in self.items.items() if isinstance(i, s.Table)]
            self.err("nom-inconnu", f"barème inconnu : « {e.table} »", e.span, help=suggest(e.table, tables))
            return _invalid(e)
        value_type = self._resolve_item(e.table)
        table = self.resolved.get(e.table)
        if not isinstance(table, CompiledTable):
            return _invalid(e)
        key = self._lookup_key(e, table, scope, module)
        date = self._lookup_date(e, scope, module)
        return ir.TableRef(table, key, date, type=value_type, span=e.span)

    def _lookup_key(self, e: s.Lookup, table: CompiledTable, scope, module) -> ir.Expr | None:
        if e.key is None:
            if table.keyed:
                self.err("bareme-consultation", f"le barème « {e.table} » se consulte par clé : ajoutez « pour … »", e.span)
            return None
        key = self.expr(e.key, scope, module)
        kt = key.type
        if not table.keyed:
            self.err("bareme-consultation", f"le barème « {e.table} » n'a qu'une valeur par version : retirez « pour … »",
                     e.key.span)
        else:
            self._expect(kt, TEXT if table.textual else INT, e.key.span, f"une clé du barème « {e.table} »")
            self._enum_keys(table, kt)
        return key

    def _enum_keys(self, table: CompiledTable, kt: Type) -> None:
        """A barème looked up by a field with a list of values has no key outside that list (a typo never matches)."""
        if not (kt.enum and table.textual):
            return
        keys = [(k, r.span) for p in table.periods for k, r in p.texts.items()]
        keys += [(k, versions[0].span) for k, versions in table.groups.items()]
        for key, span in keys:
            if key not in kt.enum:
                self.err("valeur-inconnue", f"la clé « {key} » du barème « {table.name} » n'est pas une valeur possible "
                         f"de {kt.pointer or 'la clé consultée'} ; valeurs : " + allowed_values(kt.enum), span,
                         help=suggest(key, kt.enum))
        # A value the dossier may give and a version lacks stops the lookup for that dossier (an error in its report).
        for p in table.periods:
            lacking = [v for v in kt.enum if v not in p.texts]
            if lacking and not p.ranges:
                self.warn("bareme-incomplet", f"le barème « {table.name} » n'a pas de ligne pour ces valeurs de "
                         f"{kt.pointer or 'la clé consultée'} : " + ", ".join(lacking), p.period.span,
                         help="ajoutez une ligne par valeur, au besoin « hors barème \"raison\" »")

    def _lookup_date(self, e: s.Lookup, scope, module) -> ir.Expr:
        if e.date is not None:
            (date,) = self._operands((e.date,), DATE, "une date", scope, module)
            return date
        if REFERENCE_DATE not in self.items:
            self.err("date-de-reference", f"« barème {e.table} » sans « à la date … » prend la date de "
                     f"référence : définissez « {REFERENCE_DATE} »", e.span)
            return _invalid(e)
        reference = self.expr(s.Path((REFERENCE_DATE,), span=e.span), scope, module)
        self._expect(reference.type, DATE, e.span, f"une date pour « {REFERENCE_DATE} »")
        return reference

    def _e_Path(self, e, scope, module):
        head, *rest = e.parts
        if head in scope:
            if not rest:
                return ir.VarRef(head, type=scope[head], span=e.span)
            t = self._field(e.parts, scope, e.span)
            return ir.FieldRef(head, tuple(rest), type=t, span=e.span)
        if head in self.items and not rest:
            return self._item_ref(e, head, module)
        if head in self.items and isinstance(self.items[head][0], s.Definition):
            return self._definition_field(e, module)
        t = self._field(e.parts, scope, e.span, names=set(scope) | self.visible.get(module.path, set()))
        return ir.FieldRef(None, e.parts, type=t, span=e.span)

    def _definition_field(self, e: s.Path, module: s.Module):
        """« titulaire_principal.adresse » : a field of the list element a definition names."""
        head = s.Path(e.parts[:1], span=e.span)
        t = self._item_ref(head, e.parts[0], module).type
        if t.kind not in ("objet", "inconnu"):
            self.err("type", f"« {e.parts[0]} » ({t}) n'a pas de champ « {e.parts[1]} »", e.span)
            return _invalid(e)
        field = self._field(e.parts, {e.parts[0]: t}, e.span)
        return ir.FieldRef(e.parts[0], e.parts[1:], type=field, span=e.span, definition=True)

    def _item_ref(self, e: s.Path, name: str, module: s.Module):
        item = self.items[name][0]
        if name not in self.visible.get(module.path, set()):
            self.err("nom-non-importe", f"« {name} » est défini dans « {self.items[name][1].path} », "
                     "que ce fichier n'importe pas", e.span)
        if isinstance(item, (s.Requirement, s.Table, s.Notice)):
            self.err("type", f"« {name} » n'est pas une valeur (c'est une exigence, un avis ou un barème)", e.span)
            return _invalid(e)
        t = self._resolve_item(name)
        ref = ir.AmountRef if isinstance(item, s.Amount) else ir.DefRef
        return ref(name, type=t, span=e.span)

    def _field(self, parts, scope: dict, span: Span, names: set | None = None) -> Type:
        """The type of a dossier path, from the root or from a loop variable in scope."""
        if parts[0] in scope:
            t, rest, shown = scope[parts[0]], parts[1:], [parts[0]]
        else:
            t, rest, shown = self.root_type, parts, []
        for part in rest:
            props = self.schema.properties(t) if t.kind == "objet" else None
            if props is None or part not in props:
                self._unknown_field(part, shown, t, props, span, names)
                return ANY
            shown.append(part)
            t = self.schema.type_of(props[part], t.pointer + "/" + part)
        return t

    def _unknown_field(self, part, shown, t: Type, props, span, names) -> None:
        if t is ANY:
            return
        if props is None:
            self.err("type", f"« {'.'.join(shown)} » ({t}) n'a pas de champ « {part} »", span)
            return
        prefix = ".".join(shown) + "." if shown else ""
        candidates = {prefix + p for p in props} | (names or set())
        wanted = prefix + part
        if not shown and names is not None:
            self.err("nom-inconnu", f"« {part} » n'est ni une définition, ni un montant, ni un champ du dossier",
                     span, help=suggest(part, candidates))
            return
        self.err("champ-inconnu", f"« {wanted} » n'est pas un champ du dossier", span,
                 help=suggest(wanted, candidates))


def _invalid(e: s.Expr) -> ir.Expr:
    """What an expression in error checks to: the program is not built, so it is never evaluated."""
    return ir.Literal(None, type=ANY, span=e.span)


def _arith_type(op: str, lt: Type, rt: Type) -> Type | None:
    if ANY in (lt, rt):
        return ANY
    kinds = (lt.kind, rt.kind)
    numeric = lt.kind in NUMERIC and rt.kind in NUMERIC
    if numeric:
        return INT if kinds == ("entier", "entier") and op != "/" else DECIMAL
    table = {
        ("+", "montant", "montant"): MONEY, ("-", "montant", "montant"): MONEY,
        ("+", "date", "durée"): DATE, ("-", "date", "durée"): DATE,
        ("+", "durée", "durée"): DURATION, ("-", "durée", "durée"): DURATION,
        ("/", "montant", "montant"): DECIMAL,
    }
    if (op, *kinds) in table:
        return table[(op, *kinds)]
    if op == "*" and "montant" in kinds and (lt.kind in NUMERIC or rt.kind in NUMERIC):
        return MONEY
    if op == "/" and lt.kind == "montant" and rt.kind in NUMERIC:
        return MONEY
    return None
