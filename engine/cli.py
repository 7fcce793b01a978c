"""The `immat` command: click commands, exit codes and terminal concerns; no rule logic."""

from __future__ import annotations

import importlib.resources
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from . import diagnostics as diag
from . import report
from .pipeline import Checked, Unreadable, load_rules, unreadable_file, validate_many
from .dossier import dossier_schema

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


# ------------------------------------------------------------------ validate


def _documents(paths: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(name, text) for each dossier, streamed: JSON Lines files are read a line at a time."""
    for raw in paths:
        if raw == "-":
            yield "<stdin>", sys.stdin.read()
            continue
        path = Path(raw)
        files = sorted(p for p in path.rglob("*") if p.suffix in (".json", ".jsonl")) if path.is_dir() else [path]
        for f in files:
            yield from _file_documents(f)


def _file_documents(path: Path) -> Iterator[tuple[str, str]]:
    try:
        if path.suffix == ".jsonl":
            with path.open(encoding="utf-8") as stream:
                for number, line in enumerate(stream, start=1):
                    if line.strip():
                        yield f"{path}:{number}", line
        else:
            yield str(path), path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        yield unreadable_file(str(path), exc)


FORMATS = {
    "text": lambda o: report.render_text(o),
    "json": report.render_json,
    "jsonl": report.render_jsonl,
}


@main.command(epilog="""
\b
Exemples :
  immat validate fixtures/occasion_france_complet/dossier.json
  immat validate --format json dossiers/
  immat validate --format jsonl lot.jsonl > rapports.jsonl
""" + EXIT_CODES)
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="text", show_default=True,
              help="Forme du rapport.")
@click.option("--explain", is_flag=True, help="Texte : montre le raisonnement de chaque exigence.")
@rules_option
def validate(paths, fmt, explain, rules) -> None:
    """Vérifie un ou plusieurs dossiers (fichiers .json, dossiers, .jsonl, ou - pour l'entrée standard)."""
    program = _load(rules).program
    counts = {"complete": 0, "incomplete": 0, "rejected": 0, "unreadable": 0}
    for result in validate_many(program, _documents(paths)):
        if isinstance(result, Unreadable):
            counts["unreadable"] += 1
            for d in result.diagnostics:
                click.echo(diag.gnu_line(d), err=True)
            continue
        counts[str(result.verdict)] += 1
        click.echo(report.render_text(result, explain) if fmt == "text" else FORMATS[fmt](result), nl=False)
    if sum(counts.values()) > 1:
        click.echo("Bilan : " + ", ".join(f"{n} {k}" for k, n in counts.items()), err=True)
    if counts["unreadable"]:
        sys.exit(BAD_INPUT)
    sys.exit(FOUND if counts["incomplete"] or counts["rejected"] else OK)


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


# ------------------------------------------------------------------ schema


@main.command(epilog="\b\nExemples :\n  immat schema dossier\n  immat schema report > report.schema.json")
@click.argument("which", type=click.Choice(["dossier", "report"]))
def schema(which) -> None:
    """Affiche le schéma JSON d'un dossier ou d'un rapport."""
    if which == "dossier":
        document = dossier_schema()
    else:
        document = json.loads(importlib.resources.files("immat").joinpath("schemas/report.schema.json").read_text())
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
