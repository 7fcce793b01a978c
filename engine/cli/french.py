"""click's own words (« Usage: », « Show this message and exit. », its error messages) in French.

click writes them through gettext, bound in each of its modules as `_` and `ngettext`: `install` binds those
names to this catalogue, so that a help page or a usage error reads in French from its first word. A message
the catalogue does not know is shown as click wrote it.
"""

from __future__ import annotations

import sys

WORDS = {
    "Usage:": "Utilisation :",
    "Options": "Options",
    "Commands": "Commandes",
    "Positional arguments": "Arguments",
    "Show this message and exit.": "Affiche cette aide et quitte.",
    "Show the version and exit.": "Affiche la version et quitte.",
    "Error: {message}": "Erreur : {message}",
    "Try '{command} {option}' for help.": "Essayez « {command} {option} » pour l'aide.",
    "Aborted!": "Interrompu.",
    "No such option {name!r}.": "Option inconnue : {name!r}.",
    "No such command {name!r}.": "Commande inconnue : {name!r}.",
    "Missing command.": "Commande manquante.",
    "Missing argument": "Argument manquant",
    "Missing option": "Option manquante",
    "Missing parameter": "Paramètre manquant",
    "Missing parameter: {param_name}": "Paramètre manquant : {param_name}",
    "Missing {param_type}": "{param_type} manquant",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "Option {name!r} does not take a value.": "L'option {name!r} ne prend pas de valeur.",
    "Argument {name!r} takes {nargs} values.": "L'argument {name!r} prend {nargs} valeurs.",
    "{value!r} is not a valid {number_type}.": "{value!r} n'est pas un {number_type} valide.",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} n'existe pas.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} est un répertoire.",
    "{name} {filename!r} is a file.": "{name} {filename!r} est un fichier.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} ne peut pas être lu.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} ne peut pas être écrit.",
    "Could not open file {filename!r}: {message}": "Impossible d'ouvrir le fichier {filename!r} : {message}",
    "file": "fichier",
    "directory": "répertoire",
    "path": "chemin",
    "default: {default}": "par défaut : {default}",
    "env var: {var}": "variable d'environnement : {var}",
    "required": "obligatoire",
    "unknown error": "erreur inconnue",
    "Choose from:\n\t{choices}": "Valeurs possibles :\n\t{choices}",
}
PLURALS = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("Argument en trop ({args})", "Arguments en trop ({args})"),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("Vouliez-vous dire {possibility} ?", "(Vouliez-vous dire : {possibilities} ?)"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("L'option {name!r} demande une valeur.", "L'option {name!r} demande {nargs} valeurs."),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("{value!r} n'est pas {choice}.", "{value!r} n'est pas l'une des valeurs {choices}."),
}


def gettext(message: str) -> str:
    return WORDS.get(message, message)


def ngettext(singular: str, plural: str, count: int) -> str:
    one, many = PLURALS.get((singular, plural), (singular, plural))
    return one if count == 1 else many


def install() -> None:
    """Every click module loaded binds this catalogue (the ones `import click` loads: those that write)."""
    for name, module in list(sys.modules.items()):
        if name.startswith("click.") and module is not None:
            if hasattr(module, "_"):
                module._ = gettext
            if hasattr(module, "ngettext"):
                module.ngettext = ngettext
