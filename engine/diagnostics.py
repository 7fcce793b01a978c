"""Diagnostics as data (severity, code, French message, spans), and their renderings."""

from __future__ import annotations

import enum
import hashlib
import os
import urllib.parse
from pathlib import PurePath

from . import __version__
from .escape import json_dumps, visible
from .frozen import frozen
from .source import Span


class Severity(enum.StrEnum):
    ERROR = "erreur"
    WARNING = "avertissement"


@frozen
class Label:
    span: Span
    message: str


@frozen
class Diagnostic:
    """One finding about a rule file or a dossier.

    `span` is None for findings about a dossier, which carry a JSON pointer and
    its file instead of a rule location.
    """

    severity: Severity
    code: str
    message: str
    span: Span | None = None
    notes: tuple[Label, ...] = ()
    help: str | None = None
    context: str | None = None
    file: str | None = None
    pointer: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def position(self) -> tuple[str, int, int]:
        if self.span is not None:
            return self.span.path, self.span.line, self.span.column
        return self.file or "", self.line or 0, self.column or 0

    def sort_key(self) -> tuple:
        path, line, column = self.position()
        return (path, line, column, self.pointer or "", self.code, self.message)


def error(code: str, message: str, span: Span | None = None, **kwargs) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, span, **kwargs)


def warning(code: str, message: str, span: Span | None = None, **kwargs) -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, message, span, **kwargs)


def sorted_diagnostics(diagnostics) -> list[Diagnostic]:
    return sorted(diagnostics, key=Diagnostic.sort_key)


class DiagnosticError(Exception):
    """Raised by a stage that cannot go on; carries every diagnostic it collected."""

    def __init__(self, diagnostics) -> None:
        self.diagnostics = sorted_diagnostics(diagnostics)
        super().__init__("\n".join(gnu_line(d) for d in self.diagnostics))


def gnu_line(d: Diagnostic) -> str:
    """The GNU one-liner that editors and CI annotations parse; a dossier's file name, pointer or value
    quoted in the message cannot add a line to it."""
    path, line, column = d.position()
    where = path or "immat"  # about no file: the program's name, as GNU tools write it
    if line:
        where += f":{line}:{column}"
    if d.pointer is not None:
        where += f": {d.pointer or '/'}"
    return visible(f"{where}: {d.severity}[{d.code}]: {d.message}")


# A generated rule file may hold a line of a million characters: the excerpt shows a window of it.
EXCERPT_BEFORE, EXCERPT_WIDTH = 40, 120


def _excerpt(label_span: Span) -> list[str]:
    line = label_span.line
    text = label_span.source.line_text(line)
    end_line, end_col = label_span.end_position
    start = label_span.column - 1
    stop = end_col - 1 if end_line == line else len(text)
    low = max(0, start - EXCERPT_BEFORE) if len(text) > EXCERPT_WIDTH else 0
    high = low + EXCERPT_WIDTH if len(text) > EXCERPT_WIDTH else len(text)
    lead, tail = ("…" if low else ""), ("…" if high < len(text) else "")
    # The caret is placed under the escaped text: a control character shown as \u001b is six columns wide.
    before, marked = lead + visible(text[low:start]), visible(text[start:min(stop, high)])
    gutter = " " * len(str(line))
    return [
        f"{gutter} |",
        f"{line} | {lead}{visible(text[low:high])}{tail}",
        f"{gutter} | {' ' * len(before)}{'^' * max(len(marked), 1)}",
    ]


def render_text(d: Diagnostic) -> str:
    """The full form: GNU line, caret excerpt, help, context and secondary notes."""
    lines = [gnu_line(d)]
    if d.span is not None:
        lines += _excerpt(d.span)
    gutter = " " * (len(str(d.span.line)) if d.span is not None else 1)
    if d.help:
        lines.append(f"{gutter} = aide : {visible(d.help)}")
    if d.context:
        lines.append(f"{gutter} = dans : {visible(d.context)}")
    for note in d.notes:
        lines.append(visible(f"{note.span.location()}: note: {note.message}"))
        lines += _excerpt(note.span)
    return "\n".join(lines)


def to_json(d: Diagnostic) -> dict:
    path, line, column = d.position()
    out = {
        "severity": d.severity.name.lower(),
        "code": d.code,
        "message": d.message,
        "file": path,
        "line": line or None,
        "column": column or None,
    }
    if d.span is not None:
        out["end_line"], out["end_column"] = d.span.end_position
    if d.pointer is not None:
        out["pointer"] = d.pointer
    if d.help:
        out["help"] = d.help
    if d.context:
        out["context"] = d.context
    if d.notes:
        out["notes"] = [
            {"message": n.message, "file": n.span.path, "line": n.span.line, "column": n.span.column}
            for n in d.notes
        ]
    return out


def render_json(diagnostics) -> str:
    return json_dumps([to_json(d) for d in diagnostics], indent=2) + "\n"


SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SOURCE_ROOT = "%SRCROOT%"  # the checkout's root, which code hosts resolve themselves


def repository_path(path: str, root: str | None) -> str | None:
    """A diagnostic's file as a path from the repository's root, the form code hosts match against their
    checkout; None for a file outside it (or none)."""
    if not path or root is None:
        return None
    relative = os.path.relpath(os.path.abspath(path), root)
    return None if relative == ".." or relative.startswith(".." + os.sep) else PurePath(relative).as_posix()


