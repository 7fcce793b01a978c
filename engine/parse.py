"""Rule text → syntax tree, or located syntax errors written in French words."""

from __future__ import annotations

import datetime
import functools
import io
import re
from decimal import Decimal

import lark
from lark import Token, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import cache
from . import syntax as s
from .diagnostics import Diagnostic, DiagnosticError, error
from .source import SourceFile, Span, shipped
from .values import Duration, Money

UNIT_MONTHS = {"an": 12, "ans": 12, "mois": 1}

# A rule file is a text a lawyer writes: the largest shipped one is under 20 000 characters. The bound keeps a
# stray file (a data dump given as --rules) from costing minutes of parsing.
MAX_FILE_CHARS = 1_000_000

# Lark names the terminals it expected; a reader wants words.
EXPECTED_WORDS = {
    "NAME": "un nom",
    "STRING": "un texte entre guillemets",
    "NUMBER": "un nombre",
    "DATE": "une date JJ/MM/AAAA",
    "KIND": "« exigence » ou « recevabilité »",
    "UNIT": "une unité (jours, mois, ans)",
    "EURO": "« € »",
    "PERCENT": "« % »",
    "COMP_OP": "une comparaison (=, ≠, <, ≤, >, ≥)",
    "ADD_OP": "« + » ou « − »",
    "MUL_OP": "« × » ou « / »",
    "LPAR": "« ( »",
    "RPAR": "« ) »",
    "COLON": "« : »",
    "EQUAL": "« = »",
    "DOT": "« . »",
    "$END": "la fin du fichier",
    "_S_APPLIQUE": "« s'applique »",
    "_D_AU_PLUS": "« d'au plus »",
    "_EN_VIGUEUR": "« en vigueur »",
    "_JUSQU_A": "« jusqu'à »",
    "_A_PARTIR_DE": "« à partir de »",
    "_A_LA_DATE": "« à la date »",
    "_AU_MOINS_UN": "« au moins un »",
    "_EST_RENSEIGNE": "« est renseigné »",
    "_N_EST_PAS_RENSEIGNE": "« n'est pas renseigné »",
    "_QUAND_PIECES_MANQUENT": "« quand des pièces manquent »",
    "_HORS_BAREME": "« hors barème »",
    "_PREMIERS_CARACTERES": "« premiers caractères »",
    "_A_DEFAUT": "« à défaut »",
    "_NON_TRAITE": "« non traité »",
    "LABEL": "un libellé entre guillemets français « … »",
}

UNCLOSED_LABEL = "le libellé d'une clé s'écrit après elle, entre « et » sur la même ligne : \"84\" « Auvergne »"

# What an item holds where a clause is not written.
_UNWRITTEN = {"title": "", "source": "", "message": "", "per_holder": False, "when_pieces_missing": False}

# Where a value or a clause may end, for the mistake of a « note » written after it: the parser state after
# the last token of each, whatever rule it is in.
_ENDINGS = ("1", "6 mois", "a", "a.b", '"a"', "vrai", "(a)", "50 %", "1 €", "01/01/2020", "rang de t",
            "nombre de l", "barème t", 'hors barème "x"', "a est renseigné")
_CLAUSE_ENDINGS = ('exigence e pour chaque titulaire', 'exigence e exige une pièce "p"',
                   'exigence e exige une pièce "p" du titulaire', 'exigence e exige que a message "m"',
                   'avis a quand des pièces manquent')

