"""Evaluation: small rule files and tiny dossiers through `immat validate --format json`, read as a user would."""

from __future__ import annotations

import functools
import json
from collections import Counter

import pytest

from immat import evaluate
from immat.compile import compiled
from immat.explain import explaining
from immat.pipeline import load_rules, parse_dossier
from immat.schema import shipped_schema

from .conftest import ROOT

RULES = "tests/evaluate"


@functools.cache
def _programs(path: str):
    program = load_rules(path).program
    return program, compiled(program)


def _report(cli, rules: str, text: str) -> dict:
    result = cli("validate", "--rules", f"{RULES}/{rules}", "--format", "json", "--explain", "-", input=text)
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["verdict"] == "complete" else 1)
    return report


@pytest.fixture
def validate(cli):
    """Validates a dossier (the dict, plus a reference) against one rule file; returns the JSON report with its
    reasoning (--explain): every requirement, the sans objet ones too, with its tree.

    Each dossier also goes through the three evaluators, which must give the same outcome: every test of the
    language is a differential test of the compiled evaluators (without and with the reasoning) against the
    reference."""

    def run(rules: str, **dossier) -> dict:
        text = json.dumps({"reference": "ESSAI", **dossier})
        program, fast = _programs(f"{ROOT}/{RULES}/{rules}")
        data = parse_dossier(text, "essai", shipped_schema()).data
        reference = evaluate.evaluate(program, "essai", data)
        assert fast.evaluate("essai", data) == reference.unexplained()
        assert explaining(program).evaluate("essai", data) == reference
        return _report(cli, rules, text)

    return run


@pytest.fixture
def reference_once():
    """The reference evaluator's outcome alone, for the tests that count what one of its evaluations computes."""

    def run(rules: str, **dossier):
        program = _programs(f"{ROOT}/{RULES}/{rules}")[0]
        text = json.dumps({"reference": "ESSAI", **dossier})
        return evaluate.evaluate(program, "essai", parse_dossier(text, "essai", shipped_schema()).data)

    return run


def requirement(report: dict, rule_id: str, holder: int | None = None) -> dict:
    (found,) = [r for r in report["requirements"]
                if r["id"] == rule_id and (holder is None or r["holder"]["index"] == holder)]
    return found


def statuses(report: dict) -> dict[str, str]:
    return {r["id"]: r["status"] for r in report["requirements"]}


def amount(report: dict, rule_id: str) -> dict:
    (found,) = [a for a in report["amounts"] if a["id"] == rule_id]
    return found


def step(tree: dict, text: str) -> dict:
    """The first node of a reason tree whose text is `text` (depth first)."""
    if " ".join(tree["text"].split()) == text:
        return tree
    for child in tree["children"]:
        if (found := step(child, text)) is not None:
            return found
    return None


def piece(kind: str, **fields) -> dict:
    return {"type": kind, **fields}


# ---------------------------------------------------------------- s'applique si, sauf si, sauf si … alors exige


def test_requirement_applies_when_its_condition_holds(validate):
    report = validate("applicabilite.immat", achat={"etat": "occasion"}, pieces=[piece("certificat_cession")])
    found = requirement(report, "cession")
    assert found["status"] == "satisfied"
    assert step(found["reason"], "s'applique si")["value"] is True


def test_requirement_does_not_apply_when_its_condition_fails(validate):
    found = requirement(validate("applicabilite.immat", achat={"etat": "neuf"}), "cession")
    assert found["status"] == "not_applicable"
    assert step(found["reason"], 'achat.etat = "occasion"')["value"] is False


def test_missing_piece_is_reported_with_the_pieces_that_would_do(validate):
    report = validate("applicabilite.immat", achat={"etat": "occasion", "cession_enregistree_par": "vendeur"})
    found = requirement(report, "cession")
    assert (found["status"], found["pieces"]) == ("missing", ["certificat_cession"])
    assert found["message"] == "Joignez le certificat de cession."


def test_exemption_that_holds_makes_the_requirement_not_applicable(validate):
    report = validate("applicabilite.immat", achat={"etat": "occasion", "cession_enregistree_par": "professionnel"})
    found = requirement(report, "cession")
    assert found["status"] == "not_applicable"
    assert step(found["reason"], "sauf si")["value"] is True


