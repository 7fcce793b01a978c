"""What lawyers read and instructors do not: notes, « non traité », key labels, the scope page, Légifrance links.

The test pack tests/juristes/ has a note and a « non traité » on a requirement, an amount and a barème, key
labels in a key group and in rows, a « hors barème » row, dated value and expression.
"""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from immat.docs import build_site
from immat.docs.legifrance import CIBS, cite
from immat.docs.document import Web
from immat.pipeline import load_rules

from .conftest import ROOT

PACK = "tests/juristes"
DOSSIER = "tests/juristes/dossier.json"
NOTE = "Le tarif est celui de la région du domicile du titulaire"
NOT_HANDLED = "Abattement pour les familles de trois enfants ou plus"
REQUIREMENT_NOTE = "Une photocopie suffit"
REQUIREMENT_NOT_HANDLED = "La validité de la pièce d'identité n'est pas vérifiée"
LAWYERS_ONLY = (NOTE, NOT_HANDLED, REQUIREMENT_NOTE, REQUIREMENT_NOT_HANDLED, "Tarifs votés par les régions",
                "Affiché pour toute demande en ligne")
LEGIFRANCE = "https://www.legifrance.gouv.fr/"


@pytest.fixture(scope="module")
def program():
    checked = load_rules(ROOT / PACK)
    assert checked.ok, [d.message for d in checked.diagnostics]
    return checked.program


@pytest.fixture(scope="module")
def markdown(program):
    return build_site(program, (), "markdown")


@pytest.fixture(scope="module")
def html(program):
    return build_site(program, (), "html")


def unmarked(page: str) -> str:
    return re.sub(r"\[\^\d+\]", "", page)


# ---------------------------------------------------------------- the checked program carries them


def test_the_program_carries_notes_not_handled_and_labels(program):
    amount = program.amounts["taxe_regionale"]
    assert [n.text for n in amount.notes] == [NOTE + ", à la date de la demande (CIBS, art. L421-42)."]
    assert amount.not_handled[0].text.startswith(NOT_HANDLED)
    table = program.tables["tarif_cheval_fiscal"]
    assert table.labels == {"84": "Auvergne-Rhône-Alpes", "11": "Île-de-France"}
    assert [n.text for n in table.notes] == ["Tarifs votés par les régions ; délibérations non lues."]
    row = program.tables["région_par_département"].periods[0].row_for("69")
    assert row.key.label == "Rhône"
    assert program.reported("justificatif_identite").notes[0].text.startswith(REQUIREMENT_NOTE)


# ---------------------------------------------------------------- never in an instructor's report


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "markdown", "html"])
@pytest.mark.parametrize("explain", [False, True], ids=["", "explain"])
def test_validate_reports_never_show_notes_nor_what_is_not_handled(cli, fmt, explain):
    result = cli("validate", "--rules", PACK, "--format", fmt, *(["--explain"] if explain else []), DOSSIER)
    assert result.exit_code == 1, result.output  # a missing proof of address
    assert "Justificatif de domicile du titulaire" in result.output
    for text in LAWYERS_ONLY:
        assert text not in result.output


def test_json_report_keeps_its_shape(cli):
    report = json.loads(cli("validate", "--rules", PACK, "--format", "json", DOSSIER).output)
    schema = json.loads(cli("schema", "report").output)
    jsonschema.validate(report, schema)

    def keys(value) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        return {k for v in value for k in keys(v)} if isinstance(value, list) else set()

    assert not keys(report) & {"notes", "not_handled", "label", "labels"}
    described = json.dumps(schema, ensure_ascii=False)
    assert '"notes"' not in described and '"not_handled"' not in described and "non traité" not in described


