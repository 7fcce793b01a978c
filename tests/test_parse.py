"""The rule language's syntax: good files parse to the expected trees, bad ones give located French errors."""

from __future__ import annotations

import datetime
import json
import pathlib
import re
from decimal import Decimal

import attrs
import pytest

from immat import syntax as s
from immat.diagnostics import DiagnosticError
from immat.parse import COMMON_MISTAKES, parse_module
from immat.source import SourceFile
from immat.values import Duration, Money

from .conftest import ROOT

HERE = pathlib.Path(__file__).parent
GOOD = sorted((HERE / "parse" / "good").glob("*.immat"))
BAD = sorted((HERE / "parse" / "bad").glob("*.immat"))


def relative(path: pathlib.Path) -> str:
    return path.relative_to(ROOT).as_posix()


def expected(path: pathlib.Path) -> tuple[str, int]:
    """The code and line of the first error, stated in the file's opening comment (« # attendu : code ligne »)."""
    found = re.search(r"^# attendu : (\S+) (\d+)$", path.read_text("utf-8"), re.MULTILINE)
    assert found, f"{path.name} ne dit pas l'erreur attendue"
    return found[1], int(found[2])


def parse(text: str, path: str = "essai.immat") -> s.Module:
    return parse_module(SourceFile(path, text))


def parse_file(path: pathlib.Path) -> s.Module:
    return parse(path.read_text("utf-8"), relative(path))


def node(cls, *args, **kwargs):
    """A tree node built by hand, without positions: spans take no part in equality."""
    spans = {f.name: None for f in attrs.fields(cls) if f.kw_only and not f.eq}
    return cls(*args, **spans, **kwargs)


def path(dotted: str) -> s.Path:
    return node(s.Path, tuple(dotted.split(".")))


def text(value: str) -> s.Text:
    return node(s.Text, value)


def compare(op: str, left, right) -> s.Compare:
    return node(s.Compare, op, left, right)


def syntax_error(text_: str):
    with pytest.raises(DiagnosticError) as info:
        parse(text_)
    return info.value.diagnostics[0]


# ---------------------------------------------------------------- good files


def test_good_and_bad_files_are_found():
    assert len(GOOD) >= 20 and len(BAD) >= 9


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_good_file_opens_with_a_comment_saying_what_it_shows(path):
    assert path.read_text("utf-8").startswith("# ")


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_good_file_checks_without_error(path, cli):
    result = cli("check", relative(path))
    assert result.exit_code == 0, result.output
    # A file that shows one feature may leave a definition unused: a lint warning, not an error.
    assert "erreur[" not in result.output
    assert result.output.splitlines()[-1].startswith("0 erreur(s)")


def test_requirement_with_piece_alternatives_parses_to_its_tree():
    module = parse_file(HERE / "parse" / "good" / "pieces_alternatives.immat")
    assert module.items == (
        node(
            s.Requirement,
            kind="exigence",
            name="preuve_achat",
            title="Preuve de l'achat",
            source="Arrêté du 9 février 2009, art. 7",
            per_holder=False,
            applies=None,
            exceptions=(),
            demand=node(s.PieceDemand, (node(s.PieceSpec, "facture_achat", ()),
                                        node(s.PieceSpec, "certificat_cession", ()))),
            message="Joignez la facture d'achat ou le certificat de cession.",
        ),
    )


def test_per_holder_requirement_parses_its_clauses_and_filters():
    (req,) = parse_file(HERE / "parse" / "good" / "pour_chaque_titulaire.immat").items
    assert req.per_holder is True
    assert req.exceptions == (node(s.Exception_, path("titulaire.fournisseur_energie_partenaire"), None),)
    assert req.demand == node(s.PieceDemand, (node(s.PieceSpec, "justificatif_identite", (node(s.OfHolder),)),))


def test_dated_piece_filter_keeps_its_duration_and_reference():
    (req,) = parse_file(HERE / "parse" / "good" / "piece_datee.immat").items
    (spec,) = req.demand.alternatives
    assert spec.filters == (
        node(s.Dated, node(s.DurationLit, Duration(months=6), 6, "mois"), path("date_demande")),
    )


def test_replacing_exception_carries_its_own_demand():
    (req,) = parse_file(HERE / "parse" / "good" / "sauf_si_alors_exige.immat").items
    (exception,) = req.exceptions
    assert exception.condition == compare("=", path("achat.etat"), text("neuf"))
    assert exception.demand == node(s.PieceDemand, (node(s.PieceSpec, "cerfa_13749", ()),))


def test_definition_with_exceptions_parses_to_its_tree():
    module = parse_file(HERE / "parse" / "good" / "definition_exceptions.immat")
    energie = path("vehicule.energie")
    assert module.items == (
        node(s.Definition, "taux", node(s.Percent, Decimal(1)), (
            node(s.ValueException, compare("=", energie, text("electrique")), node(s.Percent, Decimal(0))),
            node(s.ValueException, compare("=", energie, text("gpl")), node(s.Percent, Decimal("0.5"))),
        )),
    )