def test_exemption_that_holds_settles_a_requirement_whose_condition_is_unknown(validate):
    report = validate("applicabilite.immat", achat={"cession_enregistree_par": "professionnel"})
    assert requirement(report, "cession")["status"] == "not_applicable"


def test_requirement_met_anyway_is_satisfied_even_if_its_condition_is_unknown(validate):
    report = validate("applicabilite.immat", pieces=[piece("certificat_cession")])
    assert requirement(report, "cession")["status"] == "satisfied"


def test_unknown_condition_and_no_piece_leave_the_requirement_to_complete(validate):
    found = requirement(validate("applicabilite.immat", achat={"cession_enregistree_par": "vendeur"}), "cession")
    assert (found["status"], found["missing_fields"]) == ("unknown", ["/achat/etat"])


def test_unknown_exemption_is_listed_among_the_fields_to_complete(validate):
    found = requirement(validate("applicabilite.immat", achat={"etat": "occasion"}), "cession")
    assert (found["status"], found["missing_fields"]) == ("unknown", ["/achat/cession_enregistree_par"])


def test_replacing_exception_demands_its_own_pieces(validate):
    report = validate("applicabilite.immat", achat={"etat": "neuf"}, pieces=[piece("cerfa_13750")])
    found = requirement(report, "formulaire")
    assert (found["status"], found["pieces"]) == ("missing", ["cerfa_13749"])


def test_replacing_exception_is_satisfied_by_its_own_piece(validate):
    report = validate("applicabilite.immat", achat={"etat": "neuf"}, pieces=[piece("cerfa_13749")])
    assert requirement(report, "formulaire")["status"] == "satisfied"


def test_without_the_exception_the_base_demand_holds(validate):
    report = validate("applicabilite.immat", achat={"etat": "occasion"}, pieces=[piece("cerfa_13749")])
    found = requirement(report, "formulaire")
    assert (found["status"], found["pieces"]) == ("missing", ["cerfa_13750"])


# ---------------------------------------------------------------- pieces: ou, datée d'au plus, avec


def controle(validate, date_demande="2021-06-15", *pieces) -> dict:
    report = validate("pieces.immat", date_demande=date_demande, pieces=list(pieces))
    return requirement(report, "controle")


def pv(date: str, resultat: str = "favorable") -> dict:
    return piece("proces_verbal_controle_technique", date=date, resultat=resultat)


@pytest.mark.parametrize("date_demande, date, status", [
    ("2021-06-15", "2020-12-15", "satisfied"),  # exactly 6 months old
    ("2021-06-15", "2020-12-14", "missing"),    # one day more
    ("2021-06-15", "2021-06-15", "satisfied"),  # dated the day of the demand
    ("2021-06-15", "2021-06-16", "missing"),    # dated after the demand
    # The period runs from the piece's date (code de procédure civile, art. 641): at month ends, counting
    # back from the demand would accept a piece one to three days too old.
    ("2021-08-31", "2021-02-28", "missing"),    # 28/02 + 6 mois = 28/08, before 31/08
    ("2021-08-28", "2021-02-28", "satisfied"),  # last day of validity
    ("2024-08-31", "2024-02-29", "missing"),    # 29/02 + 6 mois = 29/08
    ("2024-08-29", "2024-02-29", "satisfied"),
    ("2024-02-29", "2023-08-31", "satisfied"),  # 31/08 + 6 mois = 29/02 (the month's last day)
    ("2024-03-01", "2023-08-31", "missing"),
])
def test_dated_piece_is_valid_until_its_date_plus_n_months(validate, date_demande, date, status):
    assert controle(validate, date_demande, pv(date))["status"] == status


def test_dated_piece_explains_until_when_it_is_valid(validate):
    found = controle(validate, "2021-06-15", pv("2020-12-14"))
    note = step(found["reason"], "datée d'au plus 6 mois avant date_demande")["note"]
    assert note == "pièce du 14/12/2020, valable jusqu'au 14/06/2021 ; date de référence 15/06/2021"


