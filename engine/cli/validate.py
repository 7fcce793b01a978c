"""Commands for instructors: validate dossiers, print schemas."""

from __future__ import annotations

import contextlib
import functools
import importlib.resources
import json
import os
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO
from pathlib import Path

import click

from .. import diagnostics as diag
from .. import report
from ..diagnostics import error
from ..dossier import MAX_BYTES, too_large
from ..pack import open_regular, position
from ..pipeline import FAILED, Unreadable, WorkerLost, render_many, unreadable_file, validate_many
from . import BAD_INPUT, EXIT_CODES, FOUND, OK, _load, rules_option

if TYPE_CHECKING:
    from rich.console import Console

# ------------------------------------------------------------------ validate


def read_documents(paths: tuple[str, ...]) -> Iterator[tuple[str, str] | Unreadable]:
    """(name, text) for each dossier, streamed: JSON Lines files are read a line at a time."""
    for raw in paths:
        if raw == "-":
            yield _whole("<stdin>", sys.stdin.buffer)
            continue
        path = Path(raw)
        files = sorted(p for p in path.rglob("*") if _is_dossier_file(p)) if path.is_dir() else [path]
        if path.is_dir() and not files:
            # An empty folder is a wrong path more often than an empty batch: checking nothing is not a success.
            message = "ce répertoire ne contient aucun dossier (fichier .json ou .jsonl)"
            yield Unreadable(raw, [error("aucun-dossier", message, file=raw)])
        for f in files:
            yield from _file_documents(f)


def _is_dossier_file(path: Path) -> bool:
    # A fixture folder holds its expectation beside the dossier: attendu.json is not a dossier.
    return path.suffix in (".json", ".jsonl") and path.name != "attendu.json"


def _file_documents(path: Path) -> Iterator[tuple[str, str] | Unreadable]:
    name = str(path)
    try:
        stream = open_regular(path)
    except OSError as exc:
        yield unreadable_file(name, exc)
        return
    if stream is None:
        message = ("ce n'est pas un fichier ordinaire (tube, périphérique…) : il n'est pas lu ; "
                   "passez son contenu par l'entrée standard (immat validate - < …)")
        yield Unreadable(name, [error("fichier-special", message, file=name)])
        return
    with stream:
        yield from _lines(name, stream) if path.suffix == ".jsonl" else [_whole(name, stream)]


def _whole(name: str, stream: BinaryIO) -> tuple[str, str] | Unreadable:
    data = stream.read(MAX_BYTES + 1)  # never more: the input may be endless
    if len(data) > MAX_BYTES:
        return Unreadable(name, [too_large(name)])
    return _decoded(name, data, name, 1)


def _lines(name: str, stream: BinaryIO) -> Iterator[tuple[str, str] | Unreadable]:
    """One document per line, numbered as an editor does: only \\n ends a line (a lone \\r is inside it).

    A file still growing is read up to the size it had when opened. Blank lines give no document.
    """
    size = os.fstat(stream.fileno()).st_size
    number = 0
    while stream.tell() < size:
        number += 1
        line = stream.readline(MAX_BYTES + 1)
        if len(line) > MAX_BYTES:
            while line and not line.endswith(b"\n"):  # skipped, never held whole
                line = stream.readline(MAX_BYTES)
            yield Unreadable(f"{name}:{number}", [too_large(name, line=number)])
        elif line.strip():
            yield _decoded(f"{name}:{number}", line, name, number)


def _decoded(name: str, data: bytes, file: str, line: int) -> tuple[str, str] | Unreadable:
    try:
        return name, data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = position(data, exc.start)
        message = (f"texte illisible : l'octet 0x{data[exc.start]:02X} n'est pas de l'UTF-8 ; "
                   "enregistrez le fichier en UTF-8")
        return Unreadable(name, [error("encodage", message, file=file, line=line + where["line"] - 1,
                                       column=where["column"])])


FORMATS = {
    "text": report.render_text,
    "json": report.render_json,
    "jsonl": report.render_jsonl,
    "markdown": report.render_markdown,
    "html": report.render_html,
}
# The text report's marks and verdicts, coloured on a terminal.
COLOURS = [(r"COMPLET\b", "bold green"), (r"INCOMPLET\b", "bold yellow"), (r"REJETÉ\b", "bold red"),
           (r"✗", "red"), (r"\?(?= )", "yellow"), (r"✓", "green"), (r"!(?= )", "red")]


