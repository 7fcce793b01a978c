"""The one place that chains the stages: rule files → Program, dossier text → Outcome."""

from __future__ import annotations

import collections
import json
import time
import itertools
import os
import re
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from . import cache
from .diagnostics import Diagnostic, DiagnosticError, error, sorted_diagnostics
from .dossier import load_schema, parse_dossier
from .compile import compiled
from .frozen import frozen
from .outcome import Outcome
from .pack import PackFiles, display_path, read_pack
from .program import Program
from .report import steps_kept
from .schema import Schema, shipped_schema
from .source import PackIdentity, SourceFile
from .syntax import Module

# What a one-dossier `validate` does not use is imported where it is used, not here: a cold start pays for
# every module it loads.
if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from .coverage import Coverage
    from .expectations import FixtureResult


@frozen
class Checked:
    """The result of loading and checking a pack: a Program when no error was found."""

    program: Program | None
    diagnostics: list[Diagnostic]
    pack: PackIdentity
    suppressed: tuple[Diagnostic, ...] = ()  # warnings a « # immat: ignore[code] » comment silences, still listed

    @property
    def ok(self) -> bool:
        return self.program is not None


def _parse_with_imports(files: PackFiles) -> tuple[list[Module], list[Diagnostic]]:
    """Every file of the pack parsed, and every file they import read (when it may be) and parsed too."""
    from .check import import_path
    from .parse import parse_module

    modules, diagnostics = [], []
    pending = sorted(files.texts)
    while pending:
        path = pending.pop(0)
        try:
            module = parse_module(SourceFile(path, files.texts[path]))
        except DiagnosticError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        modules.append(module)
        for imp in module.imports:
            target = import_path(path, imp.target)
            known = target in files.texts
            refused = files.admit(target, imp.target)
            if refused is not None:
                diagnostics.append(error(refused.code, f"fichier importé « {imp.target} » : {refused.message}", imp.span))
            elif not known and target in files.texts:
                pending.append(target)
    return modules, diagnostics


def load_rules(rules: str | os.PathLike | None = None, needs_requirement: bool = False) -> Checked:
    """Parse and check a pack once; the Program it returns evaluates any number of dossiers.

    `rules`: None for the shipped pack, a folder, or one file. With `needs_requirement`, a pack without
    any requirement is an error: the dossiers checked against it would all pass, having been checked for nothing.
    A pack checked by an earlier run, with the same files, comes from the cache, neither parsed nor checked.
    """
    files, (program, diagnostics) = cache.checked(read_pack(rules), _parsed_and_checked)
    pack = files.identity()
    ok = program is not None and not any(d.is_error for d in diagnostics)
    if ok and needs_requirement and not program.requirements:
        diagnostics.append(error("aucune-exigence", "ces règles ne contiennent aucune exigence ni recevabilité : "
                                 "elles ne vérifieraient rien", file=pack.name))
        ok = False
    if ok:
        program = attrs.evolve(program, pack=pack)
    return Checked(program if ok else None, sorted_diagnostics(diagnostics), pack)


def _parsed_and_checked(files: PackFiles) -> tuple[Program | None, list[Diagnostic]]:
    """What the cache keeps of a pack: its program, if it has one, and every diagnostic of reading, parsing and
    checking it (the files it imports read into `files`)."""
    from .check import check  # with the parser, only when the cache does not have the result

    modules, diagnostics = _parse_with_imports(files)
    diagnostics += files.diagnostics
    schema, found = _pack_schema(files)
    if schema is None:  # without the fields of its dossiers, the rules cannot be checked
        return None, diagnostics + found
    # Files that exist but could not be read or parsed are not reported a second time as missing imports.
    program, found = check(modules, schema, known_paths={*files.raw, *files.refused})
    return program, diagnostics + found


def _pack_schema(files: PackFiles) -> tuple[Schema | None, list[Diagnostic]]:
    """The schema of the pack's dossiers: its own, or the shipped carte-grise one when it has none; None when
    its own cannot be read (why is among the pack's diagnostics, or returned)."""
    if files.schema is None:
        return shipped_schema(), []
    path, text = files.schema
    if text is None:
        return None, []
    try:
        return load_schema(text, path, files.sha256[path]), []
    except DiagnosticError as exc:
        return None, exc.diagnostics