def test_contre_visite_alone_does_not_satisfy(validate):
    assert controle(validate, "2021-06-15", pv("2021-05-01", "contre_visite"))["status"] == "missing"


def test_contre_visite_with_a_favourable_report_satisfies(validate):
    found = controle(validate, "2021-06-15", pv("2021-05-01", "contre_visite"), pv("2021-05-20"))
    assert found["status"] == "satisfied"


def test_second_alternative_alone_satisfies(validate):
    found = controle(validate, "2021-06-15", piece("certificat_immatriculation_timbre_ct"))
    assert found["status"] == "satisfied"


def test_no_alternative_supplied_lists_every_accepted_piece(validate):
    found = controle(validate, "2021-06-15")
    assert (found["status"], found["pieces"]) == (
        "missing", ["proces_verbal_controle_technique", "certificat_immatriculation_timbre_ct"])
    alternatives = step(found["reason"], "exige")["children"]
    assert [a["note"] for a in alternatives] == ["aucune pièce de ce type fournie"] * 2


def test_piece_without_its_date_leaves_the_requirement_to_complete(validate):
    found = controle(validate, "2021-06-15", piece("proces_verbal_controle_technique", resultat="favorable"))
    assert (found["status"], found["missing_fields"]) == ("unknown", ["/pieces/0/date"])


def test_missing_reference_date_is_named(validate):
    report = validate("pieces.immat", pieces=[pv("2021-05-01")])
    assert requirement(report, "controle")["missing_fields"] == ["/date_demande"]


# ---------------------------------------------------------------- pour chaque titulaire, du titulaire


JEANNE = {"prenoms": "Jeanne Marie", "nom": "Fictif", "fournisseur_energie_partenaire": False}
PAUL = {"prenoms": "Paul", "nom": "Fictif", "fournisseur_energie_partenaire": True}


def test_each_holder_gets_an_outcome_named_after_them(validate):
    report = validate("titulaires.immat", titulaires=[JEANNE, PAUL])
    holders = [r["holder"] for r in report["requirements"] if r["id"] == "identite"]
    assert holders == [{"index": 0, "name": "Jeanne Marie Fictif"}, {"index": 1, "name": "Paul Fictif"}]


def test_piece_without_holder_belongs_to_the_first_holder(validate):
    report = validate("titulaires.immat", titulaires=[JEANNE, PAUL], pieces=[piece("justificatif_identite")])
    assert requirement(report, "identite", 0)["status"] == "satisfied"
    assert requirement(report, "identite", 1)["status"] == "missing"


def test_piece_of_the_second_holder_counts_for_them_only(validate):
    report = validate("titulaires.immat", titulaires=[JEANNE, PAUL],
                      pieces=[piece("justificatif_identite", titulaire=1)])
    assert requirement(report, "identite", 0)["status"] == "missing"
    assert requirement(report, "identite", 1)["status"] == "satisfied"


def test_exemption_is_judged_holder_by_holder(validate):
    report = validate("titulaires.immat", titulaires=[JEANNE, PAUL])
    assert requirement(report, "domicile", 0)["status"] == "missing"
    assert requirement(report, "domicile", 1)["status"] == "not_applicable"


def test_unknown_exemption_names_the_holder_field(validate):
    report = validate("titulaires.immat", titulaires=[JEANNE, {"nom": "Fictif"}])
    found = requirement(report, "domicile", 1)
    assert (found["status"], found["missing_fields"]) == ("unknown", ["/titulaires/1/fournisseur_energie_partenaire"])


def test_holder_without_a_name_is_numbered(validate):
    report = validate("titulaires.immat", titulaires=[JEANNE, {}])
    assert requirement(report, "identite", 1)["holder"]["name"] == "titulaire n° 2"


def test_no_holder_at_all_asks_for_the_holders(validate):
    found = requirement(validate("titulaires.immat"), "identite")
    assert (found["status"], found.get("holder"), found["missing_fields"]) == ("unknown", None, ["/titulaires"])


# ---------------------------------------------------------------- recevabilité and the verdict


