"""Commands for the people who read the rules: the rule pack as a documentation site."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import docs
from ..pipeline import worked_examples
from . import BAD_INPUT, OK, configured, exit_codes, _load, rules_option


@click.command("docs", epilog="""
\b
Exemples :
  immat docs -o site/
  immat docs -o doc-md/ --format markdown
  immat docs -o site/ --rules mes_regles/ --fixtures mes_dossiers/
""" + exit_codes(None, "mauvaise utilisation, dossiers d'exemple introuvables, ou écriture impossible"))
@click.option("-o", "--output", "output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Dossier où écrire les pages (créé au besoin ; les pages existantes sont remplacées).")
@click.option("--format", "fmt", type=click.Choice(sorted(docs.FORMATS)), default="html", show_default=True,
              help="html : site autonome, lisible hors ligne et imprimable ; markdown : les mêmes pages en Markdown.")
@click.option("--fixtures", "fixtures", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Dossiers d'exemple (un sous-dossier par cas : dossier.json, attendu.json) ; "
                   "par défaut, celui que nomme [tool.immat] fixtures, sinon ./fixtures s'il existe.")
@rules_option
def docs_command(output, fmt, fixtures, rules) -> None:
    """Écrit la documentation des règles pour un juriste : une page par exigence, avis, montant, définition et
    barème, en français, avec leurs sources (liées à Légifrance) et leurs notes de rédaction, un index par cas
    d'achat et par pièce, et la page de ce que les règles ne couvrent pas."""
    program = _load(rules).program
    if fixtures is not None and not fixtures.is_dir():
        click.echo(f"dossiers d'exemple introuvables : « {fixtures} »", err=True)
        sys.exit(BAD_INPUT)
    examples, skipped = worked_examples(program, fixtures if fixtures is not None else configured().fixtures)
    pages = docs.build_site(program, examples, fmt)
    try:
        output.mkdir(parents=True, exist_ok=True)
        for name, text in pages.items():
            (output / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        click.echo(f"écriture impossible : {exc}", err=True)
        sys.exit(BAD_INPUT)
    note = f" ({skipped} dossier(s) d'exemple illisible(s) ignoré(s))" if skipped else ""
    click.echo(f"{len(pages)} pages écrites dans {output}, {len(examples)} dossier(s) d'exemple{note} ; "
               f"règles : {program.pack.signed()}", err=True)
    sys.exit(OK)
