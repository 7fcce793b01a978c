"""Commands for instructors: validate dossiers, print schemas."""

from __future__ import annotations

import contextlib
import functools
import csv
import io
import itertools
import json
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .. import diagnostics as diag
from .. import escape, report
from ..diagnostics import DiagnosticError
from ..inputs import is_dossier_file, is_lines, read_documents
from ..pack import open_regular
from ..pipeline import BATCH, FAILED, Unreadable, WorkerLost, render_many, validate_many
from ..summary import Summary, csv_header, csv_row
from . import BAD_INPUT, FOUND, OK, coloured, exit_codes, _load, output_option, rules_option, tell, written_to
from .output import kept_records, mismatch, replaced, resumed, standard_output

if TYPE_CHECKING:
    from rich.console import Console

# ------------------------------------------------------------------ validate


FORMATS = {
    "text": report.render_text,
    "json": report.render_json,
    "jsonl": report.render_jsonl,
    "csv": report.render_jsonl,  # a record, made into a row by the main process (summary.csv_row)
    "markdown": report.render_markdown,
    "html": report.render_html,
}
BATCH_FORMATS = ("jsonl", "csv")  # one line a dossier: what standard input is read as, and what can be resumed
# The text report's marks and verdicts, coloured on a terminal.
COLOURS = [(r"COMPLET\b", "bold green"), (r"INCOMPLET\b", "bold yellow"), (r"REJETÉ\b", "bold red"),
           (r"✗", "red"), (r"\?(?= )", "yellow"), (r"✓", "green"), (r"!(?= )", "red")]


def _renderer(fmt: str, explain: bool, show_all: bool):
    # A partial of a module-level function, so that batch workers can receive it.
    return functools.partial(FORMATS[fmt], explain=explain and fmt != "csv", show_all=show_all)


def _terminal(**options) -> Console:
    from rich.console import Console  # rich is loaded only for a terminal

    return Console(**options)


def _echo_report(text: str, console: Console) -> None:
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
  immat validate --format jsonl lot.jsonl.gz -o rapports.jsonl --summary synthese.md
  immat validate --format jsonl - < lot.jsonl > rapports.jsonl
  immat validate --format csv lot.jsonl --resume rapports.csv
  immat validate --format jsonl lot.jsonl --dask local:2 > rapports.jsonl
  immat validate --format html fixtures/exemple/dossier.json > rapport.html
  immat validate --tout --explain fixtures/exemple/dossier.json
