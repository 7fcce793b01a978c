"""Commands for instructors: validate dossiers, print schemas."""

from __future__ import annotations

import contextlib
import difflib
import functools
import importlib.resources
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from .. import diagnostics as diag
from .. import report
from ..dossier import dossier_schema
from ..pipeline import Unreadable, render_many, unreadable_file, validate_many
from . import BAD_INPUT, EXIT_CODES, FOUND, OK, _load, main, rules_option

# ------------------------------------------------------------------ validate


def read_documents(paths: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(name, text) for each dossier, streamed: JSON Lines files are read a line at a time."""
    for raw in paths:
        if raw == "-":
            yield "<stdin>", sys.stdin.read()
            continue
        path = Path(raw)
        files = sorted(p for p in path.rglob("*") if _is_dossier_file(p)) if path.is_dir() else [path]
        for f in files:
            yield from _file_documents(f)


def _is_dossier_file(path: Path) -> bool:
    # A fixture folder holds its expectation beside the dossier: attendu.json is not a dossier.
    return path.suffix in (".json", ".jsonl") and path.name != "attendu.json"


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
    "text": report.render_text,
    "json": report.render_json,
    "jsonl": report.render_jsonl,
    "markdown": report.render_markdown,
    "html": report.render_html,
}
EXPLAINED = {"text", "markdown", "html"}
# The text report's marks and verdicts, coloured on a terminal.
COLOURS = [(r"COMPLET\b", "bold green"), (r"INCOMPLET\b", "bold yellow"), (r"REJETÉ\b", "bold red"),
           (r"✗", "red"), (r"\?(?= )", "yellow"), (r"✓", "green"), (r"!(?= )", "red")]


def _renderer(fmt: str, explain: bool):
    render = FORMATS[fmt]
    return functools.partial(render, explain=True) if explain and fmt in EXPLAINED else render


def _echo_report(text: str, console: Console | None) -> None:
    if console is None:
        click.echo(text, nl=False)
        return
    rendered = Text(text.rstrip("\n"))
    for pattern, style in COLOURS:
        rendered.highlight_regex(pattern, style)
    console.print(rendered)


@main.command(epilog="""
\b
Exemples :
  immat validate fixtures/exemple/dossier.json
  immat validate --format json dossiers/
  immat validate --format jsonl --jobs 2 lot.jsonl > rapports.jsonl
  immat validate --format html fixtures/exemple/dossier.json > rapport.html
""" + EXIT_CODES)
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="text", show_default=True,
              help="Forme du rapport : texte français (en couleur sur un terminal), JSON, JSON Lines (un rapport "
                   "par ligne), Markdown, ou page HTML autonome.")
@click.option("--explain", is_flag=True, help="Texte, Markdown, HTML : montre le raisonnement de chaque règle.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="tous les cœurs",
              help="Processus pour un lot ; l'ordre des rapports reste celui des dossiers.")
@rules_option
def validate(paths, fmt, explain, jobs, rules) -> None:
    """Vérifie un ou plusieurs dossiers (fichiers .json, dossiers, .jsonl, ou - pour l'entrée standard)."""
    program = _load(rules).program
    console = Console(highlight=False, soft_wrap=True) if fmt == "text" and sys.stdout.isatty() else None
    counts = {"complete": 0, "incomplete": 0, "rejected": 0, "unreadable": 0}
    results = render_many(rules, program, read_documents(paths), _renderer(fmt, explain), jobs)
    with _progress() as advance:
        for result in results:
            advance()
            if isinstance(result, Unreadable):
                counts["unreadable"] += 1
                _echo_unreadable(result)
                continue
            counts[result.verdict] += 1
            _echo_report(result.text, console)
    if sum(counts.values()) > 1:
        click.echo("Bilan : " + ", ".join(f"{n} {SUMMARY_WORDS[k]}" for k, n in counts.items()), err=True)
    if counts["unreadable"]:
        sys.exit(BAD_INPUT)
    sys.exit(FOUND if counts["incomplete"] or counts["rejected"] else OK)


def _echo_unreadable(result: Unreadable) -> None:
    # The full form, not the GNU line alone: its « aide » line carries the fix (« vouliez-vous dire … ? »).
    for d in result.diagnostics:
        click.echo(diag.render_text(d), err=True)


SUMMARY_WORDS = {"complete": "complet(s)", "incomplete": "incomplet(s)", "rejected": "rejeté(s)",
                 "unreadable": "illisible(s)"}


@contextlib.contextmanager
def _progress():
    """A live count of checked dossiers on a terminal's standard error; nothing elsewhere."""
    if not sys.stderr.isatty():
        yield lambda: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.completed} dossier(s) vérifié(s)"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("validate", total=None)
        yield lambda: progress.advance(task)


# ------------------------------------------------------------------ explain


@main.command(epilog="""
\b
Exemples :
  immat explain fixtures/exemple/dossier.json --rule controle_technique
  immat explain fixtures/exemple/dossier.json --rule taxe_regionale
""" + EXIT_CODES)
@click.argument("dossier")
@click.option("--rule", "rule_id", default=None, help="Identifiant d'une exigence, d'un montant ou d'un avis.")
@rules_option
def explain(dossier, rule_id, rules) -> None:
    """Montre le raisonnement complet, en arbre, pour une exigence ou un montant (toutes les règles sans --rule),
    avec la source de la règle, ses notes de rédaction et ce qu'elle ne traite pas."""
    program = _load(rules).program
    document = next(read_documents((dossier,)))
    result = next(validate_many(program, [document]))
    if isinstance(result, Unreadable):
        _echo_unreadable(result)
        sys.exit(BAD_INPUT)
    trees = report.explanations(result, rule_id, program)
    if not trees:
        known = sorted({r.rule.id for r in result.requirements} | {a.rule.id for a in result.amounts})
        suggestion = difflib.get_close_matches(rule_id or "", known, n=1)
        hint = f" ; vouliez-vous dire « {suggestion[0]} » ?" if suggestion else ""
        click.echo(f"règle inconnue : « {rule_id} »{hint}", err=True)
        sys.exit(BAD_INPUT)
    click.echo("\n\n".join(trees))


# ------------------------------------------------------------------ schema


@main.command(epilog="""
\b
Exemples :
  immat schema dossier
  immat schema report > report.schema.json
""" + EXIT_CODES)
@click.argument("which", type=click.Choice(["dossier", "report"]))
def schema(which) -> None:
    """Affiche le schéma JSON d'un dossier ou d'un rapport."""
    if which == "dossier":
        document = dossier_schema()
    else:
        document = json.loads(importlib.resources.files("immat").joinpath("schemas/report.schema.json").read_text())
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))
