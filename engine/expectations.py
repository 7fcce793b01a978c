"""A fixture's outcome + its stated expectation (attendu.json) → the differences, in French."""

from __future__ import annotations

from .frozen import frozen
from .outcome import AmountStatus, Outcome, RequirementOutcome, Status

AMOUNT_WORDS = {AmountStatus.NOT_APPLICABLE: "sans objet", AmountStatus.NOT_COVERED: "non couvert"}
UNREADABLE = "illisible"


@frozen
class FixtureResult:
    name: str
    failures: tuple[str, ...]
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures


def label(r: RequirementOutcome) -> str:
    return r.rule.id + (f" — {r.holder.name}" if r.holder else "")


def amount_word(a) -> str:
    return a.value.decimal_string() if a.status is AmountStatus.COMPUTED else AMOUNT_WORDS.get(a.status, str(a.status))


def _set_difference(what: str, expected: list[str], actual: list[str]) -> list[str]:
    found = []
    for item in sorted(set(expected) - set(actual)):
        found.append(f"{what} : « {item} » attendu, absent")
    for item in sorted(set(actual) - set(expected)):
        found.append(f"{what} : « {item} » présent, non attendu")
    return found


def compare(outcome: Outcome, expected: dict) -> list[str]:
    """Every way the outcome differs from what attendu.json states (nothing when they agree)."""
    failures = []
    if outcome.verdict != expected["verdict"]:
        failures.append(f"verdict : « {expected['verdict']} » attendu, « {outcome.verdict} » obtenu")
    by_status = {s: [label(r) for r in outcome.requirements if r.status is s] for s in Status}
    failures += _set_difference("exigence manquante", expected.get("exigences_manquantes", []),
                                by_status[Status.MISSING])
    if "informations_a_completer" in expected:
        failures += _set_difference("information à compléter", expected["informations_a_completer"],
                                    by_status[Status.UNKNOWN])
    for item in expected.get("exigences_satisfaites", []):
        if item not in by_status[Status.SATISFIED]:
            failures.append(f"exigence satisfaite : « {item} » attendue, non satisfaite")
    amounts = {a.rule.id: amount_word(a) for a in outcome.amounts}
    for rule_id, value in expected.get("montants", {}).items():
        if amounts.get(rule_id) != value:
            failures.append(f"montant {rule_id} : « {value} » attendu, « {amounts.get(rule_id)} » obtenu")
    if "avis" in expected:
        failures += _set_difference("avis", expected["avis"], [n.rule.id for n in outcome.notices])
    return failures


def compare_unreadable(pointers: list[str], expected: dict) -> list[str]:
    """An unreadable dossier meets its expectation when it was meant to be, at the stated places."""
    if expected["verdict"] != UNREADABLE:
        return [f"verdict : « {expected['verdict']} » attendu, dossier illisible : " + ", ".join(pointers)]
    return [f"erreur attendue en {p}, non signalée" for p in expected.get("erreurs", []) if p not in pointers]
