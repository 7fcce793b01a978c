"""The `immat` command: click commands, exit codes and terminal concerns; no rule logic.

One module per kind of user work; this one holds the group and what they share.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from pathlib import Path

import click

from .. import __version__
from .. import diagnostics as diag
from ..config import Settings, settings
from ..diagnostics import DiagnosticError
from ..pipeline import Checked, load_rules
from .french import install

install()  # click's own words in French, before any help or usage error is written

OK, FOUND, BAD_INPUT, RULES_ERROR = 0, 1, 2, 3
EXIT_CODES = """
\b
Codes de sortie (les mêmes pour toutes les commandes) :
  0  succès (tous les dossiers complets, règles sans erreur, fixtures conformes)
  1  la vérification a trouvé des problèmes (dossier incomplet ou rejeté, fixture différente de
     son attendu, couverture insuffisante, changement avec --fail-on-change, avertissement avec --strict)
  2  mauvaise utilisation ou entrée illisible (JSON mal formé, dossier non conforme au schéma)
  3  les règles contiennent une erreur (de syntaxe ou de sens) : rien n'a été vérifié avec elles
  130, 143  vérification interrompue (Ctrl-C, signal SIGTERM) : les rapports déjà écrits sont complets
"""

def exit_codes(found: str | None, bad_input: str, rules: bool = True, interrupted: bool | str = False) -> str:
    """A command's own exit codes, for its help: each says what it means for that command (`interrupted`: what
    130 and 143 mean, when it is not the batch's words)."""
    lines = ["", "\b", "Codes de sortie :", "  0  succès"]
    lines += [f"  1  {found}"] if found else []
    lines.append(f"  2  {bad_input}")
    if rules:
        lines.append("  3  les règles contiennent une erreur (de syntaxe ou de sens) : rien n'a été vérifié avec elles")
    if isinstance(interrupted, str):
        lines.append(f"  130, 143  {interrupted}")
    elif interrupted:
        lines.append("  130, 143  vérification interrompue (Ctrl-C, SIGTERM) : les rapports déjà écrits sont complets")
    return "\n".join(lines) + "\n"


def tell(diagnostics) -> None:
    """Diagnostics on standard error, each in full (GNU line, excerpt, help): what a command could not use."""
    for d in diagnostics:
        click.echo(diag.render_text(d), err=True)


def configured() -> Settings:
    """The project's settings ([tool.immat], else ./rules and ./fixtures); a wrong one stops the command."""
    try:
        return settings()
    except DiagnosticError as exc:
        tell(exc.diagnostics)
        sys.exit(BAD_INPUT)


output_option = click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Écrit la sortie dans ce fichier, qui n'apparaît (ou n'est remplacé) qu'entier, à la fin.",
)


@contextlib.contextmanager
def written_to(output: Path | None):
    """What the command writes on standard output goes to `output` instead, whole or not at all; its exit (a
    result, not an accident) ends the file as the output's end does."""
    if output is None:
        yield
        return
    from .output import replaced

    sink = replaced(output)
    try:
        with contextlib.redirect_stdout(sink.stream):
            yield
    except SystemExit:
        sink.close(done=True)
        raise
    except BaseException:
        sink.close(done=False)
        raise
    sink.close(done=True)


def repository_root() -> str | None:
    """The root of the git checkout the working directory is in, from which code hosts resolve a finding's
    file; None outside one, or without git."""
    import subprocess  # here: a report's cold start need not import it (7 ms)

    try:
        found = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found.stdout.decode().strip() if found.returncode == 0 else None


def _default_rules(ctx, param, value: Path | None) -> Path | None:
    return value if value is not None else configured().rules


rules_option = click.option(
    "--rules", "rules", type=click.Path(path_type=Path), default=None, callback=_default_rules,
    help="Dossier (ou fichier) de règles ; par défaut, celui que nomme [tool.immat] rules dans le pyproject.toml "
         "le plus proche, sinon le dossier rules/ du dossier courant, sinon le paquet livré avec immat.",
)


# Each command's module, imported only when the command runs or a help text lists it (click's LazyGroup): a
# `validate` never loads the docs generator, the diff or the checker.
COMMANDS = {"check": "check:check", "completion": "completion:completion", "diff": "diff:diff",
            "docs": "docs:docs_command", "explain": "validate:explain", "fmt": "fmt:fmt", "schema": "validate:schema",
            "test": "rule_tests:rule_tests", "serve": "serve:serve", "validate": "validate:validate"}


class _Main(click.Group):
    """The commands, imported lazily; and the last resort behind the parser's and the checker's depth limits:
    never a Python traceback."""

    def list_commands(self, ctx) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, command = COMMANDS[name].split(":")
        return getattr(importlib.import_module(f"{__name__}.{module}"), command)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except RecursionError:
            click.echo("erreur[trop-imbrique]: entrée trop imbriquée pour être traitée (anomalie d'immat, à "
                       "signaler : les limites de profondeur auraient dû la refuser avec sa position)", err=True)
            sys.exit(BAD_INPUT)


def _version(ctx, param, value: bool) -> None:
    """immat's version and the digest of the pack it ships: what a report produced by it names."""
    if not value or ctx.resilient_parsing:
        return
    from ..pack import read_pack

    click.echo(f"immat {__version__} — paquet livré (empreinte {read_pack(None).identity().digest})")
    ctx.exit()


@click.group(name="immat", cls=_Main, epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]},
             subcommand_metavar="COMMANDE [ARGUMENTS]...")
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Affiche la version d'immat et l'empreinte du paquet de règles livré, puis quitte.")
@click.option("--color", "color", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True,
              help="Couleurs du rapport texte et de la barre de progression : auto (sur un terminal, sauf si "
                   "NO_COLOR est défini), always (toujours, même dans un tube), never (jamais).")
def main(color) -> None:
    """Vérifie les dossiers de demande de certificat d'immatriculation (carte grise) au regard de règles
    lisibles par un juriste, et explique chaque résultat avec sa source légale."""
    COLOR[0] = color


COLOR = ["auto"]  # --color, for the commands that write to a terminal


def coloured(stream) -> bool:
    """Whether to write colours to `stream`: --color always or never, else on a terminal unless NO_COLOR is set
    (https://no-color.org: any value but the empty one)."""
    if COLOR[0] != "auto":
        return COLOR[0] == "always"
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _load(rules: Path | None) -> Checked:
    checked = load_rules(rules, needs_requirement=True)
    if not checked.ok:
        tell(checked.diagnostics)
        click.echo(f"Les règles {checked.pack} contiennent des erreurs : lancez « immat check » pour le détail.",
                   err=True)
        sys.exit(RULES_ERROR)
    return checked