def test_barème_rows_become_integer_ranges_with_open_ends():
    table, _amount = parse_file(HERE / "parse" / "good" / "bareme_intervalles.immat").items
    (period,) = table.periods
    assert (period.start, period.end) == (datetime.date(2021, 1, 1), datetime.date(2021, 12, 31))
    assert [r.key for r in period.rows] == [
        node(s.Key, high=132), node(s.Key, low=133, high=133), node(s.Key, low=134, high=218), node(s.Key, low=219),
    ]
    assert period.rows[-1].value == node(s.MoneyLit, Money(30000))


def test_barème_in_force_since_a_date_has_no_end():
    table, _amount = parse_file(HERE / "parse" / "good" / "bareme_periodes.immat").items
    assert [(p.start, p.end) for p in table.periods] == [
        (datetime.date(2020, 1, 1), datetime.date(2020, 12, 31)), (datetime.date(2021, 1, 1), None),
    ]


def test_et_binds_tighter_than_ou_and_non_tighter_than_et():
    (definition,) = parse_file(HERE / "parse" / "good" / "logique.immat").items
    assert definition.value == node(s.Or, (
        path("vehicule.dispense_controle_technique"),
        node(s.And, (
            compare("=", path("achat.etat"), text("neuf")),
            node(s.Not, node(s.Or, (compare("=", path("canal"), text("en_ligne")), node(s.Boolean, False)))),
        )),
    ))


def test_arithmetic_is_left_associative_and_multiplication_binds_tighter():
    (definition,) = parse("définition x = 10 - 2 - 3 × 4").items
    number = lambda v: node(s.Number, v)  # noqa: E731
    assert definition.value == node(s.Arith, "-", node(s.Arith, "-", number(10), number(2)),
                                    node(s.Arith, "*", number(3), number(4)))


@pytest.mark.parametrize("literal, value", [
    ("2,76", node(s.Number, Decimal("2.76"))),
    ("30 000 €", node(s.MoneyLit, Money(30000))),
    ("2,76 €", node(s.MoneyLit, Money("2.76"))),
    ("50 %", node(s.Percent, Decimal("0.5"))),
    ("4 ans", node(s.DurationLit, Duration(months=48), 4, "ans")),
    ("1 an", node(s.DurationLit, Duration(months=12), 1, "an")),
    ("10 jours", node(s.DurationLit, Duration(days=10), 10, "jours")),
    ("29/02/2020", node(s.DateLit, datetime.date(2020, 2, 29))),
    ('"occasion"', text("occasion")),
])
def test_literal_parses_to_its_exact_value(literal, value):
    (definition,) = parse(f"définition x = {literal}").items
    assert definition.value == value


def test_unicode_and_ascii_comparisons_give_the_same_tree():
    a, b, _c = parse_file(HERE / "parse" / "good" / "comparaisons.immat").items
    assert a.value == b.value
    assert [c.op for c in a.value.operands] == ["<=", ">=", "!="]


def test_typographic_and_straight_apostrophes_give_the_same_tree():
    typographic = (HERE / "parse" / "good" / "apostrophes.immat").read_text("utf-8")
    straight = typographic.replace("’", "'")
    assert straight != typographic
    assert parse(typographic) == parse(straight)


# ---------------------------------------------------------------- equality ignores positions


SPACED = """\
définition taux = 100 %
  sauf si vehicule.energie = "electrique" alors 0 %
"""

RESHAPED = """\
# the same rule, laid out differently
définition   taux=100%   sauf si
    vehicule.energie="electrique"   # a comment in the middle
  alors
    0 %
"""


def test_same_rules_with_different_layout_parse_to_equal_trees():
    spaced, reshaped = parse(SPACED), parse(RESHAPED)
    assert spaced.items[0].span.line != reshaped.items[0].span.line
    assert spaced.items[0].value.span.start != reshaped.items[0].value.span.start
    assert spaced == reshaped


def test_different_rules_parse_to_different_trees():
    assert parse(SPACED) != parse(SPACED.replace("0 %", "5 %"))
    assert parse(SPACED) != parse(SPACED.replace("taux", "taux_réduit"))


# ---------------------------------------------------------------- syntax errors


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_syntax_error_is_located_and_explained(path, cli, text_snapshot):
    result = cli("check", relative(path))
    assert result.exit_code == 3  # an error in the rules, a syntax error too
    assert result.output == text_snapshot


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_syntax_error_json_gives_code_and_line(path, cli):
    result = cli("check", "--format", "json", relative(path))
    first = json.loads(result.stdout)[0]
    assert (first["code"], first["line"]) == expected(path)
    assert first["file"] == relative(path)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_syntax_error_shows_no_token_name_nor_traceback(path, cli):
    output = cli("check", relative(path)).output
    assert not re.search(r"\b(NAME|STRING|NUMBER|DATE|COMP_OP|\$END|_[A-Z_]+)\b", output)
    assert "Traceback" not in output


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_file_opens_with_a_comment_saying_what_mistake_it_shows(path):
    first_line = path.read_text("utf-8").splitlines()[0]
    assert first_line.startswith("# ") and not first_line.startswith("# attendu")