def validate(program: Program, text: str, name: str, explain: bool = False) -> Outcome:
    """One dossier's text → its outcome; raises DiagnosticError when the dossier is unreadable.

    The compiled program gives the outcome; with `explain`, the program compiled to record its reasoning gives
    it with the tree of every requirement and amount (the tests hold both to the reference evaluator's outcome).
    """
    dossier = parse_dossier(text, name, program.schema)
    if explain:
        from .explain import explaining  # only where the reasoning is asked for: a cold validate does without it
        outcome = explaining(program).evaluate(dossier.name, dossier.data)
    else:
        outcome = compiled(program).evaluate(dossier.name, dossier.data)
    return _reported(program, outcome, dossier)


def _reported(program: Program, outcome: Outcome, dossier) -> Outcome:
    """An outcome with what its report names besides: the pack, the schema's words, the dossier's facts."""
    return attrs.evolve(outcome, rules=program.pack, schema=program.schema, data=dossier.data)


@frozen
class Unreadable:
    name: str
    diagnostics: list[Diagnostic]


BATCH_LINE = re.compile(r"^(?P<file>.+\.jsonl(?:\.gz)?|<stdin>):(?P<line>\d+)$")


def _in_batch_file(name: str, d: Diagnostic) -> Diagnostic:
    """A dossier read from line N of a JSON Lines file is located in that file: « lot.jsonl:N:column »."""
    match = BATCH_LINE.match(name)
    if match is None or d.line is None:
        return d
    return attrs.evolve(d, file=match["file"], line=int(match["line"]) + d.line - 1)


def _refused(name: str, exc: DiagnosticError) -> Unreadable:
    """A dossier the reading refused, its diagnostics located in its batch file."""
    return Unreadable(name, [_in_batch_file(name, d) for d in exc.diagnostics])


def unreadable_file(name: str, exc: Exception) -> Unreadable:
    return Unreadable(name, [error("lecture", f"lecture impossible : {exc}", file=name)])


def validate_many(program: Program, documents: Iterable[tuple[str, str] | Unreadable],
                  explain: bool = False) -> Iterator[Outcome | Unreadable]:
    """Lazily, one result per (name, text), in input order; a bad dossier never stops the batch.

    A document that could not even be read arrives as an Unreadable and is passed through.
    """
    for document in documents:
        if isinstance(document, Unreadable):
            yield document
            continue
        name, text = document
        try:
            yield validate(program, text, name, explain)
        except DiagnosticError as exc:
            yield _refused(name, exc)


@frozen
class Rendered:
    """A dossier's report already rendered, as a batch worker hands it back."""

    name: str
    verdict: str
    text: str
    reference: str | None = None  # the dossier's own reference, what a service's log may name


@frozen
class WorkerLost:
    """A batch worker process died (killed, out of memory); the dossiers it held are checked again."""

    pending: int


_WORKER_PROGRAM: Program | None = None


def _start_worker(program: Program) -> None:
    global _WORKER_PROGRAM
    # Ctrl-C reaches every process of the terminal's group: the main process alone stops the batch. A forked
    # worker inherits the main process's SIGTERM handler: it ends on SIGTERM as any process does.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _WORKER_PROGRAM = program


def diff_one(before: Program, after: Program, document) -> tuple[str, list | None, list[Diagnostic]]:
    """One dossier under two versions of the rules: its name, what changes (impact.dossier_changes; None when
    it cannot be read), and why it cannot."""
    from .impact import dossier_changes

    old, new = next(validate_many(before, [document])), next(validate_many(after, [document]))
    bad = old if isinstance(old, Unreadable) else new if isinstance(new, Unreadable) else None
    if bad is not None:
        return bad.name, None, bad.diagnostics
    return old.dossier, dossier_changes(old, new), []


# The code of a dossier that has no verdict through immat's fault, not the dossier's.
FAILED = "non-evalue"


def render_one(program: Program, render: Callable[[Outcome], str], explain: bool,
                document) -> Rendered | Unreadable:
    try:
        result = next(validate_many(program, [document], explain))
        if isinstance(result, Unreadable):
            return result
        return Rendered(result.dossier, str(result.verdict), render(result), result.reference)
    except Exception as exc:  # an anomaly of immat must cost this dossier its verdict, not the batch
        return _failed(document, f"erreur interne d'immat ({type(exc).__name__})")