""" + exit_codes(
    "un dossier au moins est incomplet ou rejeté",
    "mauvaise utilisation, ou un dossier illisible (JSON mal formé, non conforme au schéma) ou non évalué",
    interrupted=True
))
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="text", show_default=True,
              help="Forme du rapport : texte français (en couleur sur un terminal), JSON (un tableau pour plusieurs "
                   "dossiers), JSON Lines (un rapport par ligne), CSV (une ligne par dossier), Markdown, ou page "
                   "HTML autonome. En JSON Lines et en CSV, - lit l'entrée standard en JSON Lines.")
@click.option("--explain", is_flag=True,
              help="Ajoute le raisonnement de chaque règle, sa source complète et les exigences sans objet ; en "
                   "JSON, les arbres « reason » et « breakdown ».")
@click.option("--tout", "show_all", is_flag=True,
              help="Liste aussi les exigences sans objet pour ce dossier (sinon, leur nombre seulement).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="tous les cœurs",
              help="Processus pour un lot ; l'ordre des rapports reste celui des dossiers.")
@output_option
@click.option("--resume", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Écrit les rapports (JSON Lines ou CSV) dans ce fichier en reprenant après son dernier rapport "
                   "complet : relancée sur la même entrée, une vérification interrompue finit les dossiers "
                   "restants, sans en refaire ni en perdre.")
@click.option("--summary", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Écrit la synthèse du lot dans ce fichier : JSON (.json), Markdown (.md), sinon texte.")
@click.option("--dask", "dask_address", metavar="ADRESSE", default=None,
              help="Répartit le lot sur une grappe Dask : l'adresse de son ordonnanceur (tcp://hôte:8786), ou "
                   "local:N pour N processus sur cette machine (pip install 'immat[dask]').")
@rules_option
def validate(paths, fmt, explain, show_all, jobs, output, resume, summary, dask_address, rules) -> None:
    """Vérifie un ou plusieurs dossiers (fichiers .json, dossiers, .jsonl, .jsonl.gz, ou - pour l'entrée
    standard)."""
    _usage(fmt, output, resume, summary)
    with _stopped_by_signals() as run:
        program = _load(rules).program
        amount_ids = list(program.amounts)
        header = csv_header(amount_ids) if fmt == "csv" else None
        sink, skipped, tally, counts = _sink(output, resume, header, fmt, summary)
        if fmt == "json" and _several(paths):
            sink.as_array()  # one JSON document, whatever the number of dossiers
        run.sink = sink
        documents = _after(read_documents(paths, stdin_lines=fmt in BATCH_FORMATS), skipped)
        console = _terminal(highlight=False, soft_wrap=True, force_terminal=True, no_color=False) \
            if fmt == "text" and output is None and coloured(sys.stdout) else None
        # Someone typing dossiers at a terminal waits for each report: no batch of dossiers evaluated together.
        batch = 1 if "-" in paths and sys.stdin.isatty() else BATCH
        with _results(program, documents, _renderer(fmt, explain, show_all), jobs, explain, dask_address,
                      batch) as results, \
                _progress(paths, skipped) as (advance, say):
            for result in results:
                if isinstance(result, WorkerLost):
                    sink.flush()
                    say(f"Attention : un processus de vérification s'est arrêté brutalement ; les "
                        f"{result.pending} dossier(s) qu'il n'avait pas finis sont vérifiés à nouveau, un par un.")
                    continue
                advance()
                if isinstance(result, Unreadable):
                    counts["failed" if _failed(result) else "unreadable"] += 1
                    _write_unreadable(result, fmt, sink, tally, amount_ids, say)
                    continue
                counts[result.verdict] += 1
                _write_report(result.text, fmt, sink, tally, amount_ids, console)
        sink.close(done=True)
        run.sink = None
    if tally is not None:
        _write_summary(summary, tally)
    _exit(counts)


def _several(paths: tuple[str, ...]) -> bool:
    """Whether the input may hold more than one dossier: then JSON reports are one array of them."""
    return len(paths) > 1 or any(raw != "-" and (Path(raw).is_dir() or is_lines(raw)) for raw in paths)


def _usage(fmt: str, output: Path | None, resume: Path | None, summary: Path | None) -> None:
    if output is not None and resume is not None:
        raise click.UsageError("-o et --resume désignent tous deux le fichier des rapports : n'en donnez qu'un")
    if resume is not None and fmt not in BATCH_FORMATS:
        raise click.UsageError("--resume reprend un fichier d'une ligne par dossier : --format jsonl ou csv")
    if summary is not None and fmt not in BATCH_FORMATS:
        raise click.UsageError("la synthèse se fait des rapports d'un lot : --format jsonl ou csv")
    if summary is not None and resume is not None and fmt == "csv":
        raise click.UsageError("la synthèse d'un lot repris se fait des rapports JSON Lines : --format jsonl")


def _sink(output, resume, header, fmt, summary):
    """Where the records go, what an earlier run already wrote (how many, the last dossier, the file), the
    summary's tally, and the counts of verdicts so far (those of the records kept, when resuming)."""
    tally = Summary() if summary is not None else None
    counts = dict.fromkeys(SUMMARY_WORDS, 0)
    if resume is None:
        sink = replaced(output) if output is not None else standard_output()
        if header is not None:
            sink.write(header)
        return sink, None, tally, counts
    sink, skipped, last = resumed(resume, header)
    for line in kept_records(resume, is_csv=fmt == "csv"):
        record = json.loads(line) if fmt != "csv" else _csv_record(line)
        counts[record.get("verdict") or ("failed" if _code(record) == FAILED else "unreadable")] += 1
        if tally is not None:
            tally.add(record)
    if skipped:
        click.echo(f"Reprise de « {resume} » : {skipped} dossier(s) déjà vérifié(s), jusqu'à « {last} ».", err=True)
    return sink, (skipped, last, resume), tally, counts


