"""`immat docs`: the rule pack as pages a lawyer reads, and every expression said in French."""

from __future__ import annotations

import inspect
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from immat import ir
from immat import syntax as s
from immat.cli import main
from immat.docs import build_site
from immat.docs.cases import CaseFinder
from immat.docs.document import Link, Term, plain
from immat.docs.links import nodes
from immat.docs.prose import Context, Group, Prose
from immat.docs.tables import key_label, period_label
from immat.pipeline import load_rules

from .conftest import ROOT


@pytest.fixture(scope="module")
def program():
    return load_rules().program


@pytest.fixture
def immat(monkeypatch):
    monkeypatch.chdir(ROOT)

    def run(*args):
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return run


def expected_pages(program, extension: str) -> set[str]:
    from immat.docs.links import slug

    names = {"index", "non-couvert", "codes"}
    names |= {f"exigence-{slug(r.name)}" for r in program.requirements}
    names |= {f"avis-{slug(n.name)}" for n in program.notices}
    names |= {f"montant-{slug(n)}" for n in program.amounts}
    names |= {f"definition-{slug(n)}" for n in program.definitions}
    names |= {f"bareme-{slug(n)}" for n in program.tables}
    return {n + extension for n in names}


# ---------------------------------------------------------------- the command


def test_docs_writes_an_index_and_one_page_per_rule(immat, program, tmp_path):
    result = immat("docs", "-o", tmp_path / "site", "--fixtures", tmp_path)
    assert result.exit_code == 0, result.output
    written = {p.name for p in (tmp_path / "site").iterdir()}
    assert written == expected_pages(program, ".html")
    assert "pages écrites" in result.stderr


def test_docs_markdown_writes_the_same_pages_in_markdown(immat, program, tmp_path):
    result = immat("docs", "-o", tmp_path / "md", "--format", "markdown", "--fixtures", tmp_path)
    assert result.exit_code == 0, result.output
    written = {p.name for p in (tmp_path / "md").iterdir()}
    assert written == expected_pages(program, ".md")
    page = (tmp_path / "md" / "exigence-controle_technique.md").read_text(encoding="utf-8")
    assert "<" not in page.replace("\\<", "")  # no HTML left in the Markdown
    assert "](definition-achat_d_occasion_en_france.md)" in page


def test_requirement_page_markdown_snapshot(immat, tmp_path, text_snapshot):
    """The page a lawyer reads for controle_technique, without worked examples (fixtures vary)."""
    immat("docs", "-o", tmp_path / "md", "--format", "markdown", "--fixtures", tmp_path)
    assert (tmp_path / "md" / "exigence-controle_technique.md").read_text(encoding="utf-8") == text_snapshot


def test_docs_refuses_a_missing_fixtures_folder(immat, tmp_path):
    result = immat("docs", "-o", tmp_path / "site", "--fixtures", tmp_path / "absent")
    assert result.exit_code == 2
    assert "introuvables" in result.stderr


def test_docs_refuses_rules_with_errors(immat, tmp_path):
    (tmp_path / "bad.immat").write_text('exigence x\n  titre "T"\n  exige que inconnu\n', encoding="utf-8")
    result = immat("docs", "-o", tmp_path / "site", "--rules", tmp_path)
    assert result.exit_code == 3
    assert not (tmp_path / "site").exists()


# ---------------------------------------------------------------- the HTML site


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.external: list[str] = []  # resources the page would load from elsewhere
        self.web: list[str] = []  # links a reader may follow out of the site

    def handle_starttag(self, tag, attrs_):
        values = dict(attrs_)
        if "id" in values:
            self.ids.add(values["id"])
        href = values.get("href") or ""
        if tag == "a" and re.match(r"(https?:)?//", href):
            self.web.append(href)
        elif href:
            self.hrefs.append(href)
        if re.match(r"(https?:)?//", values.get("src") or ""):
            self.external.append(values["src"])
        if tag == "link" or (tag == "script" and "src" in values):
            self.external.append(str(values))


