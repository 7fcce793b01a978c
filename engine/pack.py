"""A rule pack on disk → the bytes and texts of its files, each checked before it is read.

A pack is a folder (every .immat under it), one file, or the pack shipped inside immat. Its files, the files
they import and its dossier schema (dossier.schema.json in the pack's folder, if it has one) must be regular
files inside the pack's folder: rules never read anything else, and a FIFO or a device is refused before it is
opened, so reading a pack never blocks.
"""

from __future__ import annotations

import errno
import hashlib
import os
import sys
import posixpath
import stat
from pathlib import Path
from typing import BinaryIO

import attrs

from .diagnostics import Diagnostic, error
from .frozen import frozen
from .schema import SCHEMA_FILE
from .source import PackIdentity, shipped
from .values import format_number

SHIPPED = "paquet livré"
PACKAGED = "rules"  # the folder name the shipped pack's files are shown under
# The shipped schema weighs 38 KB: a file a thousand times larger is a mistake, not a schema.
MAX_SCHEMA_BYTES = 1_000_000
STDIN = "<stdin>"  # how rules read from standard input are named
# What is read of rules on standard input, never more: a rule file's 1 000 000 characters (parse.MAX_FILE_CHARS,
# which locates the excess) at 4 bytes each in UTF-8.
MAX_STDIN_BYTES = 4_000_001


def display_path(path: str | os.PathLike) -> str:
    """Relative to the working directory when inside it (stable reports), else as given.

    Symlinks are not followed: a file is shown where the pack holds it, not where a link leads.
    """
    path = Path(path)
    try:
        return Path(os.path.abspath(path)).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def rule_files(folder: Path) -> list[Path]:
    """Every rule file under a folder, in a stable order; symlinked folders are not followed."""
    return sorted(folder.rglob("*.immat"))


class Refused(Exception):
    """A file immat will not read, and why in French; whoever asked for the file places the error."""

    def __init__(self, code: str, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.line, self.column = code, message, line, column

    def diagnostic(self, file: str) -> Diagnostic:
        return error(self.code, self.message, file=file, line=self.line, column=self.column)


KINDS = [(stat.S_ISDIR, "un dossier"), (stat.S_ISFIFO, "un tube nommé (FIFO)"), (stat.S_ISCHR, "un périphérique"),
         (stat.S_ISBLK, "un périphérique"), (stat.S_ISSOCK, "une socket")]
OS_ERRORS = {
    errno.ELOOP: ("lien-en-boucle", "les liens symboliques de ce chemin forment une boucle"),
    errno.ENOENT: ("lecture", "fichier introuvable (lien symbolique cassé ?)"),
    errno.EACCES: ("lecture", "lecture refusée (droits d'accès)"),
    errno.EPERM: ("lecture", "lecture refusée (droits d'accès)"),
}


def _refuse_special(mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in KINDS if test(mode)), "un fichier spécial")
        raise Refused("fichier-special", f"ce n'est pas un fichier ordinaire mais {kind} : il n'est pas lu")


def open_regular(path: str | os.PathLike) -> BinaryIO | None:
    """The file opened for reading, or None if it is not a regular file (a FIFO, /dev/zero).

    O_NONBLOCK: opening a FIFO does not wait for a writer, so it is refused at once.
    """
    stream = os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb")
    if stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
        return stream
    stream.close()
    return None


def read_regular(path: str | os.PathLike, limit: int | None = None) -> bytes:
    """A regular file's bytes (Refused beyond `limit` bytes, never read further); anything else is Refused
    without being opened for reading."""
    try:
        _refuse_special(os.stat(path).st_mode)
        stream = open_regular(path)  # should a FIFO replace the file after the stat, it is still not read
        if stream is None:
            _refuse_special(os.stat(path).st_mode)
        with stream:
            data = stream.read(-1 if limit is None else limit + 1)
    except OSError as exc:
        code, message = OS_ERRORS.get(exc.errno, ("lecture", f"lecture impossible ({errno.errorcode.get(exc.errno)})"))
        raise Refused(code, message) from None
    if limit is not None and len(data) > limit:
        raise Refused("fichier-trop-long", f"fichier trop long : plus de {format_number(limit)} octets ; il n'est pas lu")
    return data