def _sarif_location(path: str, root: str | None) -> dict:
    inside = repository_path(path, root)
    if inside is not None:
        return {"uri": urllib.parse.quote(inside), "uriBaseId": SOURCE_ROOT}
    return {"uri": PurePath(os.path.abspath(path)).as_uri() if path else "immat"}


def _sarif_result(d: Diagnostic, index: dict[str, int], root: str | None) -> dict:
    path, line, column = d.position()
    region = {"startLine": max(line, 1), "startColumn": max(column, 1)}
    if d.span is not None:
        region["endLine"], region["endColumn"] = d.span.end_position
    message = d.message + (f" ({d.help})" if d.help else "")
    return {
        "ruleId": d.code,
        "ruleIndex": index[d.code],
        "level": "error" if d.is_error else "warning",
        "message": {"text": message},
        "locations": [{"physicalLocation": {"artifactLocation": _sarif_location(path, root), "region": region}}],
    }


def _sarif_rule(code: str, level: str) -> dict:
    """A code's entry among the tool's rules: what code scanning shows beside each alert, and its help."""
    from .codes import CODES, SUBJECTS  # only SARIF describes the codes: a report's cold start need not

    c = CODES[code]
    return {
        "id": code,
        "shortDescription": {"text": c.title},
        "fullDescription": {"text": c.help},
        "help": {"text": c.help, "markdown": f"**{c.title}**\n\n{c.help}\n\n`immat check --code {code}`"},
        "defaultConfiguration": {"level": level},
        "properties": {"tags": [SUBJECTS[c.subject]]},
    }


def render_sarif(diagnostics, root: str | None = None, properties: dict | None = None) -> str:
    """SARIF 2.1.0, which code hosts read to annotate the lines of a pull request: files from the repository's
    `root`, each code found described, and `properties` (the pack and its digest) on the run."""
    levels = {d.code: "error" if d.is_error else "warning" for d in sorted(diagnostics, key=lambda d: d.is_error)}
    codes = sorted(levels)
    index = {code: i for i, code in enumerate(codes)}
    driver = {"name": "immat", "version": __version__, "informationUri": "https://pypi.org/project/immat/",
              "rules": [_sarif_rule(code, levels[code]) for code in codes]}
    run = {"tool": {"driver": driver}, "results": [_sarif_result(d, index, root) for d in diagnostics]}
    if properties:
        run["properties"] = properties
    return json_dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def render_gitlab(diagnostics, root: str | None = None) -> str:
    """GitLab's code quality report (the Code Climate format): one issue a diagnostic, with a fingerprint that
    stays the same while the finding does, so that a merge request shows what it adds and what it fixes;
    paths from the repository's root, as GitLab wants them."""
    issues = []
    for d in diagnostics:
        path, line, _ = d.position()
        path = repository_path(path, root) or path
        fingerprint = hashlib.sha256(f"{d.code}\0{path}\0{line}\0{d.message}".encode("utf-8")).hexdigest()
        issues.append({"description": d.message, "check_name": d.code, "fingerprint": fingerprint,
                       "severity": "major" if d.is_error else "minor",
                       "location": {"path": path, "lines": {"begin": max(line or 1, 1)}}})
    return json_dumps(issues, indent=2) + "\n"


def junit_properties(suite, properties: dict[str, str]) -> None:
    import xml.etree.ElementTree as ET

    listed = ET.SubElement(suite, "properties")
    for name, value in properties.items():
        ET.SubElement(listed, "property", name=name, value=value)


def render_junit(diagnostics, properties: dict | None = None) -> str:
    """JUnit XML, which CI servers list as tests: one case a diagnostic, failed for an error, skipped (with its
    message) for a warning; rules without either are one passing case; `properties` (immat's version, the pack
    and its digest) on the suite."""
    import xml.etree.ElementTree as ET

    errors = [d for d in diagnostics if d.is_error]
    suite = ET.Element("testsuite", name="immat check", tests=str(max(len(diagnostics), 1)),
                       failures=str(len(errors)), skipped=str(len(diagnostics) - len(errors)))
    if properties:
        junit_properties(suite, properties)
    for d in diagnostics:
        path, line, column = d.position()
        case = ET.SubElement(suite, "testcase", classname=path or "immat", name=f"{d.code} {line}:{column}")
        kind = "failure" if d.is_error else "skipped"
        ET.SubElement(case, kind, message=visible(d.message)).text = render_text(d) if d.is_error else None
    if not diagnostics:
        ET.SubElement(suite, "testcase", classname="immat", name="règles sans erreur ni avertissement")
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def render_github(d: Diagnostic, root: str | None = None) -> str:
    """A GitHub Actions workflow command: the message appears on the line of the pull request (the file named
    from the repository's root, as the runner resolves it)."""
    path, line, column = d.position()
    path = repository_path(path, root) or path
    kind = "error" if d.is_error else "warning"
    # visible() leaves no line break to end the command early; « % » starts the runner's own escapes, and in a
    # property « , » and « : » would end it (actions/toolkit, command.ts).
    text = visible(d.message + (f" — {d.help}" if d.help else "")).replace("%", "%25")
    file = visible(path).replace("%", "%25").replace(":", "%3A").replace(",", "%2C")
    where = f"file={file},line={max(line, 1)},col={max(column, 1)}"
    if d.span is not None:
        end_line, end_col = d.span.end_position
        where += f",endLine={end_line},endColumn={end_col}"
    return f"::{kind} {where},title=immat {d.code}::{text}"
