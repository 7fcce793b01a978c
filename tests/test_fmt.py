"""`immat fmt`: one canonical layout for rule files, the same meaning, every comment kept."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immat import syntax as s
from immat.cli import main
from immat.format import comments, expression, format_module
from immat.parse import parse_module
from immat.source import SourceFile, Span
from immat.values import Duration, Money

from .conftest import ROOT

REAL_FILES = sorted(
    [*(ROOT / "rules").glob("*.immat"), *(ROOT / "tests" / "parse" / "good").glob("*.immat"),
     *(ROOT / "tests" / "evaluate").glob("*.immat"), *(ROOT / "tests" / "juristes").glob("*.immat")]
)

MESSY = """\
# Un fichier en désordre : tout ce que « immat fmt » remet en place.
importe "commun.immat"  # les définitions communes
importe   "bareme_regions.immat"
définition   taux=100%   sauf si (vehicule.energie = "electrique") alors 0%
 sauf si vehicule.energie="gpl" alors 50,0 %
définition a=vehicule.puissance_fiscale<=5 et vehicule.co2_g_km>=100 et canal!="en_ligne"
définition b = ((1+2)*3) - (4-5) - -6 / (2*3)
définition c = non (x = 1) ou (y à défaut faux) et non z ou ((a ou b) et c)
définition plafond = 30000 € + 1234,50€ + 2,5 % * 1000000


définition délai = date_demande - 6 mois + 1 an + 10 jours
définition mois_écoulés = barème décote pour (mois entre achat.date et date_demande) à la date (date_demande)
définition identites = nombre de p dans pieces vérifiant (p.type = "justificatif_identite")
définition tous = tout t dans titulaires vérifie t.x ou t.y
exigence controle_technique titre "Contrôle technique" source "Code de la route, art. R. 323-22"
s’applique si achat.etat = "occasion" et âge_du_véhicule > 4 ans et vehicule.genre = "VP" et canal != "en_ligne"
  # la dispense est une déclaration du demandeur
sauf si vehicule.dispense_controle_technique à défaut faux
sauf si achat.etat = "neuf" alors exige une pièce "cerfa_13749" ou une pièce "cerfa_13750"
exige une pièce "proces_verbal_controle_technique" datée d’au plus 6 mois avant date_demande avec (pièce.resultat != "contre_visite") ou une pièce "certificat_immatriculation_timbre_ct"
message "Joignez un contrôle technique."   # message court
exigence identite titre "Identité" source "Arrêté du 9 février 2009, art. 6" pour chaque titulaire
 exige une pièce "justificatif_identite" du titulaire avec (pièce.copie n'est pas renseigné ou pièce.copie = faux)
 message "Joignez un justificatif d'identité."
recevabilité canal titre "En ligne" source "Arrêté" exige que canal = "en_ligne" message "En ligne."
montant malus titre "Malus" source "CIBS" s'applique si achat.etat="neuf"
vaut barème malus_co2 pour vehicule.co2_g_km à la date (vehicule.date_premiere_immatriculation) * (100 % - décote)
  sauf si (vehicule.norme_co2 à défaut "wltp") = "nedc" alors hors barème "Barème NEDC non couvert : utilisez le simulateur officiel."
barème malus_co2 titre "Malus CO₂" source "CIBS, art. L421-62"
en vigueur du 01/01/2021 au 31/12/2021   # vérifié
jusqu’à 132 : 0 €
133 : 50 €  source "ligne lue dans le texte"
de 134 à 218 : 1000€
à partir de 219 : 30 000 €
barème tarif titre "Tarif" source "Régions"
clé "84" # Auvergne-Rhône-Alpes
en vigueur depuis le 01/01/2021 : 43 € source "ANTS"
clé "11"  # Île-de-France
en vigueur du 01/01/2021 au 31/12/2023 : 46,15 € en vigueur depuis le 01/01/2024 : 54,95 €
avis cpi titre "CPI" source "ANTS" s'applique si canal = "en_ligne" quand des pièces manquent message "Imprimez le CPI."



# fin du fichier
"""

CANONICAL = """\
# Déjà au format.
définition a = 1
"""


@pytest.fixture
def immat(tmp_path, monkeypatch):
    """Run `immat …` in a scratch folder holding a rules/ folder: paths print relative, the repository is untouched."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules").mkdir()

    def run(*args):
        return CliRunner().invoke(main, ["fmt", *args], catch_exceptions=False)

    return run


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def parse(text: str, name: str = "essai.immat") -> s.Module:
    return parse_module(SourceFile(name, text))


