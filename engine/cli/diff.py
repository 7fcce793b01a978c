"""Commands for rule authors in CI: what a rule change does to real dossiers, before it merges."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click

from .. import diagnostics as diag
from .. import impact
from ..diagnostics import DiagnosticError
from ..pipeline import diff_one, load_rules
from ..program import Program
from . import BAD_INPUT, FOUND, OK, RULES_ERROR, configured, exit_codes, repository_root, rules_option, tell
from ..inputs import read_documents

DEFAULT_RULES_IN_REPOSITORY = "rules"
RENDERERS = {"text": impact.render_text, "json": impact.render_json, "markdown": impact.render_markdown}


class UsageProblem(Exception):
    """A bad --base or --corpus, told in one French sentence."""


# ------------------------------------------------------------------ the base rules: a folder or a git revision


def _git(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as exc:
        raise UsageProblem(f"git est introuvable ({exc})") from exc


def _repository(base: str) -> Path:
    root = repository_root()
    if root is None:
        raise UsageProblem(f"--base « {base} » n'est ni un dossier de règles ni une révision git : "
                           "le dossier courant n'est pas dans un dépôt git (ou git est introuvable)")
    return Path(root)


def _commit(base: str, root: Path) -> str:
    found = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{base}^{{commit}}"], cwd=root)
    shallow = _git(["rev-parse", "--is-shallow-repository"], cwd=root).stdout.decode().strip() == "true"
    if found.returncode != 0 and shallow:
        raise UsageProblem(f"--base « {base} » : la révision n'est pas dans ce clone, qui est superficiel "
                           f"(shallow) ; récupérez-la (git fetch origin {base}, ou git fetch --unshallow ; dans "
                           "GitHub Actions, actions/checkout avec fetch-depth: 0)")
    if found.returncode != 0:
        raise UsageProblem(f"--base « {base} » n'est ni un dossier de règles ni une révision git connue "
                           f"du dépôt {root}")
    return found.stdout.decode().strip()


def _rules_in_repository(rules: Path | None, root: Path) -> str:
    """The rules folder inside the repository: the one --rules names when it lies there, else `rules`."""
    if rules is None:
        return DEFAULT_RULES_IN_REPOSITORY
    try:
        return rules.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return DEFAULT_RULES_IN_REPOSITORY


def _extract(base: str, commit: str, inside: str, root: Path, target: Path) -> None:
    archive = _git(["archive", "--format=tar", commit, "--", inside], cwd=root)
    if archive.returncode != 0:
        raise UsageProblem(f"« {inside} » n'existe pas à la révision « {base} »")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        # The « data » filter (Python 3.11.4+) refuses links and paths that leave the target folder.
        tar.extractall(target, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))


@contextlib.contextmanager
def _base_rules(base: str, rules: Path | None) -> Iterator[tuple[Path, str | None]]:
    """The base rules as a path, and the temporary prefix that diagnostics should show as `REF:`."""
    if Path(base).exists():
        yield Path(base), None
        return
    root = _repository(base)
    commit = _commit(base, root)
    inside = _rules_in_repository(rules, root)
    with tempfile.TemporaryDirectory(prefix="immat-diff-") as tmp:
        _extract(base, commit, inside, root, Path(tmp))
        yield Path(tmp) / inside, f"{Path(tmp).as_posix()}/"


# ------------------------------------------------------------------ loading both versions, reading the corpus


def _program(rules: Path | None, label: str, prefix: tuple[str, str] | None = None) -> Program | None:
    """The checked Program, or None after printing its diagnostics as `immat check` would."""
    checked = load_rules(rules, needs_requirement=True)
    if checked.ok:
        return checked.program
    click.echo(f"Les règles {label} contiennent des erreurs :", err=True)
    for d in checked.diagnostics:
        text = diag.render_text(d)
        click.echo(text.replace(*prefix) if prefix else text, err=True)
    return None


def _corpus(paths: tuple[str, ...]) -> tuple[str, ...]:
    if not paths:
        fixtures = configured().fixtures
        if not fixtures.is_dir():
            raise UsageProblem(f"pas de corpus : le dossier {fixtures.as_posix()}/ est introuvable ici ; "
                               "indiquez --corpus CHEMIN")
        return tuple(str(p) for p in sorted(fixtures.glob("*/dossier.json")))
    for raw in paths:
        if raw != "-" and not Path(raw).exists():
            raise UsageProblem(f"--corpus « {raw} » est introuvable")
    return paths


def _changes(results):
    """(name, changes) per dossier, in order, from pipeline.diff_one's results; why one is unreadable is told."""
    for name, changes, diagnostics in results:
        for d in diagnostics:
            click.echo(diag.gnu_line(d), err=True)
        yield name, changes


@contextlib.contextmanager
def _compared(before: Program, after: Program, paths: tuple[str, ...], dask_address: str | None):
    documents = read_documents(paths)
    if dask_address is None:
        yield (diff_one(before, after, d) for d in documents)
        return
    from ..cluster import connect, diff_on_cluster

    with connect(dask_address) as client:
        yield diff_on_cluster(client, before, after, documents)


