"""The `immat` command: click commands, exit codes and terminal concerns; no rule logic.

One module per kind of user work; this one holds the group and what they share.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import diagnostics as diag
from ..pipeline import Checked, load_rules

OK, FOUND, BAD_INPUT = 0, 1, 2
# Errors that mean the input itself could not be read, as opposed to rules that read but are wrong.
UNREADABLE_CODES = {"syntaxe", "date", "duree", "bareme-cle", "lecture", "regles-introuvables"}

EXIT_CODES = """
\b
Codes de sortie :
  0  succès (tous les dossiers complets, ou règles sans erreur)
  1  la vérification a trouvé des problèmes (dossier incomplet ou rejeté, erreur dans les règles)
  2  mauvaise utilisation ou entrée illisible (JSON mal formé, dossier non conforme au schéma,
     erreur de syntaxe dans un fichier de règles)
"""

rules_option = click.option(
    "--rules", "rules", type=click.Path(path_type=Path), default=None,
    help="Dossier (ou fichier) de règles ; par défaut, le paquet de règles livré avec immat.",
)


@click.group(epilog=EXIT_CODES)
@click.version_option(package_name="immat")
def main() -> None:
    """Vérifie les dossiers de demande de certificat d'immatriculation (carte grise) au regard de règles
    lisibles par un juriste, et explique chaque résultat avec sa source légale."""


def _load(rules: Path | None) -> Checked:
    checked = load_rules(rules)
    if not checked.ok:
        for d in checked.diagnostics:
            click.echo(diag.render_text(d), err=True)
        click.echo("Les règles contiennent des erreurs : lancez « immat check » pour le détail.", err=True)
        sys.exit(BAD_INPUT)
    return checked


# Importing the command modules registers their commands on `main`.
from . import check, diff, docs, fmt, rule_tests, validate  # noqa: E402,F401
