"""The dossier contract: schema, strict loader, French diagnostics with JSON pointers, plate checks."""

from __future__ import annotations

import decimal
import json
import pathlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from immat import dossier as dossier_module
from immat.diagnostics import DiagnosticError, render_text
from immat.dossier import Dossier, parse_dossier, plate_problem
from immat.schema import shipped_schema

HERE = pathlib.Path(__file__).parent
GOOD = sorted((HERE / "dossier" / "good").glob("*.json"))
BAD = sorted((HERE / "dossier" / "bad").glob("*.json"))


def problems(path: pathlib.Path) -> DiagnosticError:
    with pytest.raises(DiagnosticError) as info:
        parse_dossier(path.read_text(encoding="utf-8"), path.name, shipped_schema())
    return info.value


def rendered(err: DiagnosticError) -> str:
    # render_text is the GNU line plus the « aide » line, so suggestions are reviewed too.
    return "\n".join(render_text(d) for d in err.diagnostics) + "\n"


# ---------------------------------------------------------------- good dossiers


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_good_dossier_parses(path):
    text = path.read_text(encoding="utf-8")
    result = parse_dossier(text, str(path), shipped_schema())
    assert result == Dossier(str(path), json.loads(text))
    assert isinstance(result.data["reference"], str)


def test_non_integer_numbers_are_decimal():
    data, diagnostics = dossier_module._load_json('{"a": 2.76, "b": [1e2, 3]}', "t.json")
    assert diagnostics == []
    assert data == {"a": decimal.Decimal("2.76"), "b": [decimal.Decimal("1E+2"), 3]}
    assert type(data["a"]) is decimal.Decimal and type(data["b"][0]) is decimal.Decimal
    assert type(data["b"][1]) is int


def test_decimal_digits_survive_into_messages():
    with pytest.raises(DiagnosticError) as info:
        parse_dossier('{"reference": "x", "vehicule": {"co2_g_km": 2.76}}', "t.json", shipped_schema())
    assert "2.76" in info.value.diagnostics[0].message
    assert "2.7600" not in info.value.diagnostics[0].message


def test_name_is_kept_as_given():
    assert parse_dossier('{"reference": "x"}', "lot.jsonl:12", shipped_schema()).name == "lot.jsonl:12"


# ---------------------------------------------------------------- bad dossiers

# (code, pointer) of every diagnostic expected for each file in tests/dossier/bad/;
# the messages themselves are in the snapshots.
EXPECTED = {
    "champ_inconnu": {
        ("schema", "/vehicle"),
        ("schema", "/couleur"),
        ("schema", "/titulaires/0/adresse/code_postale"),
    },
    "cle_dupliquee": {("cle-dupliquee", "/vehicule/genre")},
    "code_postal_invalide": {
        ("schema", "/titulaires/0/adresse/code_postal"),
        ("schema", "/titulaires/0/adresse/code_insee"),
    },
    "date_30_fevrier": {
        ("schema", "/date_demande"),
        ("schema", "/achat/date"),
        ("schema", "/titulaires/0/date_naissance"),
    },
    "enum_inconnu": {
        ("schema", "/canal"),
        ("schema", "/vehicule/energie"),
        ("schema", "/vehicule/genre"),
        ("schema", "/vehicule/norme_co2"),
        ("schema", "/pieces/0/type"),
    },
    "immatriculation_000": {("immatriculation", "/vehicule/immatriculation")},
    "immatriculation_fni_departement_20": {("immatriculation", "/vehicule/immatriculation")},
    "immatriculation_fni_departement_inexistant": {("immatriculation", "/vehicule/immatriculation")},
    "immatriculation_lettres_iou": {("immatriculation", "/vehicule/immatriculation")},
    "immatriculation_minuscules": {("immatriculation", "/vehicule/immatriculation")},
    "immatriculation_non_reconnue": {("immatriculation", "/vehicule/immatriculation")},
    "immatriculation_sans_tirets": {("immatriculation", "/vehicule/immatriculation")},
    "immatriculation_ss": {("immatriculation", "/vehicule/immatriculation")},
    "immatriculation_ww": {("immatriculation", "/vehicule/immatriculation")},
    "json_contenu_en_trop": {("json-invalide", None)},
    "json_nan": {("json-invalide", "/vehicule/co2_g_km")},
    "json_texte_non_termine": {("json-invalide", None)},
    "json_virgule_en_trop": {("json-invalide", None)},
    "json_virgule_manquante": {("json-invalide", None)},
    "piece_titulaire_hors_limites": {("schema", "/pieces/2/titulaire")},
    "racine_liste": {("schema", "")},
    "reference_manquante": {
        ("schema", "/reference"),
        ("schema", "/titulaires"),
        ("schema", "/pieces/0/type"),
    },
    "type_incorrect": {
        ("schema", "/pour_soi_meme"),
        ("schema", "/vehicule/puissance_fiscale"),
        ("schema", "/vehicule/co2_g_km"),
        ("schema", "/vehicule/vin"),
        ("schema", "/pieces"),
    },
    "violations_multiples": {
        ("schema", "/canal"),
        ("schema", "/achat/pays"),
        ("schema", "/achat/code_cesion"),
        ("immatriculation", "/vehicule/immatriculation"),
        ("schema", "/vehicule/numero_formule"),
        ("schema", "/vehicule/puissance_fiscale"),
        ("schema", "/vehicule/co2_g_km"),
        ("schema", "/vehicule/vin"),
        ("schema", "/vehicule/reception_type_ce"),
        ("schema", "/titulaires/0/adresse/code_postal"),
        ("schema", "/pieces/0/resultat"),
        ("schema", "/pieces/0/titulaire"),
        ("schema", "/pieces/1/titulaire"),
    },
}


