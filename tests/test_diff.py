"""`immat diff` as a rule author uses it in CI: a rule change, a corpus of dossiers, the dossiers it changes."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from immat.cli import main

from .conftest import ROOT

SIX_MONTHS = "délai_du_contrôle_technique = 6 mois"
THREE_MONTHS = "délai_du_contrôle_technique = 3 mois"

# A used car bought in France, registered in 2015, requested on 15 June 2021, every piece supplied:
# complete under the shipped rules. The corpus varies the date of its roadworthiness test (CT).
COMPLETE = {
    "reference": "DIFF-0",
    "date_demande": "2021-06-15",
    "canal": "en_ligne",
    "pour_soi_meme": True,
    "achat": {"etat": "occasion", "origine": "france", "date": "2021-06-01", "code_cession": "X7K2P9QW",
              "cession_enregistree_par": "vendeur"},
    "vehicule": {"immatriculation": "FX-482-KD", "date_premiere_immatriculation": "2015-03-10", "genre": "VP",
                 "puissance_fiscale": 5, "co2_g_km": 118, "norme_co2": "wltp", "energie": "essence",
                 "dispense_controle_technique": False},
    "titulaires": [{"nom": "Fictif", "prenoms": "Jeanne", "date_naissance": "1980-04-02",
                    "adresse": {"ligne": "12 rue Imaginaire", "code_postal": "69003", "commune": "Lyon"},
                    "fournisseur_energie_partenaire": False}],
    "pieces": [
        {"type": "justificatif_identite", "titulaire": 0},
        {"type": "justificatif_domicile", "titulaire": 0},
        {"type": "certificat_situation_administrative"},
        {"type": "certificat_immatriculation_barre", "mention_vendu_le": "2021-06-01", "signature_vendeur": True},
    ],
}


def _dossier(reference: str, ct: str | None = None, drop: str | None = None, **changes) -> dict:
    dossier = copy.deepcopy(COMPLETE)
    dossier["reference"] = reference
    for section, values in changes.items():
        dossier[section].update(values)
    dossier["pieces"] = [p for p in dossier["pieces"] if p["type"] != drop]
    if ct is not None:
        dossier["pieces"].append({"type": "proces_verbal_controle_technique", "date": ct, "resultat": "favorable"})
    return dossier


CORPUS = {
    "a_ct_2_mois.json": _dossier("CT-2", ct="2021-04-15"),
    "b_ct_3_mois_pile.json": _dossier("CT-3", ct="2021-03-15"),  # exactly 3 months: still accepted
    "c_ct_4_mois.json": _dossier("CT-4", ct="2021-02-15"),
    "d_ct_5_mois_sans_non_gage.json": _dossier("CT-5", ct="2021-01-15", drop="certificat_situation_administrative"),
    "e_ct_7_mois.json": _dossier("CT-7", ct="2020-11-15"),  # too old under both versions
    "f_neuve.json": _dossier("NEUVE", achat={"etat": "neuf"}, vehicule={"date_premiere_immatriculation": "2021-06-10"}),
    "g_moins_de_4_ans.json": _dossier("RECENTE", ct="2021-01-15",
                                      vehicule={"date_premiere_immatriculation": "2019-01-10"}),
}
CHANGED = ["c_ct_4_mois.json", "d_ct_5_mois_sans_non_gage.json"]


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, dossier in CORPUS.items():
        (folder / name).write_text(json.dumps(dossier, ensure_ascii=False, indent=2), encoding="utf-8")
    (folder / "h_illisible.json").write_text('{"reference": "CASSÉ", ', encoding="utf-8")
    return folder


def _copy_rules(target: Path) -> Path:
    shutil.copytree(ROOT / "rules", target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def three_months(tmp_path) -> Path:
    copy = _copy_rules(tmp_path / "regles_3_mois")
    _edit(copy / "controle_technique.immat", SIX_MONTHS, THREE_MONTHS)
    return copy


@pytest.fixture
def immat(monkeypatch, tmp_path):
    """Run `immat …` from the repository root; temporary paths in the output read `<tmp>`."""
    monkeypatch.chdir(ROOT)

    def run(*args):
        result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
        tidy = lambda text: text.replace(str(tmp_path), "<tmp>")  # noqa: E731
        return result.exit_code, tidy(result.stdout), tidy(result.stderr)

    return run


# ------------------------------------------------------------------ the acceptance test: CT from 6 to 3 months


def test_ct_threshold_change_lists_exactly_the_dossiers_it_changes(immat, corpus, three_months, text_snapshot):
    code, out, err = immat("diff", "--base", "rules", "--rules", three_months, "--corpus", corpus)
    assert code == 0, err
    listed = sorted({line.split()[0].rsplit("/", 1)[1] for line in out.splitlines()
                     if line.startswith("  ") and "→" in line})
    assert listed == CHANGED  # not the CT of 2 or exactly 3 months, nor 7, nor where no CT is due
    assert out.count("h_illisible.json") == 1
    assert "2 dossiers sur 8 changent." in out
    assert "  <tmp>/corpus/c_ct_4_mois.json : satisfaite → manquant" in out
    assert "  <tmp>/corpus/c_ct_4_mois.json : complet → incomplet" in out
    assert "d_ct_5_mois_sans_non_gage.json : incomplet" not in out  # already incomplete: verdict unchanged
    assert "<tmp>/corpus/h_illisible.json" in err  # its reason, once, on standard error
    assert out == text_snapshot


def test_ct_threshold_change_as_json(immat, corpus, three_months):
    args = ("diff", "--base", "rules", "--rules", three_months, "--corpus", corpus, "--format", "json")
    code, out, _ = immat(*args)
    assert code == 0
    assert out == immat(*args)[1]  # byte-identical from run to run
    report = json.loads(out)
    assert list(report) == ["base", "current", "digests", "immat", "summary", "unreadable", "verdict", "rules"]
    assert report["summary"] == {"dossiers": 8, "changed": 2, "unreadable": 1}
    assert report["unreadable"] == ["<tmp>/corpus/h_illisible.json"]
    assert report["verdict"] == {"dossiers": 1, "changes": [
        {"dossier": "<tmp>/corpus/c_ct_4_mois.json", "before": "complete", "after": "incomplete"}]}
    [rule] = report["rules"]
    assert (rule["id"], rule["kind"], rule["dossiers"]) == ("controle_technique", "exigence", 2)
    assert [(c["dossier"].rsplit("/", 1)[1], c["holder"], c["before"], c["after"]) for c in rule["changes"]] == [
        (name, None, "satisfied", "missing") for name in CHANGED]


def test_ct_threshold_change_as_markdown(immat, corpus, three_months, text_snapshot):
    code, out, _ = immat("diff", "--base", "rules", "--rules", three_months, "--corpus", corpus, "--format", "markdown")
    assert code == 0
    assert "| `controle_technique` | Procès-verbal de contrôle technique de moins de 6 mois | 2 |" in out
    assert out.index("<details>") < out.index("#### `controle_technique`") < out.index("</details>")
    assert out == text_snapshot


def test_fail_on_change_exits_one(immat, corpus, three_months):
    code, out, _ = immat("diff", "--base", "rules", "--rules", three_months, "--corpus", corpus, "--fail-on-change")
    assert code == 1
    assert "2 dossiers sur 8 changent." in out


def test_no_change_exits_zero_even_with_fail_on_change(immat, corpus):
    code, out, _ = immat("diff", "--base", "rules", "--corpus", corpus, "--fail-on-change")
    assert code == 0
    assert "Aucun changement : 8 dossiers, même résultat avec les deux versions des règles." in out


def test_default_corpus_is_the_fixture_dossiers_of_the_current_directory(immat):
    code, out, _ = immat("diff", "--base", "rules")
    assert code == 0
    assert "Aucun changement" in out


# ------------------------------------------------------------------ amounts, rules present in one version only


def test_amount_change_shows_both_values(immat, corpus, tmp_path):
    dearer = _copy_rules(tmp_path / "regles")
    _edit(dearer / "frais.immat", "depuis le 01/01/2021 : 11 €", "depuis le 01/01/2021 : 12 €")
    code, out, _ = immat("diff", "--base", "rules", "--rules", dearer, "--corpus", corpus, "--format", "json")
    rules = {r["id"]: r for r in json.loads(out)["rules"]}
    assert sorted(rules) == ["taxe_fixe", "total"]
    assert rules["taxe_fixe"]["dossiers"] == 7
    assert rules["taxe_fixe"]["changes"][0]["before"] == {"status": "computed", "value": "11.00"}
    assert rules["taxe_fixe"]["changes"][0]["after"] == {"status": "computed", "value": "12.00"}
    text = immat("diff", "--base", "rules", "--rules", dearer, "--corpus", corpus)[1]
    assert "  <tmp>/corpus/a_ct_2_mois.json : 11 € → 12 €" in text


NEW_RULE = """importe "commun.immat"