def test_unmet_admissibility_rejects_the_demand(validate):
    report = validate("recevabilite.immat", achat={"origine": "union_europeenne"}, canal="professionnel_habilite")
    assert report["verdict"] == "rejected"
    assert statuses(report) == {"canal_etranger": "missing", "identite": "missing"}


def test_missing_piece_alone_makes_the_demand_incomplete(validate):
    report = validate("recevabilite.immat", achat={"origine": "union_europeenne"}, canal="en_ligne")
    assert report["verdict"] == "incomplete"


def test_unknown_admissibility_makes_the_demand_incomplete_not_rejected(validate):
    report = validate("recevabilite.immat", achat={"origine": "union_europeenne"},
                      pieces=[piece("justificatif_identite")])
    assert requirement(report, "canal_etranger")["missing_fields"] == ["/canal"]
    assert report["verdict"] == "incomplete"


def test_every_requirement_met_or_not_applicable_makes_the_demand_complete(validate):
    report = validate("recevabilite.immat", achat={"origine": "france"}, pieces=[piece("justificatif_identite")])
    assert report["verdict"] == "complete"
    assert report["summary"] == {"satisfied": 1, "missing": 0, "not_applicable": 1, "unknown": 0, "error": 0}


def test_amount_in_error_is_reported_but_does_not_decide_the_verdict(validate):
    report = validate("montants.immat", date_demande="2021-03-01", vehicule={"energie": "essence"})
    assert amount(report, "abattement")["status"] == "error"
    assert amount(report, "abattement")["error"]
    assert report["verdict"] == "complete"  # the verdict is about what the applicant must provide


# ---------------------------------------------------------------- three-valued logic


LOGIC = {"vehicule": {"reception_type_ce": True, "transforme_en_vp": False}}


@pytest.mark.parametrize("rule_id, status", [
    ("faux_et_inconnu", "missing"),
    ("vrai_ou_inconnu", "satisfied"),
    ("vrai_et_inconnu", "unknown"),
    ("faux_ou_inconnu", "unknown"),
    ("non_inconnu", "unknown"),
])
def test_absent_field_is_unknown_in_three_valued_logic(validate, rule_id, status):
    assert requirement(validate("logique.immat", **LOGIC), rule_id)["status"] == status


def test_unknown_result_lists_the_missing_field(validate):
    found = requirement(validate("logique.immat", **LOGIC), "vrai_et_inconnu")
    assert found["missing_fields"] == ["/vehicule/dispense_controle_technique"]
    node = step(found["reason"], "vehicule.dispense_controle_technique")
    assert node["value"] == {"unknown": ["/vehicule/dispense_controle_technique"]}


def test_settled_result_lists_no_missing_field(validate):
    found = requirement(validate("logique.immat", **LOGIC), "faux_et_inconnu")
    assert "missing_fields" not in found  # a key with nothing to say is left out


def test_every_missing_field_of_a_condition_is_listed(validate):
    found = requirement(validate("logique.immat", **LOGIC), "comparaison_inconnue")
    assert found["missing_fields"] == ["/vehicule/co2_g_km", "/vehicule/puissance_fiscale"]


# ---------------------------------------------------------------- quantifiers and counts


@pytest.mark.parametrize("partners, every, some", [
    ([True, True], "satisfied", "satisfied"),
    ([True, False], "missing", "satisfied"),
    ([False, False], "missing", "missing"),
    ([True, None], "unknown", "satisfied"),   # vrai ou inconnu
    ([False, None], "missing", "unknown"),    # faux et inconnu
])
def test_quantifiers_over_holders(validate, partners, every, some):
    holders = [{} if p is None else {"fournisseur_energie_partenaire": p} for p in partners]
    report = validate("quantificateurs.immat", titulaires=holders)
    assert (statuses(report)["tous_partenaires"], statuses(report)["un_partenaire"]) == (every, some)


def test_unknown_quantifier_names_the_holder_field(validate):
    report = validate("quantificateurs.immat", titulaires=[{"fournisseur_energie_partenaire": True}, {}])
    found = requirement(report, "tous_partenaires")
    assert found["missing_fields"] == ["/titulaires/1/fournisseur_energie_partenaire"]