# Dossiers evaluated together on columns (batches.py): a batch costs about 10 ms whatever its size (each
# expression's NumPy calls), then 0.1 ms a dossier; a chunk of fewer than FEW goes one dossier at a time,
# without importing NumPy.
BATCH = 1024
FEW = 32


def render_batch(program: Program, render: Callable[[Outcome], str], explain: bool,
                 documents: list) -> list[Rendered | Unreadable]:
    """render_one for each document, the dossiers that pass the schema evaluated together on columns (with
    `explain`, their reasoning trees made on the columns too: trees.py).

    Each result is render_one's: the columns give the compiled program's outcome, trees included (the tests
    hold them to it).
    Should they fail on the batch, an anomaly of immat, each dossier is checked again alone, so that only one
    the compiled program fails on loses its verdict.
    """
    if len(documents) < FEW:
        return [render_one(program, render, explain, d) for d in documents]
    from .batches import collector_held

    # Reading and writing the batch make as many objects as evaluating it; its records share their steps' JSON.
    with collector_held(), steps_kept():
        return _rendered_together(program, render, explain, documents)


def _rendered_together(program: Program, render: Callable[[Outcome], str], explain: bool, documents: list) -> list:
    from .batches import evaluator
    from .trees import explain_many

    parsed = [_parsed(program, d) for d in documents]
    dossiers = [(d.name, d.data) for d in parsed if not isinstance(d, Unreadable)]
    try:
        outcomes = iter(explain_many(program, dossiers) if explain else evaluator(program).evaluate_many(dossiers))
    except Exception:  # noqa: BLE001 - the same dossiers, one at a time, say which one
        return [p if isinstance(p, Unreadable) else render_one(program, render, explain, d)
                for d, p in zip(documents, parsed)]
    results = []
    for document, dossier in zip(documents, parsed):
        if isinstance(dossier, Unreadable):
            results.append(dossier)
            continue
        try:
            outcome = _reported(program, next(outcomes), dossier)
            results.append(Rendered(outcome.dossier, str(outcome.verdict), render(outcome), outcome.reference))
        except Exception as exc:  # noqa: BLE001 - as render_one
            results.append(_failed(document, f"erreur interne d'immat ({type(exc).__name__})"))
    return results


def _parsed(program: Program, document):
    """The dossier of a document, or what render_one gives one that cannot be read."""
    if isinstance(document, Unreadable):
        return document
    name, text = document
    try:
        return parse_dossier(text, name, program.schema)
    except DiagnosticError as exc:
        return _refused(name, exc)
    except Exception as exc:  # noqa: BLE001 - as render_one
        return _failed(document, f"erreur interne d'immat ({type(exc).__name__})")


def _failed(document, why: str) -> Unreadable:
    name = document.name if isinstance(document, Unreadable) else document[0]
    message = f"{why} : ce dossier n'a pas été évalué ; signalez l'anomalie avec le dossier"
    return Unreadable(name, [error(FAILED, message, file=name)])


def _render_in_worker(render: Callable[[Outcome], str], explain: bool, documents: list) -> list[Rendered | Unreadable]:
    return render_batch(_WORKER_PROGRAM, render, explain, documents)


