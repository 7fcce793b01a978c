"""The working directory → the rule pack and fixtures that every command uses when none is named.

The one place that decides it, in this order: the `[tool.immat]` table of the nearest pyproject.toml that
has one, looking in the working directory and then each parent (as ruff and pytest do), its `rules` and
`fixtures` paths relative to that pyproject.toml; else `rules/` and `fixtures/` in the working directory;
else, for the rules, the pack shipped inside immat.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from .diagnostics import DiagnosticError, error
from .frozen import frozen
from .pack import Refused, decode, display_path, read_regular

KEYS = ("rules", "fixtures")
DEFAULT_RULES = Path("rules")
DEFAULT_FIXTURES = Path("fixtures")
# tomllib says where a file stops being TOML only inside its (English) message.
TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


@frozen
class Settings:
    rules: Path | None  # None: the pack shipped inside immat
    fixtures: Path


def settings() -> Settings:
    """What the nearest `[tool.immat]` table says, filled in with the defaults of the working directory."""
    table: dict = {}
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and (found := _immat_table(candidate)) is not None:
            table = _paths(found, candidate)
            break
    rules = table.get("rules", DEFAULT_RULES if DEFAULT_RULES.is_dir() else None)
    return Settings(rules, table.get("fixtures", DEFAULT_FIXTURES))


def _fail(pyproject: Path, message: str, **position) -> DiagnosticError:
    return DiagnosticError([error("configuration", message, file=display_path(pyproject), **position)])


def _immat_table(pyproject: Path) -> dict | None:
    try:
        document = tomllib.loads(decode(read_regular(pyproject)))
    except Refused as refused:
        raise _fail(pyproject, f"pyproject.toml illisible : {refused.message}") from None
    except tomllib.TOMLDecodeError as exc:
        where = TOML_POSITION.search(str(exc))
        position = {"line": int(where[1]), "column": int(where[2])} if where else {}
        raise _fail(pyproject, "pyproject.toml n'est pas du TOML valide", **position) from None
    table = document.get("tool", {}).get("immat") if isinstance(document.get("tool"), dict) else None
    if table is not None and not isinstance(table, dict):
        raise _fail(pyproject, "[tool.immat] doit être une table (rules = \"…\", fixtures = \"…\")")
    return table


def _paths(table: dict, pyproject: Path) -> dict[str, Path]:
    """Each key's path, relative to the pyproject.toml that gives it; a key or a path that is wrong is an error."""
    paths = {}
    for key, value in table.items():
        if key not in KEYS:
            import difflib  # for a mistaken key only: a cold start does without it

            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f" ; vouliez-vous dire « {close[0]} » ?" if close else f" (clés connues : {', '.join(KEYS)})"
            raise _fail(pyproject, f"[tool.immat] : clé inconnue « {key} »{hint}")
        if not isinstance(value, str) or not value:
            raise _fail(pyproject, f"[tool.immat] : {key} doit être un chemin entre guillemets")
        path = pyproject.parent / value
        if not path.exists():
            raise _fail(pyproject, f"[tool.immat] : {key} = « {value} » est introuvable (chemin lu depuis "
                        f"le dossier de ce pyproject.toml)")
        paths[key] = Path(display_path(path))
    return paths
