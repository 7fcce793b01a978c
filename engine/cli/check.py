"""Commands for CI pipelines: static checks of the rules."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import diagnostics as diag
from ..pipeline import load_rules
from . import BAD_INPUT, EXIT_CODES, FOUND, OK, UNREADABLE_CODES, main, rules_option

# ------------------------------------------------------------------ check


@main.command(epilog="""
\b
Exemples :
  immat check
  immat check rules/ --format json
  immat check --format gnu ma_copie_des_regles/
""" + EXIT_CODES)
@click.argument("rules_path", required=False, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "gnu", "json"]), default="text", show_default=True)
@rules_option
def check(rules_path, fmt, rules) -> None:
    """Analyse les règles sans évaluer de dossier : syntaxe, noms, champs du dossier, types, cycles,
    sources manquantes, barèmes. Signale toutes les erreurs, chacune avec fichier:ligne:colonne."""
    checked = load_rules(rules_path or rules)
    if fmt == "json":
        click.echo(diag.render_json(checked.diagnostics), nl=False)
    else:
        render = diag.gnu_line if fmt == "gnu" else diag.render_text
        for d in checked.diagnostics:
            click.echo(render(d))
    errors = [d for d in checked.diagnostics if d.is_error]
    if fmt == "text":
        click.echo(f"{len(errors)} erreur(s), {len(checked.diagnostics) - len(errors)} avertissement(s)", err=True)
    if any(d.code in UNREADABLE_CODES for d in errors):
        sys.exit(BAD_INPUT)
    sys.exit(FOUND if errors else OK)