def fmt(text: str) -> str:
    return format_module(parse(text), text)


# ---------------------------------------------------------------- the command


def test_fmt_rewrites_a_messy_file_in_canonical_layout(immat, tmp_path, text_snapshot):
    path = write(tmp_path / "rules" / "desordre.immat", MESSY)
    result = immat()  # no argument: every .immat under rules/
    assert result.exit_code == 0, result.output
    assert result.stderr == "reformaté : rules/desordre.immat\n1 fichier(s) reformaté(s) sur 1\n"
    formatted = path.read_text("utf-8")
    assert parse(formatted) == parse(MESSY)
    assert formatted == text_snapshot
    assert immat("--check").exit_code == 0


def test_check_lists_what_would_change_and_rewrites_nothing(immat, tmp_path):
    write(tmp_path / "rules" / "bon.immat", CANONICAL)
    messy = write(tmp_path / "rules" / "desordre.immat", MESSY)
    result = immat("--check")
    assert result.exit_code == 1
    assert result.stdout == "rules/desordre.immat\n"
    assert result.stderr == "1 fichier(s) à reformater sur 2\n"
    assert messy.read_text("utf-8") == MESSY


def test_check_diff_prints_a_unified_diff(immat, tmp_path, text_snapshot):
    write(tmp_path / "rules" / "a.immat", 'définition a=1  # un\ndéfinition b = 2*3\n')
    result = immat("--check", "--diff")
    assert result.exit_code == 1
    assert result.stdout.startswith("rules/a.immat\n--- a/rules/a.immat\n+++ b/rules/a.immat\n")
    assert result.stdout == text_snapshot


def test_diff_alone_shows_changes_without_writing_and_exits_0(immat, tmp_path):
    path = write(tmp_path / "rules" / "a.immat", "définition a=1\n")
    result = immat("--diff")
    assert result.exit_code == 0
    assert "+définition a = 1\n" in result.stdout
    assert path.read_text("utf-8") == "définition a=1\n"


def test_check_exits_0_when_every_file_is_canonical(immat, tmp_path):
    write(tmp_path / "rules" / "bon.immat", CANONICAL)
    result = immat("--check", "rules")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_syntax_error_is_located_exits_3_and_other_files_are_still_formatted(immat, tmp_path, text_snapshot):
    broken = write(tmp_path / "rules" / "casse.immat", 'exigence e\n  titre "T"\n  exige une pièce piece\n')
    messy = write(tmp_path / "rules" / "desordre.immat", "définition a=1\n")
    result = immat()
    assert result.exit_code == 3
    assert result.stderr.startswith("rules/casse.immat:3:19: erreur[syntaxe]")
    assert result.stderr == text_snapshot
    assert messy.read_text("utf-8") == "définition a = 1\n"
    assert broken.read_text("utf-8").endswith("piece\n")


def test_syntax_error_wins_over_files_to_reformat_in_check_mode(immat, tmp_path):
    write(tmp_path / "rules" / "casse.immat", "définition x = 2.76\n")
    write(tmp_path / "rules" / "desordre.immat", "définition a=1\n")
    result = immat("--check")
    assert result.exit_code == 3
    assert result.stdout == "rules/desordre.immat\n"
    assert "rules/casse.immat:1:17: erreur[syntaxe]" in result.stderr


def test_a_file_given_by_name_is_formatted_alone(immat, tmp_path):
    one = write(tmp_path / "rules" / "un.immat", "définition a=1\n")
    other = write(tmp_path / "rules" / "autre.immat", "définition b=1\n")
    assert immat("rules/un.immat").exit_code == 0
    assert one.read_text("utf-8") == "définition a = 1\n"
    assert other.read_text("utf-8") == "définition b=1\n"


def test_without_rules_folder_is_a_usage_error(immat, tmp_path):
    (tmp_path / "rules").rmdir()
    result = immat()
    assert result.exit_code == 2
    assert "rules/" in result.stderr