# Frequent mistakes, recognised by the parser state they lead to (Lark's match_examples).
COMMON_MISTAKES = {
    "pour comparer, écrivez un seul « = » (ou ≠, <, ≤, >, ≥)": [
        "définition x = a == b",
        "exigence e s'applique si a == b exige que c",
    ],
    "un nombre décimal s'écrit avec une virgule : 2,76 et non 2.76": [
        "définition x = 2.76",
        "définition x = 2.5 €",
    ],
    "le type de pièce s'écrit entre guillemets : une pièce \"justificatif_identite\"": [
        "exigence e exige une pièce justificatif_identite",
        "exigence e exige une pièce \"a\" ou une pièce b",
    ],
    "les mots « et », « ou », « non » s'écrivent en français, pas « and », « or », « not »": [
        "définition x = a and b",
        "définition x = a or b",
        "définition x = \"a\" and b",
        "définition x = vrai and b",
        "définition x = 1 and b",
        "définition x = (a) and b",
        "exigence e s'applique si a and b exige que c",
        "exigence e s'applique si a or b exige que c",
    ],
    "une date s'écrit JJ/MM/AAAA, par exemple 01/07/2020": [
        "barème t en vigueur du 2021",
        "barème t en vigueur depuis le 2021",
    ],
    "« note » et « non traité » se placent juste après la source ; une définition n'en a pas (écrivez un "
    "commentaire « # » au-dessus)": [
        f"{lead} {clause} \"n\"" for lead in [f"définition x = {v}" for v in _ENDINGS] + list(_CLAUSE_ENDINGS)
        for clause in ("note", "non traité")
    ],
}


PARSER_OPTIONS = {"parser": "lalr", "propagate_positions": True, "maybe_placeholders": False}


@functools.cache
def _parser() -> lark.Lark:
    """The LALR parser of the grammar, loaded from the cache: building it costs more than parsing every rule file."""
    digest = cache.key(lark.__version__, repr(PARSER_OPTIONS))  # the key covers the grammar, as immat's code
    saved = cache.read("lark", digest)
    if saved is not None:
        try:
            return lark.Lark.load(io.BytesIO(saved))
        except Exception:  # a damaged file raises nearly anything: the parser is built again
            pass
    with open(shipped("immat.grammar", "immat.lark"), encoding="utf-8") as stream:
        grammar = stream.read()
    parser = lark.Lark(grammar, **PARSER_OPTIONS)
    stream = io.BytesIO()
    parser.save(stream)
    cache.write("lark", digest, stream.getvalue())
    return parser


def parse_module(source: SourceFile) -> s.Module:
    """Parse one rule file; raise DiagnosticError with its located error(s)."""
    if len(source.text) > MAX_FILE_CHARS:
        size, bound = (f"{n:,}".replace(",", " ") for n in (len(source.text), MAX_FILE_CHARS))
        message = (f"fichier de règles trop long : {size} caractères, au plus {bound} ; "
                   "répartissez les règles en plusieurs fichiers (importe \"…\")")
        over = source.span(MAX_FILE_CHARS, MAX_FILE_CHARS + 1)  # where the file passes the bound
        raise DiagnosticError([error("fichier-trop-long", message, over)])
    try:
        # Lark's LALR parser and the non-recursive transformer below keep their own stacks: parentheses
        # nested thousands deep cost memory, not Python frames.
        tree = _parser().parse(source.text)
    except UnexpectedInput as exc:
        raise DiagnosticError([_syntax_error(source, exc)]) from None
    builder = _Builder(source)
    try:
        items = builder.transform(tree)
    except VisitError as exc:
        # Lark wraps whatever a transformer raises; ours are always DiagnosticError.
        if isinstance(exc.orig_exc, DiagnosticError):
            raise exc.orig_exc from None
        raise
    diagnostics = builder.diagnostics + [d for item in items if (d := _too_deep(item)) is not None]
    if diagnostics:
        raise DiagnosticError(diagnostics)
    imports = tuple(i for i in items if isinstance(i, s.Import))
    return s.Module(source.path, imports, tuple(i for i in items if not isinstance(i, s.Import)))


def comments(source: SourceFile) -> tuple[Span, ...]:
    """The `#` comments of a rule file that parses, in order: the tree leaves them out, the formatter keeps them."""
    # Lexed apart from the parse, so that parse_module() pays nothing for them. Lark lexes here with every
    # terminal instead of the ones the parser state expects, which finds the same comments: only a comment,
    # a string or a label holds a « # », a « " » or a « « », so each of these starts the same token either way.
    tokens = _parser().lex(source.text, dont_ignore=True)
    return tuple(source.span(t.start_pos, t.end_pos) for t in tokens if t.type == "COMMENT")