MISTAKE_EXAMPLES = [(message, example) for message, examples in COMMON_MISTAKES.items() for example in examples]


@pytest.mark.parametrize("message, example", MISTAKE_EXAMPLES, ids=[example for _, example in MISTAKE_EXAMPLES])
def test_common_mistake_example_gets_its_hint(message, example):
    assert syntax_error(example).help == message


@pytest.mark.parametrize("path, hint", [
    ("double_egal", "pour comparer"),
    ("point_decimal", "virgule"),
    ("piece_sans_guillemets", "entre guillemets"),
    ("and_anglais", "« et »"),
    ("date_iso_bareme", "JJ/MM/AAAA"),
])
def test_common_mistake_is_recognised_inside_a_real_rule(path, hint, cli):
    result = cli("check", "--format", "json", f"tests/parse/bad/{path}.immat")
    assert hint in json.loads(result.stdout)[0]["help"]


def test_unrelated_syntax_error_gets_no_hint():
    assert syntax_error('définition x = achat.etat "neuf"').help is None


def test_unexpected_end_of_file_points_at_the_last_character():
    diagnostic = syntax_error("définition x = (1 + 2\n\n")
    assert (diagnostic.span.line, diagnostic.span.column, diagnostic.span.text) == (1, 21, "2")
    assert "fin du fichier inattendue" in diagnostic.message


def test_impossible_date_is_named_in_the_error():
    diagnostic = syntax_error("définition x = 30/02/2021")
    assert diagnostic.code == "date"
    assert "30/02/2021" in diagnostic.message


# ---------------------------------------------------------------- what lawyers read: notes, « non traité », key labels


def test_notes_and_what_is_not_handled_parse_in_order_after_the_source():
    module = parse_file(HERE / "parse" / "good" / "notes_et_libelles.immat")
    requirement, table, _regions, amount, notice = module.items[1:]
    assert requirement.notes == (node(s.Note, "Une photocopie suffit."),
                                 node(s.Note, "Deuxième note, après un point non traité."))
    assert requirement.not_handled == (
        node(s.NotHandled, "La validité de la pièce n'est pas vérifiée : le rapport ne la signale pas."),)
    assert requirement.per_holder is True  # the clauses after the notes are still read
    assert table.not_handled == (node(s.NotHandled, "Le plafond de 60 € n'est pas vérifié."),)
    assert amount.notes == (node(s.Note, "Arrondie au centime."),) and amount.value is not None
    assert notice.notes == (node(s.Note, "Toujours affichée."),)
    note = requirement.notes[0]
    assert (note.span.line, note.span.column, note.span.text) == (7, 3, 'note "Une photocopie suffit."')


def test_a_key_may_carry_a_label_in_a_group_and_in_a_row():
    _date, _requirement, table, regions, *_ = parse_file(HERE / "parse" / "good" / "notes_et_libelles.immat").items
    assert [(g.key, g.label) for g in table.groups] == [("84", "Auvergne-Rhône-Alpes"), ("11", None)]
    assert [r.key for r in regions.periods[0].rows] == [node(s.Key, text="69", label="Rhône"),
                                                        node(s.Key, text="75", label="Paris")]
    assert node(s.Key, text="69", label="Rhône") != node(s.Key, text="69")  # fmt must keep a label


def test_the_new_keywords_leave_names_and_negations_alone():
    definition, negation = parse("définition note = 1\ndéfinition x = non traité\n").items
    assert definition.name == "note"
    assert negation.value == node(s.Not, path("traité"))


@pytest.mark.parametrize("text, found, expected", [
    ('montant m\n  titre "T"\n  source "S"\n  note\n  vaut 1 €', "« vaut » inattendu", "un texte entre guillemets"),
    ('avis a\n  titre "T"\n  message "M"\n  note "N"', "« note » inattendu", "la fin du fichier"),
    ('montant m\n  titre "T"\n  nota "N"\n  vaut 1 €', "« nota » inattendu", "« non traité », « note »"),
])
def test_misplaced_notes_get_french_errors_naming_the_new_keywords(text, found, expected):
    diagnostic = syntax_error(text)
    assert diagnostic.message.startswith(found) and expected in diagnostic.message
    assert "_NOTE" not in diagnostic.message and "_NON_TRAITE" not in diagnostic.message


def test_a_node_shows_itself_as_attrs_would_without_its_positions():
    """One __repr__ for every node class (attrs would compile one per class at import): the same text."""
    (req,) = parse_file(HERE / "parse" / "good" / "sauf_si_alors_exige.immat").items
    (exception,) = req.exceptions
    assert repr(exception.condition) == (
        "Compare(op='=', left=Path(parts=('achat', 'etat')), right=Text(value='neuf'))")
    shown = repr(parse_file(ROOT / "rules" / "controle_technique.immat"))
    assert "Span(" not in shown and shown.startswith("Module(")