def position(data: bytes, offset: int) -> dict[str, int]:
    """1-based line and column of a byte offset, the column counted in characters."""
    start = data.rfind(b"\n", 0, offset) + 1
    return {"line": data.count(b"\n", 0, offset) + 1,
            "column": len(data[start:offset].decode("utf-8", errors="replace")) + 1}


def decode(data: bytes) -> str:
    """UTF-8 text as written (line ends kept), or Refused at the first byte that makes it something else."""
    nul = data.find(b"\0")
    if nul >= 0:
        raise Refused("fichier-binaire", "ce fichier contient un octet nul : c'est un fichier binaire, "
                      "pas un fichier de règles", **position(data, nul))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused("encodage", f"ce fichier n'est pas en UTF-8 (octet 0x{data[exc.start]:02X}) : "
                      "enregistrez-le en UTF-8", **position(data, exc.start)) from None


def _inside(path: str, real_root: str) -> bool:
    return os.path.commonpath([os.path.realpath(path), real_root]) == real_root


def _leaves(path: str, folder: str) -> bool:
    relative = posixpath.relpath(path, folder)
    return relative == ".." or relative.startswith("../")


@frozen
class Pack:
    """Where a pack's files may come from, and what outputs call it."""

    name: str  # what --rules named, as displayed; « paquet livré » for the shipped pack
    root: str  # display path of the folder every file must stay in
    real_root: str | None  # that folder on disk; None for the shipped pack, read from the package


@attrs.define
class PackFiles:
    """The files of a pack read so far: texts by display path, bytes and their SHA-256 for the digest, what was
    refused, the imports admitted (in order), which a cached check replays, and the pack's own dossier schema
    (display path, and text unless it could not be read) when it has one; its SHA-256 is among the others, so
    the digest covers it.

    Mutable on purpose: the files a pack imports are only known once the files importing them are parsed.
    """

    pack: Pack
    texts: dict[str, str] = attrs.Factory(dict)
    raw: dict[str, bytes] = attrs.Factory(dict)
    refused: dict[str, Refused] = attrs.Factory(dict)
    diagnostics: list[Diagnostic] = attrs.Factory(list)
    sha256: dict[str, str] = attrs.Factory(dict)
    admitted: list[tuple[str, str]] = attrs.Factory(list)
    schema: tuple[str, str | None] | None = None

    def identity(self) -> PackIdentity:
        """The pack's name and digest: the first 12 hex digits of the SHA-256 of the `sha256sum` listing
        (« <sha256 of the bytes>  <path in the pack> » lines, sorted by path) of every file read."""
        files = sorted((posixpath.relpath(path, self.pack.root), digest) for path, digest in self.sha256.items())
        listing = "".join(f"{digest}  {path}\n" for path, digest in files)
        return PackIdentity(self.pack.name, hashlib.sha256(listing.encode("utf-8")).hexdigest()[:12])

    def copy(self) -> PackFiles:
        """The same files read, in a PackFiles that may read more without changing this one."""
        return PackFiles(self.pack, dict(self.texts), dict(self.raw), dict(self.refused), list(self.diagnostics),
                         dict(self.sha256), list(self.admitted), self.schema)

    def add(self, path: str, data: bytes) -> None:
        self.raw[path] = data
        self.sha256[path] = hashlib.sha256(data).hexdigest()  # once per file: the digest and the cache key share it
        try:
            # As open() in text mode would: the parser sees "\n" line ends only.
            self.texts[path] = decode(data).replace("\r\n", "\n").replace("\r", "\n")
        except Refused as refused:
            self.diagnostics.append(refused.diagnostic(path))

    def add_schema(self, path: str, data: bytes) -> None:
        self.sha256[path] = hashlib.sha256(data).hexdigest()
        self.schema = (path, None)
        try:
            self.schema = (path, decode(data))
        except Refused as refused:
            self.diagnostics.append(refused.diagnostic(path))

    def read_schema(self, folder: Path) -> None:
        """The pack's own dossier schema, when its folder has one: a regular file inside the pack, read up to
        MAX_SCHEMA_BYTES; a schema refused is an error, never a reason to check the rules against another."""
        path = display_path(folder / SCHEMA_FILE)
        if not os.path.lexists(path):
            return
        self.schema = (path, None)
        try:
            if not _inside(path, self.pack.real_root):
                raise Refused("fichier-hors-du-paquet", f"lien symbolique qui mène hors du paquet « {self.pack.name} » : "
                              "ce schéma n'est pas lu")
            self.add_schema(path, read_regular(path, MAX_SCHEMA_BYTES))
        except Refused as refused:
            self.refused[path] = refused
            self.diagnostics.append(refused.diagnostic(path))

    def read(self, path: str) -> Refused | None:
        """Reads one file on disk into the pack, or says why it was refused."""
        if path not in self.refused:
            try:
                self.add(path, read_regular(path))
            except Refused as refused:
                self.refused[path] = refused
        return self.refused.get(path)

    def admit(self, target: str, written: str) -> Refused | None:
        """Reads the file an import written `written` resolves to (a display path), unless it must be refused;
        a target that does not exist is left for the checker to report."""
        self.admitted.append((target, written))
        if posixpath.isabs(written) or _leaves(target, self.pack.root):
            self.refused[target] = Refused("import-hors-du-paquet", f"hors du paquet « {self.pack.name} » ; "
                                           "un fichier de règles n'importe que des fichiers de son dossier")
        elif target in self.raw or self.pack.real_root is None or not os.path.lexists(target):
            pass
        elif not _inside(target, self.pack.real_root):
            self.refused[target] = Refused("import-hors-du-paquet",
                                           f"lien symbolique qui mène hors du paquet « {self.pack.name} »")
        else:
            self.read(target)
        return self.refused.get(target)