@pytest.fixture(scope="module")
def html_site(program):
    return build_site(program, (), "html")


def test_every_link_of_the_site_leads_to_a_page_and_anchor_that_exist(html_site):
    parsed = {}
    for name, text in html_site.items():
        parser = _Anchors()
        parser.feed(text)
        parsed[name] = parser
    for name, parser in parsed.items():
        assert not parser.external, f"{name} charge une ressource externe : {parser.external}"
        assert all(href.startswith("https://www.legifrance.gouv.fr/") for href in parser.web), parser.web
        for href in parser.hrefs:
            page, _, anchor = href.partition("#")
            page = page or name  # « #terme-1 »: a note further down the same page
            assert page in html_site, f"{name} : lien mort vers {href}"
            assert not anchor or anchor in parsed[page].ids, f"{name} : ancre absente {href}"


def test_pages_are_french_self_contained_and_printable(html_site):
    page = html_site["exigence-controle_technique.html"]
    assert '<html lang="fr">' in page
    assert "@media print" in page and "<style>" in page
    assert "beforeprint" in page  # folded sections unfold for printing


def test_links_go_both_ways_between_rules_and_definitions(html_site):
    requirement = html_site["exigence-controle_technique.html"]
    definition = html_site["definition-achat_d_occasion_en_france.html"]
    assert 'href="definition-achat_d_occasion_en_france.html"' in requirement
    assert "Utilisée par" in definition
    assert 'href="exigence-controle_technique.html"' in definition


def test_index_groups_requirements_by_purchase_case_and_by_piece(program):
    finder = CaseFinder(program, ("france", "union_europeenne", "hors_union_europeenne"))
    by_name = {r.name: r for r in program.requirements}

    def cases(name):
        req = by_name[name]
        return [c.key for c in finder.cases(req.applies, [e.condition for e in req.demand.cases if e.consequence is None])]

    assert cases("controle_technique") == ["occasion-france"]
    assert cases("dedouanement_neuf_hors_ue") == ["neuf-etranger"]
    assert len(cases("procuration")) == 4  # « tous les cas »
    markdown = build_site(program, (), "markdown")["index.md"]
    everywhere = markdown.split("### Dans tous les cas")[1].split("###")[0]
    assert "(exigence-procuration.md)" in everywhere and "controle_technique" not in everywhere
    used_france = markdown.split("### Voiture d'occasion achetée en France")[1].split("###")[0]
    assert "(exigence-controle_technique.md)" in used_france
    piece_row = next(line for line in markdown.splitlines() if "`proces_verbal_controle_technique`" in line)
    assert "exigence-controle_technique.md" in piece_row and "exigence-controle_technique_import.md" in piece_row


def test_bareme_pages_show_each_version_with_its_period_and_row_sources(html_site, program):
    malus = html_site["bareme-malus_co2_wltp.html"]
    versions = program.tables["malus_co2_wltp"].periods
    grids = [v for v in versions if v.ranges or v.texts]  # a version with one value (« hors barème ») is a line
    assert malus.count("<details") == len(grids)
    for version in versions:
        assert period_label(version.period) in malus
    assert '<div class="columns">' in malus  # a long grid is cut into side-by-side slices
    regional = html_site["bareme-tarif_cheval_fiscal.html"]
    assert "Auvergne-Rhône-Alpes" in regional  # the note written beside the key in the rules
    assert "sources secondaires concordantes" in regional  # a row's own source


USED_CAR_WITHOUT_CT = {
    "reference": "DOCS-1", "date_demande": "2021-06-15", "canal": "en_ligne", "pour_soi_meme": True,
    "achat": {"etat": "occasion", "origine": "france", "date": "2021-06-01", "cession_enregistree_par": "vendeur",
              "code_cession": "X7K2P9QW"},
    "vehicule": {"immatriculation": "FX-482-KD", "date_premiere_immatriculation": "2012-03-10", "genre": "VP",
                 "puissance_fiscale": 5, "energie": "essence"},
    "titulaires": [{"nom": "Fictif", "prenoms": "Jeanne",
                    "adresse": {"ligne": "1 rue Imaginaire", "code_postal": "69003", "commune": "Lyon"}}],
    "pieces": [{"type": "justificatif_identite"}],
}