def _renderer(fmt: str, explain: bool, show_all: bool):
    # A partial of a module-level function, so that batch workers can receive it.
    return functools.partial(FORMATS[fmt], explain=explain, show_all=show_all)


def _terminal(**options) -> Console:
    from rich.console import Console  # rich is loaded only for a terminal

    return Console(**options)


class _Held:
    """Reports written in blocks of `SIZE` off a terminal: a write and a flush each cost 23 µs to a pipe, 12 here.

    Call `flush` before writing anything else (an error record, a message on standard error), so that the
    outputs keep the order of the dossiers; what is held is written when the run ends or stops.
    """

    SIZE = 64

    def __init__(self, console: Console | None) -> None:
        self.console = console
        self.texts: list[str] = []

    def __call__(self, text: str) -> None:
        if self.console is not None:
            _echo_report(text, self.console)
            return
        self.texts.append(text)
        if len(self.texts) >= self.SIZE:
            self.flush()

    def flush(self) -> None:
        if self.texts:
            click.echo("".join(self.texts), nl=False)
            self.texts.clear()


@contextlib.contextmanager
def _held(console: Console | None) -> Iterator[_Held]:
    held = _Held(console)
    try:
        yield held
    finally:
        held.flush()


def _echo_report(text: str, console: Console | None) -> None:
    if console is None:
        click.echo(text, nl=False)
        return
    from rich.text import Text

    rendered = Text(text.rstrip("\n"))
    for pattern, style in COLOURS:
        rendered.highlight_regex(pattern, style)
    console.print(rendered)


@click.command(epilog="""
\b
Exemples :
  immat validate fixtures/exemple/dossier.json
  immat validate --format json dossiers/
  immat validate --format jsonl --jobs 2 lot.jsonl > rapports.jsonl
  immat validate --format html fixtures/exemple/dossier.json > rapport.html
  immat validate --tout --explain fixtures/exemple/dossier.json
""" + EXIT_CODES)
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="text", show_default=True,
              help="Forme du rapport : texte français (en couleur sur un terminal), JSON, JSON Lines (un rapport "
                   "par ligne), Markdown, ou page HTML autonome.")
@click.option("--explain", is_flag=True,
              help="Ajoute le raisonnement de chaque règle, sa source complète et les exigences sans objet ; en "
                   "JSON, les arbres « reason » et « breakdown ».")
@click.option("--tout", "show_all", is_flag=True,
              help="Liste aussi les exigences sans objet pour ce dossier (sinon, leur nombre seulement).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="tous les cœurs",
              help="Processus pour un lot ; l'ordre des rapports reste celui des dossiers.")
@rules_option
def validate(paths, fmt, explain, show_all, jobs, rules) -> None:
    """Vérifie un ou plusieurs dossiers (fichiers .json, dossiers, .jsonl, ou - pour l'entrée standard)."""
    with _stopped_by_signals():
        program = _load(rules).program
        console = _terminal(highlight=False, soft_wrap=True) if fmt == "text" and sys.stdout.isatty() else None
        counts = dict.fromkeys(SUMMARY_WORDS, 0)
        results = render_many(program, read_documents(paths), _renderer(fmt, explain, show_all), jobs,
                              explain=explain)
        with _progress() as advance, contextlib.closing(results), _held(console) as echo_report:
            for result in results:
                if isinstance(result, WorkerLost):
                    echo_report.flush()
                    click.echo(f"Attention : un processus de vérification s'est arrêté brutalement ; les "
                               f"{result.pending} dossier(s) qu'il n'avait pas finis sont vérifiés à nouveau, "
                               "un par un.", err=True)
                    continue
                advance()
                if isinstance(result, Unreadable):
                    counts["failed" if _failed(result) else "unreadable"] += 1
                    echo_report.flush()
                    _echo_unreadable(result, fmt)
                    continue
                counts[result.verdict] += 1
                echo_report(result.text)
    if not sum(counts.values()):
        # An empty batch file checked nothing: that is not a success.
        click.echo("erreur[aucun-dossier]: aucun dossier à vérifier (le lot est vide)", err=True)
        sys.exit(BAD_INPUT)
    if sum(counts.values()) > 1:
        click.echo("Bilan : " + ", ".join(f"{n} {SUMMARY_WORDS[k]}" for k, n in counts.items() if n or k != "failed"),
                   err=True)
    if counts["unreadable"] or counts["failed"]:
        sys.exit(BAD_INPUT)
    sys.exit(FOUND if counts["incomplete"] or counts["rejected"] else OK)