def test_every_bad_file_has_expectations():
    assert {p.stem for p in BAD} == set(EXPECTED)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_dossier_diagnostics(path, text_snapshot):
    err = problems(path)
    assert {(d.code, d.pointer) for d in err.diagnostics} == EXPECTED[path.stem]
    assert all(d.is_error and d.file == path.name for d in err.diagnostics)
    assert rendered(err) == text_snapshot


# Phrases of jsonschema's and json's own English messages: none may leak out.
ENGLISH = re.compile(r"\b(is not|is a required|does not match|Expecting|should|valid under|Additional)\b")


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_messages_are_french(path):
    for d in problems(path).diagnostics:
        assert not ENGLISH.search(d.message), d.message
        assert not ENGLISH.search(d.help or ""), d.help


def only(path_name: str):
    (diagnostic,) = problems(HERE / "dossier" / "bad" / path_name).diagnostics
    return diagnostic


def test_missing_comma_is_located_where_the_comma_belongs():
    d = only("json_virgule_manquante.json")
    assert (d.line, d.column) == (3, 31)
    assert d.message == "JSON mal formé : virgule manquante"


def test_trailing_garbage_is_located():
    d = only("json_contenu_en_trop.json")
    assert (d.line, d.column) == (2, 1)


def test_unknown_field_suggests_the_closest_name():
    err = problems(HERE / "dossier" / "bad" / "champ_inconnu.json")
    helps = {d.pointer: d.help for d in err.diagnostics}
    assert helps["/vehicle"] == "vouliez-vous dire « vehicule » ?"
    assert helps["/titulaires/0/adresse/code_postale"] == "vouliez-vous dire « code_postal » ?"
    assert helps["/couleur"].startswith("champs admis ici : reference, ")


def test_bad_enum_suggests_ignoring_case_and_accents():
    err = problems(HERE / "dossier" / "bad" / "enum_inconnu.json")
    helps = {d.pointer: d.help for d in err.diagnostics}
    assert helps["/vehicule/genre"] == "vouliez-vous dire « VP » ?"
    assert helps["/vehicule/energie"] == "vouliez-vous dire « electrique » ?"
    assert helps["/canal"] == "vouliez-vous dire « en_ligne » ?"
    assert helps["/vehicule/norme_co2"] is None


def test_thirtieth_of_february_is_reported():
    err = problems(HERE / "dossier" / "bad" / "date_30_fevrier.json")
    messages = {d.pointer: d.message for d in err.diagnostics}
    assert messages["/date_demande"] == (
        "date invalide « 2021-02-30 » : attendu une date réelle au format AAAA-MM-JJ"
    )


def test_holder_index_out_of_range():
    d = only("piece_titulaire_hors_limites.json")
    assert d.message == "la pièce désigne le titulaire n° 3, mais le dossier n'en a que 2"