def test_a_formatter_that_would_change_the_meaning_never_writes(immat, tmp_path, monkeypatch):
    path = write(tmp_path / "rules" / "a.immat", "définition a = 1 + 2\n")
    monkeypatch.setattr("immat.format.format_module", lambda module, text: "définition a = 1\n")
    result = immat()
    assert result.exit_code == 3
    assert "erreur[formatage]" in result.stderr
    assert path.read_text("utf-8") == "définition a = 1 + 2\n"


def test_help_gives_an_example_and_the_exit_codes(immat):
    result = immat("--help")
    assert "immat fmt --check --diff" in result.output
    assert "Codes de sortie" in result.output
    assert "rules/" in result.output


# ---------------------------------------------------------------- layout decisions


@pytest.mark.parametrize("written, canonical", [
    ("(a ou b) et c", "(a ou b) et c"),
    ("a ou (b et c)", "a ou b et c"),
    ("(a ou b) ou c", "(a ou b) ou c"),
    ("non (a = 1)", "non (a = 1)"),
    ("non (a)", "non a"),
    ("non (x n'est pas renseigné)", "non (x n'est pas renseigné)"),
    ("non (x est renseigné)", "x n'est pas renseigné"),
    ("a ou x à défaut faux", "a ou (x à défaut faux)"),
    ("(x à défaut 1) = 1", "(x à défaut 1) = 1"),
    ("(a = b) = c", "(a = b) = c"),
    ("a - (b - c)", "a − (b − c)"),
    ("(a - b) - c", "a − b − c"),
    ("a / (b * c)", "a / (b × c)"),
    ("-(a + b) * -c", "−(a + b) × −c"),
    ("(durée entre a et b) + 1 jour", "(durée entre a et b) + 1 jour"),
    ("durée entre (a + 1 mois) et (b) <= 2 ans", "durée entre a + 1 mois et b ≤ 2 ans"),
    ("barème t pour (a + 1) à la date (d)", "barème t pour (a + 1) à la date d"),
    ("les 12 premiers caractères de (x)", "les 12 premiers caractères de x"),
    ("(tout x dans l vérifie x.a) ou b", "(tout x dans l vérifie x.a) ou b"),
    ("nombre de p dans l vérifiant (p.a ou p.b)", "nombre de p dans l vérifiant (p.a ou p.b)"),
    ("12345678,50 € + 0,5 % + 1000 jours", "12 345 678,50 € + 0,5 % + 1 000 jours"),
    ("01/02/2020 != 10/12/2020 / 2", "01/02/2020 ≠ 10/12/2020 / 2"),
])
def test_parentheses_only_where_the_grammar_or_the_reader_needs_them(written, canonical):
    (definition,) = parse(f"définition d = {written}\n").items
    assert expression(definition.value) == canonical
    (again,) = parse(f"définition d = {canonical}\n").items
    assert again == definition


def test_a_barème_row_that_computes_on_its_key_is_written_as_an_expression():
    text = ("barème b\n  en vigueur depuis le 01/01/2021\n    de 141 à 218 : 210€+(clé-140)*30€\n"
            "    à partir de 219 : (x ou y) source \"s\"\n")
    assert fmt(text) == ("barème b\n  en vigueur depuis le 01/01/2021\n    de 141 à 218 : 210 € + (clé − 140) × 30 €\n"
                         "    à partir de 219 : (x ou y)\n      source \"s\"\n")


def test_avec_takes_a_comparison_so_a_disjunction_keeps_its_parentheses():
    text = 'exigence e\n  exige une pièce "p"\n          avec (pièce.a ou pièce.b)\n'
    assert fmt(text) == text


def test_long_conditions_break_before_each_top_level_connective():
    text = ("exigence e\n  s'applique si achat_d_occasion_en_france et achat.cession_enregistree_par ≠ \"vendeur\""
            " et vehicule.immatriculation contient \"-\"\n  exige que vrai\n")
    assert fmt(text) == (
        "exigence e\n"
        "  s'applique si achat_d_occasion_en_france\n"
        "             et achat.cession_enregistree_par ≠ \"vendeur\"\n"
        "             et vehicule.immatriculation contient \"-\"\n"
        "  exige que vrai\n"
    )