def test_counts_of_a_list_and_of_its_matching_items(validate):
    pieces = [piece("justificatif_identite"), piece("justificatif_identite", titulaire=1),
              piece("justificatif_domicile")]
    report = validate("quantificateurs.immat", titulaires=[{}, {}], pieces=pieces)
    assert statuses(report)["trois_pieces"] == statuses(report)["deux_identites"] == "satisfied"
    counted = step(requirement(report, "deux_identites")["reason"], 'p.type = "justificatif_identite"')
    assert counted["value"] == 2


def test_count_with_an_unknown_item_is_unknown(validate):
    pieces = [piece("justificatif_identite", copie=True), piece("justificatif_domicile")]
    found = requirement(validate("quantificateurs.immat", pieces=pieces), "une_copie")
    assert (found["status"], found["missing_fields"]) == ("unknown", ["/pieces/1/copie"])


def test_absent_list_is_unknown(validate):
    found = requirement(validate("quantificateurs.immat"), "trois_pieces")
    assert (found["status"], found["missing_fields"]) == ("unknown", ["/pieces"])


# ---------------------------------------------------------------- dates and durations


@pytest.mark.parametrize("rule_id, computed, value", [
    ("fin_de_mois", "31/01/2021 + 1 mois", "2021-02-28"),
    ("annee_bissextile", "29/02/2020 + 1 an", "2021-02-28"),
    ("recul", "date_demande - 6 mois - 10 jours", "2020-12-05"),
    ("somme_de_durees", "1 an + 6 mois", {"months": 18, "days": 0}),
])
def test_calendar_arithmetic_in_rules(validate, rule_id, computed, value):
    found = requirement(validate("durees.immat", date_demande="2021-06-15"), rule_id)
    assert found["status"] == "satisfied"
    assert step(found["reason"], computed)["value"] == value


@pytest.mark.parametrize("first_registration, status", [
    ("2017-06-15", "not_applicable"),  # exactly 4 years old: not « > 4 ans »
    ("2017-06-14", "missing"),         # one day more
])
def test_vehicle_older_than_four_years(validate, first_registration, status):
    report = validate("durees.immat", date_demande="2021-06-15",
                      vehicule={"date_premiere_immatriculation": first_registration})
    assert requirement(report, "vehicule_ancien")["status"] == status


def test_age_is_shown_in_months_and_days(validate):
    report = validate("durees.immat", date_demande="2021-06-15",
                      vehicule={"date_premiere_immatriculation": "2017-06-14"})
    age = step(requirement(report, "vehicule_ancien")["reason"],
               "durée entre vehicule.date_premiere_immatriculation et date_demande")
    assert age["value"] == {"months": 48, "days": 1}


@pytest.mark.parametrize("purchase, status", [
    ("2021-01-01", "satisfied"),  # 90 days before 01/04/2021, though it is « 3 mois »
    ("2021-01-02", "satisfied"),
    ("2020-12-31", "missing"),    # 91 days
])
def test_duration_between_dates_compares_exactly_with_days(validate, purchase, status):
    report = validate("durees.immat", date_demande="2021-04-01", achat={"date": purchase})
    assert requirement(report, "achat_recent")["status"] == status


# ---------------------------------------------------------------- money, decimals and barèmes


def montants(validate, **dossier) -> dict:
    return validate("montants.immat", **{"date_demande": "2021-03-01", **dossier})


def test_money_is_exact_and_reported_as_decimal_strings(validate):
    report = montants(validate, achat={"etat": "occasion"})
    assert amount(report, "total")["value"] == "13.76"
    assert amount(report, "redevance")["value"] == "2.76"


def test_percent_times_money_times_integer_is_exact(validate):
    report = montants(validate, vehicule={"puissance_fiscale": 7})
    assert amount(report, "demi_taxe")["value"] == "150.50"


def test_money_division_is_rounded_to_the_cent(validate):
    assert amount(montants(validate), "tiers")["value"] == "3.33"


def test_decimals_are_never_floats(validate):
    assert requirement(montants(validate), "decimaux_exacts")["status"] == "satisfied"


