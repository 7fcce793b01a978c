"""French words for the documentation: articles, contractions, agreement, dates and numbers."""

from __future__ import annotations

import datetime

from ..frozen import frozen

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")

# Head nouns of the dossier's titles and the pack's names that are feminine. Endings catch the rest
# (-tion, -sion, -té, -ure, -ence, -ance); anything else is taken as masculine.
FEMININE = frozenset("""
    adresse année attestation base carte case catégorie charge classe clé commune condition consommation couleur
    date demande démarche décote dispense durée émission énergie exonération facture formule identité
    immatriculation liste ligne limite majoration marque masse mention nature norme notice origine part période
    personne pièce position preuve première procuration puissance quantité raison réception redevance référence
    réduction région règle signature situation somme source taxe transformée valeur version vente voie zone
    photocopie
""".split())
FEMININE_ENDINGS = ("tion", "sion", "té", "ure", "ence", "ance")
INVARIABLE_S = frozenset({"pays", "prix", "poids", "cas", "temps", "plus", "corps", "bras", "mois", "avis", "malus",
                          "bonus", "quitus", "refus", "fois"})
VOWELS = "aàâäeéèêëiîïoôöuùûüyhœæ"
CAPITALISED = {"france": "France", "co2": "CO₂", "ue": "UE", "ce": "CE", "vp": "VP", "insee": "INSEE"}


@frozen
class Gender:
    """What a noun phrase's words agree with."""

    feminine: bool = False
    plural: bool = False

    def adjective(self, masculine: str) -> str:
        """« antérieur » → antérieure, antérieurs, antérieures; « égal » → égaux."""
        if masculine.endswith("al") and self.plural and not self.feminine:
            return masculine[:-2] + "aux"
        word = masculine + ("e" if self.feminine and not masculine.endswith("e") else "")
        return word + ("s" if self.plural and not word.endswith("s") else "")

    def verb(self, singular: str, plural: str) -> str:
        return plural if self.plural else singular


MASCULINE = Gender()


def starts_with_vowel(word: str) -> bool:
    return bool(word) and word[0].lower() in VOWELS


def gender_of(noun_phrase: str) -> Gender:
    """The gender and number of a noun phrase, judged on its first word."""
    head = noun_phrase.strip().split(" ")[0].split("'")[-1].lower() if noun_phrase.strip() else ""
    plural = head.endswith(("s", "x")) and head not in INVARIABLE_S and len(head) > 2
    singular = head[:-1] if plural else head
    feminine = singular in FEMININE or (singular.endswith(FEMININE_ENDINGS) and singular not in {"été", "côté"})
    return Gender(feminine, plural)


def article(noun_phrase: str, gender: Gender | None = None) -> str:
    """The definite article before a noun phrase: « le », « la », « l' » or « les »."""
    gender = gender or gender_of(noun_phrase)
    if gender.plural:
        return "les "
    if starts_with_vowel(noun_phrase):
        return "l'"
    return "la " if gender.feminine else "le "


def contract(preposition: str, first: str) -> str:
    """« de » or « à » joined with what follows: de le → du, à les → aux, de + voyelle → d'."""
    table = {
        ("de", "le "): "du ", ("de", "les "): "des ", ("de", "la "): "de la ", ("de", "l'"): "de l'",
        ("à", "le "): "au ", ("à", "les "): "aux ", ("à", "la "): "à la ", ("à", "l'"): "à l'",
    }
    for (prep, start), joined in table.items():
        if prep == preposition and first.startswith(start):
            return joined + first[len(start):]
    if preposition == "de" and starts_with_vowel(first) and first[:1].isalpha():
        return "d'" + first
    return f"{preposition} {first}"


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def humanize(name: str) -> str:
    """A rule name as words: « achat_d_occasion_à_l_étranger » → « achat d'occasion à l'étranger »."""
    words, out = name.split("_"), []
    for i, word in enumerate(words):
        elided = word in ("d", "l", "qu", "j", "n", "s") and i + 1 < len(words)
        out.append(word + "'" if elided else CAPITALISED.get(word, word) + " ")
    return "".join(out).strip()


def ordinal(n: int) -> str:
    return {1: "premier", 2: "deuxième", 3: "troisième"}.get(n, f"{n}e")


def long_date(day: datetime.date) -> str:
    """« 1er mars 2020 »: how a lawyer writes a date in a sentence."""
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {MONTHS[day.month - 1]} {day.year}"


def join(items: list, last: str) -> list:
    """[a, b, c] → [a, ", ", b, " et ", c]: the French list with its final conjunction."""
    out: list = []
    for i, item in enumerate(items):
        if i:
            out.append(f" {last} " if i == len(items) - 1 else ", ")
        out.append(item)
    return out
