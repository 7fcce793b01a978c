"""The one place that chains the stages: rule files → Program, dossier text → Outcome."""

from __future__ import annotations

import functools
import json
import time
import importlib.resources
import itertools
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import attrs

from .check import check, import_path
from .coverage import Coverage, coverage
from .expectations import FixtureResult, compare, compare_unreadable
from .format import comments, format_module
from .lint import lint
from .diagnostics import Diagnostic, DiagnosticError, error, sorted_diagnostics
from .dossier import dossier_schema, parse_dossier
from .evaluate import evaluate
from .outcome import Outcome
from .parse import parse_module
from .program import Program
from .source import SourceFile
from .syntax import Module

PACKAGED = "rules"


@attrs.frozen
class Checked:
    """The result of loading and checking a pack: a Program when no error was found."""

    program: Program | None
    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return self.program is not None


def display_path(path: Path) -> str:
    """Relative to the working directory when inside it (stable reports), else as given."""
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def _read_sources(rules: str | os.PathLike | None) -> tuple[dict[str, str], list[Diagnostic]]:
    """Rule texts by display path: the packaged pack, a folder (every .immat in it) or one file."""
    if rules is None:
        folder = importlib.resources.files("immat.rules")
        return {f"{PACKAGED}/{f.name}": f.read_text("utf-8") for f in folder.iterdir()
                if f.name.endswith(".immat")}, []
    root = Path(rules)
    if not root.exists():
        return {}, [error("regles-introuvables", f"règles introuvables : « {rules} »", file=str(rules))]
    files = sorted(root.rglob("*.immat")) if root.is_dir() else [root]
    texts, problems = {}, []
    for f in files:
        try:
            texts[display_path(f)] = f.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(error("lecture", f"lecture impossible : {exc}", file=display_path(f)))
    return texts, problems


def load_rules(rules: str | os.PathLike | None = None) -> Checked:
    """Parse and check a pack once; the Program it returns evaluates any number of dossiers."""
    texts, diagnostics = _read_sources(rules)
    modules: dict[str, Module] = {}
    pending = sorted(texts)
    while pending:
        path = pending.pop(0)
        try:
            module = parse_module(SourceFile(path, texts[path]))
        except DiagnosticError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        modules[path] = module
        # A file may import a neighbour outside the folder being checked: load it too.
        for imp in module.imports:
            target = import_path(path, imp.target)
            if target not in texts and rules is not None and Path(target).is_file():
                texts[target] = Path(target).read_text("utf-8")
                pending.append(target)
    program, found = check(list(modules.values()), dossier_schema(), known_paths=set(texts))
    diagnostics.extend(found)
    ok = program is not None and not any(d.is_error for d in diagnostics)
    return Checked(program if ok else None, sorted_diagnostics(diagnostics))


def validate(program: Program, text: str, name: str) -> Outcome:
    """One dossier's text → its outcome; raises DiagnosticError when the dossier is unreadable."""
    dossier = parse_dossier(text, name)
    return evaluate(program, dossier.name, dossier.data)


@attrs.frozen
class Unreadable:
    name: str
    diagnostics: list[Diagnostic]


BATCH_LINE = re.compile(r"^(?P<file>.+\.jsonl):(?P<line>\d+)$")


def _in_batch_file(name: str, d: Diagnostic) -> Diagnostic:
    """A dossier read from line N of a JSON Lines file is located in that file: « lot.jsonl:N:column »."""
    match = BATCH_LINE.match(name)
    if match is None or d.line is None:
        return d
    return attrs.evolve(d, file=match["file"], line=int(match["line"]) + d.line - 1)


def unreadable_file(name: str, exc: Exception) -> Unreadable:
    return Unreadable(name, [error("lecture", f"lecture impossible : {exc}", file=name)])


def validate_many(program: Program, documents: Iterable[tuple[str, str] | Unreadable]) -> Iterator[Outcome | Unreadable]:
    """Lazily, one result per (name, text), in input order; a bad dossier never stops the batch.

    A document that could not even be read arrives as an Unreadable and is passed through.
    """
    for document in documents:
        if isinstance(document, Unreadable):
            yield document
            continue
        name, text = document
        try:
            yield validate(program, text, name)
        except DiagnosticError as exc:
            yield Unreadable(name, [_in_batch_file(name, d) for d in exc.diagnostics])