def _too_deep(item) -> Diagnostic | None:
    """Where an expression of `item` first nests deeper than every later stage can walk."""
    found = next((e for e, depth in s.nesting(item) if depth > s.MAX_DEPTH), None)
    if found is None:
        return None
    message = (f"expression trop imbriquée : plus de {s.MAX_DEPTH} niveaux (parenthèses autour d'une opération, "
               "« non », opérations enchaînées) ; simplifiez-la")
    return error("trop-imbrique", message, found.span)


def _syntax_error(source: SourceFile, exc: UnexpectedInput) -> Diagnostic:
    hint = None
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        span = source.end_span()
        found = "fin du fichier inattendue"
    elif isinstance(exc, UnexpectedCharacters):
        span = source.span(exc.pos_in_stream, exc.pos_in_stream + 1)
        found = f"caractère « {source.text[exc.pos_in_stream]} » inattendu"
        if source.text[exc.pos_in_stream] == "«":
            hint = UNCLOSED_LABEL
    else:
        token = exc.token
        span = source.span(token.start_pos, token.end_pos)
        found = f"« {token} » inattendu"
        hint = _mistake(exc)
    expected = _expected_words(exc)
    message = found
    if expected:
        message += f" ; attendu : {expected}"
    return error("syntaxe", message, span, help=hint)


def _mistake(exc: UnexpectedToken) -> str | None:
    """The COMMON_MISTAKES message whose examples fail in the parser state where `exc` failed.

    Not Lark's match_examples: it also compares the depth of the parser stack, so an example matched
    only a mistake made at the same nesting (« en vigueur du 2021 » in a barème without titre nor
    source). The state on top of the stack and the offending token's type identify the mistake.
    """
    candidate = None
    for message, examples in COMMON_MISTAKES.items():
        for example in examples:
            try:
                _parser().parse(example)
            except UnexpectedInput as other:
                if not isinstance(other, UnexpectedToken) or other.state.position != exc.state.position \
                        or other.token.type != exc.token.type:
                    continue
                if other.token == exc.token:
                    return message
                candidate = candidate or message
    return candidate


def _expected_words(exc: UnexpectedInput) -> str:
    names = getattr(exc, "accepts", None) or getattr(exc, "expected", None) or ()
    words = sorted({_word(name) for name in names})
    if len(words) > 6:
        words = words[:6] + ["…"]
    return ", ".join(words)


def _word(name: str) -> str:
    if name in EXPECTED_WORDS:
        return EXPECTED_WORDS[name]
    terminal = next((t for t in _parser().terminals if t.name == name), None)
    if terminal is not None and terminal.pattern.type == "str":
        return f"« {terminal.pattern.value} »"
    return name.strip("_").lower().replace("_", " ")


# What may follow an operand before the next operator: the parentheses it closes, and blanks.
_CLOSING = re.compile(r"[\s)]*")


def _number(token: str) -> int | Decimal:
    digits = "".join(ch for ch in token if ch not in " \u00a0\u202f")
    return Decimal(digits.replace(",", ".")) if "," in digits else int(digits)


def _text(token: Token) -> str:
    return str(token)[1:-1]


def _applies(children) -> s.Expr | None:
    return next((c[1] for c in children if isinstance(c, tuple) and c[0] == "applies"), None)


def _label(children) -> str | None:
    """The « … » label of a key, if written: its words without the spaces inside the guillemets."""
    label = next((c for c in children if isinstance(c, Token) and c.type == "LABEL"), None)
    return None if label is None else _text(label).strip()


