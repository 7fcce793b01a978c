"""A pack ships its own dossier schema: tests/permis/ checks a « permis de conduire » demand, not a carte grise.

Every command reads the schema beside the rules: validation, the checker's field types, the reports' words,
the docs, `immat schema dossier`; it enters the digest and the cache key; a schema immat cannot read is an
error located in it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from immat import dossier as dossier_module
from immat.schema import shipped_schema

from .conftest import ROOT

PERMIS = Path("tests/permis/regles")
CASES = Path("tests/permis/cas")
SCHEMA = json.loads((ROOT / PERMIS / "dossier.schema.json").read_text(encoding="utf-8"))
REQUIREMENT = '''exigence identite
  titre "Justificatif d'identité"
  source "Code de la route, art. R. 322-1"
  exige une pièce "justificatif_identite"
  message "Joignez un justificatif d'identité."
'''


def copy_of_permis(folder: Path) -> Path:
    shutil.copytree(ROOT / PERMIS, folder)
    return folder


def write_dossier(folder: Path, data: dict) -> Path:
    path = folder / "dossier.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def digest_of(output: str) -> str:
    return re.search(r"empreinte ([0-9a-f]{12})", output)[1]


def diagnostics(result) -> list[dict]:
    return json.loads(result.stdout)


# ---------------------------------------------------------------- every command reads the pack's schema


def test_a_dossier_of_another_procedure_is_checked_and_reported_in_its_schemas_words(cli):
    complete = cli("validate", "--rules", PERMIS, CASES / "complet" / "dossier.json")
    assert complete.exit_code == 0, complete.output
    assert "Verdict : COMPLET" in complete.stdout
    missing = cli("validate", "--rules", PERMIS, CASES / "sans_attestation" / "dossier.json")
    assert missing.exit_code == 1
    # The header and the pieces' names come from the pack's schema: no vehicle, no carte-grise piece.
    assert "Demande du 15/03/2024\nRègles : tests/permis/regles (empreinte " in missing.stdout
    assert "Pièce acceptée : Photo-signature numérique\n" in missing.stdout
    assert ("Pièces acceptées (une seule suffit) : Attestation scolaire de sécurité routière de 2e niveau ;\n"
            "      Attestation de sécurité routière\n") in missing.stdout
    assert cli("test", PERMIS, CASES).exit_code == 0


def test_a_dossier_is_validated_against_the_pack_schema_with_its_french_messages(cli, tmp_path):
    lacking = write_dossier(tmp_path, {"reference": "P-1", "candidat": {"nom": "Fictif", "numero_neph": "12"},
                                       "vehicule": {"genre": "VP"}})
    result = cli("validate", "--rules", PERMIS, lacking)
    assert result.exit_code == 2
    where = f"{lacking}: /candidat/numero_neph: erreur[schema]: "
    assert where + ("le numéro NEPH (numéro d'enregistrement préfectoral harmonisé) s'écrit en 12 chiffres ; "
                    "reçu « 12 »") in result.stderr
    assert f"{lacking}: /vehicule: erreur[schema]: champ inconnu : « vehicule »" in result.stderr
    (tmp_path / "sans").mkdir()
    without = write_dossier(tmp_path / "sans", {"reference": "P-2", "candidat": {"nom": "Fictif"}})
    record = json.loads(cli("validate", "--rules", PERMIS, "--format", "json", without).stdout)
    assert [(e["pointer"], e["message"]) for e in record["errors"]] == [
        ("/candidat/numero_neph", "champ obligatoire manquant : numero_neph")]
    # The carte-grise example is no permis demand: this pack's schema refuses it.
    carte_grise = cli("validate", "--rules", PERMIS, "fixtures/exemple/dossier.json")
    assert carte_grise.exit_code == 2
    assert "fixtures/exemple/dossier.json: /candidat: erreur[schema]: champ obligatoire manquant : candidat" in (
        carte_grise.stderr)


def test_check_types_the_rules_against_the_pack_schema(cli, tmp_path, monkeypatch):
    assert cli("check", PERMIS).exit_code == 0
    monkeypatch.chdir(tmp_path)
    pack = copy_of_permis(tmp_path / "regles")
    # A carte-grise field is no field of a permis dossier; nor is one the schema lacks, nor a type it does not give.
    (pack / "ajouts.immat").write_text('''définition voiture = vehicule.genre = "VP"
définition ancien = candidat.permis_anterieur

exigence age
  titre "Âge du candidat"
  source "service-public.fr"
  exige que candidat.date_naissance > 3
  message "Donnez la date de naissance."
''', encoding="utf-8")
    result = cli("check", "--format", "json", pack)
    assert result.exit_code == 3
    assert [(d["line"], d["column"], d["code"]) for d in diagnostics(result)] == [
        (1, 22, "nom-inconnu"), (2, 21, "champ-inconnu"), (7, 13, "type")]
    text = cli("check", pack).stdout
    assert "« vehicule » n'est ni une définition, ni un montant, ni un champ du dossier" in text
    assert "« candidat.permis_anterieur » n'est pas un champ du dossier" in text
    assert "comparaison impossible entre date et entier" in text


def test_docs_document_the_fields_of_the_pack_schema(cli, tmp_path):
    result = cli("docs", "--rules", PERMIS, "--fixtures", CASES, "--format", "markdown", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    page = (tmp_path / "exigence-attestation_securite_routiere.md").read_text(encoding="utf-8")
    assert "- la date de naissance du candidat[^1] n'est pas antérieure au 1er janvier 1988" in page
    assert "[^1]: Champ /candidat/date\\_naissance du dossier" in page
    assert "*Attestation de sécurité routière (ASR), pour qui n'a pas passé l'ASSR 2*" in page


def test_schema_dossier_prints_the_schema_of_the_pack(cli, tmp_path, monkeypatch):
    for rules in (PERMIS, PERMIS / "permis.immat"):  # a one-file pack's schema lies in the file's folder
        result = cli("schema", "dossier", "--rules", rules)
        assert result.exit_code == 0
        assert json.loads(result.stdout) == SCHEMA
        assert result.stderr.startswith("Schéma du dossier : tests/permis/regles/dossier.schema.json ; règles : ")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "regles").mkdir()
    (tmp_path / "regles" / "a.immat").write_text(REQUIREMENT, encoding="utf-8")
    shipped = cli("schema", "dossier", "--rules", "regles")
    assert json.loads(shipped.stdout) == json.loads((ROOT / "rules" / "dossier.schema.json").read_bytes())
    assert shipped.stderr.startswith("Schéma du dossier : schéma livré (carte grise) ; règles : regles ")


def test_schema_dossier_escapes_what_a_schema_could_hide_on_a_terminal(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pack = copy_of_permis(tmp_path / "regles")
    schema = json.loads((pack / "dossier.schema.json").read_text(encoding="utf-8"))
    schema["title"] = "Permis\u202eLIAMON\x1b[2J"
    (pack / "dossier.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    result = cli("schema", "dossier", "--rules", "regles")
    assert result.exit_code == 0, result.output
    assert "\u202e" not in result.stdout and "\x1b" not in result.stdout
    assert json.loads(result.stdout)["title"] == "Permis\u202eLIAMON\x1b[2J"  # the same data, in safe bytes


# ---------------------------------------------------------------- a schema immat cannot read is located in it

DEEP = {"type": "object"}
for _ in range(40):
    DEEP = {"type": "object", "properties": {"x": DEEP}}

BAD_SCHEMAS = {
    "virgule_en_trop": ('{"type": "object",\n  "properties": {"a": {"type": "string"},}\n}',
                        (2, 41, None, "json-invalide", "JSON mal formé : virgule en trop avant }")),
    "cle_dupliquee": ('{"type": "object", "type": "array"}',
                      (None, None, "/type", "cle-dupliquee", "champ « type » présent plusieurs fois")),
    "pas_un_objet": ("[]", (None, None, "", "schema-invalide", "un schéma de dossier est un objet JSON")),
    "type_inconnu": ('{"properties": {"age": {"type": "entier"}}}',
                     (None, None, "/properties/age/type", "schema-invalide", "valeur « entier » non autorisée ; "
                      "valeurs possibles : array, boolean, integer, null, number, object, string")),
    "motif_invalide": ('{"properties": {"a": {"type": "string", "pattern": "[a-"}}}',
                       (None, None, "/properties/a/pattern", "schema-invalide", "format « regex » non respecté")),
    "autre_version": ('{"$schema": "http://json-schema.org/draft-07/schema#"}',
                      (None, None, "/$schema", "schema-invalide", "version 2020-12")),
    "champ_booleen": ('{"properties": {"a": true}}',
                      (None, None, "/properties/a", "schema-invalide", "un champ décrit par true ou false")),
    "reference_distante": ('{"properties": {"a": {"$ref": "https://exemple.fr/s.json"}}}',
                           (None, None, "/properties/a/$ref", "schema-invalide", "hors de ce fichier")),
    "reference_vide": ('{"properties": {"a": {"$ref": "#/$defs/b"}}}',
                       (None, None, "/properties/a/$ref", "schema-invalide", "ne mène à aucune définition")),
    "references_circulaires": ('{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}}',
                               (None, None, "/$defs/b/$ref", "schema-invalide", "références circulaires")),
    "obligatoire_refuse": ('{"additionalProperties": false, "required": ["reference"]}',
                           (None, None, "/required", "schema-invalide", "« reference » est obligatoire, mais")),
    "trop_imbrique": (json.dumps(DEEP), (None, None, "/properties/x" * 32 + "/properties", "schema-invalide",
                                         "schéma trop imbriqué : plus de 64 niveaux")),
    "pas_utf8": (b'{"title": "caf\xe9"}', (1, 15, None, "encodage", "pas en UTF-8 (octet 0xE9)")),
    "trop_long": (b" " * 1_000_001, (None, None, None, "fichier-trop-long", "plus de 1\u202f000\u202f000 octets")),
}


@pytest.mark.parametrize("case", list(BAD_SCHEMAS), ids=str)
def test_a_schema_immat_cannot_read_is_located_and_stops_every_command(cli, tmp_path, monkeypatch, case):
    content, (line, column, pointer, code, message) = BAD_SCHEMAS[case]
    monkeypatch.chdir(tmp_path)
    pack = copy_of_permis(tmp_path / "regles")
    schema = pack / "dossier.schema.json"
    schema.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = cli("check", "--format", "json", "regles")
    assert result.exit_code == 3
    [found] = [d for d in diagnostics(result) if d["code"] == code]
    assert (found["file"], found["line"], found["column"], found.get("pointer")) == (
        "regles/dossier.schema.json", line, column, pointer)
    assert message in found["message"]
    dossier = ROOT / CASES / "complet" / "dossier.json"
    for command in (("validate", dossier), ("docs", "-o", "site"), ("schema", "dossier")):
        refused = cli(*command, "--rules", "regles")
        assert refused.exit_code == 3, command
        assert f"erreur[{code}]" in refused.stderr and "Traceback" not in refused.output


def test_a_schema_that_is_a_fifo_or_leads_out_of_the_pack_is_not_read(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pack = copy_of_permis(tmp_path / "regles")
    schema = pack / "dossier.schema.json"
    schema.unlink()
    os.mkfifo(schema)
    signal.alarm(30)  # opening a FIFO would wait for a writer: the test fails instead of hanging
    try:
        fifo = cli("check", "regles")
    finally:
        signal.alarm(0)
    assert fifo.exit_code == 3
    assert "regles/dossier.schema.json: erreur[fichier-special]: ce n'est pas un fichier ordinaire mais un tube " \
           "nommé (FIFO)" in fifo.stdout
    schema.unlink()
    (tmp_path / "ailleurs.json").write_text('{"title": "secret-hors-du-paquet"}', encoding="utf-8")
    schema.symlink_to(tmp_path / "ailleurs.json")
    outside = cli("schema", "dossier", "--rules", "regles")
    assert outside.exit_code == 3
    assert "regles/dossier.schema.json: erreur[fichier-hors-du-paquet]: lien symbolique qui mène hors du " \
           "paquet « regles » : ce schéma n'est pas lu" in outside.stderr
    assert "secret" not in outside.output


# ---------------------------------------------------------------- the schema is part of the pack


def test_the_schema_enters_the_digest_as_the_readme_recipe_computes_it(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pack = copy_of_permis(tmp_path / "regles")
    recipe = re.search(r"`(find \. -name .*? \| cut -c1-12)`", (ROOT / "README.md").read_text(encoding="utf-8"))[1]
    computed = subprocess.run(["bash", "-c", recipe], cwd=pack, capture_output=True, text=True, check=True).stdout
    digest = digest_of(cli("check", "regles").stderr)
    assert computed.strip() == digest
    schema = pack / "dossier.schema.json"
    schema.write_text(schema.read_text(encoding="utf-8").replace("paquet d'essai", "paquet d'essai !"),
                      encoding="utf-8")
    assert digest_of(cli("check", "regles").stderr) != digest
    # The shipped pack's schema is in its digest too: rules/ and the shipped pack keep the same one.
    monkeypatch.chdir(ROOT)
    shipped = subprocess.run(["bash", "-c", recipe], cwd=ROOT / "rules", capture_output=True, text=True, check=True)
    assert digest_of(cli("check").stderr) == shipped.stdout.strip()


def test_an_edited_schema_is_read_anew_though_the_rules_are_in_the_cache(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pack = copy_of_permis(tmp_path / "regles")
    assert cli("check", "regles").exit_code == 0
    schema = json.loads((pack / "dossier.schema.json").read_text(encoding="utf-8"))
    del schema["properties"]["candidat"]["properties"]["date_naissance"]
    (pack / "dossier.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    result = cli("check", "regles")
    assert result.exit_code == 3
    assert "« candidat.date_naissance » n'est pas un champ du dossier" in result.stdout


def test_the_shipped_schema_passes_every_check_of_a_pack_schema():
    # load_schema trusts a copy of the shipped schema, for this test holds it to every check.
    text = (ROOT / "rules" / "dossier.schema.json").read_text(encoding="utf-8")
    assert dossier_module.read_schema(text, "rules/dossier.schema.json", "x").document == shipped_schema().document


def test_the_validators_are_built_once_per_schema_not_per_copy():
    text = (ROOT / PERMIS / "dossier.schema.json").read_text(encoding="utf-8")
    first = dossier_module.read_schema(text, "a/dossier.schema.json", "d1")
    again = dossier_module.read_schema(text, "b/dossier.schema.json", "d1")
    other = dossier_module.read_schema(text, "a/dossier.schema.json", "d2")
    assert first is not again and first == again
    assert dossier_module._fast_validator(first) is dossier_module._fast_validator(again)
    assert dossier_module._validator(first) is dossier_module._validator(again)
    assert dossier_module._validator(first) is not dossier_module._validator(other)


# ---------------------------------------------------------------- hostile schemas: a located error or a report

FRAGMENTS = [True, False, {}, 3, "texte", [], None, {"type": "integer"}, {"type": ["string", "null"]},
             {"enum": [1, "a", None]}, {"$ref": "#/$defs/piece"}, {"$ref": "#"}, {"type": "object"},
             {"type": "array", "items": {"type": "string"}}, {"pattern": "^(a+)+$"}, {"format": "date"},
             {"oneOf": [{"const": 1}, {"const": "x", "description": 2}]}, {"x-casse-indifferente": True},
             {"type": "number", "x-unite": "euro"}, {"x-message": 4, "pattern": "^$"}, {"const": "ephoto"}]


def _places(node, path=()):
    if isinstance(node, dict):
        for key, child in node.items():
            yield path + (key,)
            yield from _places(child, path + (key,))


def _mutated(schema: dict, data) -> dict:
    schema = json.loads(json.dumps(schema))
    for _ in range(data.draw(st.integers(1, 3))):
        places = list(_places(schema))
        if not places:
            break
        *parents, key = data.draw(st.sampled_from(places))
        parent = schema
        for part in parents:
            parent = parent[part]
        if data.draw(st.booleans()):
            parent[key] = json.loads(json.dumps(data.draw(st.sampled_from(FRAGMENTS))))
        else:
            del parent[key]
    return schema


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mutated_schema_gives_located_errors_or_reports_never_an_exception(cli, data):
    schema = _mutated(SCHEMA, data)
    with tempfile.TemporaryDirectory() as tmp:
        pack = copy_of_permis(Path(tmp) / "regles")
        (pack / "dossier.schema.json").write_text(json.dumps(schema), encoding="utf-8")
        check = cli("check", pack)
        assert check.exit_code in (0, 3)
        for case in ("complet", "sans_attestation"):
            for fmt in ("text", "json"):
                result = cli("validate", "--rules", pack, "--format", fmt, CASES / case / "dossier.json")
                assert result.exit_code in (0, 1, 2, 3) and "non-evalue" not in result.output, result.output
        assert cli("docs", "--rules", pack, "--fixtures", CASES, "-o", Path(tmp) / "site").exit_code in (0, 2, 3)
        assert cli("schema", "dossier", "--rules", pack).exit_code in (0, 2, 3)