def test_amount_not_applicable_counts_zero_in_a_sum(validate):
    report = montants(validate, achat={"etat": "occasion"})
    assert amount(report, "malus")["status"] == "not_applicable"
    assert "value" not in amount(report, "malus")
    assert step(amount(report, "total")["breakdown"], "malus")["value"] == "0.00"


@pytest.mark.parametrize("co2, value", [(132, "0.00"), (133, "50.00"), (134, "1000.00"), (218, "1000.00"),
                                        (219, "30000.00")])
def test_barème_is_looked_up_by_range(validate, co2, value):
    report = montants(validate, achat={"etat": "neuf"},
                      vehicule={"co2_g_km": co2, "date_premiere_immatriculation": "2021-02-01"})
    assert amount(report, "malus")["value"] == value


def test_barème_version_is_chosen_by_date(validate):
    report = montants(validate, achat={"etat": "neuf"},
                      vehicule={"co2_g_km": 133, "date_premiere_immatriculation": "2020-12-31"})
    assert amount(report, "malus")["value"] == "0.00"
    assert amount(report, "total")["value"] == "13.76"


@pytest.mark.parametrize("power, expected", [
    (5, {"entre_parenthèses": "(5 + 2) × 10 € − (3 € + 1 €)", "par_exception": "− 5 × 1 € + 20 €"}),
    (500, {"entre_parenthèses": "(500 + 2) × 10 € − (3 € + 1 €)", "par_exception": "500 × 2 €"}),
], ids=["base", "exception"])
def test_calculation_writes_the_formula_that_gave_the_amount_with_its_values(validate, power, expected):
    report = validate("calcul.immat", vehicule={"puissance_fiscale": power})
    assert {a["id"]: a.get("calculation") for a in report["amounts"]} == {**expected, "sans_formule": None}


def test_barème_lookup_explains_the_row_used(validate):
    report = montants(validate, achat={"etat": "neuf"},
                      vehicule={"co2_g_km": 133, "date_premiere_immatriculation": "2021-02-01"})
    lookup = step(amount(report, "malus")["breakdown"],
                  "barème malus_co2 pour vehicule.co2_g_km à la date vehicule.date_premiere_immatriculation")
    row = lookup["children"][-1]
    assert (row["text"], row["location"]) == ("ligne « 133 : 50 € »", "tests/evaluate/montants.immat:58")


def test_date_no_version_covers_is_an_error_not_zero(validate):
    report = montants(validate, achat={"etat": "neuf"},
                      vehicule={"co2_g_km": 133, "date_premiere_immatriculation": "2019-06-01"})
    found = amount(report, "malus")
    assert (found["status"], found.get("value")) == ("error", None)
    assert found["error"] == "aucune version du barème « malus_co2 » n'est en vigueur le 01/06/2019"
    assert amount(report, "total")["status"] == "error"


def test_barème_is_looked_up_by_text(validate):
    assert amount(montants(validate, vehicule={"energie": "gpl"}), "abattement")["value"] == "500.00"


def test_text_key_no_row_covers_is_an_error(validate):
    found = amount(montants(validate, vehicule={"energie": "essence"}), "abattement")
    assert found["error"] == "le barème « abattement_energie » n'a pas de ligne pour « essence »"


def test_number_key_no_row_covers_is_an_error(validate):
    found = amount(montants(validate, vehicule={"puissance_fiscale": 25}), "regionale")
    assert found["error"] == "le barème « cheval_fiscal » n'a pas de ligne pour « 25 »"


def test_amount_with_an_absent_field_names_it(validate):
    found = amount(montants(validate, achat={"etat": "neuf"}), "malus")
    assert found["status"] == "unknown"
    assert found["missing_fields"] == ["/vehicule/co2_g_km", "/vehicule/date_premiere_immatriculation"]


# ---------------------------------------------------------------- barèmes that compute on their key, percentages


def calcules(validate, co2=150, places=4, first_registration="2022-01-01") -> dict:
    vehicule = {"co2_g_km": co2, "places_assises": places, "date_premiere_immatriculation": first_registration}
    return validate("baremes_calcules.immat", date_demande="2024-01-10", vehicule=vehicule)