def test_one_line_definitions_written_together_stay_together():
    text = "définition a = 1\ndéfinition b = 2\n\ndéfinition c = 3\n  sauf si x alors 4\ndéfinition d = 5\n"
    assert fmt(text) == ("définition a = 1\ndéfinition b = 2\n\n"
                         "définition c = 3\n  sauf si x alors 4\n\ndéfinition d = 5\n")


# ---------------------------------------------------------------- comments


def test_comments_stay_where_they_were_written():
    text = (
        "# En-tête du fichier.\n"
        "\n"
        "# Section.\n"
        "\n"
        "# Pourquoi ce barème.\n"
        "barème b   # le barème\n"
        '  titre "t # pas un commentaire"\n'
        "  en vigueur depuis le 01/01/2021\n"
        "    # première ligne\n"
        '    "01":"84"  # Auvergne-Rhône-Alpes\n'
        '    "02" : "32"\n'
        "# fin\n"
    )
    assert fmt(text) == (
        "# En-tête du fichier.\n"
        "\n"
        "# Section.\n"
        "\n"
        "# Pourquoi ce barème.\n"
        "barème b  # le barème\n"
        '  titre "t # pas un commentaire"\n'
        "  en vigueur depuis le 01/01/2021\n"
        "    # première ligne\n"
        '    "01" : "84"  # Auvergne-Rhône-Alpes\n'
        '    "02" : "32"\n'
        "# fin\n"
    )


def test_comments_of_source_lines_joined_into_one_go_above_it():
    text = "définition a = x  # pourquoi x\n  ou y  # pourquoi y\n"
    assert fmt(text) == "# pourquoi x\n# pourquoi y\ndéfinition a = x ou y\n"


def test_a_comment_inside_a_joined_construct_goes_above_it():
    text = "définition x = a\n  sauf si b\n       # au milieu\n       ou c\n    alors 2\n"
    assert fmt(text) == "définition x = a\n  # au milieu\n  sauf si b ou c alors 2\n"


def test_header_comments_stay_on_top_when_imports_move_up():
    text = "# En-tête.\ndéfinition a = 1\nimporte \"b.immat\"\n"
    assert fmt(text) == "# En-tête.\nimporte \"b.immat\"\n\ndéfinition a = 1\n"


def test_notes_and_key_labels_keep_their_place_and_a_hash_in_a_label_is_text():
    text = (
        'montant m titre "T" source "CIBS" non traité "l\'abattement"  # pourquoi\n'
        '  note "une note" vaut 1 €\n'
        'barème b titre "t" source "s" clé "84"   «  Auvergne # Rhône-Alpes » # ARA\n'
        '  en vigueur depuis le 01/01/2021 : 43 €\n'
        'barème c titre "t" source "s" en vigueur depuis le 01/01/2021 "69"«Rhône»:"84"\n'
    )
    assert fmt(text) == (
        "montant m\n"
        '  titre "T"\n'
        '  source "CIBS"\n'
        '  note "une note"\n'
        '  non traité "l\'abattement"  # pourquoi\n'
        "  vaut 1 €\n"
        "\n"
        "barème b\n"
        '  titre "t"\n'
        '  source "s"\n'
        '  clé "84" « Auvergne # Rhône-Alpes »  # ARA\n'
        "    en vigueur depuis le 01/01/2021 : 43 €\n"
        "\n"
        "barème c\n"
        '  titre "t"\n'
        '  source "s"\n'
        "  en vigueur depuis le 01/01/2021\n"
        '    "69" « Rhône » : "84"\n'
    )
    assert [c.text for c in comments(text)] == ["# pourquoi", "# ARA"]
    assert fmt(fmt(text)) == fmt(text) and parse(fmt(text)) == parse(text)