def _fail(message: str) -> None:
    click.echo(f"erreur : {message}", err=True)
    sys.exit(BAD_INPUT)


# ------------------------------------------------------------------ diff


@click.command(epilog="""
\b
Exemples :
  immat diff --base main
  immat diff --base HEAD~1 --rules rules --format markdown -o diff-complet.md > commentaire.md
  immat diff --base ancienne_version/ --rules rules --corpus lot.jsonl --fail-on-change

\b
--format json écrit un objet, clés dans cet ordre, identique octet pour octet d'une exécution à l'autre :
  {"base": "HEAD~1", "current": "rules" ou null (règles livrées),
   "summary": {"dossiers": 41, "changed": 3, "unreadable": 1},
   "unreadable": ["corpus/illisible.json"],
   "verdict": {"dossiers": 2, "changes": [{"dossier": "…", "before": "complete", "after": "incomplete"}]},
   "rules": [{"id": "controle_technique", "kind": "exigence", "title": "…", "dossiers": 3,
              "changes": [{"dossier": "…", "holder": null ou {"index": 0, "name": "…"},
                           "before": "satisfied", "after": "missing"}]}]}
  Une exigence vaut son statut (satisfied, missing, not_applicable, unknown, error), un montant
  {"status": "computed", "value": "215.00"} ; null : la règle n'existe pas dans cette version.
  Les exigences viennent avant les montants, chacune par identifiant ; les dossiers, dans l'ordre du corpus.

\b
Pour immat diff, le code 1 signale un changement quand --fail-on-change est donné ; un dossier
illisible est listé une fois et ne change pas le code de sortie.
""" + exit_codes(
    "un dossier change, avec --fail-on-change",
    "mauvaise utilisation (--base ou --corpus introuvable, clone superficiel), ou un corpus sans dossier"
))
@click.option("--base", required=True, metavar="RÉVISION|DOSSIER",
              help="Règles de référence : un dossier de règles, ou une révision git du dépôt courant "
                   "(dont on lit le dossier de règles, celui de --rules s'il est dans le dépôt, sinon rules/) ; "
                   "un dossier existant l'emporte sur une révision de même nom.")
@rules_option
@click.option("--corpus", multiple=True, metavar="CHEMIN",
              help="Dossiers à comparer (fichiers .json, dossiers, .jsonl, - ; répétable) ; "
                   "par défaut les fixtures : */dossier.json sous le dossier que nomme [tool.immat] fixtures, "
                   "sinon sous fixtures/ du dossier courant.")
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True)
@click.option("--fail-on-change", is_flag=True, help="Sortir avec le code 1 si un dossier change.")
@click.option("--max-bytes", type=click.IntRange(min=1000), default=60_000, show_default=True,
              help="En Markdown, taille au plus du rapport sur la sortie standard (un commentaire de pull request "
                   "en tient 65 536) : au-delà, le détail est coupé, avec le nombre de changements non affichés.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Écrit aussi le rapport entier, jamais coupé, dans ce fichier.")
@click.option("--dask", "dask_address", metavar="ADRESSE", default=None,
              help="Répartit le corpus sur une grappe Dask : l'adresse de son ordonnanceur, ou local:N pour N "
                   "processus sur cette machine (pip install 'immat[dask]').")
def diff(base, rules, corpus, fmt, fail_on_change, max_bytes, output, dask_address) -> None:
    """Montre ce qu'un changement de règles fait aux dossiers : chaque dossier dont le verdict, le statut
    d'une exigence ou un montant change entre les règles de base et les règles actuelles, regroupé par règle."""
    try:
        paths = _corpus(corpus)
        with _base_rules(base, rules) as (folder, temporary):
            before = _program(folder, f"de base « {base} »", temporary and (temporary, f"{base}:"))
    except UsageProblem as exc:
        _fail(str(exc))
    after = _program(rules, "actuelles" if rules is None else f"actuelles « {rules} »")
    if before is None or after is None:
        sys.exit(RULES_ERROR)
    # The base is named as --base gave it: a git revision is read from a temporary folder.
    click.echo(f"Règles de base « {base} » (empreinte {before.pack.digest}) ; règles actuelles : {after.pack.signed()}", err=True)
    try:
        with _compared(before, after, paths, dask_address) as results:
            result = impact.compare(_changes(results), base, None if rules is None else str(rules),
                                    (before.pack, after.pack))
    except DiagnosticError as exc:
        tell(exc.diagnostics)
        sys.exit(BAD_INPUT)
    if result.total == 0:
        _fail("le corpus ne contient aucun dossier")
    whole = RENDERERS[fmt](result)
    if output is not None:
        output.write_text(whole, encoding="utf-8")
    click.echo(impact.render_markdown(result, max_bytes) if fmt == "markdown" else whole, nl=False)
    sys.exit(FOUND if fail_on_change and result.changed else OK)