def test_worked_examples_show_each_fixture_outcome(immat, tmp_path):
    """A fixture folder made here (the shipped fixtures change): its description and result on the page."""
    case = tmp_path / "fixtures" / "occasion_sans_ct"
    case.mkdir(parents=True)
    (case / "dossier.json").write_text(json.dumps(USED_CAR_WITHOUT_CT), encoding="utf-8")
    (case / "attendu.json").write_text(json.dumps({"description": "Voiture de 2012 sans contrôle technique."}),
                                       encoding="utf-8")
    broken = tmp_path / "fixtures" / "illisible"
    broken.mkdir()
    (broken / "dossier.json").write_text("{", encoding="utf-8")
    result = immat("docs", "-o", tmp_path / "md", "--format", "markdown", "--fixtures", tmp_path / "fixtures")
    assert result.exit_code == 0
    assert "1 dossier(s) d'exemple illisible(s) ignoré(s)" in result.stderr
    page = (tmp_path / "md" / "exigence-controle_technique.md").read_text(encoding="utf-8")
    assert "- `occasion_sans_ct` — **non remplie**" in page
    assert "Voiture de 2012 sans contrôle technique." in page
    neuf = (tmp_path / "md" / "exigence-cerfa_13749_neuf_france.md").read_text(encoding="utf-8")
    assert "Aucun dossier d'exemple" in neuf


# ---------------------------------------------------------------- expressions in French

BASE = '''
définition date_de_référence = date_demande
définition âge_du_véhicule = durée entre vehicule.date_premiere_immatriculation et date_demande
définition titulaire_principal = premier de titulaires
barème grille
  titre "Grille d'essai"
  source "S"
  en vigueur depuis le 01/01/2020
    "VP" : 100 %
    "CTTE" : 50 %
barème forfait
  titre "Forfait d'essai"
  source "S"
  en vigueur depuis le 01/01/2020 : 11 €
montant taxe_essai
  titre "Taxe d'essai"
  source "S"
  vaut 11 €
'''


def pack(tmp_path: Path, text: str):
    folder = tmp_path / f"pack{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    (folder / "regles.immat").write_text(BASE + text, encoding="utf-8")
    checked = load_rules(folder)
    assert checked.ok, [d.message for d in checked.diagnostics]
    return checked.program


def unmarked(page: str) -> str:
    """A Markdown page without its terms' note markers (« la date de la demande[^1] »), to read its sentences."""
    return re.sub(r"\[\^\d+\]", "", page)


def said(tmp_path, expr: str) -> str:
    """A definition's value said in French: a clause for a condition, a noun phrase otherwise."""
    program = pack(tmp_path, f"définition sujet = {expr}\n")
    prose = Prose(program)
    value = program.definitions["sujet"].value.base
    return plain(prose.clause(value) if value.type.kind == "booléen" else prose.value(value).words)


def said_per_holder(tmp_path, expr: str) -> str:
    program = pack(tmp_path, f'''exigence sujet
  titre "T"
  source "S"
  pour chaque titulaire
  s'applique si {expr}
  exige une pièce "justificatif_identite" du titulaire
  message "M"
''')
    prose = Prose(program)
    return plain(prose.clause(program.requirements[0].applies, prose.holder(Context(), True)))


