"""What a run computed from the rules → files in the user's cache directory, keyed by everything it was computed from.

A second run of the same pack neither parses nor checks it, and a changed pack is parsed without rebuilding the
Lark parser. The cache only saves time: disabled (IMMAT_NO_CACHE=1), unwritable, corrupt or stale, it is passed
over silently and every output stays the same. Its files are pickles, which is safe only because immat reads
back nothing but what it wrote itself, in the user's own directory, under the SHA-256 of what it was made from.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from types import CodeType
from typing import Any, TypeVar

from . import __version__
from .frozen import frozen
from .pack import PackFiles, open_regular
from .source import shipped

T = TypeVar("T")

# Every edit of a pack makes a new entry: beyond this many of a kind, the oldest written go.
KEEP = 32
CODE_SUFFIXES = (".py", ".json", ".lark")


def directory() -> str | None:
    """IMMAT_CACHE_DIR, else $XDG_CACHE_HOME/immat, else ~/.cache/immat; None when IMMAT_NO_CACHE is set."""
    if os.environ.get("IMMAT_NO_CACHE", "") not in ("", "0"):
        return None
    if os.environ.get("IMMAT_CACHE_DIR"):
        return os.environ["IMMAT_CACHE_DIR"]
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG specification has a relative path ignored.
    return os.path.join(xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache"), "immat")


def key(*parts: str) -> str:
    """The SHA-256 of `parts` and of what every cached result depends on: immat's code and Python's version."""
    return hashlib.sha256(_code() + repr(parts).encode("utf-8")).hexdigest()


@functools.cache
def _code() -> bytes:
    # The version alone would not do: a working copy changes its code, its grammar and the dossier schema of
    # packs without one of their own (shipped with the rules) without changing its version, and a result
    # pickled by other code may not even load.
    digest = hashlib.sha256(f"{__version__}\n{sys.version}\n{sys.implementation.cache_tag}".encode("utf-8"))
    roots = [shipped(package) for package in ("immat", "immat.grammar", "immat.rules")]
    for path in sorted({path for root in roots for path in _code_files(root)}):
        with open(path, "rb") as stream:
            digest.update(f"{path}\n{hashlib.sha256(stream.read()).hexdigest()}\n".encode("utf-8"))
    return digest.digest()


def _code_files(root: str):
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        yield from (os.path.join(folder, name) for name in names if name.endswith(CODE_SUFFIXES))


def read(kind: str, digest: str) -> bytes | None:
    """The bytes last written under this kind and key, if any can be read."""
    folder = directory()
    if folder is None:
        return None
    try:
        stream = open_regular(os.path.join(folder, f"{kind}-{digest}.pickle"))  # never blocks on a FIFO
        if stream is None:
            return None
        with stream:
            # Unpickling runs code: a file another user could have put in a shared folder is not read.
            if hasattr(os, "getuid") and os.fstat(stream.fileno()).st_uid != os.getuid():
                return None
            return stream.read()
    except OSError:
        return None


def write(kind: str, digest: str, data: bytes) -> None:
    """Written to a temporary file then renamed: another process reads the old file or the new one, never half."""
    folder = directory()
    if folder is None:
        return
    try:
        os.makedirs(folder, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{kind}-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
            os.replace(temporary, os.path.join(folder, f"{kind}-{digest}.pickle"))
        except BaseException:  # Ctrl-C included: no temporary file is left behind
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _prune(folder, f"{kind}-")
    except OSError:
        pass  # a read-only home or a full disk costs time, never the run


def _prune(folder: str, prefix: str) -> None:
    entries = sorted((entry.stat().st_mtime_ns, entry.path) for entry in os.scandir(folder)
                     if entry.name.startswith(prefix) and entry.name.endswith(".pickle"))
    for _, path in entries[:-KEEP]:
        os.unlink(path)


def _loads(data: bytes | None) -> Any:
    """The object pickled in `data`, or None for no data or data that does not unpickle."""
    if data is None:
        return None
    try:
        return pickle.loads(data)
    except Exception:  # a truncated or damaged file raises nearly anything: it is rebuilt
        return None


def _dumps(value: object) -> bytes | None:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # something that does not pickle (a bug to fix) costs the cache, never the run
        return None


@frozen
class _Entry:
    """A pack's check: the imports it admitted, in order; the fingerprint of every file it read; what it returned."""

    admitted: list[tuple[str, str]]
    fingerprint: str
    value: Any


def checked(files: PackFiles, check: Callable[[PackFiles], T]) -> tuple[PackFiles, T]:
    """`check(files)` and the files it read, or what it returned on an earlier run when every file is the same.

    The entry is found by the pack's own files; the imports the earlier check admitted are then admitted
    again (into a copy, so that a stale entry leaves `files` as read), and it holds only if every file read
    then is read the same now.
    """
    digest = _fingerprint(files)
    entry = _loads(read("pack", digest))
    if isinstance(entry, _Entry):
        again = files.copy()
        for target, written in entry.admitted:
            again.admit(target, written)
        if _fingerprint(again) == entry.fingerprint:
            return again, entry.value
    value = check(files)
    data = _dumps(_Entry(files.admitted, _fingerprint(files), value))
    if data is not None:
        write("pack", digest, data)
    return files, value


def _fingerprint(files: PackFiles) -> str:
    """The key of everything a check reads: the pack's name and folder as outputs show them, each file read
    (by its SHA-256, computed once when it was read) or refused, what reading them found."""
    refused = sorted((path, r.code, r.message, r.line, r.column) for path, r in files.refused.items())
    return key(files.pack.name, files.pack.root, repr(sorted(files.sha256.items())), repr(refused),
               repr(files.diagnostics))


def code(source: str, filename: str) -> CodeType:
    """`compile(source, filename, "exec")`, or the code object an earlier run compiled from the same source."""
    return code_of(("code", filename, source), lambda: source, filename)


def code_of(parts: tuple[str, ...], source: Callable[[], str], filename: str) -> CodeType:
    """`compile(source(), filename, "exec")`, or the code object an earlier run compiled under the same `parts`
    (which must name everything the source is made from): then the source is not even generated."""
    digest = key(*parts)
    data = read("code", digest)
    if data is not None:
        with contextlib.suppress(Exception):  # damaged: compiled again
            return marshal.loads(data)
    compiled = compile(source(), filename, "exec")
    write("code", digest, marshal.dumps(compiled))
    return compiled
