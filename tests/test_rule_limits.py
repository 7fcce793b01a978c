"""Rule files at and just past each documented limit: accepted just under, a located French error just over,
and never a Python RecursionError, whatever the nesting."""

from __future__ import annotations

import inspect
import json
import sys

import pytest

from immat.check.tables import MAX_ROWS
from immat.parse import MAX_FILE_CHARS
from immat.syntax import MAX_DEPTH

REQUIREMENT = """
exigence e
  titre "Essai"
  source "Essai"
  s'applique si {condition}
  exige que vrai
  message "Rien à faire."
"""


def _pack(tmp_path, text: str):
    path = tmp_path / "regles.immat"
    path.write_text(text, "utf-8")
    return path


def _errors(cli, path, *args) -> tuple[int, list[dict]]:
    result = cli("check", "--format", "json", *args, path)
    return result.exit_code, [d for d in json.loads(result.stdout) if d["severity"] == "error"]


def _nots(depth: int) -> str:
    return "non " * (depth - 1) + "vrai"  # `vrai` is one level, each `non` one more


def _sum(depth: int) -> str:
    # ((1 + 1) + 1 …) = 1: one level per operator, one for `=`, one for the innermost 1.
    return " + ".join(["1"] * (depth - 1)) + " = 1"


def _parenthesised(depth: int) -> str:
    # (1 + (1 + (… + 1))) = 1: a sum in each pair of parentheses.
    inner = "1"
    for _ in range(depth - 2):
        inner = f"(1 + {inner})"
    return inner + " = 1"


@pytest.mark.parametrize("condition", [_nots, _sum, _parenthesised], ids=["non", "plus", "parentheses"])
def test_an_expression_nested_to_the_limit_is_accepted_and_one_level_more_is_located(condition, cli, tmp_path):
    assert _errors(cli, _pack(tmp_path, REQUIREMENT.format(condition=condition(MAX_DEPTH)))) == (0, [])
    code, errors = _errors(cli, _pack(tmp_path, REQUIREMENT.format(condition=condition(MAX_DEPTH + 1))))
    assert code == 3  # an error in the rules, as a syntax error is
    assert [(e["code"], e["line"]) for e in errors] == [("trop-imbrique", 5)]
    assert "plus de 100 niveaux" in errors[0]["message"]


def test_thousands_of_parentheses_around_a_value_are_only_grouping(cli, tmp_path):
    condition = "(" * 5000 + "vrai" + ")" * 5000
    assert _errors(cli, _pack(tmp_path, REQUIREMENT.format(condition=condition))) == (0, [])


def test_long_flat_chains_of_et_and_ou_are_accepted(cli, tmp_path):
    condition = " et ".join(["vrai"] * 3000) + " ou " + " ou ".join(["faux"] * 3000)
    assert _errors(cli, _pack(tmp_path, REQUIREMENT.format(condition=condition))) == (0, [])


def _chain(length: int) -> str:
    """d1 = d2, d2 = d3, …: d1 is `length` levels deep; the requirement uses the last one only."""
    lines = [f"définition d{i} = d{i + 1}\n" for i in range(1, length)] + [f"définition d{length} = vrai\n"]
    return "".join(lines) + REQUIREMENT.format(condition=f"d{length}")


def test_a_chain_of_definitions_at_the_limit_is_accepted_and_one_more_is_located(cli, tmp_path):
    assert _errors(cli, _pack(tmp_path, _chain(MAX_DEPTH)))[1] == []
    code, errors = _errors(cli, _pack(tmp_path, _chain(MAX_DEPTH + 1)))
    assert code == 3
    assert [(e["code"], e["line"], e["column"]) for e in errors] == [("chaine-trop-longue", 1, 12)]
    assert "101 niveaux, au plus 100 (d1 → d2 → d3 → d4 → …)" in errors[0]["message"]