def _shipped() -> PackFiles:
    files = PackFiles(Pack(SHIPPED, PACKAGED, None))
    folder = shipped("immat.rules")
    for name in sorted(os.listdir(folder)):
        if name.endswith(".immat"):
            files.add(f"{PACKAGED}/{name}", Path(folder, name).read_bytes())
        elif name == SCHEMA_FILE:
            files.add_schema(f"{PACKAGED}/{name}", Path(folder, name).read_bytes())
    return files


def _folder(root: Path) -> PackFiles:
    name = display_path(root)
    files = PackFiles(Pack(name, name, os.path.realpath(root)))
    found = rule_files(root)
    if not found:
        files.diagnostics.append(error("paquet-vide", "aucun fichier de règles (.immat) dans ce répertoire : "
                                       "il n'y aurait rien à vérifier", file=name))
    for f in found:
        path = display_path(f)
        if not _inside(path, files.pack.real_root):
            files.refused[path] = Refused("fichier-hors-du-paquet", f"lien symbolique qui mène hors du paquet « {name} » : "
                                          "ce fichier n'est pas lu")
        files.read(path)
    files.diagnostics += [refused.diagnostic(path) for path, refused in files.refused.items()]
    files.read_schema(root)
    return files


def _standard_input() -> PackFiles:
    """A pack of one file read on standard input (`immat check -`): it may import files of the working folder."""
    files = PackFiles(Pack(STDIN, ".", os.path.realpath(".")))
    files.add(STDIN, sys.stdin.buffer.read(MAX_STDIN_BYTES))
    files.read_schema(Path("."))
    return files


def read_pack(rules: str | os.PathLike | None) -> PackFiles:
    """The own files of a pack: the shipped one (None), every .immat under a folder, one file, or `-` (one file
    on standard input); and the dossier.schema.json of its folder, if there is one.

    A pack named by one file is that file alone, and the files it imports must lie in its folder.
    """
    if rules is None:
        return _shipped()
    if str(rules) == "-":
        return _standard_input()
    root = Path(rules)
    if root.is_dir():
        return _folder(root)
    name = display_path(root)
    files = PackFiles(Pack(name, display_path(root.parent), os.path.realpath(root.parent)))
    if not os.path.lexists(root):
        files.diagnostics.append(error("regles-introuvables", f"règles introuvables : « {rules} »", file=str(rules)))
    elif (refused := files.read(name)) is not None:
        files.diagnostics.append(refused.diagnostic(name))
    files.read_schema(root.parent)
    return files
