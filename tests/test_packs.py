"""Rule packs as users lay them out: which pack a command reads, what it may import, and how it is named."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from immat import __version__
from immat.cli import main

from .conftest import ROOT

EXAMPLE = ROOT / "fixtures" / "exemple" / "dossier.json"
REQUIREMENT = '''exigence identite
  titre "Justificatif d'identité"
  source "Code de la route, art. R. 322-1"
  exige une pièce "justificatif_identite"
  message "Joignez un justificatif d'identité."
'''
SECRET = "contenu-secret-qui-ne-doit-jamais-paraitre"


@pytest.fixture
def immat(tmp_path, monkeypatch):
    """Run `immat …` in a scratch folder, as a user in their own project; a read that blocks fails the test."""
    monkeypatch.chdir(tmp_path)

    def timeout(*_):
        raise TimeoutError("immat attend : un fichier spécial a été ouvert")

    previous = signal.signal(signal.SIGALRM, timeout)

    def run(*args, input=None):
        signal.alarm(30)
        try:
            return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)
        finally:
            signal.alarm(0)

    yield run
    signal.signal(signal.SIGALRM, previous)


def pack(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.immat").write_text(text, encoding="utf-8")
    return folder


def errors(result) -> list[tuple[str, int | None, int | None, str]]:
    return [(d["file"], d["line"], d["column"], d["code"]) for d in json.loads(result.stdout)]


def digest_of(output: str) -> str:
    return re.search(r"empreinte ([0-9a-f]{12})", output)[1]


# ---------------------------------------------------------------- imports stay inside the pack


@pytest.mark.parametrize("written", ["{outside}", "../dehors/secret.immat"], ids=["absolu", "parent"])
def test_an_import_that_leaves_the_pack_is_a_located_error_showing_nothing_of_it(immat, tmp_path, written):
    (tmp_path / "dehors").mkdir()
    outside = tmp_path / "dehors" / "secret.immat"
    outside.write_text(f'définition x = "{SECRET}"\n', encoding="utf-8")
    pack(tmp_path / "regles", a=f'importe "{written.format(outside=outside)}"\n' + REQUIREMENT)
    result = immat("check", "--format", "json", "regles")
    assert result.exit_code == 3
    assert errors(result) == [("regles/a.immat", 1, 1, "import-hors-du-paquet")]
    text = immat("check", "regles").output
    assert "hors du paquet « regles »" in text and SECRET not in text


def test_an_import_through_a_symlink_that_leaves_the_pack_is_refused(immat, tmp_path):
    (tmp_path / "secret.txt").write_text(f"{SECRET}\n", encoding="utf-8")
    pack(tmp_path / "regles", a='importe "commun.lien"\n' + REQUIREMENT)
    os.symlink(tmp_path / "secret.txt", tmp_path / "regles" / "commun.lien")
    result = immat("check", "--format", "json", "regles")
    assert errors(result) == [("regles/a.immat", 1, 1, "import-hors-du-paquet")]
    assert SECRET not in immat("check", "regles").output


def test_a_rule_file_that_is_a_symlink_out_of_the_pack_is_not_read(immat, tmp_path):
    (tmp_path / "secret.immat").write_text(f'définition x = "{SECRET}"\n', encoding="utf-8")
    pack(tmp_path / "regles", a=REQUIREMENT)
    os.symlink(tmp_path / "secret.immat", tmp_path / "regles" / "dehors.immat")
    result = immat("check", "regles")
    assert result.exit_code == 3
    assert "regles/dehors.immat: erreur[fichier-hors-du-paquet]" in result.output and SECRET not in result.output


@pytest.mark.parametrize("kind", ["fifo", "dossier", "peripherique"])
def test_an_import_of_a_special_file_is_refused_without_opening_it(immat, tmp_path, kind):
    folder = pack(tmp_path / "regles", a='importe "special"\n' + REQUIREMENT)
    if kind == "fifo":
        os.mkfifo(folder / "special")
    elif kind == "dossier":
        (folder / "special").mkdir()
    else:  # a device, as a link to it: creating one takes privileges a test does not have
        os.symlink("/dev/zero", folder / "special")
    result = immat("check", "--format", "json", "regles")
    code = "import-hors-du-paquet" if kind == "peripherique" else "fichier-special"
    assert errors(result) == [("regles/a.immat", 1, 1, code)]


def test_a_fifo_among_the_rule_files_is_an_error_not_a_hang(immat, tmp_path):
    folder = pack(tmp_path / "regles", a=REQUIREMENT)
    os.mkfifo(folder / "tube.immat")
    for command in (("check", "regles"), ("validate", "--rules", "regles", EXAMPLE), ("check", "regles/tube.immat")):
        result = immat(*command)
        assert result.exit_code == 3, command
        assert "regles/tube.immat: erreur[fichier-special]: ce n'est pas un fichier ordinaire mais un tube nommé" \
            in result.output


def test_a_symlink_loop_is_a_located_error(immat, tmp_path):
    folder = pack(tmp_path / "regles", a='importe "boucle.regles"\n' + REQUIREMENT)
    os.symlink("b.immat", folder / "c.immat")
    os.symlink("c.immat", folder / "b.immat")
    os.symlink("boucle.regles", folder / "boucle.regles")
    result = immat("check", "--format", "json", "regles")
    assert result.exit_code == 3
    assert sorted(errors(result)) == [("regles/a.immat", 1, 1, "lien-en-boucle"),
                                      ("regles/b.immat", None, None, "lien-en-boucle"),
                                      ("regles/c.immat", None, None, "lien-en-boucle")]


@pytest.mark.parametrize(("content", "code", "line", "column"), [
    ("x = 1 # répété\n".encode("latin-1"), "encodage", 1, 10),
    (b"d\xc3\xa9finition a = 1\nd\xe9finition b = 2\n", "encodage", 2, 2),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00", "fichier-binaire", 1, 8),
], ids=["latin-1", "latin-1-ligne-2", "binaire"])
def test_a_rule_file_not_in_utf8_is_located_at_its_first_bad_byte(immat, tmp_path, content, code, line, column):
    folder = pack(tmp_path / "regles", a='importe "b.inclus"\n' + REQUIREMENT)
    (folder / "b.inclus").write_bytes(content)  # an import: read only because a.immat imports it
    (folder / "c.immat").write_bytes(content)  # one of the pack's own files
    result = immat("check", "--format", "json", "regles")
    assert result.exit_code == 3
    assert sorted(errors(result)) == [("regles/b.inclus", line, column, code), ("regles/c.immat", line, column, code)]
    text = immat("validate", "--rules", "regles", EXAMPLE)
    assert text.exit_code == 3 and "Traceback" not in text.output


def test_a_single_file_pack_imports_only_from_its_folder(immat, tmp_path):
    pack(tmp_path / "regles", a='importe "commun.immat"\n' + REQUIREMENT, commun="définition x = 1\n")
    pack(tmp_path / "regles" / "sous", b='importe "../commun.immat"\n' + REQUIREMENT)
    assert immat("check", "regles/a.immat").exit_code == 0
    result = immat("check", "--format", "json", "regles/sous/b.immat")
    assert errors(result) == [("regles/sous/b.immat", 1, 1, "import-hors-du-paquet")]


# ---------------------------------------------------------------- checking nothing is an error


@pytest.mark.parametrize("command", [
    ("check", "vide"), ("validate", "--rules", "vide", EXAMPLE), ("explain", "--rules", "vide", EXAMPLE),
    ("test", "vide", ROOT / "fixtures"), ("docs", "--rules", "vide", "-o", "site"),
    ("diff", "--base", "vide", "--rules", "vide", "--corpus", EXAMPLE), ("fmt", "vide"),
], ids=lambda c: c[0])
def test_a_folder_without_rule_files_is_an_error_for_every_command(immat, tmp_path, command):
    (tmp_path / "vide").mkdir()
    result = immat(*command)
    assert result.exit_code == 3
    assert "aucun fichier de règles (.immat)" in result.output


def test_rules_without_a_requirement_check_nothing_and_are_an_error(immat, tmp_path):
    pack(tmp_path / "regles", a="définition x = 1\n")
    result = immat("check", "regles")
    assert result.exit_code == 3
    assert "regles: erreur[aucune-exigence]: ces règles ne contiennent aucune exigence ni recevabilité" in result.output
    assert immat("validate", "--rules", "regles", EXAMPLE).exit_code == 3
    # One file checked alone may be a library of definitions; dossiers are never checked against it.
    assert immat("check", "regles/a.immat").exit_code == 0
    assert immat("validate", "--rules", "regles/a.immat", EXAMPLE).exit_code == 3


def test_a_folder_holding_no_dossier_is_an_error(immat, tmp_path):
    (tmp_path / "lot").mkdir()
    (tmp_path / "lot" / "attendu.json").write_text("{}", encoding="utf-8")
    result = immat("validate", "lot")
    assert result.exit_code == 2
    assert "lot: erreur[aucun-dossier]: ce répertoire ne contient aucun dossier (fichier .json, .jsonl ou .jsonl.gz)" in result.stderr


def test_no_fixture_to_test_is_an_error(immat, tmp_path):
    (tmp_path / "fixtures").mkdir()
    result = immat("test")
    assert result.exit_code == 2
    assert "aucune fixture" in result.stderr


# ---------------------------------------------------------------- which pack: [tool.immat], ./rules, the shipped one


def test_a_broken_rules_folder_in_the_working_directory_is_the_one_used(immat, tmp_path):
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures")
    pack(tmp_path / "rules", a=REQUIREMENT.replace("justificatif_identite", "piece_qui_n_existe_pas"))
    check = immat("check")
    assert check.exit_code == 3 and "rules/a.immat:4:19: erreur[piece-inconnue]" in check.output
    assert immat("test").exit_code == 3
    validate = immat("validate", EXAMPLE)
    assert validate.exit_code == 3 and "Les règles rules (empreinte" in validate.stderr


def test_tool_immat_is_found_walking_up_and_wins_over_a_rules_folder(immat, tmp_path, monkeypatch):
    project = tmp_path / "projet"
    pack(project / "regles", a=REQUIREMENT)
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.immat]\nrules = "regles"\n'
                                            'fixtures = "cas"\n', encoding="utf-8")
    (project / "cas").mkdir()
    pack(project / "sous" / "dossier" / "rules", a="cassé")
    monkeypatch.chdir(project / "sous" / "dossier")
    result = immat("check")
    assert result.exit_code == 0, result.output
    assert f"règles : {(project / 'regles').as_posix()} (empreinte" in result.output
    assert "aucune fixture" in immat("test").stderr and "cas" in immat("test").stderr
    assert "Règles : " in immat("validate", EXAMPLE).stdout


def test_without_configuration_or_rules_folder_the_shipped_pack_is_used_and_named(immat):
    result = immat("validate", "--format", "json", EXAMPLE)
    shipped = json.loads(result.stdout)["rules"]
    assert shipped["pack"] == "paquet livré"
    # The shipped pack is the repository's rules/, byte for byte: the same digest.
    os.chdir(ROOT)
    assert json.loads(immat("validate", "--format", "json", EXAMPLE).stdout)["rules"] == {
        "pack": "rules", "digest": shipped["digest"]}


@pytest.mark.parametrize(("table", "message"), [
    ('[tool.immat]\nregles = "rules"\n', "clé inconnue « regles » ; vouliez-vous dire « rules » ?"),
    ('[tool.immat]\nrules = "absentes"\n', "rules = « absentes » est introuvable"),
    ('[tool.immat]\nrules = 3\n', "rules doit être un chemin entre guillemets"),
    ('[tool]\nimmat = 1\n', "[tool.immat] doit être une table"),
    ('[tool.immat]\nrules = "rules\n', "pyproject.toml:2:"),
], ids=["cle-inconnue", "introuvable", "pas-un-texte", "pas-une-table", "toml-invalide"])
def test_a_wrong_configuration_is_a_french_error_exit_2(immat, tmp_path, table, message):
    (tmp_path / "pyproject.toml").write_text(table, encoding="utf-8")
    for command in (("check",), ("validate", EXAMPLE), ("fmt", "--check")):
        result = immat(*command)
        assert result.exit_code == 2, command
        assert message in result.stderr and "erreur[configuration]" in result.stderr


def test_fmt_formats_the_configured_pack(immat, tmp_path):
    pack(tmp_path / "regles", a="définition   x = 1\n")
    (tmp_path / "pyproject.toml").write_text('[tool.immat]\nrules = "regles"\n', encoding="utf-8")
    result = immat("fmt", "--check")
    assert result.exit_code == 1
    assert result.stdout == "regles/a.immat\n"


# ---------------------------------------------------------------- the pack is named in every output, with its digest


def test_the_pack_its_digest_immat_and_the_date_are_named_in_every_output(immat, tmp_path):
    # The pack dates itself by the demand, as the shipped one does: its reports say at which date they applied it.
    pack(tmp_path / "rules", a=REQUIREMENT, date="définition date_de_référence = date_demande\n")
    shutil.copytree(ROOT / "fixtures" / "exemple", tmp_path / "fixtures" / "exemple")
    digest = digest_of(immat("check").output)
    named, version = f"rules (empreinte {digest})", f"immat {__version__}"
    signed = f"{named} — {version}"
    rules = {"pack": "rules", "digest": digest}
    # The reports: the example dossier was asked for on 15 June 2021, the date the rules are applied at.
    for fmt in ("text", "markdown", "html"):
        assert f"Règles : {named}, appliquées au 15/06/2021 — {version}" in immat(
            "validate", "--format", fmt, EXAMPLE).stdout
    for fmt in ("json", "jsonl"):
        report = json.loads(immat("validate", "--format", fmt, EXAMPLE).stdout)
        assert (report["rules"], report["immat"], report["evaluation_date"]) == (rules, __version__, "2021-06-15")
    row = dict(zip(*csv.reader(io.StringIO(immat("validate", "--format", "csv", EXAMPLE).stdout))))
    assert (row["date_de_reference"], row["regles"], row["empreinte"], row["immat"]) == (
        "2021-06-15", "rules", digest, __version__)
    immat("validate", "--format", "jsonl", "--summary", "synthese.json", "-o", "lot.jsonl", EXAMPLE)
    summary = json.loads((tmp_path / "synthese.json").read_text(encoding="utf-8"))
    assert summary["produced_by"] == [{**rules, "immat": __version__}]
    assert summary["evaluation_dates"] == {"first": "2021-06-15", "last": "2021-06-15"}
    assert immat("explain", EXAMPLE).stdout.startswith(f"Règles : {signed}\n")
    # The rule author's and CI's outputs.
    assert f"; règles : {signed}" in immat("check").stderr
    for fmt in ("sarif", "junit"):
        out = immat("check", "--format", fmt).stdout
        assert all(part in out for part in (digest, '"rules"' if fmt == "sarif" else 'value="rules"', __version__))
    assert json.loads(immat("check", "--format", "sarif").stdout)["runs"][0]["properties"] == {
        **rules, "immat": __version__}
    assert f"Règles : {signed}\n" in immat("test", "--junit", "junit.xml").stdout
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert {p.get("name"): p.get("value") for p in suite.iter("property")} == {**rules, "immat": __version__}
    tested = json.loads(immat("test", "--format", "json").stdout)
    assert (tested["rules"], tested["immat"]) == (rules, __version__)
    assert f"règles : {signed}" in immat("docs", "-o", "site").stderr
    assert f"Règles décrites : {signed}." in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    diff = immat("diff", "--base", "rules", "--corpus", EXAMPLE)
    assert f"Règles de base « rules » (empreinte {digest}) ; règles actuelles : {signed}" in diff.stderr
    compared = f"(base, empreinte {digest}) → règles livrées avec immat"
    assert compared not in diff.stdout and f"(empreinte {digest}) — {version}" in diff.stdout
    changes = json.loads(immat("diff", "--base", "rules", "--corpus", EXAMPLE, "--format", "json").stdout)
    assert (changes["digests"], changes["immat"]) == ({"base": digest, "current": digest}, __version__)


def test_a_pack_without_a_reference_date_says_it_is_unknown(immat, tmp_path):
    pack(tmp_path / "rules", a=REQUIREMENT)
    assert "date de référence inconnue" in immat("validate", EXAMPLE).stdout
    assert json.loads(immat("validate", "--format", "json", EXAMPLE).stdout)["evaluation_date"] is None


def test_the_digest_is_the_sha256_of_the_sha256sum_listing_of_the_pack(immat, tmp_path):
    folder = pack(tmp_path / "rules", b=REQUIREMENT, a="définition x = 1\n")
    pack(folder / "sous", c="définition y = 2\n")
    listing = "".join(f"{hashlib.sha256((folder / p).read_bytes()).hexdigest()}  {p}\n"
                      for p in ("a.immat", "b.immat", "sous/c.immat"))
    assert digest_of(immat("check").output) == hashlib.sha256(listing.encode()).hexdigest()[:12]


def test_same_files_same_digest_wherever_they_are_and_one_byte_changes_it(immat, tmp_path):
    first = pack(tmp_path / "un", a=REQUIREMENT)
    shutil.copytree(first, tmp_path / "deux")
    digest = digest_of(immat("check", "un").output)
    assert digest_of(immat("check", "un").output) == digest == digest_of(immat("check", "deux").output)
    (tmp_path / "deux" / "a.immat").write_text(REQUIREMENT.replace("identité.", "identité !"), encoding="utf-8")
    assert digest_of(immat("check", "deux").output) != digest
    report = immat("validate", "--rules", "un", "--format", "json", EXAMPLE).stdout
    assert report == immat("validate", "--rules", "un", "--format", "json", EXAMPLE).stdout


def test_an_empty_batch_file_checked_nothing_and_exits_2(tmp_path, monkeypatch):
    (tmp_path / "lot.jsonl").write_text("\n\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "lot.jsonl"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "aucun dossier à vérifier" in result.stderr


def test_the_docs_index_and_every_check_format_name_the_pack(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    for fmt in ("text", "gnu", "json", "sarif", "github"):
        result = runner.invoke(main, ["check", "--format", fmt], catch_exceptions=False)
        assert "règles : rules (empreinte " in result.stderr, fmt
        assert "empreinte" not in result.stdout, fmt  # machine-read output keeps its shape
    result = runner.invoke(main, ["docs", "-o", str(tmp_path / "site"), "--format", "markdown"],
                           catch_exceptions=False)
    assert result.exit_code == 0
    assert "Règles décrites : rules (empreinte " in (tmp_path / "site" / "index.md").read_text("utf-8")