exigence carnet_entretien
  titre "Carnet d'entretien"
  source "Règle d'essai pour immat diff"
  s'applique si achat_d_occasion_en_france
  exige une pièce "certificat_situation_administrative"
  message "Joignez le carnet."
"""


def test_a_new_requirement_changes_only_the_dossiers_it_applies_to(immat, corpus, tmp_path):
    more = _copy_rules(tmp_path / "regles")
    (more / "essai.immat").write_text(NEW_RULE, encoding="utf-8")
    code, out, _ = immat("diff", "--base", "rules", "--rules", more, "--corpus", corpus, "--format", "json")
    [rule] = json.loads(out)["rules"]
    after = {c["dossier"].rsplit("/", 1)[1]: c["after"] for c in rule["changes"] if c["before"] is None}
    # The new car is « sans objet », as if the rule had always been there: not a change.
    assert "f_neuve.json" not in after
    assert after.pop("d_ct_5_mois_sans_non_gage.json") == "missing"
    assert after == {name: "satisfied" for name in CORPUS if name[0] in "abceg"}
    text = immat("diff", "--base", "rules", "--rules", more, "--corpus", corpus)[1]
    assert "<tmp>/corpus/a_ct_2_mois.json : règle absente → satisfaite" in text


# ------------------------------------------------------------------ a git revision as the base


def _git(repository: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=immat", "-c", "user.email=immat@example.invalid", "-c",
                    "commit.gpgsign=false", *args], cwd=repository, check=True, capture_output=True)


@pytest.fixture
def repository(tmp_path, monkeypatch) -> Path:
    """A repository whose rules live in `regles/`: 6 months in the first commit, 3 in the second."""
    repository = tmp_path / "depot"
    repository.mkdir()
    _git(repository, "init", "-q")
    _copy_rules(repository / "regles")
    _git(repository, "add", "regles")
    _git(repository, "commit", "-q", "-m", "6 mois")
    _edit(repository / "regles" / "controle_technique.immat", SIX_MONTHS, THREE_MONTHS)
    _git(repository, "commit", "-q", "-am", "3 mois")
    monkeypatch.chdir(repository)
    return repository


def _in(repository: Path, *args):
    """Run `immat …` inside the repository (the fixture made it the current directory)."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_git_revision_base_follows_the_rules_folder(repository, corpus):
    result = _in(repository, "diff", "--base", "HEAD~1", "--rules", "regles", "--corpus", corpus, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["base"], report["current"]) == ("HEAD~1", "regles")
    assert [c["dossier"].rsplit("/", 1)[1] for c in report["rules"][0]["changes"]] == CHANGED
    same = _in(repository, "diff", "--base", "HEAD", "--rules", "regles", "--corpus", corpus)
    assert same.exit_code == 0
    assert "Aucun changement" in same.stdout


