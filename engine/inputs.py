"""Paths → the dossiers they hold, streamed as (name, text): files, folders, JSON Lines (.jsonl, .jsonl.gz) and
standard input. Whatever cannot be read becomes an Unreadable at its place, so that a batch says so and goes on.
"""

from __future__ import annotations

import gzip
import os
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .diagnostics import error
from .dossier import MAX_BYTES, too_large
from .pack import open_regular, position
from .pipeline import Unreadable, unreadable_file

STDIN = "<stdin>"
LINES = (".jsonl", ".jsonl.gz")


def read_documents(paths: tuple[str, ...], stdin_lines: bool = False) -> Iterator[tuple[str, str] | Unreadable]:
    """(name, text) for each dossier, streamed: JSON Lines are read a line at a time, never held whole.

    `-` is standard input: one dossier, or with `stdin_lines` one dossier a line (named « <stdin>:N »).
    """
    for raw in paths:
        if raw == "-":
            stdin = sys.stdin.buffer
            yield from line_documents(STDIN, stdin) if stdin_lines else [whole_document(STDIN, stdin)]
            continue
        path = Path(raw)
        files = sorted(p for p in path.rglob("*") if is_dossier_file(p)) if path.is_dir() else [path]
        if path.is_dir() and not files:
            # An empty folder is a wrong path more often than an empty batch: checking nothing is not a success.
            message = "ce répertoire ne contient aucun dossier (fichier .json, .jsonl ou .jsonl.gz)"
            yield Unreadable(raw, [error("aucun-dossier", message, file=raw)])
        for f in files:
            yield from _file_documents(f)


def is_lines(path: str) -> bool:
    return path.endswith(LINES)


def is_dossier_file(path: Path) -> bool:
    # A fixture folder holds its expectation beside the dossier: attendu.json is not a dossier.
    return (path.suffix == ".json" or is_lines(path.name)) and path.name != "attendu.json"


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
        if name.endswith(".gz"):
            yield from _compressed(name, stream)
        elif is_lines(name):
            yield from line_documents(name, stream, os.fstat(stream.fileno()).st_size)
        else:
            yield whole_document(name, stream)


def _compressed(name: str, stream: BinaryIO) -> Iterator[tuple[str, str] | Unreadable]:
    with gzip.GzipFile(fileobj=stream) as lines:
        yield from line_documents(name, lines)


def _unreadable_from(name: str, number: int, exc: Exception) -> Unreadable:
    """The record of a stream that cannot be read on from line `number`: what is before it is kept."""
    why = ("ce n'est pas un fichier gzip" if isinstance(exc, gzip.BadGzipFile) else
           "le fichier compressé est tronqué" if isinstance(exc, EOFError) else
           "le fichier compressé est endommagé" if isinstance(exc, zlib.error) else f"lecture impossible ({exc})")
    message = f"{why} : les dossiers à partir de la ligne {number} ne sont pas lus"
    return Unreadable(f"{name}:{number}", [error("lecture-interrompue", message, file=name, line=number)])


def whole_document(name: str, stream: BinaryIO) -> tuple[str, str] | Unreadable:
    """The one dossier a stream holds, read up to the size limit and decoded; an Unreadable if it cannot be."""
    data = stream.read(MAX_BYTES + 1)  # never more: the input may be endless
    if len(data) > MAX_BYTES:
        return Unreadable(name, [too_large(name)])
    return _decoded(name, data, name, 1)


def line_documents(name: str, stream: BinaryIO, size: int | None = None) -> Iterator[tuple[str, str] | Unreadable]:
    """One document per line, numbered as an editor does: only \\n ends a line (a lone \\r is inside it).

    A file still growing is read up to the `size` it had when opened; a stream, to its end. Blank lines give no
    document.
    """
    number = 0
    while size is None or stream.tell() < size:
        try:
            line = stream.readline(MAX_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            yield _unreadable_from(name, number + 1, exc)
            return
        if not line:
            return
        number += 1
        if len(line) > MAX_BYTES:
            while line and not line.endswith(b"\n"):  # skipped, never held whole
                line = stream.readline(MAX_BYTES)
            yield Unreadable(f"{name}:{number}", [too_large(name, line=number)])
        elif line.strip():
            # Without the line break that ends it (\n or \r\n): JSON cut short at the end of line N is told at
            # the end of line N, as an editor shows it.
            yield _decoded(f"{name}:{number}", line.removesuffix(b"\n").removesuffix(b"\r"), name, number)


def _decoded(name: str, data: bytes, file: str, line: int) -> tuple[str, str] | Unreadable:
    try:
        return name, data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = position(data, exc.start)
        message = (f"texte illisible : l'octet 0x{data[exc.start]:02X} n'est pas de l'UTF-8 ; "
                   "enregistrez le fichier en UTF-8")
        return Unreadable(name, [error("encodage", message, file=file, line=line + where["line"] - 1,
                                       column=where["column"])])