def test_diagnostic_order_is_deterministic():
    path = HERE / "dossier" / "bad" / "violations_multiples.json"
    first, second = problems(path).diagnostics, problems(path).diagnostics
    assert first == second
    assert len(first) == len(EXPECTED["violations_multiples"])


def test_mistyped_value_gets_only_its_type_error():
    with pytest.raises(DiagnosticError) as info:
        parse_dossier('{"reference": "x", "canal": 3}', "t.json", shipped_schema())
    (d,) = info.value.diagnostics
    assert d.message == "doit être un texte ; reçu l'entier 3"


def test_json_true_is_not_a_holder_index():
    with pytest.raises(DiagnosticError) as info:
        parse_dossier('{"reference": "x", "titulaires": [{}], "pieces": [{"type": "procuration", "titulaire": true}]}', "t", shipped_schema())
    (d,) = info.value.diagnostics
    assert (d.pointer, d.message) == ("/pieces/0/titulaire", "doit être un entier ; reçu le booléen true")


def test_pointer_escapes_slash_and_tilde():
    with pytest.raises(DiagnosticError) as info:
        parse_dossier('{"reference": "x", "a/b~c": 1}', "t.json", shipped_schema())
    assert info.value.diagnostics[0].pointer == "/a~1b~0c"


# ---------------------------------------------------------------- JSON syntax


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        ("", "texte vide, un objet JSON est attendu", (1, 1)),
        ('{"reference": }', "valeur attendue", (1, 15)),
        ('{"reference": "x" "canal": "en_ligne"}', "virgule manquante", (1, 18)),
        ('{"reference" "x"}', "deux-points manquant après le nom du champ", (1, 14)),
        ("{reference: 1}", "nom de champ attendu, entre guillemets doubles", (1, 2)),
        ('{"reference": "x', "texte non terminé : guillemet fermant manquant", (1, 15)),
        ('{"reference": "x"} {}', "contenu en trop après la fin du document", (1, 20)),
        ('{"reference": "a\tb"}', "caractère de contrôle dans un texte (un saut de ligne ou une tabulation s'écrit \\n ou \\t)", (1, 17)),
        ('{"reference": "a\\qb"}', "séquence d'échappement invalide après \\", (1, 17)),
        ('{"reference": "x",}', "virgule en trop avant }", (1, 18)),
        ('{"reference": "x"', "fin du texte inattendue : accolade } ou crochet ] fermant manquant", (1, 18)),
        ("\ufeff{}", "marque d'ordre des octets (BOM) en tête du texte", (1, 1)),
    ],
    ids=[
        "vide", "valeur", "virgule", "deux-points", "nom-sans-guillemets", "texte-non-termine",
        "contenu-en-trop", "tabulation", "echappement", "virgule-en-trop", "fin-inattendue", "bom",
    ],
)
def test_json_syntax_errors_in_french(text, message, where):
    with pytest.raises(DiagnosticError) as info:
        parse_dossier(text, "t.json", shipped_schema())
    (d,) = info.value.diagnostics
    assert (d.code, d.message, (d.line, d.column), d.file) == ("json-invalide", f"JSON mal formé : {message}", where, "t.json")


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_rejected_with_a_pointer(token):
    with pytest.raises(DiagnosticError) as info:
        parse_dossier(f'{{"reference": "x", "vehicule": {{"co2_g_km": {token}}}}}', "t.json", shipped_schema())
    (d,) = info.value.diagnostics
    assert (d.code, d.pointer) == ("json-invalide", "/vehicule/co2_g_km")
    assert token in d.message


def test_duplicate_key_reported_once_even_if_repeated_thrice():
    with pytest.raises(DiagnosticError) as info:
        parse_dossier('{"reference": "a", "reference": "b", "reference": "c"}', "t.json", shipped_schema())
    assert [(d.code, d.pointer) for d in info.value.diagnostics] == [("cle-dupliquee", "/reference")]