def test_keywords_and_hashes_inside_texts_labels_and_comments_are_text():
    # Clauses are placed by the spans the parser keeps and comments are the lexer's: no word or « # » inside
    # a string, a label or a comment is taken for a clause or a comment.
    text = (
        '# titre "x" source "y" message "z"\n'
        'exigence e titre "message # 1" source "pour chaque titulaire"  # message "m"\n'
        '  pour chaque titulaire exige que a = "source" message "quand des pièces manquent"\n'
        'avis n titre "#" s\'applique si b contient "message" quand des pièces manquent\n'
        '  message "titre"  # le message\n'
        'barème t titre "t" source "s" clé "84" « Au "vergne" # 1 »  # ARA "x"\n'
        '    en vigueur depuis le 01/01/2021 : 43 € source "message"  # la ligne\n'
        '# fin sans retour à la ligne, "titre"'
    )
    assert fmt(text) == (
        '# titre "x" source "y" message "z"\n'
        "exigence e\n"
        '  titre "message # 1"\n'
        '  source "pour chaque titulaire"  # message "m"\n'
        "  pour chaque titulaire\n"
        '  exige que a = "source"\n'
        '  message "quand des pièces manquent"\n'
        "\n"
        "avis n\n"
        '  titre "#"\n'
        '  s\'applique si b contient "message"\n'
        "  quand des pièces manquent\n"
        '  message "titre"  # le message\n'
        "\n"
        "barème t\n"
        '  titre "t"\n'
        '  source "s"\n'
        '  clé "84" « Au "vergne" # 1 »  # ARA "x"\n'
        "    en vigueur depuis le 01/01/2021 : 43 €\n"
        '      source "message"  # la ligne\n'
        '# fin sans retour à la ligne, "titre"\n'
    )
    assert [c.text for c in comments(text)] == [
        '# titre "x" source "y" message "z"', '# message "m"', "# le message", '# ARA "x"', "# la ligne",
        '# fin sans retour à la ligne, "titre"']
    assert fmt(fmt(text)) == fmt(text) and parse(fmt(text)) == parse(text)


def test_a_file_of_comments_only_is_left_as_is():
    assert fmt("# rien\n\n# encore rien\n") == "# rien\n\n# encore rien\n"
    assert fmt("") == ""


# ---------------------------------------------------------------- every real rule file


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_real_files_keep_their_meaning_and_comments_and_are_stable(path):
    text = path.read_text("utf-8")
    formatted = fmt(text)
    assert parse(formatted) == parse(text)
    assert [c.text for c in comments(formatted)] == [c.text for c in comments(text)]
    assert fmt(formatted) == formatted


# ---------------------------------------------------------------- generated rule files

NOWHERE = Span(SourceFile("généré.immat", ""), 0, 0)
NAMES = st.sampled_from(["achat", "etat", "vehicule", "co2_g_km", "date_demande", "âge_du_véhicule", "région", "x"])
UNIT_MONTHS = {"an": 12, "ans": 12, "mois": 1, "jour": 0, "jours": 0}


def node(cls, *args, **kwargs):
    """A node as if parsed from nowhere: spans take no part in equality."""
    spans = {f.name: NOWHERE for f in attrs.fields(cls) if not f.eq and f.name not in kwargs}
    return cls(*args, **spans, **kwargs)


def _decimal(whole: int, decimals: str) -> Decimal:
    return Decimal(f"{whole}.{decimals}")


decimals = st.builds(_decimal, st.integers(0, 10**6), st.from_regex(r"\d{1,3}", fullmatch=True))
numbers = st.one_of(st.integers(0, 10**7), decimals)
texts = st.text(st.sampled_from(list("abcéÀ #'’-:«»0123456789")), max_size=10)
paths = st.lists(NAMES, min_size=1, max_size=3).map(lambda parts: node(s.Path, tuple(parts)))


def _duration(count: int, unit: str) -> s.DurationLit:
    months = UNIT_MONTHS[unit]
    value = Duration(months=count * months) if months else Duration(days=count)
    return node(s.DurationLit, value, count, unit)


durations = st.builds(_duration, st.integers(0, 2000), st.sampled_from(sorted(UNIT_MONTHS)))
literals = st.one_of(
    numbers.map(lambda v: node(s.Number, v)),
    texts.map(lambda v: node(s.Text, v)),
    st.dates(datetime.date(1900, 1, 1), datetime.date(2100, 12, 31)).map(lambda v: node(s.DateLit, v)),
    st.booleans().map(lambda v: node(s.Boolean, v)),
    numbers.map(lambda v: node(s.MoneyLit, Money(v))),
    numbers.map(lambda v: node(s.Percent, Decimal(v) / 100)),
    durations,
)
leaves = st.one_of(
    literals, paths,
    NAMES.map(lambda v: node(s.Rank, v)),
    paths.map(lambda p: node(s.First, p)),
    paths.map(lambda p: node(s.Count, p)),
    texts.map(lambda v: node(s.OutOfScope, v)),
    st.just(node(s.KeyRef)),
)