def explained(cli, rule: str, *options, co2=150, places=4) -> str:
    dossier = json.dumps({"reference": "ESSAI", "date_demande": "2024-01-10", "vehicule": {
        "co2_g_km": co2, "places_assises": places, "date_premiere_immatriculation": "2022-01-01"}})
    result = cli("explain", "--rules", f"{RULES}/baremes_calcules.immat", "-", "--rule", rule, *options, input=dossier)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("co2, value", [(140, "0.00"), (141, "240.00"), (150, "510.00"), (218, "2550.00"),
                                        (219, "30000.00")])
def test_a_row_computes_its_value_from_the_key(validate, co2, value):
    report = calcules(validate, co2=co2, first_registration="2024-01-01")  # no décote: the row's value itself
    assert amount(report, "malus")["value"] == value


def test_the_row_step_shows_the_row_its_value_and_the_key(validate):
    lookup = step(amount(calcules(validate), "malus")["breakdown"], "barème malus_par_gramme pour vehicule.co2_g_km")
    row = lookup["children"][-1]
    assert (row["kind"], row["text"], row["value"]) == (
        "row", "ligne « de 141 à 218 : 210 € + (clé − 140) * 30 € »", "510.00")
    assert row["location"] == "tests/evaluate/baremes_calcules.immat:10"
    assert step(row, "clé")["value"] == 150


def test_the_explanation_details_the_row_computation(cli):
    text = explained(cli, "malus")
    assert ("      ligne « de 141 à 218 : 210 € + (clé − 140) * 30 € » : 510 €\n"
            "        (clé − 140) * 30 € : 300 €\n"
            "          clé − 140 : 10\n"
            "            clé : 150\n") in text


def test_a_row_that_cannot_be_computed_is_an_error_with_its_reason(validate):
    found = amount(calcules(validate, places=3), "part")
    assert (found["status"], found["error"]) == ("error", "division par zéro")
    assert amount(calcules(validate, places=5), "part")["value"] == "50.00"


def test_percentages_read_as_percentages_in_the_explanation(cli):
    text = explained(cli, "malus")
    assert "taux_après_décote : 76 %\n" in text
    assert "100 % − barème décote pour (mois entre vehicule.date_premiere_immatriculation et date_demande) : 76 %" in text
    assert "ligne « de 12 à 99 : clé × 1 % » : 24 %\n" in text


@pytest.mark.parametrize("report_format", ["markdown", "html"])
def test_percentages_read_as_percentages_in_every_format(cli, report_format):
    dossier = json.dumps({"reference": "ESSAI", "date_demande": "2024-01-10", "vehicule": {
        "co2_g_km": 150, "places_assises": 4, "date_premiere_immatriculation": "2022-01-01"}})
    result = cli("validate", "--rules", f"{RULES}/baremes_calcules.immat", "--format", report_format, "--explain",
                 "-", input=dossier)
    assert "taux_après_décote : 76 %" in result.stdout


def test_json_keeps_a_percentage_as_its_exact_decimal(validate):
    breakdown = amount(calcules(validate), "malus")["breakdown"]
    assert step(breakdown, "taux_après_décote")["value"] == "0.76"
    assert step(breakdown, "ligne « de 12 à 99 : clé × 1 % »")["value"] == "0.24"


# ---------------------------------------------------------------- definitions


@pytest.mark.parametrize("energie, value", [("electrique", "0.00"), ("gpl", "5.00"), ("essence", "10.00")])
def test_exclusive_exceptions_give_the_value_of_the_one_that_holds(validate, energie, value):
    report = validate("definitions.immat", vehicule={"energie": energie}, titulaires=[{}])
    assert amount(report, "taxe")["value"] == value


def test_undecided_exception_leaves_the_value_unknown(validate):
    found = amount(validate("definitions.immat", titulaires=[{}]), "taxe")
    assert (found["status"], found["missing_fields"]) == ("unknown", ["/vehicule/energie"])


