"""Commands for rule authors: one canonical layout for rule files."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from ..diagnostics import DiagnosticError
from ..pack import MAX_STDIN_BYTES, STDIN, Refused, decode, read_regular, rule_files
from ..pipeline import display_path, format_rules
from . import FOUND, OK, RULES_ERROR, configured, exit_codes, tell

# ------------------------------------------------------------------ fmt


@click.command(epilog="""
\b
Exemples :
  immat fmt                          réécrit tous les .immat des règles du projet (rules/)
  immat fmt rules/frais.immat        réécrit un seul fichier
  immat fmt --check --diff           en CI : ce qui changerait, sans rien réécrire (code 1 s'il y a lieu)
  immat fmt - < frais.immat          la forme canonique d'un texte lu sur l'entrée standard, sur la sortie
""" + exit_codes("un fichier changerait, avec --check", "mauvaise utilisation"))
@click.argument("files", nargs=-1, metavar="[FICHIERS]...", type=click.Path(exists=True, path_type=Path, allow_dash=True))
@click.option("--check", is_flag=True,
              help="Ne réécrit rien : affiche les fichiers qui changeraient ; code de sortie 1 s'il y en a.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Affiche le diff unifié de chaque fichier qui changerait, sans rien réécrire.")
def fmt(files, check, show_diff) -> None:
    """Réécrit des fichiers de règles dans leur disposition canonique : mots-clés en français, clauses
    indentées de deux espaces, une clause par ligne, alternatives « ou une pièce » et filtres de pièce
    alignés, nombres groupés (30 000 €, 2,76 €), une ligne vide entre les éléments ; les commentaires
    sont conservés.

    FICHIERS : des fichiers .immat, ou des dossiers (tous les .immat qu'ils contiennent) ; sans argument,
    les règles du projet : celles que nomme [tool.immat] rules dans le pyproject.toml le plus proche, sinon
    rules/ du dossier courant. Un fichier qui ne se lit pas (erreur de syntaxe) est signalé et laissé tel
    quel ; les autres sont traités."""
    if files == (Path("-"),):
        _standard_input(check, show_diff)
    paths = _rule_files(files)
    if not paths:
        click.echo("erreur : aucun fichier de règles (.immat) à mettre en forme", err=True)
        sys.exit(RULES_ERROR)
    changed, unreadable = 0, 0
    for path in paths:
        name = display_path(path)
        try:
            old = _read(path)
            new = format_rules(name, old)
        except DiagnosticError as exc:
            tell(exc.diagnostics)
            unreadable += 1
            continue
        if new == old:
            continue
        changed += 1
        _report(path, name, old, new, check, show_diff)
    verb = "à reformater" if check or show_diff else "reformaté(s)"
    click.echo(f"{changed} fichier(s) {verb} sur {len(paths)}", err=True)
    if unreadable:
        sys.exit(RULES_ERROR)
    sys.exit(FOUND if check and changed else OK)


def _standard_input(check: bool, show_diff: bool) -> None:
    """`fmt -`: the rule text on standard input, formatted on standard output (an editor's or a hook's use);
    with --check or --diff, only whether it would change."""
    name = STDIN
    try:
        old = decode(sys.stdin.buffer.read(MAX_STDIN_BYTES))
        new = format_rules(name, old)
    except Refused as refused:
        tell([refused.diagnostic(name)])
        sys.exit(RULES_ERROR)
    except DiagnosticError as exc:
        tell(exc.diagnostics)
        sys.exit(RULES_ERROR)
    if check or show_diff:
        if new != old:
            _report(None, name, old, new, check, show_diff)
        sys.exit(FOUND if check and new != old else OK)
    click.echo(new, nl=False)
    sys.exit(OK)


def _rule_files(paths: tuple[Path, ...]) -> list[Path]:
    if not paths:
        rules = configured().rules
        if rules is None:
            raise click.UsageError("aucun fichier indiqué, et ni [tool.immat] rules ni dossier rules/ ici "
                                   "(le paquet livré avec immat ne se reformate pas)")
        paths = (rules,)
    files = []
    for path in paths:
        files += rule_files(path) if path.is_dir() else [path]
    return files


def _read(path: Path) -> str:
    try:
        # Line ends as written: a file with CRLF line ends is reported as changing, not silently equal.
        return decode(read_regular(path))
    except Refused as refused:
        raise DiagnosticError([refused.diagnostic(display_path(path))]) from None


def _report(path: Path, name: str, old: str, new: str, check: bool, show_diff: bool) -> None:
    if check:
        click.echo(name)
    if show_diff:
        lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                     f"a/{name}", f"b/{name}")
        click.echo("".join(line if line.endswith("\n") else line + "\n" for line in lines), nl=False)
    if not (check or show_diff):
        with path.open("w", encoding="utf-8", newline="") as stream:
            stream.write(new)
        click.echo(f"reformaté : {name}", err=True)
