"""The compiled evaluators against the reference (engine/evaluate.py): the same outcome for every fixture, and for
mutated fixture dossiers under the shipped pack, under each rule file of the language's tests and under mutated
rule files; without the reasoning (engine/compile.py) and with it, trees included (engine/explain.py).
(test_fuzz_dossiers holds every report of a mutated dossier to it too.)"""

from __future__ import annotations

import ast
import functools
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fuzz.dossiers import mutate as mutate_dossier
from fuzz.dossiers import values_by_key
from fuzz.mutate import mutate as mutate_rules
from immat.compile import Compiled
from immat.explain import _Explainer
from immat.diagnostics import DiagnosticError
from immat.evaluate import evaluate
from immat.pipeline import fixture_folders, load_rules, parse_dossier
from immat.schema import shipped_schema

from .conftest import ROOT

FIXTURES = fixture_folders(ROOT / "fixtures")
LANGUAGE_PACKS = sorted((ROOT / "tests" / "evaluate").glob("*.immat"))


@functools.cache
def _dossiers() -> list[dict]:
    """The fixtures' dossiers as validation hands them over (spellings normalised); unreadable ones left out."""
    found = []
    for folder in FIXTURES:
        try:
            found.append(parse_dossier((folder / "dossier.json").read_text("utf-8"), "d", shipped_schema()).data)
        except DiagnosticError:
            continue
    return found


@functools.cache
def _compiled(rules: str | None):
    program = load_rules(rules).program
    return program, _both(program)


def _both(program) -> tuple[Compiled, Compiled]:
    return Compiled(program), Compiled(program, _Explainer)


def _agree(program, compiled: tuple[Compiled, Compiled], data: dict) -> None:
    reference = evaluate(program, "d", data)
    plain, explaining = compiled
    assert plain.evaluate("d", data) == reference.unexplained()
    assert explaining.evaluate("d", data) == reference


@pytest.mark.parametrize("index", range(len(_dossiers())))
def test_each_fixture_gives_the_reference_outcome(index):
    _agree(*_compiled(None), _dossiers()[index])


PARTIAL = sorted((ROOT / "tests" / "dossier" / "good").glob("*.json"))


@pytest.mark.parametrize("path", PARTIAL, ids=lambda p: p.stem)
def test_each_partial_dossier_the_schema_admits_gives_the_reference_outcome(path):
    # Dossiers that give little (no holder, no piece): every rule must still give an outcome, never an anomaly.
    _agree(*_compiled(None), parse_dossier(path.read_text("utf-8"), "d", shipped_schema()).data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.sampled_from([None, *map(str, LANGUAGE_PACKS)]), rng=st.randoms(use_true_random=False))
def test_a_mutated_dossier_gives_the_reference_outcome_under_every_pack(rules, rng):
    base = rng.choice(_dossiers())
    try:
        data = parse_dossier(mutate_dossier(base, rng, values_by_key(_dossiers())), "d", shipped_schema()).data
    except DiagnosticError:
        data = base
    _agree(*_compiled(rules), data)


def mutated_program(pack, rng, tmp_path_factory):
    """The program of a language test's rule file mutated at random, or None when the mutant does not check."""
    folder = tmp_path_factory.mktemp("regles")
    (folder / pack.name).write_text(mutate_rules(pack.read_text("utf-8"), rng), "utf-8")
    return load_rules(folder).program


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pack=st.sampled_from(LANGUAGE_PACKS), rng=st.randoms(use_true_random=False))
def test_a_mutated_rule_file_that_checks_gives_the_reference_outcome(pack, rng, tmp_path_factory):
    program = mutated_program(pack, rng, tmp_path_factory)
    if program is None:
        return  # refused with diagnostics: test_fuzz_rules holds those to their own contract
    compiled = _both(program)
    for data in random.Random(rng.random()).sample(_dossiers(), 5):
        _agree(program, compiled, data)


# Names the generated source may use: its own (S state, D data, M memo, K constants, eN loop variables, vN
# values, svN their steps, and the functions it defines) and the runtime's; nothing named in a rule file.
_GENERATED = r"[SDMK]|e\d+|s?v\d+|[dampqrnkcx]\d+|x|p"


@pytest.mark.parametrize("which", [0, 1], ids=["sans raisonnement", "avec raisonnement"])
def test_the_generated_source_names_nothing_from_the_rule_files(which):
    import re

    from immat.compile import _RUNTIME

    compiled = _compiled(None)[1][which]
    tree = ast.parse(compiled.source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    names |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args}
    allowed = set(_RUNTIME) | set(_Explainer(_compiled(None)[0]).runtime()) | {
        "DEF", "AMOUNT", "CELL", "RESOLVE", "id", "True", "False", "None", "bool", "int", "dict", "list", "len", "frozenset",
        "tuple"}
    assert {n for n in names if not re.fullmatch(_GENERATED, n)} <= allowed
    texts = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert "achat" in texts  # dossier fields are string constants (repr), never code


def test_every_visitor_handles_every_kind_of_expression():
    from immat.columns import Batch
    from immat.compile import _Generator
    from immat.docs.prose import Prose
    from immat.evaluate import _Run
    from immat.ir import EXPRESSIONS, ExpressionVisitor

    for visitor in (_Run, _Generator, Prose, Batch):
        assert issubclass(visitor, ExpressionVisitor)
        missing = [kind.__name__ for kind in EXPRESSIONS if not hasattr(visitor, visitor.prefix + kind.__name__)]
        assert not missing, f"{visitor.__name__} ne traite pas : {', '.join(missing)}"


def test_the_checker_gives_every_kind_of_syntax_expression_its_typed_form():
    import inspect

    from immat import syntax as s
    from immat.check.checker import _Checker

    kinds = [c for _, c in inspect.getmembers(s, inspect.isclass) if issubclass(c, s.Expr) and c is not s.Expr]
    missing = [kind.__name__ for kind in kinds if not hasattr(_Checker, "_e_" + kind.__name__)]
    assert kinds and not missing, f"le vérificateur ne traite pas : {', '.join(missing)}"


def test_a_kind_of_expression_no_visitor_knows_is_a_clear_error():
    from immat import ir
    from immat.ir import ExpressionVisitor

    class Partial(ExpressionVisitor):
        def _e_Literal(self, e):
            return e.value

    assert Partial().visit(ir.Literal(1, type=ir.INT, span=None)) == 1
    with pytest.raises(TypeError, match="Partial ne sait pas traiter une expression Rank"):
        Partial().visit(ir.Rank("titulaire", span=None))