FRENCH = [
    # logic, comparisons of texts, durations and definitions
    ('achat.etat = "occasion" et âge_du_véhicule > 4 ans',
     "l'état du véhicule à l'achat est « occasion » et l'âge du véhicule est supérieur à 4 ans"),
    ('non (achat.etat = "neuf" et achat.origine = "france")',
     "l'état du véhicule à l'achat n'est pas « neuf » ou le lieu d'achat n'est pas « france »"),
    ('achat.etat = "neuf" et (achat.origine = "france" ou âge_du_véhicule < 4 ans)',
     "l'état du véhicule à l'achat est « neuf » et soit le lieu d'achat est « france », "
     "soit l'âge du véhicule est inférieur à 4 ans"),
    ('achat.etat = "neuf" ou (achat.etat = "occasion" et âge_du_véhicule ≤ 4 ans)',
     "l'état du véhicule à l'achat est « neuf » ou à la fois l'état du véhicule à l'achat est « occasion » "
     "et l'âge du véhicule est inférieur ou égal à 4 ans"),
    ('canal = "en_ligne" ou canal = "application_mobile"',
     "le canal de la demande est « en_ligne » ou « application_mobile »"),
    ('canal ≠ "en_ligne" et canal ≠ "application_mobile"',
     "le canal de la demande n'est ni « en_ligne » ni « application_mobile »"),
    ("vrai", "toujours"),
    ("non vrai", "jamais"),
    # booleans read as the schema's « Vrai si … » sentence, with what is assumed when undeclared
    ("vehicule.dispense_controle_technique à défaut faux",
     "le véhicule est dispensé de contrôle technique (si le dossier ne le dit pas : ce n'est pas le cas)"),
    ("non (pour_soi_meme à défaut vrai)",
     "le titulaire ne fait pas lui-même la démarche (si le dossier ne le dit pas : ce n'est pas le cas)"),
    ("pour_soi_meme à défaut vrai",
     "le titulaire fait lui-même la démarche (si le dossier ne le dit pas : c'est le cas)"),
    ("pour_soi_meme = vrai", "le titulaire fait lui-même la démarche"),
    ("vehicule.reception_type_ce ≠ vrai", "le véhicule n'est pas conforme à un type homologué"),
    ('(vehicule.energie à défaut "essence") = "electrique"',
     "l'énergie du véhicule (« essence » si le dossier ne l'indique pas) est « electrique »"),
    ('vehicule.genre à défaut "VP"', "le genre national du véhicule (« VP » si le dossier ne l'indique pas)"),
    # dates
    ("date_demande ≥ 20/07/2020", "la date de la demande n'est pas antérieure au 20 juillet 2020"),
    ("date_demande < 01/07/2020", "la date de la demande est antérieure au 1er juillet 2020"),
    ("date_demande > achat.date", "la date de la demande est postérieure à la date de la vente"),
    ("date_demande ≤ achat.date", "la date de la demande n'est pas postérieure à la date de la vente"),
    ("date_demande + 1 mois", "1 mois après la date de la demande"),
    ("date_demande − 10 jours", "10 jours avant la date de la demande"),
    # numbers
    ("vehicule.puissance_fiscale = 5", "la puissance fiscale du véhicule vaut 5"),
    ("vehicule.puissance_fiscale ≠ 5", "la puissance fiscale du véhicule ne vaut pas 5"),
    ("vehicule.co2_g_km ≥ 133", "les émissions de CO2 sont supérieures ou égales à 133"),
    ("vehicule.puissance_fiscale × 43 € × 50 %",
     "le produit de la puissance fiscale du véhicule, de 43 € et de 50 %"),
    ("11 € + 2,76 € + taxe_essai", "la somme de 11 €, de 2,76 € et de la taxe d'essai"),
    ("100 % − 10 %", "100 % moins 10 %"),
    ("(100 % − 10 %) × 2,5", "le produit de (100 % moins 10 %) et de 2,5"),
    ("11 € / 2", "11 € divisé par 2"),
    ("-5", "−5"),
    ("- vehicule.puissance_fiscale", "l'opposé de la puissance fiscale du véhicule"),
    # texts and fields that may be missing
    ('vehicule.immatriculation contient "-"', "le numéro d'immatriculation contient « - »"),
    ('non (vehicule.immatriculation contient "-")', "le numéro d'immatriculation ne contient pas « - »"),
    ("achat.code_cession est renseigné", "le dossier indique le code de cession"),
    ("vehicule.genre n'est pas renseigné", "le dossier n'indique pas le genre national du véhicule"),
    ("vehicule.dispense_controle_technique est renseigné",
     "le dossier dit si le véhicule est dispensé de contrôle technique"),
    ("titulaire_principal.adresse.code_insee est renseigné",
     "le dossier indique le code INSEE de la commune de l'adresse du titulaire principal"),
    ("les 2 premiers caractères de titulaire_principal.adresse.code_postal",
     "les 2 premiers caractères du code postal de l'adresse du titulaire principal"),
    ("les 1 premiers caractères de vehicule.immatriculation", "le premier caractère du numéro d'immatriculation"),
    # calendar
    ("durée entre achat.date et date_demande",
     "la durée écoulée entre la date de la vente et la date de la demande"),
    ("mois entre vehicule.date_premiere_immatriculation et date_demande",
     "le nombre de mois entiers écoulés entre la date de première immatriculation et la date de la demande"),
    ("ans entre vehicule.date_premiere_immatriculation et date_demande ≥ 10",
     "le nombre d'années entières écoulées entre la date de première immatriculation et la date de la demande "
     "est supérieur ou égal à 10"),
    # lists
    ("premier de titulaires", "le premier des titulaires"),
    ("premier de pieces", "la première des pièces fournies"),
    ("nombre de titulaires > 1", "le nombre des titulaires est supérieur à 1"),
    ("nombre de p dans pieces vérifiant (p.copie = vrai) = 0",
     "le nombre des pièces fournies pour lesquelles la pièce est une photocopie vaut 0"),
    ('au moins un t dans titulaires vérifie t.adresse.code_postal = "75001"',
     "au moins un des titulaires remplit la condition : le code postal de l'adresse du titulaire est « 75001 »"),
    ('non (au moins un t dans titulaires vérifie t.adresse.code_postal = "75001")',
     "aucun des titulaires ne remplit la condition : le code postal de l'adresse du titulaire est « 75001 »"),
    ("tout t dans titulaires vérifie t.fournisseur_energie_partenaire à défaut faux",
     "chacun des titulaires remplit la condition : le titulaire a choisi, dans une démarche en ligne, un "
     "fournisseur d'énergie partenaire du dispositif Justif'Adresse (si le dossier ne le dit pas : ce n'est pas le "
     "cas)"),
    ("au moins un t dans titulaires vérifie t = titulaire_principal",
     "au moins un des titulaires remplit la condition : le titulaire est le titulaire principal"),
    ("au moins un t dans titulaires vérifie rang de t = 2",
     "au moins un des titulaires remplit la condition : le titulaire est le deuxième de la liste des titulaires"),
    # barèmes and amounts
    ("barème forfait",
     "la valeur du barème « forfait d'essai », dans sa version en vigueur à la date de référence"),
    ("barème grille pour vehicule.genre à la date 01/01/2021",
     "la valeur du barème « grille d'essai » pour le genre national du véhicule, dans sa version en vigueur "
     "au 1er janvier 2021"),
    ("taxe_essai", "la taxe d'essai"),
]


