"""Commands for instructors: validate dossiers, print schemas."""

from __future__ import annotations

import importlib.resources
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from .. import diagnostics as diag
from .. import report
from ..dossier import dossier_schema
from ..pipeline import Unreadable, unreadable_file, validate_many
from . import BAD_INPUT, EXIT_CODES, FOUND, OK, _load, main, rules_option

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