notes = st.lists(texts.map(lambda t: node(s.Note, t)), max_size=2).map(tuple)
not_handled = st.lists(texts.map(lambda t: node(s.NotHandled, t)), max_size=2).map(tuple)
# A label is read without the spaces inside its guillemets, and holds no guillemet.
labels = st.none() | st.text(st.sampled_from(list("abcéÀ #'’-:0123456789")), max_size=10).map(str.strip)


def _compound(children):
    pairs = st.tuples(children, children)
    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda ops: node(s.Or, tuple(ops))),
        st.lists(children, min_size=2, max_size=3).map(lambda ops: node(s.And, tuple(ops))),
        children.map(lambda e: node(s.Not, e)),
        st.builds(lambda op, p: node(s.Compare, op, *p), st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), pairs),
        st.builds(lambda op, p: node(s.Arith, op, *p), st.sampled_from("+-*/"), pairs),
        children.map(lambda e: node(s.Negate, e)),
        pairs.map(lambda p: node(s.Between, *p)),
        st.builds(lambda u, p: node(s.UnitsBetween, u, *p), st.sampled_from(["jours", "mois", "ans"]), pairs),
        st.builds(lambda every, v, c, e: node(s.Quantifier, every, v, c, e), st.booleans(), NAMES, paths, children),
        st.builds(lambda v, c, e: node(s.Count, c, v, e), NAMES, paths, children),
        st.builds(lambda t, k, d: node(s.Lookup, t, k, d), NAMES, st.none() | children, st.none() | children),
        children.map(lambda e: node(s.IsSet, e)),
        pairs.map(lambda p: node(s.Default, *p)),
        pairs.map(lambda p: node(s.Contains, *p)),
        st.builds(lambda n, e: node(s.Prefix, n, e), st.integers(0, 20), children),
    )


expressions = st.recursive(leaves, _compound, max_leaves=10)
value_exceptions = st.lists(st.builds(lambda c, v: node(s.ValueException, c, v), expressions, expressions), max_size=2)
filters = st.one_of(
    st.builds(lambda d, r: node(s.Dated, d, r), durations, expressions),
    st.just(node(s.OfHolder)),
    expressions.map(lambda c: node(s.WithCondition, c)),
)
pieces = st.builds(lambda t, f: node(s.PieceSpec, t, tuple(f)), texts, st.lists(filters, max_size=3))
demands = st.one_of(
    st.lists(pieces, min_size=1, max_size=3).map(lambda alts: node(s.PieceDemand, tuple(alts))),
    expressions.map(lambda c: node(s.ConditionDemand, c)),
)
definitions = st.builds(lambda n, v, e: node(s.Definition, n, v, tuple(e)), NAMES, expressions, value_exceptions)
requirements = st.builds(
    lambda kind, name, title, source, holder, applies, exceptions, demand, message, n, left_out: node(
        s.Requirement, kind, name, title, source, holder, applies, tuple(exceptions), demand, message, n, left_out),
    st.sampled_from(["exigence", "recevabilité"]), NAMES, texts, texts, st.booleans(), st.none() | expressions,
    st.lists(st.builds(lambda c, d: node(s.Exception_, c, d), expressions, st.none() | demands), max_size=2),
    demands, texts, notes, not_handled,
)
amounts = st.builds(
    lambda name, title, source, applies, value, exceptions, n, left_out: node(
        s.Amount, name, title, source, applies, value, tuple(exceptions), n, left_out),
    NAMES, texts, texts, st.none() | expressions, expressions, value_exceptions, notes, not_handled,
)
notices = st.builds(lambda *a: node(s.Notice, *a), NAMES, texts, texts, st.none() | expressions, st.booleans(), texts,
                    notes, not_handled)