@pytest.mark.parametrize("expr, french", FRENCH, ids=[e for e, _ in FRENCH])
def test_expression_in_french(tmp_path, expr, french):
    assert said(tmp_path, expr) == french


@pytest.mark.parametrize("expr, french", [
    ("rang de titulaire = 1", "le titulaire est le premier de la liste des titulaires"),
    ("rang de titulaire ≠ 1", "le titulaire n'est pas le premier de la liste des titulaires"),
    ("rang de titulaire > 1", "la position du titulaire dans la liste des titulaires est supérieure à 1"),
    ('titulaire.adresse.code_postal = "69003"', "le code postal de l'adresse du titulaire est « 69003 »"),
])
def test_expression_for_each_holder_in_french(tmp_path, expr, french):
    assert said_per_holder(tmp_path, expr) == french


def test_names_link_to_their_pages_and_fields_name_their_pointer(tmp_path):
    program = pack(tmp_path, "définition sujet = âge_du_véhicule > 4 ans et taxe_essai > 1 € "
                             "et barème forfait > 1 €\n")
    words = Prose(program).clause(program.definitions["sujet"].value.base)
    targets = {(w.kind, w.name) for w in words if isinstance(w, Link)}
    # the barème without « à la date » is read at the reference date, which is a definition too
    assert targets == {("définition", "âge_du_véhicule"), ("montant", "taxe_essai"), ("barème", "forfait"),
                       ("définition", "date_de_référence")}
    program = pack(tmp_path, 'définition sujet = achat.etat = "occasion"\n')
    words = Prose(program).clause(program.definitions["sujet"].value.base)
    hints = [w.hint for w in words if isinstance(w, Term)]
    assert hints[0].startswith("Champ /achat/etat du dossier")
    assert "Véhicule d'occasion" in hints[1]  # a coded value carries what it means