def test_bad_revision_or_folder_exits_two(repository, corpus):
    result = _in(repository, "diff", "--base", "pas-une-revision", "--rules", "regles", "--corpus", corpus)
    assert result.exit_code == 2
    assert "--base « pas-une-revision » n'est ni un dossier de règles ni une révision git connue" in result.stderr
    result = _in(repository, "diff", "--base", "HEAD~1", "--corpus", corpus)  # no rules/ in this repository
    assert result.exit_code == 2
    assert "« rules » n'existe pas à la révision « HEAD~1 »" in result.stderr


def test_broken_base_revision_prints_its_diagnostics_and_exits_three(repository, corpus):
    ct = repository / "regles" / "controle_technique.immat"
    good = ct.read_text(encoding="utf-8")
    _edit(ct, "exigence controle_technique\n", "exigence\n")
    _git(repository, "commit", "-q", "-am", "cassé")
    ct.write_text(good, encoding="utf-8")  # the working copy is fixed, the base revision is not
    result = _in(repository, "diff", "--base", "HEAD", "--rules", "regles", "--corpus", corpus)
    assert result.exit_code == 3
    assert "Les règles de base « HEAD » contiennent des erreurs" in result.stderr
    assert "HEAD:regles/controle_technique.immat:" in result.stderr
    assert result.stdout == ""


def test_missing_corpus_exits_two(immat, tmp_path):
    code, _, err = immat("diff", "--base", "rules", "--corpus", tmp_path / "absent")
    assert code == 2
    assert "--corpus « <tmp>/absent » est introuvable" in err


def test_a_markdown_diff_past_its_size_limit_is_cut_with_a_count_and_the_whole_is_in_the_file(cli, tmp_path):
    import shutil

    base = tmp_path / "base"
    shutil.copytree(ROOT / "rules", base, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    frais = base / "frais.immat"
    frais.write_text(frais.read_text("utf-8").replace("depuis le 01/01/2021 : 11 €", "depuis le 01/01/2021 : 12 €"),
                     "utf-8")
    whole = tmp_path / "complet.md"
    result = cli("diff", "--base", base, "--rules", ROOT / "rules", "--format", "markdown", "--max-bytes", "2000",
                 "-o", whole)
    assert result.exit_code == 0
    assert len(result.stdout.encode("utf-8")) <= 2000
    assert "changement(s) de plus, non affichés ici (limite de 2 000 octets)" in result.stdout
    assert result.stdout.rstrip().endswith("</details>") or "Illisibles" in result.stdout
    # Totals come first: the fixed tax is one euro less on every dossier that pays it.
    found = re.search(r"- Taxe fixe \(Y\.4\) : -(\d+) € sur (\d+) dossiers", result.stdout.split("| règle |")[0])
    assert found and found[1] == found[2]
    full = whole.read_text("utf-8")
    assert "non affichés" not in full and len(full) > len(result.stdout)
    assert full.count("\n- `") > result.stdout.count("\n- `")  # every change, one a line


def test_a_shallow_clone_is_told_to_fetch_the_base_revision(repository, corpus, tmp_path, monkeypatch):
    shallow = tmp_path / "superficiel"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repository}", str(shallow)], check=True,
                   capture_output=True)
    monkeypatch.chdir(shallow)
    result = _in(shallow, "diff", "--base", "HEAD~1", "--rules", "regles", "--corpus", corpus)
    assert result.exit_code == 2
    assert "clone, qui est superficiel (shallow)" in result.stderr and "fetch-depth: 0" in result.stderr