def test_explain_shows_notes_and_what_is_not_handled_after_the_source(cli):
    result = cli("explain", "--rules", PACK, DOSSIER, "--rule", "taxe_regionale")
    assert result.exit_code == 0
    pack, blank, *lines = result.output.splitlines()
    assert pack.startswith("Règles : ") and not blank
    assert lines[1] == "Source : CIBS, art. L421-41 à L421-43"
    assert lines[2].startswith(f"Note : {NOTE}")
    assert lines[3].startswith(f"Non traité : {NOT_HANDLED}")
    # The key group's version names the region it belongs to.
    assert "version « en vigueur depuis le 01/01/2021 : 43 € » (Auvergne-Rhône-Alpes) : 43 €" in result.output
    per_holder = cli("explain", "--rules", PACK, DOSSIER, "--rule", "justificatif_identite").output
    assert f"Note : {REQUIREMENT_NOTE}" in per_holder and f"Non traité : {REQUIREMENT_NOT_HANDLED}" in per_holder


# ---------------------------------------------------------------- on the lawyers' site


def test_docs_shows_notes_and_what_is_not_handled_on_each_rule_page(cli, tmp_path):
    result = cli("docs", "--rules", PACK, "-o", tmp_path / "md", "--format", "markdown", "--fixtures", tmp_path)
    assert result.exit_code == 0
    amount = (tmp_path / "md" / "montant-taxe_regionale.md").read_text("utf-8")
    notes = amount.split("## Notes de rédaction\n\n")[1].split("\n\n")[0]
    assert notes.startswith(f"- {NOTE}")
    left_out = amount.split("## Ce que cette règle ne traite pas\n\n")[1].split("\n\n")[0]
    assert left_out.startswith(f"- {NOT_HANDLED}")
    assert amount.index("> **Source**") < amount.index("## Notes de rédaction") < amount.index("## Calcul")
    requirement = (tmp_path / "md" / "exigence-justificatif_identite.md").read_text("utf-8")
    assert f"- {REQUIREMENT_NOTE}" in requirement and f"- {REQUIREMENT_NOT_HANDLED}" in requirement
    assert "## Notes de rédaction\n\n- Tarifs votés" in (tmp_path / "md" / "bareme-tarif_cheval_fiscal.md").read_text(
        "utf-8")
    assert "- Affiché pour toute demande en ligne." in (tmp_path / "md" / "avis-certificat_provisoire.md").read_text(
        "utf-8")


def test_the_scope_page_lists_every_out_of_scope_case_and_what_is_not_handled(markdown, html):
    page = markdown["non-couvert.md"]
    out_of_scope = page.split("## Cas hors barème")[1].split("## Points que les règles ne traitent pas")[0]
    # an expression of an amount, with the condition in which it holds
    assert "### [Taxe régionale d'essai](montant-taxe_regionale.md) (montant)" in out_of_scope
    assert ("- quand le genre national du véhicule est « QM » : le rapport indique **non couvert** — « Le tarif des "
            "quadricycles à moteur n'est pas établi par ces règles. »") in unmarked(out_of_scope)
    # a barème's dated value in a key group, and a row, named by their label and key
    assert "### [Tarif du cheval fiscal par région](bareme-tarif_cheval_fiscal.md) (barème)" in out_of_scope
    assert ("- Île-de-France (11), en vigueur depuis le 1er janvier 2024 : le rapport indique **non couvert** — "
            "« Le tarif francilien depuis 2024 n'est pas établi. »") in out_of_scope
    assert "### [Région de chaque département](bareme-region_par_departement.md) (barème)" in out_of_scope
    assert "- ligne Outre-mer (97), en vigueur depuis le 1er janvier 2016 : le rapport indique" in out_of_scope
    not_handled = page.split("## Points que les règles ne traitent pas")[1]
    assert "### [Taxe régionale d'essai](montant-taxe_regionale.md) (montant)" in not_handled
    assert f"- {NOT_HANDLED} ([CIBS]({CIBS}), art. L421-70)" in not_handled
    assert f"### [Justificatif d'identité de chaque titulaire](exigence-justificatif_identite.md) (exigence)\n\n" \
           f"- {REQUIREMENT_NOT_HANDLED}" in not_handled
    # linked from the index, and from every page's navigation
    assert "(non-couvert.md)" in markdown["index.md"].split("## Par cas d'achat")[0]
    assert 'href="non-couvert.html"' in html["exigence-justificatif_identite.html"]
    assert 'href="montant-taxe_regionale.html"' in html["non-couvert.html"]