def test_a_long_condition_becomes_a_list(tmp_path):
    program = pack(tmp_path, 'définition sujet = achat.etat = "occasion" et achat.origine = "france" '
                             'et (canal = "en_ligne" ou pour_soi_meme)\n')
    cond = Prose(program).condition(program.definitions["sujet"].value.base)
    assert isinstance(cond, Group) and cond.every
    assert [plain(c) for c in cond.items[:2]] == ["l'état du véhicule à l'achat est « occasion »",
                                                  "le lieu d'achat est « france »"]
    assert plain(cond.items[2]) == ("le canal de la demande est « en_ligne » ou le titulaire fait lui-même "
                                    "la démarche")
    program = pack(tmp_path, 'définition sujet = achat.etat = "occasion" et (canal = "en_ligne" ou pour_soi_meme '
                             'ou date_demande > 01/01/2021)\n')
    cond = Prose(program).condition(program.definitions["sujet"].value.base)
    assert isinstance(cond, Group) and isinstance(cond.items[1], Group) and not cond.items[1].every
    assert len(cond.items[1].items) == 3


def test_piece_filters_exceptions_and_out_of_scope_values_in_french(tmp_path):
    program = pack(tmp_path, '''exigence sujet
  titre "Pièce d'essai"
  source "Texte d'essai, art. 1"
  pour chaque titulaire
  sauf si canal = "professionnel_habilite"
  sauf si canal = "application_mobile" alors exige que pour_soi_meme
  exige une pièce "proces_verbal_controle_technique" datée d'au plus 6 mois avant date_demande
          avec pièce.resultat = "favorable"
          du titulaire
     ou une pièce "certificat_immatriculation_etranger" avec (pièce.copie n'est pas renseigné ou pièce.copie = faux)
  message "Joignez la pièce."

définition sujet_valeur = 1 €
  sauf si vehicule.genre = "QM" alors hors barème "pas de tarif pour les quadricycles"
''')
    site = build_site(program, (), "markdown")
    page = unmarked(site["exigence-sujet.md"])
    assert "  - datée d'au plus 6 mois avant la date de la demande" in page
    assert "  - dont le résultat du contrôle technique est « favorable »" in page
    assert "  - au nom de ce titulaire" in page
    assert "  - si la pièce n'est pas une photocopie (si le dossier ne le dit pas : c'est le cas)" in page
    assert "- *ou* **Certificat d'immatriculation étranger d'origine**" in page
    assert ("Exception 1 — sauf si le canal de la demande est « professionnel\\_habilite » : "
            "l'exigence ne s'applique pas.") in page
    assert "Exception 2 — sauf si le canal de la demande est « application\\_mobile »" in page
    assert "Il faut alors, à la place, que le dossier remplisse cette condition : le titulaire fait lui-même" in page
    assert "Elle est vérifiée pour chaque titulaire, séparément." in page
    definition = unmarked(site["definition-sujet_valeur.md"])
    assert ("Sauf si le genre national du véhicule est « QM » : les règles ne couvrent pas ce cas "
            "(**hors barème**) : « pas de tarif pour les quadricycles »") in definition