# A dossier without a report still has its record in a machine-read stream, at its place: line N of the
# output answers the N-th dossier of the input.
ERROR_RECORDS = {"json": report.render_unreadable_json, "jsonl": report.render_unreadable_jsonl}


def _echo_unreadable(result: Unreadable, fmt: str | None = None) -> None:
    if fmt in ERROR_RECORDS:
        click.echo(ERROR_RECORDS[fmt](result.name, result.diagnostics), nl=False)
    # The full form, not the GNU line alone: its « aide » line carries the fix (« vouliez-vous dire … ? »).
    for d in result.diagnostics:
        click.echo(diag.render_text(d), err=True)


def _failed(result: Unreadable) -> bool:
    return any(d.code == FAILED for d in result.diagnostics)


SUMMARY_WORDS = {"complete": "complet(s)", "incomplete": "incomplet(s)", "rejected": "rejeté(s)",
                 "unreadable": "illisible(s)", "failed": "non évalué(s) (anomalie d'immat)"}
# 128 + the signal's number, as a shell reports a process the signal stopped.
INTERRUPTED, TERMINATED = 130, 143


class _Terminated(BaseException):
    """SIGTERM, raised where the batch is, so that it stops as Ctrl-C does; not an Exception, so that the
    guard that keeps one dossier's anomaly from stopping a batch never catches it."""


def _terminate(signum, frame) -> None:
    raise _Terminated


@contextlib.contextmanager
def _stopped_by_signals():
    """Ctrl-C and SIGTERM end the run with one French line and 130 or 143, the worker processes shut down."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    except (KeyboardInterrupt, _Terminated) as exc:
        how, code = ("Ctrl-C", INTERRUPTED) if isinstance(exc, KeyboardInterrupt) else ("SIGTERM", TERMINATED)
        click.echo(f"Vérification interrompue ({how}) : les rapports déjà écrits sont complets, les dossiers "
                   "suivants n'ont pas été vérifiés.", err=True)
        sys.exit(code)
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _progress():
    """A live count of checked dossiers on a terminal's standard error; nothing elsewhere."""
    if not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.completed} dossier(s) vérifié(s)"), TimeElapsedColumn())
    with Progress(*columns, console=_terminal(stderr=True), transient=True) as progress:
        task = progress.add_task("validate", total=None)
        yield lambda: progress.advance(task)


# ------------------------------------------------------------------ explain


@click.command(epilog="""
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
    result = next(validate_many(program, [document], explain=True))
    if isinstance(result, Unreadable):
        _echo_unreadable(result)
        sys.exit(BAD_INPUT)
    trees = report.explanations(result, rule_id, program)
    if not trees:
        known = sorted({r.rule.id for r in result.requirements} | {a.rule.id for a in result.amounts})
        import difflib  # for a mistaken rule id only

        suggestion = difflib.get_close_matches(rule_id or "", known, n=1)
        hint = f" ; vouliez-vous dire « {suggestion[0]} » ?" if suggestion else ""
        click.echo(f"règle inconnue : « {rule_id} »{hint}", err=True)
        sys.exit(BAD_INPUT)
    click.echo(f"Règles : {program.pack}\n")
    click.echo("\n\n".join(trees))


# ------------------------------------------------------------------ schema


@click.command(epilog="""
\b
Exemples :
  immat schema dossier
  immat schema dossier --rules permis/
  immat schema report > report.schema.json
""" + EXIT_CODES)
@click.argument("which", type=click.Choice(["dossier", "report"]))
@rules_option
def schema(which, rules) -> None:
    """Affiche le schéma JSON d'un dossier ou d'un rapport. Le schéma d'un dossier est celui des règles :
    le fichier dossier.schema.json de leur dossier, sinon le schéma livré (carte grise)."""
    if which == "dossier":
        program = _load(rules).program
        document = program.schema.document
        click.echo(f"Schéma du dossier : {program.schema.origin} ; règles : {program.pack}", err=True)
    else:
        document = json.loads(importlib.resources.files("immat").joinpath("schemas/report.schema.json").read_text())
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))