def _csv_record(line: str) -> dict:
    """What a CSV row says of its dossier's outcome: its verdict, or that it has none."""
    row = next(csv.reader(io.StringIO(line)))
    return {"verdict": row[2]} if row[2] else {"errors": [{"message": row[-1]}]}


def _code(record: dict) -> str | None:
    return next(iter(record.get("errors", ())), {}).get("code")


def _after(documents, skipped):
    """The documents an earlier run did not write, once the last one it wrote is proved to be the same."""
    if not skipped or not skipped[0]:
        return documents
    count, last, path = skipped
    found = None
    for found in itertools.islice(documents, count):
        pass
    name = found.name if isinstance(found, Unreadable) else found[0] if found is not None else None
    if name != last and escape.csv_cell(name or "") != last:
        raise mismatch(path, count, last, name)
    return documents


@contextlib.contextmanager
def _results(program, documents, render, jobs: int, explain: bool, dask_address: str | None, batch: int):
    if dask_address is None:
        results = render_many(program, documents, render, jobs, explain=explain, batch=batch)
        with contextlib.closing(results):
            yield results
        return
    from ..cluster import connect, render_on_cluster

    with connect(dask_address) as client:
        yield render_on_cluster(client, program, documents, render, explain)


def _write_report(text: str, fmt: str, sink, tally, amount_ids, console) -> None:
    if fmt == "csv" or tally is not None:
        record = json.loads(text) if fmt in BATCH_FORMATS else None
        if tally is not None and record is not None:
            tally.add(record)
        if fmt == "csv":
            text = csv_row(record, amount_ids)
    if console is not None:
        _echo_report(text, console)
    else:
        sink.write(text)


def _write_unreadable(result: Unreadable, fmt: str, sink, tally, amount_ids, say) -> None:
    """A dossier without a report still has its record in a machine-read stream, at its place: line N of the
    output answers the N-th dossier of the input. The full diagnostic goes to standard error: its « aide »
    line carries the fix (« vouliez-vous dire … ? »)."""
    record = report.unreadable_json(result.name, result.diagnostics)
    if tally is not None:
        tally.add(record)
    if fmt in ERROR_RECORDS:
        sink.write(ERROR_RECORDS[fmt](result.name, result.diagnostics))
    elif fmt == "csv":
        sink.write(csv_row(record, amount_ids))
    sink.flush()
    for d in result.diagnostics:
        say(diag.render_text(d))


def _write_summary(path: Path, tally: Summary) -> None:
    text = escape.json_dumps(tally.as_json(), indent=2) + "\n" if path.suffix == ".json" else \
        tally.as_markdown() if path.suffix == ".md" else tally.as_text()
    sink = replaced(path)
    sink.write(text)
    sink.close(done=True)


def _exit(counts: dict) -> None:
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


ERROR_RECORDS = {"json": report.render_unreadable_json, "jsonl": report.render_unreadable_jsonl}


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


class _Run:
    sink = None  # the records' sink while the run writes them