def test_an_empty_scope_page_says_so(tmp_path):
    (tmp_path / "regles.immat").write_text("définition x = 1\n", encoding="utf-8")
    page = build_site(load_rules(tmp_path).program, (), "markdown")["non-couvert.md"]
    assert page.count("*Aucun.*") == 2


# ---------------------------------------------------------------- Légifrance, in the docs only


def test_citations_of_known_texts_link_to_legifrance():
    assert cite("CIBS, art. L421-60 ; décret n°2008-850 du 26 août 2008") == (
        Web("CIBS", CIBS), ", art. L421-60 ; ",
        Web("décret n°2008-850", "https://www.legifrance.gouv.fr/loda/id/JORFTEXT000019381473/"),
        " du 26 août 2008")
    linked = [w for w in cite("art. R. 113-8-1 du Code des relations entre le public et l’administration (CRPA)")
              if isinstance(w, Web)]
    assert [w.text for w in linked] == ["Code des relations entre le public et l’administration", "CRPA"]
    assert {w.href for w in linked} == {"https://www.legifrance.gouv.fr/codes/texte_lc/LEGITEXT000031366350"}
    assert cite("Code de la route, art. R. 323-22")[0].href.endswith("LEGITEXT000006074228")
    assert cite("code de procédure civile, art. 641")[0].href.endswith("LEGITEXT000006070716")
    assert cite("Arrêté du 9 février 2009, art. 6")[0].href.endswith("LEGITEXT000020245458")
    assert cite("Code des impositions sur les biens et services")[0].href == CIBS
    assert cite("CIBSX, le code de la routes, l'arrêté du 9 février 2010") == (
        "CIBSX, le code de la routes, l'arrêté du 9 février 2010",)


def test_sources_and_notes_link_to_legifrance_in_both_formats_never_in_reports(markdown, html, cli):
    amount = markdown["montant-taxe_regionale.md"]
    assert f"> [CIBS]({CIBS}), art. L421-41 à L421-43" in amount  # the source
    assert f"à la date de la demande ([CIBS]({CIBS}), art. L421-42)." in amount  # a note
    assert f'<a class="externe" href="{CIBS}">CIBS</a>, art. L421-41' in html["montant-taxe_regionale.html"]
    assert "legifrance.gouv.fr/affichTexte.do?cidTexte=LEGITEXT000020245458" in markdown[
        "exigence-justificatif_identite.md"]
    for fmt in ("text", "json", "markdown", "html"):
        assert LEGIFRANCE not in cli("validate", "--rules", PACK, "--format", fmt, "--explain", DOSSIER).output
    assert LEGIFRANCE not in cli("explain", "--rules", PACK, DOSSIER).output


# ---------------------------------------------------------------- what a lawyer's reading found


def test_key_labels_name_the_keys_of_barème_tables(markdown):
    regions = markdown["bareme-tarif_cheval_fiscal.md"]
    assert "| Région | En vigueur | Valeur |" in regions  # the key column named after the lookup key
    assert "| Auvergne-Rhône-Alpes (84) | depuis le 01/01/2021 | 43 € |" in regions
    assert "| Île-de-France (11) | du 01/01/2021 au 31/12/2023 | 46,15 € |" in regions
    rows = markdown["bareme-region_par_departement.md"]
    assert "| Rhône (69) | « 84 » |" in rows and "| Paris (75) | « 11 » |" in rows


def test_key_column_is_named_after_the_lookup_key_even_when_the_title_says_pour(tmp_path):
    (tmp_path / "regles.immat").write_text('''définition date_de_référence = date_demande
définition région = "84"
barème part
  titre "Part due pour un véhicule électrique"
  source "CIBS, art. L421-49"
  clé "84" « Auvergne-Rhône-Alpes »
    en vigueur depuis le 01/01/2020 : 0 %
définition coefficient = barème part pour région
''', encoding="utf-8")
    page = build_site(load_rules(tmp_path).program, (), "markdown")["bareme-part.md"]
    assert "| Région | En vigueur | Valeur |" in page