# Texts where counting quotes could be fooled (a quote inside a text, a number or a NaN in the place of a
# string, a duplicate deep in a list): each duplicate must still be found, at its place.
@pytest.mark.parametrize("text, pointer", [
    ('{"a": {"b": 1, "b": 2}}', "/a/b"),
    ('{"a": "x\\"y", "a": 1}', "/a"),
    ('{"a": "\\u0022\\u0022", "b": 1, "b": 2}', "/b"),
    ('{"a": [{"b": 1.5, "b": 2.5}]}', "/a/0/b"),
    ('{"a": [{"b": NaN, "b": 1}]}', "/a/0/b"),
    ('{"a": "\\\\", "a": 123456789012345678901234567890}', "/a"),
    ('{"a": {"c": "d"}, "a": {}}', "/a"),
])
def test_every_duplicate_key_is_found(text, pointer):
    data, diagnostics = [], []
    try:
        data, diagnostics = dossier_module._load_json(text, "t.json")
    except DiagnosticError as exc:
        diagnostics = exc.diagnostics
    assert ("cle-dupliquee", pointer) in [(d.code, d.pointer) for d in diagnostics], data


@pytest.mark.parametrize("text", ["[" * 100_000, "1" * 5000], ids=["imbrication", "entier-geant"])
def test_pathological_json_gives_a_diagnostic_not_a_crash(text):
    with pytest.raises(DiagnosticError) as info:
        parse_dossier(text, "t.json", shipped_schema())
    assert info.value.diagnostics[0].code == "json-invalide"


# ---------------------------------------------------------------- registration numbers


@pytest.mark.parametrize(
    "plate",
    ["AB-123-CD", "AA-001-AA", "ZZ-999-ZZ", "AB-123-WW", "123 AB 01", "12 ABC 2A", "1234 AB 971", "1 A 2B", "99 XYZ 976", "123 AU 95"],
)
def test_valid_plates(plate):
    assert plate_problem(plate) is None


@pytest.mark.parametrize(
    ("plate", "fragment"),
    [
        ("ab-123-cd", "mal écrite : attendu « AB-123-CD »"),
        ("ab123cd", "mal écrite : attendu « AB-123-CD »"),
        ("AB 123 CD", "mal écrite : attendu « AB-123-CD »"),
        ("AB–123–CD", "mal écrite : attendu « AB-123-CD »"),
        (" AB-123-CD", "mal écrite : attendu « AB-123-CD »"),
        ("123ab01", "mal écrite : attendu « 123 AB 01 »"),
        ("123-AB-01", "mal écrite : attendu « 123 AB 01 »"),
        ("AI-123-CD", "lettre I interdite"),
        ("AB-123-CO", "lettre O interdite"),
        ("AU-123-CD", "lettre U interdite"),
        ("AB-000-CD", "le numéro 000 n'est jamais attribué"),
        ("SS-123-AB", "la paire de lettres SS n'est jamais attribuée"),
        ("AB-123-SS", "la paire de lettres SS n'est jamais attribuée"),
        ("WW-123-AB", "WW est la série provisoire"),
        ("123 AI 01", "lettre I interdite"),
        ("123 AB 20", "la Corse s'écrit 2A (Corse-du-Sud) ou 2B (Haute-Corse)"),
        ("123 AB 00", "département « 00 » inexistant"),
        ("123 AB 96", "département « 96 » inexistant"),
        ("123 AB 975", "département « 975 » inexistant"),
        ("123 AB 2C", "non reconnue"),
        ("AB-12-CD", "non reconnue"),
        ("12345 AB 01", "non reconnue"),
        ("", "immatriculation vide"),
    ],
)
def test_plate_problems(plate, fragment):
    problem = plate_problem(plate)
    assert problem is not None and fragment in problem


def test_badly_written_plate_also_reports_what_is_wrong_with_it():
    problem = plate_problem("ab-000-cd")
    assert "attendu « AB-000-CD »" in problem and "000" in problem.split("attendu")[1]


SIV_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"  # no I, O, U
letter_pair = st.text(SIV_LETTERS, min_size=2, max_size=2).filter(lambda pair: pair != "SS")


@given(left=letter_pair.filter(lambda pair: pair != "WW"), number=st.integers(1, 999), right=letter_pair)
def test_any_issuable_siv_plate_is_accepted_and_its_lower_case_is_not(left, number, right):
    plate = f"{left}-{number:03d}-{right}"
    assert plate_problem(plate) is None
    lower = plate_problem(plate.lower())
    assert lower is not None and f"attendu « {plate} »" in lower


@given(plate=st.text(max_size=12))
def test_plate_problem_never_crashes(plate):
    assert plate_problem(plate) is None or isinstance(plate_problem(plate), str)


# ---------------------------------------------------------------- the schema itself


def test_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(shipped_schema().document)