@contextlib.contextmanager
def _stopped_by_signals():
    """Ctrl-C and SIGTERM end the run with one French line and 130 or 143, the worker processes shut down:
    the reports written are complete; a file named with -o is left as it was, one resumed keeps them."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    run = _Run()
    try:
        yield run
    except (KeyboardInterrupt, _Terminated) as exc:
        if run.sink is not None:
            run.sink.close(done=False)
        how, code = ("Ctrl-C", INTERRUPTED) if isinstance(exc, KeyboardInterrupt) else ("SIGTERM", TERMINATED)
        click.echo(f"Vérification interrompue ({how}) : les rapports déjà écrits sont complets, les dossiers "
                   "suivants n'ont pas été vérifiés.", err=True)
        sys.exit(code)
    except DiagnosticError as exc:
        if run.sink is not None:
            run.sink.close(done=False)
        tell(exc.diagnostics)
        sys.exit(BAD_INPUT)
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _progress(paths: tuple[str, ...], skipped):
    """On a terminal, for a batch: a progress bar on standard error (with a total and an estimated end when the
    input's size is known), and messages written above it; nothing on standard output. Elsewhere, or for one
    dossier, messages only."""
    say = functools.partial(click.echo, err=True)
    total = _count(paths) if sys.stderr.isatty() else 1
    if total == 1:
        yield (lambda: None), say
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, \
        TimeElapsedColumn, TimeRemainingColumn

    done = skipped[0] if skipped else 0
    columns = (TextColumn("Vérification"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[rate]} dossiers/s"), TimeElapsedColumn(), TextColumn("reste"),
               TimeRemainingColumn())
    console = _terminal(stderr=True, no_color=not coloured(sys.stderr))
    with Progress(*columns, console=console, transient=True, redirect_stdout=False, redirect_stderr=False) as bar:
        task = bar.add_task("validate", total=total, completed=done, rate="—")

        def advance() -> None:
            bar.advance(task)
            speed = bar.tasks[0].speed
            bar.update(task, rate=f"{speed:,.0f}".replace(",", " ") if speed else "—")

        yield advance, lambda message: console.print(message, markup=False, highlight=False)


def _count(paths: tuple[str, ...]) -> int | None:
    """How many dossiers the input holds, when that is quick to know: files are counted, JSON Lines files'
    lines too (a block read, a thousandth of their checking); None for standard input or a compressed file."""
    total = 0
    for raw in paths:
        path = Path(raw)
        if raw == "-" or raw.endswith(".gz"):
            return None
        if path.is_dir():
            total += sum(1 if p.suffix == ".json" else _lines_of(p) for p in path.rglob("*") if is_dossier_file(p))
        elif is_lines(raw):
            total += _lines_of(path)
        else:
            total += 1
    return total


def _lines_of(path: Path) -> int:
    try:
        stream = open_regular(path)  # never a pipe or a device: reading them could wait forever
    except OSError:
        return 0
    if stream is None:
        return 0
    with stream:
        return sum(block.count(b"\n") for block in iter(lambda: stream.read(1 << 20), b""))


# ------------------------------------------------------------------ explain


@click.command(epilog="""
\b
Exemples :
  immat explain fixtures/exemple/dossier.json --rule controle_technique
  immat explain fixtures/exemple/dossier.json --rule taxe_regionale
""" + exit_codes(None, "mauvaise utilisation, dossier illisible ou règle inconnue"))
@click.argument("dossier")
@click.option("--rule", "rule_id", default=None, help="Identifiant d'une exigence, d'un montant ou d'un avis.")
@output_option
@rules_option
def explain(dossier, rule_id, output, rules) -> None:
    """Montre le raisonnement complet, en arbre, pour une exigence ou un montant (toutes les règles sans --rule),
    avec la source de la règle, ses notes de rédaction et ce qu'elle ne traite pas."""
    program = _load(rules).program
    document = next(read_documents((dossier,)))
    result = next(validate_many(program, [document], explain=True))
    if isinstance(result, Unreadable):
        tell(result.diagnostics)
        sys.exit(BAD_INPUT)
    trees = report.explanations(result, rule_id, program)
    if not trees:
        known = sorted({r.rule.id for r in result.requirements} | {a.rule.id for a in result.amounts})
        import difflib  # for a mistaken rule id only

        suggestion = difflib.get_close_matches(rule_id or "", known, n=1)
        hint = f" ; vouliez-vous dire « {suggestion[0]} » ?" if suggestion else ""
        click.echo(f"règle inconnue : « {rule_id} »{hint}", err=True)
        sys.exit(BAD_INPUT)
    with written_to(output):
        click.echo(f"Règles : {program.pack.signed()}\n")
        click.echo("\n\n".join(trees))


# ------------------------------------------------------------------ schema


@click.command(epilog="""
\b
Exemples :
  immat schema dossier
  immat schema dossier --rules permis/
  immat schema report > report.schema.json
""" + exit_codes(None, "mauvaise utilisation"))
@click.argument("which", type=click.Choice(["dossier", "report"]))
@output_option
@rules_option
def schema(which, output, rules) -> None:
    """Affiche le schéma JSON d'un dossier ou d'un rapport. Le schéma d'un dossier est celui des règles :
    le fichier dossier.schema.json de leur dossier, sinon le schéma livré (carte grise)."""
    if which == "dossier":
        program = _load(rules).program
        document = program.schema.document
        click.echo(f"Schéma du dossier : {program.schema.origin} ; règles : {program.pack}", err=True)
    else:
        document = report.report_schema()
    with written_to(output):
        click.echo(escape.json_dumps(document, indent=2))