@attrs.frozen
class Rendered:
    """A dossier's report already rendered, as a batch worker hands it back."""

    name: str
    verdict: str
    text: str


_WORKER_PROGRAM: Program | None = None


def _start_worker(rules) -> None:
    global _WORKER_PROGRAM
    _WORKER_PROGRAM = load_rules(rules).program


def _render_one(program: Program, render: Callable[[Outcome], str], document) -> Rendered | Unreadable:
    result = next(validate_many(program, [document]))
    if isinstance(result, Unreadable):
        return result
    return Rendered(result.dossier, str(result.verdict), render(result))


def _render_in_worker(render: Callable[[Outcome], str], document) -> Rendered | Unreadable:
    return _render_one(_WORKER_PROGRAM, render, document)


def render_many(rules, program: Program, documents: Iterable, render: Callable[[Outcome], str],
                jobs: int = 1, window: int = 512) -> Iterator[Rendered | Unreadable]:
    """Validate and render a stream of dossiers on `jobs` processes, in input order.

    The input is read a window at a time, so memory stays flat however long the stream; each
    worker loads and checks the rules once. `render` must be picklable (a module-level function
    or a functools.partial of one).
    """
    if jobs <= 1:
        yield from (_render_one(program, render, d) for d in documents)
        return
    documents = iter(documents)
    first = list(itertools.islice(documents, window))
    if len(first) < window:  # a small batch is not worth starting processes for
        yield from render_many(rules, program, first, render, 1)
        return
    work = functools.partial(_render_in_worker, render)
    with multiprocessing.get_context("spawn").Pool(jobs, _start_worker, (rules,)) as pool:
        batch = first
        while batch:
            yield from pool.imap(work, batch, chunksize=max(1, len(batch) // (jobs * 4)))
            batch = list(itertools.islice(documents, window))


# ------------------------------------------------------------------ fixtures


@attrs.frozen
class FixtureRun:
    """Every fixture of a folder checked against its attendu.json, and what the fixtures reached."""

    results: tuple[FixtureResult, ...]
    coverage: Coverage


def fixture_folders(root: str | os.PathLike) -> list[Path]:
    """Fixtures are folders holding a dossier.json and the attendu.json that states its outcome."""
    return sorted(p.parent for p in Path(root).glob("*/dossier.json"))


def run_fixtures(program: Program, root: str | os.PathLike) -> FixtureRun:
    results, outcomes = [], []
    for folder in fixture_folders(root):
        started = time.perf_counter()
        name = display_path(folder)
        text = (folder / "dossier.json").read_text("utf-8")
        expected_path = folder / "attendu.json"
        expected = json.loads(expected_path.read_text("utf-8")) if expected_path.exists() else None
        try:
            outcome = validate(program, text, f"{name}/dossier.json")
        except DiagnosticError as exc:
            failures = compare_unreadable([d.pointer or "" for d in exc.diagnostics], expected or {"verdict": "?"})
        else:
            outcomes.append(outcome)
            failures = compare(outcome, expected) if expected else ["attendu.json manquant"]
        results.append(FixtureResult(name, tuple(failures), time.perf_counter() - started))
    return FixtureRun(tuple(results), coverage(program, outcomes))


def check_rules(rules=None, fixtures: str | os.PathLike | None = None) -> Checked:
    """Static checks, then lint; with fixtures, also the rules no fixture exercises."""
    checked = load_rules(rules)
    if not checked.ok:
        return checked
    covered = run_fixtures(checked.program, fixtures).coverage if fixtures is not None else None
    return Checked(checked.program, sorted_diagnostics(checked.diagnostics + lint(checked.program, covered)))


# ------------------------------------------------------------------ formatting


def format_rules(name: str, text: str) -> str:
    """A rule file's text in canonical layout; DiagnosticError if it does not parse or would change meaning."""
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
    try:
        same_tree = parse_module(SourceFile(name, new)) == module
    except DiagnosticError:
        return False
    return same_tree and sorted(c.text for c in comments(new)) == sorted(c.text for c in comments(old))