def test_schema_is_loaded_once():
    assert shipped_schema() is shipped_schema()


def subschemas(schema, path=""):
    yield path, schema
    for key in ("properties", "$defs"):
        for name, sub in schema.get(key, {}).items():
            yield from subschemas(sub, f"{path}/{key}/{name}")
    if "items" in schema:
        yield from subschemas(schema["items"], f"{path}/items")


@pytest.mark.parametrize(("path", "schema"), list(subschemas(shipped_schema().document)), ids=lambda v: v if isinstance(v, str) else "")
def test_every_field_is_documented_and_closed(path, schema):
    assert schema.get("title") and schema.get("description"), path
    if schema.get("type") == "object":
        assert schema.get("additionalProperties") is False, path
    if "pattern" in schema:
        assert schema.get("x-message"), path
    for branch in schema.get("oneOf", []):
        assert "const" in branch and branch.get("description"), path


def test_only_reference_is_required():
    required = [(p, s["required"]) for p, s in subschemas(shipped_schema().document) if "required" in s]
    assert required == [("", ["reference"]), ("/properties/pieces/items", ["type"])]


def test_enums_have_no_duplicates():
    for path, schema in subschemas(shipped_schema().document):
        values = [branch["const"] for branch in schema.get("oneOf", [])]
        assert len(values) == len(set(values)), path
        if schema.get(dossier_module.CASE_INSENSITIVE):  # read in any case: no two values may differ by case alone
            assert len({value.casefold() for value in values}) == len(values), path


def test_every_case_insensitive_field_is_put_in_its_listed_spelling():
    marked = [path for path, schema in subschemas(shipped_schema().document) if schema.get(dossier_module.CASE_INSENSITIVE)]
    assert marked == ["/properties/vehicule/properties/energie"]
    assert [path for path, _ in dossier_module._spellings(shipped_schema())] == [("vehicule", "energie")]


# ---------------------------------------------------------------- energy (box P.3): words and certificate codes

# Box P.3 of the certificate, arrêté du 9 février 2009 as amended by the arrêté du 12 avril 2012.
P3_CODES = ("ES EG EN EE ER EM EH EQ EP FE FG FN FL GO GL GH GF GM GQ GP PE PH GN NE NH EL ET GA GZ GG GE PL AC H2"
            .split())
WORDS = ["essence", "gazole", "diesel", "electrique", "hydrogene", "hybride_rechargeable", "hybride_non_rechargeable",
         "hybride", "gnv", "gpl", "superethanol_e85", "autre"]
# A requirement that applies to « EL » and « essence » only, so a report shows which spelling the rules read.
ENERGY_RULES = HERE / "dossier" / "regles"
EXAMPLE = HERE.parent / "fixtures" / "exemple" / "dossier.json"


def energy_schema() -> dict:
    return shipped_schema().document["properties"]["vehicule"]["properties"]["energie"]