# ------------------------------------------------ barèmes
small = st.integers(0, 100_000)
keys = st.one_of(
    st.builds(lambda t, label: node(s.Key, text=t, label=label), texts, labels),
    small.map(lambda n: node(s.Key, low=n, high=n)),
    st.tuples(small, small).map(lambda p: node(s.Key, low=p[0], high=p[1])),
    small.map(lambda n: node(s.Key, high=n)),
    small.map(lambda n: node(s.Key, low=n)),
)
# A barème's value is a sum: a constant, « hors barème », or a computation on « clé » (the checker says which).
row_values = st.one_of(literals, texts.map(lambda v: node(s.OutOfScope, v)), expressions)
rows = st.builds(lambda k, v, src: node(s.Row, k, v, src), keys, row_values, st.none() | texts)
dates = st.dates(datetime.date(2000, 1, 1), datetime.date(2030, 12, 31))
ends = st.none() | dates
row_periods = st.builds(lambda a, b, r: node(s.Period, a, b, tuple(r)), dates, ends,
                        st.lists(rows, min_size=1, max_size=3))
dated_values = st.builds(lambda a, b, v, src: node(s.Period, a, b, value=v, source=src), dates, ends, row_values,
                         st.none() | texts)
groups = st.builds(lambda k, p, label: node(s.KeyGroup, k, tuple(p), label), texts,
                   st.lists(dated_values, min_size=1, max_size=2), labels)
tables = st.one_of(
    st.builds(lambda n, t, src, p, m, x: node(s.Table, n, t, src, periods=tuple(p), notes=m, not_handled=x),
              NAMES, texts, texts, st.lists(row_periods | dated_values, min_size=1, max_size=2), notes, not_handled),
    st.builds(lambda n, t, src, g, m, x: node(s.Table, n, t, src, groups=tuple(g), notes=m, not_handled=x),
              NAMES, texts, texts, st.lists(groups, min_size=1, max_size=2), notes, not_handled),
)
modules = st.builds(
    lambda imports, items: s.Module("généré.immat", tuple(imports), tuple(items)),
    st.lists(texts.map(lambda t: node(s.Import, t)), max_size=2),
    st.lists(st.one_of(definitions, requirements, amounts, tables, notices), max_size=4),
)

GENERATED = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@GENERATED
@given(modules)
def test_generated_files_read_back_to_the_same_tree_and_are_stable(module):
    text = format_module(module, "")
    reread = parse(text, "généré.immat")
    assert reread == module, text
    assert format_module(reread, text) == text


placed_comments = st.lists(st.tuples(st.integers(0, 10**6), st.booleans(), st.text(st.characters(
    exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=12)), max_size=6)


def with_comments(text: str, found: list[tuple[int, bool, str]]) -> str:
    """`text` with a comment on its own line or at the end of a line, wherever each note says."""
    lines = text.split("\n")
    for position, trailing, words in found:
        at = position % len(lines)
        comment = f"# {words}".rstrip()
        if trailing and lines[at].strip():
            lines[at] += f"  {comment}"
        else:
            lines.insert(at, comment)
    return "\n".join(lines)


def assert_comments_survive_and_settle(text: str) -> None:
    formatted = fmt(text)
    assert parse(formatted) == parse(text)
    assert sorted(c.text for c in comments(formatted)) == sorted(c.text for c in comments(text))
    assert fmt(formatted) == formatted


@GENERATED
@given(modules, placed_comments)
def test_comments_put_anywhere_in_a_generated_file_survive_and_settle(module, found):
    assert_comments_survive_and_settle(with_comments(format_module(module, ""), found))


MESSY_TEXTS = [MESSY, (ROOT / "tests" / "parse" / "good" / "logique.immat").read_text("utf-8"),
               'définition x = a\n  sauf si b\n  ou c et\n  d alors\n  2\nexigence e exige une pièce "p"\n'
               '  avec pièce.a = 1 ou\n  une pièce "q" datée\n  d\'au plus 6 mois avant\n  date_demande\n']


@GENERATED
@given(st.sampled_from(MESSY_TEXTS), placed_comments)
def test_comments_put_anywhere_in_a_messy_file_survive_and_settle(text, found):
    # Here comments also land in the middle of constructs that the layout joins into one line.
    assert_comments_survive_and_settle(with_comments(text, found))