def render_many(program: Program, documents: Iterable, render: Callable[[Outcome], str], jobs: int = 1,
                window: int = 512, explain: bool = False,
                batch: int = BATCH) -> Iterator[Rendered | Unreadable | WorkerLost]:
    """Validate and render a stream of dossiers on `jobs` processes, in input order, one result each.

    The input is read a chunk of `batch` dossiers at a time (evaluated together: render_batch), a few chunks
    per process ahead of what was handed back, so memory stays flat however long the stream, and the workers
    never wait for the main process to read or write; fewer than `window` dossiers are not worth starting
    processes for. `render` must be picklable (a module-level function or a functools.partial of one). Should
    a worker die, a WorkerLost says so and the dossiers it had not finished are checked again one at a time:
    only one whose own process dies is lost. A reader that must have each result before it sends the next
    dossier asks for `batch=1`.
    """
    documents = iter(documents)
    if jobs <= 1:
        for chunk in iter(lambda: list(itertools.islice(documents, batch)), []):
            yield from render_batch(program, render, explain, chunk)
        return
    first = list(itertools.islice(documents, window))
    if len(first) < window:  # a small batch is not worth starting processes for
        yield from render_many(program, first, render, 1, explain=explain, batch=batch)
        return
    from concurrent.futures.process import BrokenProcessPool

    # The first window shared between the workers, so that each starts at once.
    share = -(-window // jobs) if batch >= window else batch
    chunks = itertools.chain((first[i:i + share] for i in range(0, window, share)), _rounds(documents, batch, jobs))
    in_flight: collections.deque = collections.deque()
    pool = _pool(program, jobs)
    try:
        while True:
            for chunk in itertools.islice(chunks, 4 * jobs - len(in_flight)):
                in_flight.append((chunk, pool.submit(_render_in_worker, render, explain, chunk)))
            if not in_flight:
                return
            future = in_flight[0][1]
            try:
                results = future.result()
            except BrokenProcessPool:
                pool.shutdown(wait=False, cancel_futures=True)
                pending = [d for waiting, _ in in_flight for d in waiting]
                in_flight.clear()
                yield WorkerLost(len(pending))
                yield from _one_at_a_time(program, render, explain, pending)
                pool = _pool(program, jobs)
                continue
            in_flight.popleft()
            yield from results
    finally:
        pool.shutdown(cancel_futures=True)


def _rounds(documents: Iterator, batch: int, jobs: int) -> Iterator[list]:
    """Chunks of `batch` documents, read `jobs` at a time, and the last round's split evenly between the
    workers: the end of a batch does not run on one worker while the others wait."""
    while True:
        read = list(itertools.islice(documents, batch * jobs))
        if not read:
            return
        share = -(-len(read) // jobs)
        yield from (read[i:i + share] for i in range(0, len(read), share))


def _pool(program: Program, jobs: int, fork: bool = True) -> ProcessPoolExecutor:
    """Worker processes, each with the checked program. Forked, they start with it compiled in their memory,
    neither importing immat nor reading the cache; fork is used only where it is the platform's own way
    (Linux) and from a process without other threads (a terminal's progress bar runs one), whose locks a
    forked child could inherit held."""
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    if fork and sys.platform.startswith("linux") and threading.active_count() == 1:
        compiled(program)
        # A forked worker flushes the standard streams it inherits as it ends: nothing may be left in them.
        sys.stdout.flush()
        sys.stderr.flush()
        context = multiprocessing.get_context("fork")
    else:
        context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(jobs, context, _start_worker, (program,))


def _one_at_a_time(program: Program, render, explain: bool, documents: list) -> Iterator[Rendered | Unreadable]:
    from concurrent.futures.process import BrokenProcessPool

    pool = None
    try:
        for document in documents:
            pool = pool or _pool(program, 1, fork=False)
            try:
                yield pool.submit(_render_in_worker, render, explain, [document]).result()[0]
            except BrokenProcessPool:
                pool.shutdown(wait=False)
                pool = None
                yield _failed(document, "le processus qui vérifiait ce dossier s'est arrêté brutalement")
    finally:
        if pool is not None:
            pool.shutdown()


# ------------------------------------------------------------------ fixtures


@frozen
class FixtureRun:
    """Every fixture of a folder checked against its attendu.json, and what the fixtures reached."""

    results: tuple[FixtureResult, ...]
    coverage: Coverage


def fixture_folders(root: str | os.PathLike) -> list[Path]:
    """Fixtures are folders holding a dossier.json and the attendu.json that states its outcome."""
    return sorted(p.parent for p in Path(root).glob("*/dossier.json"))


def run_fixtures(program: Program, root: str | os.PathLike) -> FixtureRun:
    from .coverage import coverage
    from .expectations import FixtureResult, compare, compare_unreadable

    results, outcomes = [], []
    for folder in fixture_folders(root):
        started = time.perf_counter()
        name = display_path(folder)
        text = (folder / "dossier.json").read_text("utf-8")
        expected_path = folder / "attendu.json"
        expected = json.loads(expected_path.read_text("utf-8")) if expected_path.exists() else None
        try:
            # Coverage reads what each fixture's reasoning reached.
            outcome = validate(program, text, f"{name}/dossier.json", explain=True)
        except DiagnosticError as exc:
            failures = compare_unreadable([d.pointer or "" for d in exc.diagnostics], expected or {"verdict": "?"})
        else:
            outcomes.append(outcome)
            failures = compare(outcome, expected) if expected else ["attendu.json manquant"]
        results.append(FixtureResult(name, tuple(failures), time.perf_counter() - started))
    return FixtureRun(tuple(results), coverage(program, outcomes))


def worked_examples(program: Program, folder: Path | None) -> tuple[list, int]:
    """Each fixture folder (dossier.json + attendu.json) as a worked example of the docs (docs.Example), with
    the reasoning the site shows; the unreadable ones are counted, not shown."""
    from .docs import Example

    if folder is None or not folder.is_dir():
        return [], 0
    documents, descriptions = [], {}
    for case in fixture_folders(folder):
        try:
            documents.append((case.name, (case / "dossier.json").read_text(encoding="utf-8")))
            expected = case / "attendu.json"
            if expected.is_file():
                descriptions[case.name] = str(json.loads(expected.read_text(encoding="utf-8")).get("description", ""))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            descriptions.setdefault(case.name, "")
    examples, skipped = [], 0
    for result in validate_many(program, documents, explain=True):
        if isinstance(result, Unreadable):
            skipped += 1  # a fixture that shows a malformed dossier illustrates no rule
            continue
        examples.append(Example(result.dossier, descriptions.get(result.dossier, ""), result))
    return examples, skipped


def check_rules(rules=None, fixtures: str | os.PathLike | None = None) -> Checked:
    """Static checks, then lint; with fixtures, also the rules no fixture exercises.

    One file checked alone may be a library of definitions and barèmes, without a requirement; a folder may not.
    """
    from .lint import lint

    checked = load_rules(rules, needs_requirement=rules is None or not Path(rules).is_file())
    if not checked.ok:
        return checked
    covered = run_fixtures(checked.program, fixtures).coverage if fixtures is not None else None
    found = sorted_diagnostics(checked.diagnostics + lint(checked.program, covered))
    silenced = _ignored(checked.program.sources)
    suppressed = tuple(d for d in found if not d.is_error and d.code in silenced.get(_line_of(d), ()))
    return attrs.evolve(checked, diagnostics=[d for d in found if d not in suppressed], suppressed=suppressed)


IGNORE = re.compile(r"#\s*immat:\s*ignore\[([a-z0-9_, -]+)\]")


def _ignored(sources) -> dict[tuple[str, int], set[str]]:
    """(file, line) → the warning codes a comment silences there: `# immat: ignore[code, …]` at the end of the
    line, or alone on the line above. An error is never silenced: the rules are wrong."""
    from .parse import comments

    silenced: dict[tuple[str, int], set[str]] = {}
    for source in sources:
        if "immat:" not in source.text:  # most files: not lexed again for comments they do not hold
            continue
        rows = source.text.split("\n")
        for span in comments(source):
            match = IGNORE.search(span.text)
            if match is None:
                continue
            codes = {c.strip() for c in match[1].split(",") if c.strip()}
            alone = not rows[span.line - 1][: span.column - 1].strip()
            silenced.setdefault((source.path, span.line + 1 if alone else span.line), set()).update(codes)
    return silenced


def _line_of(d: Diagnostic) -> tuple[str | None, int | None]:
    path, line, _ = d.position()
    return path, line


# ------------------------------------------------------------------ formatting


def format_rules(name: str, text: str) -> str:
    """A rule file's text in canonical layout; DiagnosticError if it does not parse or would change meaning."""
    from .format import format_module
    from .parse import parse_module

    module = parse_module(SourceFile(name, text))
    new = format_module(module, text)
    # A file is rewritten only if it provably means the same and keeps every comment: a formatter
    # bug must never cost an author their rules.
    if not _faithful(module, name, text, new):
        message = ("la mise en forme changerait le sens de ce fichier ou perdrait un commentaire : "
                   "il est laissé tel quel (anomalie d'immat, à signaler)")
        raise DiagnosticError([error("formatage", message, file=name)])
    return new


def _faithful(module, name: str, old: str, new: str) -> bool:
    from .format import comments
    from .parse import parse_module

    try:
        same_tree = parse_module(SourceFile(name, new)) == module
    except DiagnosticError:
        return False
    return same_tree and sorted(c.text for c in comments(new)) == sorted(c.text for c in comments(old))