def test_a_chain_of_five_thousand_definitions_and_a_long_cycle_are_located(cli, tmp_path):
    code, errors = _errors(cli, _pack(tmp_path, _chain(5000)))
    assert (code, [e["code"] for e in errors]) == (3, ["chaine-trop-longue"])
    cycle = "".join(f"définition d{i} = d{i % 3000 + 1}\n" for i in range(1, 3001)) + REQUIREMENT.format(
        condition="d1")
    code, errors = _errors(cli, _pack(tmp_path, cycle))
    assert (code, [e["code"] for e in errors]) == (3, ["chaine-trop-longue"])


def test_a_short_cycle_is_still_reported_as_a_cycle(cli, tmp_path):
    cycle = "définition a = b\ndéfinition b = a\n" + REQUIREMENT.format(condition="a")
    assert [e["code"] for e in _errors(cli, _pack(tmp_path, cycle))[1]] == ["cycle"]


def test_a_rule_file_at_the_size_limit_is_read_and_one_character_more_is_located(cli, tmp_path):
    rule = REQUIREMENT.format(condition="vrai")
    padding = MAX_FILE_CHARS - len(rule) - 3  # "# " and the line break
    text = rule + "# " + "x" * padding + "\n"
    assert len(text) == MAX_FILE_CHARS
    assert _errors(cli, _pack(tmp_path, text)) == (0, [])
    code, errors = _errors(cli, _pack(tmp_path, text + "\n"))
    assert code == 3
    assert [(e["code"], e["line"]) for e in errors] == [("fichier-trop-long", 9)]


def _table(rows: int) -> str:
    lines = "".join(f"    {key} : 1 €\n" for key in range(rows))
    return (REQUIREMENT.format(condition="vrai") + '\nbarème grand\n  titre "Grand"\n  source "Essai"\n'
            "  en vigueur depuis le 01/01/2020\n" + lines)


def test_a_bareme_at_the_row_limit_is_accepted_and_one_row_more_is_located(cli, tmp_path):
    assert _errors(cli, _pack(tmp_path, _table(MAX_ROWS)))[1] == []
    code, errors = _errors(cli, _pack(tmp_path, _table(MAX_ROWS + 1)))
    assert code == 3
    assert [(e["code"], e["line"]) for e in errors] == [("bareme-trop-long", 13 + MAX_ROWS)]


def test_every_command_works_on_rules_at_the_limits(cli, tmp_path):
    # The deepest the limits allow, through a chain of definitions: every stage walks it recursively.
    half = MAX_DEPTH // 2
    chain = "".join(f"définition d{i} = non d{i + 1}\n" for i in range(1, half)) + f"définition d{half} = vrai\n"
    rules = _pack(tmp_path, chain + REQUIREMENT.format(condition=_nots(MAX_DEPTH - half)))
    dossier = "fixtures/exemple/dossier.json"
    for fmt in ("text", "json", "markdown", "html"):
        assert cli("validate", "--rules", rules, "--explain", "--format", fmt, dossier).exit_code == 0
    assert cli("explain", "--rules", rules, dossier).exit_code == 0
    assert cli("docs", "--rules", rules, "-o", tmp_path / "site").exit_code == 0
    assert cli("fmt", "--check", rules).exit_code in (0, 1)
    assert cli("diff", "--base", rules, "--rules", rules, "--corpus", dossier).exit_code == 0


def test_fmt_locates_an_expression_too_deep_instead_of_crashing(cli, tmp_path):
    rules = _pack(tmp_path, REQUIREMENT.format(condition=_nots(2000)))
    result = cli("fmt", "--check", rules)
    assert result.exit_code == 3
    assert "erreur[trop-imbrique]" in result.output


def test_a_recursion_error_never_escapes_as_a_traceback(cli, tmp_path):
    # The limits above keep every walk shallow; behind them, the command group turns a RecursionError into a
    # French error. With a recursion limit this low, rules at the depth limit reach it.
    rules = _pack(tmp_path, REQUIREMENT.format(condition=_nots(MAX_DEPTH)))
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(len(inspect.stack()) + 150)
        result = cli("check", rules)
    finally:
        sys.setrecursionlimit(limit)
    assert result.exit_code in (2, 3)
    assert "Traceback" not in result.output
    assert "trop-imbrique" in result.output