@v_args(meta=True)
class _Builder(Transformer_NonRecursive):
    """One short method per grammar rule, named after it."""

    def __init__(self, source: SourceFile) -> None:
        super().__init__()
        self.file = source
        self.diagnostics: list[Diagnostic] = []

    def _span(self, meta) -> Span:
        return self.file.span(meta.start_pos, meta.end_pos)

    def _tok(self, token: Token) -> Span:
        return self.file.span(token.start_pos, token.end_pos)

    # -------------------------------------------------------------- files
    def start(self, meta, children):
        return children

    def import_(self, meta, children):
        return s.Import(_text(children[0]), span=self._span(meta))

    # -------------------------------------------------------------- clauses
    def title(self, meta, children):
        return ("title", _text(children[0]), self._span(meta))

    def source(self, meta, children):
        return ("source", _text(children[0]), self._span(meta))

    def message(self, meta, children):
        return ("message", _text(children[0]), self._span(meta))

    def per_holder(self, meta, children):
        return ("per_holder", True, self._span(meta))

    def applies(self, meta, children):
        return ("applies", children[0], None)

    def note(self, meta, children):
        return s.Note(_text(children[0]), span=self._span(meta))

    def not_handled(self, meta, children):
        return s.NotHandled(_text(children[0]), span=self._span(meta))

    def _clauses(self, children, *names: str) -> dict:
        """The fields of an item's clauses: titre, source and `names` with their spans, then the notes."""
        written = {c[0]: c for c in children if isinstance(c, tuple)}
        fields = {
            "notes": tuple(c for c in children if isinstance(c, s.Note)),
            "not_handled": tuple(c for c in children if isinstance(c, s.NotHandled)),
        }
        for name in ("title", "source", *names):
            _, fields[name], fields[f"{name}_span"] = written.get(name, (name, _UNWRITTEN[name], None))
        return fields

    def requirement(self, meta, children):
        kind, name = children[0], children[1]
        return s.Requirement(
            kind=str(kind),
            name=str(name),
            applies=_applies(children),
            exceptions=tuple(c for c in children if isinstance(c, s.Exception_)),
            demand=next(c for c in children if isinstance(c, (s.PieceDemand, s.ConditionDemand))),
            span=self._span(meta),
            name_span=self._tok(name),
            **self._clauses(children, "per_holder", "message"),
        )

    def exception(self, meta, children):
        demand = children[1] if len(children) > 1 else None
        return s.Exception_(children[0], demand, span=self._span(meta))

    def piece_demand(self, meta, children):
        return s.PieceDemand(tuple(children), span=self._span(meta))

    def condition_demand(self, meta, children):
        return s.ConditionDemand(children[0], span=self._span(meta))

    def piece_spec(self, meta, children):
        kind, *filters = children
        return s.PieceSpec(_text(kind), tuple(filters), span=self._span(meta), type_span=self._tok(kind))

    def dated(self, meta, children):
        return s.Dated(children[0], children[1], span=self._span(meta))

    def of_holder(self, meta, children):
        return s.OfHolder(span=self._span(meta))

    def with_condition(self, meta, children):
        return s.WithCondition(children[0], span=self._span(meta))

    # -------------------------------------------------------------- definitions, amounts
    def definition(self, meta, children):
        name, value, *exceptions = children
        return s.Definition(str(name), value, tuple(exceptions), span=self._span(meta), name_span=self._tok(name))

    def value_exception(self, meta, children):
        return s.ValueException(children[0], children[1], span=self._span(meta))

    def amount(self, meta, children):
        name = children[0]
        return s.Amount(
            name=str(name),
            applies=_applies(children),
            value=next(c for c in children if isinstance(c, s.Expr)),
            exceptions=tuple(c for c in children if isinstance(c, s.ValueException)),
            span=self._span(meta),
            name_span=self._tok(name),
            **self._clauses(children),
        )

    # -------------------------------------------------------------- tables
    def table(self, meta, children):
        name = children[0]
        periods = tuple(c for c in children if isinstance(c, s.Period))
        groups = tuple(c for c in children if isinstance(c, s.KeyGroup))
        return s.Table(str(name), periods=periods, groups=groups, span=self._span(meta),
                       name_span=self._tok(name), **self._clauses(children))

    def period(self, meta, children):
        if isinstance(children[0], s.Period):  # a dated value: already built
            return children[0]
        start, end = self._validity(children)
        rows = tuple(c for c in children if isinstance(c, s.Row))
        return s.Period(start, end, rows, span=self._span(meta), source_span=None)

    def dated_value(self, meta, children):
        start, end = self._validity(children)
        value = next(c for c in children if isinstance(c, s.Expr))
        _, source, source_span = next((c for c in children if isinstance(c, tuple)), (None, None, None))
        return s.Period(start, end, value=value, source=source, span=self._span(meta), source_span=source_span)

    def _validity(self, children):
        dates = [self._date(c) for c in children if isinstance(c, Token) and c.type == "DATE"]
        return dates[0], dates[1] if len(dates) > 1 else None

    def key_group(self, meta, children):
        periods = tuple(c for c in children if isinstance(c, s.Period))
        return s.KeyGroup(_text(children[0]), periods, _label(children), span=self._span(meta))

    def row(self, meta, children):
        _, source, source_span = children[2] if len(children) > 2 else (None, None, None)
        return s.Row(children[0], children[1], source, span=self._span(meta), source_span=source_span)

    def row_source(self, meta, children):
        return ("row_source", _text(children[0]), self._span(meta))

    def out_of_scope(self, meta, children):
        return s.OutOfScope(_text(children[0]), span=self._span(meta))

    # -------------------------------------------------------------- notices
    def notice(self, meta, children):
        name = children[0]
        return s.Notice(
            name=str(name),
            applies=_applies(children),
            span=self._span(meta),
            name_span=self._tok(name),
            **self._clauses(children, "when_pieces_missing", "message"),
        )

    def when_pieces_missing(self, meta, children):
        return ("when_pieces_missing", True, self._span(meta))

    def _integer_key(self, number: s.Number) -> int:
        if not isinstance(number.value, int):
            self.diagnostics.append(error("bareme-cle", "une clé de barème est un nombre entier", number.span))
            return 0
        return number.value

    def key_single(self, meta, children):
        value = self._integer_key(children[0])
        return s.Key(low=value, high=value, span=self._span(meta))

    def key_text(self, meta, children):
        return s.Key(text=_text(children[0]), label=_label(children), span=self._span(meta))

    def key_range(self, meta, children):
        low, high = (self._integer_key(c) for c in children)
        return s.Key(low=low, high=high, span=self._span(meta))

    def key_upto(self, meta, children):
        return s.Key(high=self._integer_key(children[0]), span=self._span(meta))

    def key_from(self, meta, children):
        return s.Key(low=self._integer_key(children[0]), span=self._span(meta))

    # -------------------------------------------------------------- expressions
    def forall(self, meta, children):
        var, collection, condition = children
        return s.Quantifier(True, str(var), collection, condition, span=self._span(meta))

    def exists(self, meta, children):
        var, collection, condition = children
        return s.Quantifier(False, str(var), collection, condition, span=self._span(meta))

    def or_(self, meta, children):
        return children[0] if len(children) == 1 else s.Or(tuple(children), span=self._span(meta))

    def and_(self, meta, children):
        return children[0] if len(children) == 1 else s.And(tuple(children), span=self._span(meta))

    def not_(self, meta, children):
        return s.Not(children[0], span=self._span(meta))

    def compare(self, meta, children):
        if len(children) == 1:
            return children[0]
        left, op, right = children
        op = {"≤": "<=", "≥": ">=", "≠": "!="}.get(str(op), str(op))
        return s.Compare(op, left, right, span=self._span(meta))

    def arith(self, meta, children):
        # Left-associative: a − b − c is (a − b) − c.
        # Each operation spans from the chain's start to its right operand's closing parentheses: the
        # explanation shows `(clé − 140) × 30 €` as written, not `clé − 140) × 30 €`.
        result = children[0]
        for op, right in zip(children[1::2], children[2::2]):
            closing = _CLOSING.match(self.file.text, right.span.end).group().rstrip()
            op = {"×": "*", "÷": "/", "−": "-"}.get(str(op), str(op))
            span = self.file.span(meta.start_pos, min(right.span.end + len(closing), meta.end_pos))
            result = s.Arith(op, result, right, span=span)
        return result

    def negate(self, meta, children):
        op, operand = children
        if str(op) == "+":
            return operand
        return s.Negate(operand, span=self._span(meta))

    def between(self, meta, children):
        return s.Between(children[0], children[1], span=self._span(meta))

    def count(self, meta, children):
        return s.Count(children[0], span=self._span(meta))

    def count_where(self, meta, children):
        var, collection, condition = children
        return s.Count(collection, str(var), condition, span=self._span(meta))

    def lookup(self, meta, children):
        parts = {c[0]: c[1] for c in children[1:]}
        return s.Lookup(str(children[0]), parts.get("key"), parts.get("date"), span=self._span(meta))

    def lookup_key(self, meta, children):
        return ("key", children[0])

    def lookup_date(self, meta, children):
        return ("date", children[0])

    def is_set(self, meta, children):
        return s.IsSet(children[0], span=self._span(meta))

    def is_not_set(self, meta, children):
        return s.Not(s.IsSet(children[0], span=self._span(meta)), span=self._span(meta))

    def default(self, meta, children):
        return s.Default(children[0], children[1], span=self._span(meta))

    def contains(self, meta, children):
        return s.Contains(children[0], children[1], span=self._span(meta))

    def units_between(self, meta, children):
        unit, start, end = children
        return s.UnitsBetween(str(unit), start, end, span=self._span(meta))

    def rank(self, meta, children):
        return s.Rank(str(children[0]), span=self._span(meta))

    def first(self, meta, children):
        return s.First(children[0], span=self._span(meta))

    def prefix(self, meta, children):
        count, operand = children
        return s.Prefix(int(count), operand, span=self._span(meta))

    def key_ref(self, meta, children):
        return s.KeyRef(span=self._span(meta))

    def path(self, meta, children):
        return s.Path(tuple(str(c) for c in children), span=self._span(meta))

    # -------------------------------------------------------------- literals
    def number_lit(self, meta, children):
        return s.Number(_number(children[0]), span=self._span(meta))

    def text(self, meta, children):
        return s.Text(_text(children[0]), span=self._span(meta))

    def true(self, meta, children):
        return s.Boolean(True, span=self._span(meta))

    def false(self, meta, children):
        return s.Boolean(False, span=self._span(meta))

    def money(self, meta, children):
        return s.MoneyLit(Money(children[0].value), span=self._span(meta))

    def percent(self, meta, children):
        return s.Percent(Decimal(children[0].value) / 100, span=self._span(meta))

    def duration(self, meta, children):
        number, unit = children
        if not isinstance(number.value, int):
            self.diagnostics.append(error("duree", "une durée compte des unités entières", number.span))
            return s.DurationLit(Duration(), 0, str(unit), span=self._span(meta))
        months = UNIT_MONTHS.get(str(unit))
        value = Duration(months=number.value * months) if months else Duration(days=number.value)
        return s.DurationLit(value, number.value, str(unit), span=self._span(meta))

    def date(self, meta, children):
        return s.DateLit(self._date(children[0]), span=self._span(meta))

    def _date(self, token: Token) -> datetime.date:
        day, month, year = (int(p) for p in str(token).split("/"))
        try:
            return datetime.date(year, month, day)
        except ValueError:
            self.diagnostics.append(error("date", f"date impossible : « {token} » n'existe pas", self._tok(token)))
            return datetime.date.min