def test_definition_used_twice_is_computed_once(reference_once, monkeypatch):
    computed = Counter()
    original = evaluate._Run._valued

    def spy(self, node, steps):
        computed[node.base.span.text] += 1
        return original(self, node, steps)

    monkeypatch.setattr(evaluate._Run, "_valued", spy)
    outcome = reference_once("definitions.immat", titulaires=[{}, {}], vehicule={"energie": "gpl"})
    assert {r.rule.id: r.status.value for r in outcome.requirements} == \
        {"au_moins_un_titulaire": "satisfied", "au_plus_deux_titulaires": "satisfied"}
    # nombre_de_titulaires is used by two requirements, taux by the amount and by its calculation: each once.
    assert {text: computed[text] for text in ("100 %", "nombre de titulaires", "taux × 10 €")} == \
        {"100 %": 1, "nombre de titulaires": 1, "taux × 10 €": 1}


def test_amount_used_in_a_sum_is_computed_once(reference_once, monkeypatch):
    computed = Counter()
    original = evaluate._Run._amount_value

    def spy(self, a, steps):
        computed[a.name] += 1
        return original(self, a, steps)

    monkeypatch.setattr(evaluate._Run, "_amount_value", spy)
    reference_once("montants.immat", date_demande="2021-03-01", achat={"etat": "occasion"})
    assert set(computed.values()) == {1}
    assert len(computed) == 8


# ---------------------------------------------------------------- determinism


RICH_DOSSIER = json.dumps({
    "reference": "DETERMINISME",
    "date_demande": "2021-06-15",
    "canal": "en_ligne",
    "achat": {"etat": "occasion", "origine": "france"},
    "vehicule": {"date_premiere_immatriculation": "2015-03-10", "co2_g_km": 118, "norme_co2": "wltp"},
    "titulaires": [JEANNE, PAUL, {}],
    "pieces": [pv("2021-01-20"), piece("justificatif_identite", titulaire=2)],
})


def test_same_rules_and_dossier_give_byte_identical_json(cli):
    runs = [cli("validate", "--format", "json", "-", input=RICH_DOSSIER).stdout_bytes for _ in range(2)]
    assert runs[0] == runs[1]
    assert json.loads(runs[0])["verdict"] == "incomplete"


def test_same_rules_folder_and_dossier_give_byte_identical_json(cli):
    args = ("validate", "--rules", f"{RULES}/montants.immat", "--format", "json", "-")
    dossier = json.dumps({"reference": "D", "achat": {"etat": "neuf"},
                          "vehicule": {"co2_g_km": 140, "date_premiere_immatriculation": "2021-05-05"}})
    assert cli(*args, input=dossier).stdout_bytes == cli(*args, input=dossier).stdout_bytes


# ---------------------------------------------------------------- one rule for every « sauf si »


def test_an_undecided_exception_that_would_give_the_same_value_leaves_nothing_in_doubt(validate):
    # 120 g/km: no malus, electric or not; the dossier need not say its energy.
    found = amount(validate("definitions.immat", vehicule={"co2_g_km": 120}, titulaires=[{}]), "malus")
    assert (found["status"], found["value"]) == ("computed", "0.00")
    assert "missing_fields" not in found


def test_an_undecided_exception_that_would_change_the_value_asks_for_what_decides_it(validate):
    found = amount(validate("definitions.immat", vehicule={"co2_g_km": 200}, titulaires=[{}]), "malus")
    assert (found["status"], found["missing_fields"]) == ("unknown", ["/vehicule/energie"])
    # Neither the base nor the exception known: both are asked for.
    found = amount(validate("definitions.immat", titulaires=[{}]), "malus")
    assert (found["status"], found["missing_fields"]) == ("unknown", ["/vehicule/co2_g_km", "/vehicule/energie"])


def test_a_failing_exception_condition_leaves_the_value_not_covered_whatever_it_would_give(validate):
    before = amount(validate("definitions.immat", date_demande="2024-06-01", titulaires=[{}]), "taxe_selon_régime")
    assert (before["status"], before["value"]) == ("computed", "0.00")
    after = amount(validate("definitions.immat", date_demande="2025-06-01", titulaires=[{}]), "taxe_selon_régime")
    assert (after["status"], after["error"]) == ("not_covered", "régime non publié")