def with_energy(energie: str) -> dict:
    """The bundled example dossier with only its energy changed."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["vehicule"]["energie"] = energie
    return data


def energy_file(tmp_path: pathlib.Path, energie: str) -> pathlib.Path:
    path = tmp_path / "dossier.json"
    path.write_text(json.dumps(with_energy(energie), ensure_ascii=False), encoding="utf-8")
    return path


def test_energy_lists_the_words_then_every_p3_code_with_its_french_meaning():
    entries = {branch["const"]: branch["description"] for branch in energy_schema()["oneOf"]}
    assert list(entries) == WORDS + P3_CODES
    assert all(description.strip() for description in entries.values())
    for code in P3_CODES:
        assert entries[code].startswith(f"Code P.3 {code} : ") and entries[code].endswith("."), code


def test_energy_schema_says_both_spellings_are_read_in_any_case_and_cites_the_arrete():
    schema = energy_schema()
    assert schema["x-casse-indifferente"] is True
    for words in ("x-casse-indifferente", "arrêté du 9 février 2009", "arrêté du 12 avril 2012", "P.3"):
        assert words in schema["description"], words


def test_schema_command_keeps_the_marked_energy(cli):
    printed = json.loads(cli("schema", "dossier").stdout)
    Draft202012Validator.check_schema(printed)
    assert printed["properties"]["vehicule"]["properties"]["energie"] == energy_schema()


@pytest.mark.parametrize("listed", WORDS + P3_CODES)
def test_every_listed_energy_is_read_in_its_listed_spelling_whatever_the_case(listed):
    for written in (listed, listed.lower(), listed.upper(), listed.title()):
        dossier = parse_dossier(json.dumps(with_energy(written)), "t.json", shipped_schema())
        assert dossier.data["vehicule"]["energie"] == listed, written


@pytest.mark.parametrize(("written", "read"), [
    ("EL", "EL"), ("el", "EL"), ("El", "EL"), ("eL", "EL"),
    ("essence", "essence"), ("Essence", "essence"), ("ESSENCE", "essence"),
    ("GO", "GO"), ("go", "GO"), ("h2", "H2"), ("gazole", "gazole"), ("Diesel", "diesel"),
])
def test_validate_reads_the_energy_in_its_listed_spelling(cli, tmp_path, written, read):
    result = cli("validate", "--explain", "--rules", ENERGY_RULES, energy_file(tmp_path, written))
    assert "erreur[schema]" not in result.stderr
    assert f"vehicule.energie : {read}\n" in result.stdout  # the report shows the listed spelling
    applies = read in ("EL", "essence")  # and the rules, which compare with it, read it too
    assert result.exit_code == (1 if applies else 0)
    assert ("Verdict : INCOMPLET" if applies else "Verdict : COMPLET") in result.stdout


@pytest.mark.parametrize(("written", "hint"), [
    ("ELL", "EL"), ("essense", "essence"), ("hybride-rechargeable", "hybride_rechargeable"), ("gazol", "gazole"),
    ("H 2", "H2"), ("EEE", "EE"), ("électrique", "electrique"),
    # Spaces around are refused, not trimmed (see dossier._in_listed_case); the hint gives the listed spelling.
    (" EL", "EL"), ("el ", "EL"),
])
def test_energy_near_miss_is_refused_with_its_pointer_and_the_listed_spelling(cli, tmp_path, written, hint):
    path = energy_file(tmp_path, written)
    result = cli("validate", "--rules", ENERGY_RULES, path)
    assert result.exit_code == 2
    assert result.stdout == ""
    message, help_line = result.stderr.splitlines()
    assert message.startswith(f"{path}: /vehicule/energie: erreur[schema]: valeur « {written} » non autorisée ; ")
    assert help_line == f"  = aide : vouliez-vous dire « {hint} » ?"


def test_energy_error_lists_the_words_and_sums_up_the_codes():
    with pytest.raises(DiagnosticError) as info:
        parse_dossier(json.dumps(with_energy("XX")), "t.json", shipped_schema())
    (d,) = info.value.diagnostics
    assert d.message == (
        "valeur « XX » non autorisée ; valeurs possibles : " + ", ".join(WORDS)
        + ", ou l'un des 34 codes du certificat (ES, EG, EN…, liste complète : immat schema dossier)"
    )
    assert d.help is None


@pytest.mark.parametrize("vehicule", [[], "EL", {"energie": 3}, {"energie": None}, {"energie": ["EL"]}])
def test_mistyped_energy_or_vehicle_gets_its_type_error_only(vehicule):
    with pytest.raises(DiagnosticError) as info:
        parse_dossier(json.dumps({"reference": "x", "vehicule": vehicule}), "t.json", shipped_schema())
    (d,) = info.value.diagnostics
    assert d.message.startswith("doit être un ")


def test_batch_reports_the_line_with_a_bad_energy_and_goes_on(cli, tmp_path):
    lines = []
    for n, energie in enumerate(["el", "ELL", "Essence"], start=1):
        data = with_energy(energie)
        data["reference"] = f"LOT-{n}"
        lines.append(json.dumps(data, ensure_ascii=False))
    batch = tmp_path / "lot.jsonl"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli("validate", "--format", "jsonl", "--rules", ENERGY_RULES, batch)
    assert result.exit_code == 2
    # The bad line keeps its place in the stream, as a record without a verdict.
    assert [json.loads(line).get("reference") for line in result.stdout.splitlines()] == ["LOT-1", None, "LOT-3"]
    assert f"{batch}:2: /vehicule/energie: erreur[schema]: valeur « ELL » non autorisée" in result.stderr
    assert "  = aide : vouliez-vous dire « EL » ?" in result.stderr.splitlines()
    assert "2 incomplet(s)" in result.stderr and "1 illisible(s)" in result.stderr