def test_bareme_keys_periods_and_groups_in_french(tmp_path):
    program = pack(tmp_path, '''barème seuils
  titre "Seuils d'essai"
  source "S"
  en vigueur du 01/01/2020 au 31/12/2020
    jusqu'à 100 : 0 €
    101 : 5 €
    de 102 à 199 : 10 €  # une note
    à partir de 200 : hors barème "trop"
  en vigueur depuis le 01/01/2021 : hors barème "pas encore"

barème par_region
  titre "Par région"
  source "S"
  clé "84"  # Auvergne-Rhône-Alpes
    en vigueur depuis le 01/01/2021 : 43 €
      source "source de la valeur"

définition sujet = barème seuils pour vehicule.co2_g_km + barème par_region pour "84"
''')
    page = unmarked(build_site(program, (), "markdown")["bareme-seuils.md"])
    assert "| jusqu'à 100 | 0 € |" in page and "| 101 | 5 € |" in page
    assert "| de 102 à 199 | 10 € | une note |" in page
    assert "| à partir de 200 | **hors barème** : trop |" in page
    assert "**En vigueur depuis le 1er janvier 2021** : **hors barème** : pas encore." in page
    assert "| Émissions de CO2 | Valeur | Note |" in page  # the key column named after what it is looked up by
    regions = build_site(program, (), "markdown")["bareme-par_region.md"]
    assert "| « 84 » | Auvergne-Rhône-Alpes | depuis le 01/01/2021 | 43 € | source de la valeur |" in regions
    assert key_label(s.Key(low=3, high=3, span=None)) == "3"


def test_a_row_that_computes_on_its_key_reads_operator_by_operator(tmp_path):
    program = pack(tmp_path, '''barème tranches
  titre "Tranches d'essai"
  source "S"
  en vigueur depuis le 01/01/2020
    jusqu'à 140 : 0 €
    de 141 à 218 : 210 € + (clé − 140) × 30 €
    à partir de 219 : 500 € − (clé − 219) / 2 × 1 €

définition sujet = barème tranches pour vehicule.co2_g_km
''')
    page = unmarked(build_site(program, (), "markdown")["bareme-tranches.md"])
    assert "| de 141 à 218 | 210 € plus (la clé moins 140) fois 30 € |" in page
    assert "| à partir de 219 | 500 € moins (la clé moins 219) divisé par 2 fois 1 € |" in page
    assert "« clé » des règles : la valeur avec laquelle le barème est consulté" in page


# ---------------------------------------------------------------- every node kind has its French

def _expression_classes() -> set[type]:
    found = {c for _, c in inspect.getmembers(ir, inspect.isclass) if issubclass(c, ir.Expr) and c is not ir.Expr}
    assert found == set(ir.EXPRESSIONS)
    return found


def test_every_expression_kind_appears_in_the_french_examples(tmp_path):
    """A new node kind in ir.py fails here until it is given French words and an example."""
    program = pack(tmp_path, "".join(f"définition ex_{i} = {expr}\n" for i, (expr, _) in enumerate(FRENCH))
                   + 'exigence r\n  titre "T"\n  source "S"\n  pour chaque titulaire\n  s\'applique si rang de '
                   'titulaire = 1\n  exige une pièce "justificatif_identite" du titulaire\n  message "M"\n'
                   'définition hors = 1 € sauf si faux alors hors barème "raison"\n'
                   'barème formule\n  titre "F"\n  source "S"\n  en vigueur depuis le 01/01/2020\n'
                   '    jusqu\'à 10 : clé × 2 €\n    à partir de 11 : 20 €\n')
    seen = {type(n) for d in program.definitions.values() for n in nodes(d)}
    seen |= {type(n) for r in program.requirements for n in nodes(r)}
    seen |= {type(n) for cp in program.tables["formule"].periods for r in cp.period.rows for n in nodes(r.value)}
    assert _expression_classes() <= seen, sorted(c.__name__ for c in _expression_classes() - seen)