def test_a_requirement_for_the_first_holder_only_says_so(markdown):
    page = markdown["exigence-justificatif_domicile.md"]
    assert "*Exigence — pour le titulaire, le premier de la liste*" in page
    assert "Elle est vérifiée pour le titulaire seul, le premier de la liste des titulaires, et non pour les " \
           "cotitulaires." in page
    assert "Elle s'applique à toutes les demandes." in page
    assert "pour chaque titulaire" not in page
    each = markdown["exigence-justificatif_identite.md"]
    assert "*Exigence — pour chaque titulaire*" in each and "vérifiée pour chaque titulaire, séparément" in each
    index = markdown["index.md"]
    assert "[Justificatif de domicile du titulaire](exigence-justificatif_domicile.md) (pour le titulaire, le " \
           "premier de la liste)" in index
    assert "[Justificatif d'identité de chaque titulaire](exigence-justificatif_identite.md) (pour chaque " \
           "titulaire)" in index


def test_an_amount_page_shows_every_definition_it_uses_with_its_listed_exceptions(tmp_path):
    (tmp_path / "regles.immat").write_text('''définition véhicule_ancien =
  vehicule.date_premiere_immatriculation < 01/01/2010
définition coefficient = 100 %
  sauf si achat.etat = "occasion"
       et véhicule_ancien
       et vehicule.genre = "VP"
    alors 50 %
montant taxe
  titre "Taxe d'essai"
  source "CIBS, art. L421-45"
  vaut 43 € × coefficient
''', encoding="utf-8")
    page = unmarked(build_site(load_rules(tmp_path).program, (), "markdown")["montant-taxe.md"])
    used = page.split("## Définitions utilisées")[1]
    assert "- **[Coefficient](definition-coefficient.md)**" in used
    assert "  Sauf si toutes les conditions suivantes sont remplies :" in used
    assert "  - le genre national du véhicule est « VP »" in used
    assert "  Alors il vaut 50 %." in used  # the halving, left out when the condition was a list
    assert "- **[Véhicule ancien](definition-vehicule_ancien.md)**" in used


def test_dossier_fields_are_explained_in_visible_notes_not_only_on_hover(html, markdown):
    page = html["avis-certificat_provisoire.html"]
    spans = re.findall(r'<span class="champ" title="([^"]*)" aria-describedby="(terme-\d+)">', page)
    assert spans
    notes = dict(re.findall(r'<li id="(terme-\d+)">([^<]*)</li>', page.split('<section class="termes">')[1]))
    for hint, anchor in spans:
        assert notes[anchor] == hint
        assert f'<a href="#{anchor}">' in page
    assert len(notes) == len({hint for hint, _ in spans})  # one note per field, however often it is named
    md = markdown["avis-certificat_provisoire.md"]
    number = re.search(r"le canal de la demande\[\^(\d+)\]", md)[1]
    assert re.search(rf"^\[\^{number}\]: Champ /canal du dossier", md, re.MULTILINE)
    assert md.index("## Termes du dossier") > md.index("## Message")


def test_defaults_read_as_what_is_assumed(markdown, tmp_path):
    (tmp_path / "regles.immat").write_text('''exigence procuration
  titre "Procuration"
  source "Service-public.fr"
  s'applique si non (pour_soi_meme à défaut vrai)
  exige une pièce "procuration"
  message "Joignez la procuration."
''', encoding="utf-8")
    page = unmarked(build_site(load_rules(tmp_path).program, (), "markdown")[
        "exigence-procuration.md"])
    assert ("Elle s'applique quand le titulaire ne fait pas lui-même la démarche (si le dossier ne le dit pas : ce "
            "n'est pas le cas).") in page
    assert "non déclaré" not in page

