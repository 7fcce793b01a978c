"""Commands for CI pipelines: static checks and lint of the rules, rule tests with coverage."""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path

import click

from .. import diagnostics as diag
from ..codes import CODES, describe
from ..pipeline import check_rules
from . import BAD_INPUT, FOUND, OK, RULES_ERROR, exit_codes, output_option, repository_root, rules_option, written_to

# ------------------------------------------------------------------ check

# Each renderer takes the diagnostics, the repository's root (code hosts name files from it; None for the
# formats editors read, which keep the paths as given) and the pack.
FROM_ROOT = ("sarif", "gitlab", "github")
RENDERERS = {
    "text": lambda ds, root, pack: "".join(diag.render_text(d) + "\n" for d in ds),
    "gnu": lambda ds, root, pack: "".join(diag.gnu_line(d) + "\n" for d in ds),
    "json": lambda ds, root, pack: diag.render_json(ds),
    "sarif": lambda ds, root, pack: diag.render_sarif(ds, root, pack.properties()),
    "gitlab": lambda ds, root, pack: diag.render_gitlab(ds, root),
    "junit": lambda ds, root, pack: diag.render_junit(ds, pack.properties()),
    "github": lambda ds, root, pack: "".join(diag.render_github(d, root) + "\n" for d in ds),
}


def _describe_code(ctx, param, code: str | None) -> None:
    """--code CODE: what the code means and how to mend it, then exit."""
    if code is None or ctx.resilient_parsing:
        return
    if code not in CODES:
        close = [known for known in CODES if known.startswith(code)] or difflib.get_close_matches(code, CODES, n=1)
        hint = (f" ; vouliez-vous dire « {close[0]} » ?" if close
                else " ; la page « Codes des diagnostics » d'immat docs les liste tous")
        click.echo(f"code inconnu : « {code} »{hint}", err=True)
        ctx.exit(BAD_INPUT)
    click.echo(describe(code), nl=False)
    ctx.exit(OK)


@click.command(epilog="""
\b
Exemples :
  immat check
  immat check rules/ --format json
  immat check --fixtures fixtures --strict
  immat check --format sarif > immat.sarif
  immat check --format github          (annotations d'un workflow GitHub Actions)
  immat check - < brouillon.immat      (un fichier lu sur l'entrée standard)
  immat check --code conflit-exceptions  (ce que signale un code, et comment y remédier)
""" + exit_codes("un avertissement, avec --strict", "mauvaise utilisation"))
@click.argument("rules_path", required=False, type=click.Path(path_type=Path, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(list(RENDERERS)), default="text", show_default=True,
              help="text : lisible, avec extrait ; gnu : une ligne fichier:ligne:colonne ; json ; sarif (SARIF 2.1.0) ; "
                   "gitlab : rapport de qualité de code GitLab ; junit : JUnit XML ; github : annotations de workflow.")
@click.option("--fixtures", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="Dossier de fixtures : signale aussi les exigences, exceptions et alternatives qu'aucune n'atteint.")
@click.option("--strict", is_flag=True, help="Les avertissements font aussi échouer (code 1).")
@click.option("--code", metavar="CODE", expose_value=False, is_eager=True, callback=_describe_code,
              help="Explique un code de diagnostic (par exemple conflit-exceptions) : ce qu'il signale et comment "
                   "y remédier, puis quitte.")
@output_option
@rules_option
def check(rules_path, fmt, fixtures, strict, output, rules) -> None:
    """Analyse les règles sans évaluer de dossier : syntaxe, noms, champs du dossier, types, cycles,
    sources manquantes, barèmes ; puis signale les définitions inutilisées, les exigences qui ne peuvent
    jamais s'appliquer et les exceptions qui ne peuvent jamais jouer. Toutes les erreurs, chacune avec
    fichier:ligne:colonne. Les champs du dossier sont ceux du schéma dossier.schema.json du dossier des
    règles, ou, s'il n'y en a pas, du schéma livré (carte grise) : immat schema dossier l'affiche."""
    checked = check_rules(rules_path or rules, fixtures)
    with written_to(output):
        root = (repository_root() or os.getcwd()) if fmt in FROM_ROOT else None
        click.echo(RENDERERS[fmt](checked.diagnostics, root, checked.pack), nl=False)
    errors = [d for d in checked.diagnostics if d.is_error]
    # On standard error for every format, so that machine-read output on standard output keeps its shape.
    for d in checked.suppressed:  # listed, so that a silenced warning is a decision anyone can read again
        click.echo(f"ignoré par « # immat: ignore[{d.code}] » : {diag.gnu_line(d)}", err=True)
    ignored = f", {len(checked.suppressed)} ignoré(s)" if checked.suppressed else ""
    click.echo(f"{len(errors)} erreur(s), {len(checked.diagnostics) - len(errors)} avertissement(s){ignored} ; "
               f"règles : {checked.pack.signed()}", err=True)
    sys.exit(RULES_ERROR if errors else FOUND if strict and checked.diagnostics else OK)
