"""Where a batch's records go: standard output, a file replaced whole at the end (-o), or a file resumed.

A file named with -o is written beside itself under a temporary name and renamed over it when the run ends:
an interrupted run leaves the file as it was, never half written. A file resumed (--resume) is only appended
to, a record at a time and synced to disk every second, so that whatever stops the run (Ctrl-C, SIGKILL, the
machine), its complete lines are the records of the first dossiers of the input: the next run with the same
input keeps them, drops a line cut short, and goes on from the next dossier.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from ..diagnostics import DiagnosticError, error

BLOCK = 64  # records written at a time: a write and a flush each cost 23 µs a record to a pipe, 12 in blocks
SYNC_SECONDS = 1.0


class Sink:
    """Records in, in order; `close(done)` makes them final (done) or leaves what an interruption allows."""

    def __init__(self, stream, path: Path | None = None, temporary: Path | None = None, sync: bool = False) -> None:
        self.stream = stream
        self.path, self.temporary, self.sync = path, temporary, sync
        self.held: list[str] = []
        self.synced = time.monotonic()
        self.elements: int | None = None  # counted when the records are the elements of one JSON array

    def as_array(self) -> None:
        """The records (JSON objects) written as the elements of one JSON array, `[` first, `]` when done."""
        self.elements = 0

    def write(self, text: str) -> None:
        if self.elements is not None:
            text = ("[\n" if not self.elements else ",\n") + text.rstrip("\n")
            self.elements += 1
        self.held.append(text)
        if len(self.held) >= BLOCK:
            self.flush()

    def flush(self) -> None:
        """Write what is held: before anything else goes to the terminal, so that outputs keep their order."""
        if self.held:
            self.stream.write("".join(self.held))
            self.held.clear()
        self.stream.flush()
        if self.sync and time.monotonic() - self.synced >= SYNC_SECONDS:
            os.fsync(self.stream.fileno())
            self.synced = time.monotonic()

    def close(self, done: bool) -> None:
        if done and self.elements is not None:
            self.held.append("\n]\n" if self.elements else "[]\n")
        self.flush()
        if self.stream is sys.stdout:
            return
        if self.sync:
            os.fsync(self.stream.fileno())
        self.stream.close()
        if self.temporary is not None:
            if done:
                os.replace(self.temporary, self.path)
            else:
                self.temporary.unlink(missing_ok=True)


def standard_output() -> Sink:
    return Sink(sys.stdout)


def replaced(path: Path) -> Sink:
    """A sink whose file appears, whole, only when the run is done."""
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partiel")
    except OSError as exc:
        raise _unwritable(path, exc) from None
    return Sink(os.fdopen(handle, "w", encoding="utf-8", newline=""), path, Path(name))


def _unwritable(path: Path, exc: OSError) -> DiagnosticError:
    return DiagnosticError([error("sortie-impossible", f"impossible d'écrire « {path} » : {exc.strerror or exc}",
                                  file=str(path))])


# ------------------------------------------------------------------ resuming


def resumed(path: Path, csv_header: str | None) -> tuple[Sink, int, str | None]:
    """The sink appending to `path`, how many records it already holds and the dossier of the last one. A line
    cut short by the interruption is dropped; a CSV file keeps its header line. Read in blocks: the file may
    hold a long batch."""
    try:
        stream = open(path, "a+b")
    except OSError as exc:
        raise _unwritable(path, exc) from None
    with stream:
        stream.seek(0)
        lines, end, offset = 0, 0, 0
        while block := stream.read(1 << 20):
            if (last := block.rfind(b"\n")) >= 0:
                lines += block.count(b"\n")
                end = offset + last + 1
            offset += len(block)
        stream.truncate(end)
        first, final = _line_at(stream, 0, end), _line_before(stream, end)
    if csv_header is not None and lines and first != csv_header:
        raise _not_resumable(path, "sa première ligne n'est pas l'en-tête de ce CSV")
    records = lines - (1 if csv_header is not None and lines else 0)
    last = _dossier_of(final, csv_header is not None, path) if records else None
    sink = Sink(open(path, "a", encoding="utf-8", newline=""), sync=True)
    if csv_header is not None and not lines:
        sink.write(csv_header)
    return sink, records, last


def kept_records(path: Path, is_csv: bool):
    """The records a resumed file held before this run, a line at a time."""
    with open(path, encoding="utf-8", newline="") as stream:
        if is_csv:
            next(stream, None)
        yield from stream


def _line_at(stream, start: int, end: int) -> str:
    stream.seek(start)
    return stream.readline(max(end - start, 0)).decode("utf-8", errors="replace")


def _line_before(stream, end: int) -> str:
    """The complete line that ends at `end`."""
    start, step = end - 1, 1 << 16
    while start > 0:
        start = max(0, start - step)
        stream.seek(start)
        found = stream.read(end - 1 - start).rfind(b"\n")
        if found >= 0:
            return _line_at(stream, start + found + 1, end)
    return _line_at(stream, 0, end)


def _dossier_of(line: str, is_csv: bool, path: Path) -> str:
    try:
        return next(csv.reader(io.StringIO(line)))[0] if is_csv else json.loads(line)["dossier"]
    except (ValueError, KeyError, TypeError, StopIteration, IndexError):
        raise _not_resumable(path, "sa dernière ligne complète n'est pas un rapport d'immat") from None


def _not_resumable(path: Path, why: str) -> DiagnosticError:
    return DiagnosticError([error("reprise-impossible", f"« {path} » ne peut pas être repris : {why} ; "
                                  "reprenez avec le fichier d'une vérification interrompue, ou écrivez ailleurs",
                                  file=str(path))])


def mismatch(path: Path, kept: int, expected: str | None, found: str | None) -> DiagnosticError:
    shown = f"« {found} »" if found is not None else "rien (l'entrée a moins de dossiers)"
    return _not_resumable(path, f"son dernier rapport ({kept}e) est celui de « {expected} », le {kept}e dossier de "
                                f"l'entrée est {shown} : ce n'est pas la même entrée")