def test_every_node_of_the_examples_reads_as_french_on_its_own(tmp_path):
    """Any sub-expression, even out of its context, gives words and never a Python representation."""
    program = pack(tmp_path, "".join(f"définition ex_{i} = {expr}\n" for i, (expr, _) in enumerate(FRENCH))
                   + 'définition hors = 1 € sauf si faux alors hors barème "raison"\n')
    prose = Prose(program)
    for definition in program.definitions.values():
        for node in nodes(definition):
            if not isinstance(node, ir.Expr):
                continue
            texts = [plain(prose.value(node).words)]
            if node.type.kind == "booléen":
                texts.append(plain(prose.clause(node)))
            for text in texts:
                assert text.strip() and "(" + type(node).__name__ not in text and "object at" not in text, text


@pytest.mark.parametrize("cls", sorted(_expression_classes(), key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_every_expression_kind_has_a_rendering(cls):
    assert hasattr(Prose, "_v_" + cls.__name__), f"{cls.__name__} n'a pas de rédaction en français"


NON_EXPRESSION_NODES = {
    # where each rule-level node is said, checked by the tests above
    s.Dated: "test_piece_filters…", s.OfHolder: "test_piece_filters…", s.WithCondition: "test_piece_filters…",
    s.PieceSpec: "test_piece_filters…", s.PieceDemand: "test_piece_filters…",
    s.ConditionDemand: "test_piece_filters…", s.Exception_: "test_piece_filters…",
    s.Requirement: "test_requirement_page_markdown_snapshot", s.ValueException: "test_piece_filters…",
    s.Definition: "test_links_go_both_ways…", s.Amount: "test_docs_writes_an_index…",
    s.Notice: "test_docs_writes…",
    s.Key: "test_bareme_keys…", s.Row: "test_bareme_keys…", s.Period: "test_bareme_keys…",
    s.KeyGroup: "test_bareme_keys…", s.Table: "test_bareme_keys…",
    s.Note: "test_lawyers.py: test_docs_shows_notes…", s.NotHandled: "test_lawyers.py: test_docs_shows_notes…",
    # a checked Program no longer holds files: the docs name each rule's file and line instead
    s.Module: None, s.Import: None,
}


def test_every_rule_node_has_a_place_in_the_pages():
    classes = {c for _, c in inspect.getmembers(s, inspect.isclass)
               if attrs.has(c) and not issubclass(c, s.Expr) and c.__module__ == s.__name__}
    assert classes == set(NON_EXPRESSION_NODES), sorted(c.__name__ for c in classes ^ set(NON_EXPRESSION_NODES))


def test_shipped_pack_reads_without_rule_syntax(html_site):
    """No operator or keyword of the rule language is left in what the pages say (sources are quoted as is)."""
    for name, page in html_site.items():
        if name == "codes.html":  # for the rules' authors: it names the syntax its codes are about, in « »
            continue
        # Quoted as is, too: the drafting notes, and the dossier schema's descriptions of the fields a page names.
        text = re.sub(r'<div class="callout.*?</div>|<code>.*?</code>|<style>.*?</style>|<script>.*?</script>'
                      r'|<ul class="redaction">.*?</ul>|<section class="termes">.*?</section>|<[^>]+>', " ", page,
                      flags=re.S)
        for code in (" à défaut ", " est renseigné", " vérifie ", "≠", "≥", "≤", "!=", "durée entre"):
            assert code not in text, (name, code)
        assert not re.search(r"\b(pièce|titulaire|titulaires|vehicule|achat)\.\w", text), name
