"""Source text → located spans: the positions every diagnostic and every explanation points at."""

from __future__ import annotations

import bisect
import importlib.util
import os

import attrs

from . import __version__
from .frozen import frozen


def shipped(package: str, *parts: str) -> str:
    """The path of what immat ships in `package` (its code, its grammar, its rules, its schemas): the package's
    folder, as the import system found it. importlib.resources gives the same folder for an installed package,
    for 7 ms of a cold start (its imports and its calls)."""
    return os.path.join(importlib.util.find_spec(package).submodule_search_locations[0], *parts)


@frozen(eq=False)
class SourceFile:
    """A rule file's text with its line starts, so offsets map to line:column cheaply."""

    path: str
    text: str
    line_starts: tuple[int, ...] = attrs.field(init=False)

    @line_starts.default
    def _line_starts(self) -> tuple[int, ...]:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
        return tuple(starts)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1

    def line_text(self, line: int) -> str:
        start = self.line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    def span(self, start: int, end: int) -> Span:
        return Span(self, start, end)

    def end_span(self) -> Span:
        """The last character of the file, where an unexpected end of input is reported."""
        end = len(self.text.rstrip())
        return Span(self, max(end - 1, 0), end)


@frozen
class Span:
    """A range of characters in a source file; lines and columns are 1-based."""

    source: SourceFile
    start: int
    end: int

    @property
    def line(self) -> int:
        return self.source.position(self.start)[0]

    @property
    def column(self) -> int:
        return self.source.position(self.start)[1]

    @property
    def end_position(self) -> tuple[int, int]:
        return self.source.position(self.end)

    @property
    def text(self) -> str:
        return self.source.text[self.start : self.end]

    @property
    def path(self) -> str:
        return self.source.path

    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    def covering(self, other: Span) -> Span:
        return Span(self.source, min(self.start, other.start), max(self.end, other.end))


@frozen
class PackIdentity:
    """Which rule pack a result comes from, as every output names it.

    `name` is the pack's path relative to the working directory, or « paquet livré »; `digest` tells two
    packs of the same name apart, so a report can be traced to the exact rules that produced it.
    """

    name: str
    digest: str

    def __str__(self) -> str:
        return f"{self.name} (empreinte {self.digest})"

    def properties(self) -> dict[str, str]:
        """The same for machine-read outputs (SARIF's and JUnit's properties)."""
        return {"immat": __version__, "pack": self.name, "digest": self.digest}

    def signed(self) -> str:
        """The pack and the immat that read it, as the outputs for people end."""
        return f"{self} — immat {__version__}"
