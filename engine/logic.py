"""Conditions → what can be proved about them without a dossier: exclusivity, impossibility."""

from __future__ import annotations

from . import ir

# Literals with an order, by what they measure: the bounds of a range (`x ≤ 140`, `date_demande ≥ 01/07/2020`).
ORDERED = {"entier": "nombre", "décimal": "nombre", "montant": "montant", "date": "date"}
# `140 ≥ x` says `x ≤ 140`.
MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


def _conjuncts(e: ir.Expr) -> tuple[ir.Expr, ...]:
    return tuple(x for o in e.operands for x in _conjuncts(o)) if isinstance(e, ir.And) else (e,)


def exclusive(a: ir.Expr, b: ir.Expr) -> bool:
    """True when the two conditions provably cannot both hold (a sound, incomplete test)."""
    if isinstance(a, ir.Or):
        return all(exclusive(x, b) for x in a.operands)
    if isinstance(b, ir.Or):
        return all(exclusive(a, y) for y in b.operands)
    return _contradictory(_conjuncts(a) + _conjuncts(b))


def impossible(condition: ir.Expr) -> bool:
    """True when the condition provably never holds: its conjuncts exclude each other."""
    if isinstance(condition, ir.Or):
        return all(impossible(x) for x in condition.operands)
    return _contradictory(_conjuncts(condition))


def _contradictory(conjuncts: tuple[ir.Expr, ...]) -> bool:
    """Whether the conditions cannot all hold together."""
    pairs = ((x, y) for i, x in enumerate(conjuncts) for y in conjuncts[i + 1:])
    return any(_atoms_exclusive(x, y) for x, y in pairs) or _out_of_range(conjuncts)


def _atoms_exclusive(x: ir.Expr, y: ir.Expr) -> bool:
    if isinstance(x, ir.Not) and x.operand == y or isinstance(y, ir.Not) and y.operand == x:
        return True
    if not (isinstance(x, ir.Compare) and isinstance(y, ir.Compare) and x.left == y.left):
        return False
    if not (_unordered_literal(x.right) and _unordered_literal(y.right)):  # ordered literals are ranges, below
        return False
    ops = {x.op, y.op}
    if ops == {"="}:
        return x.right != y.right
    return ops == {"=", "!="} and x.right == y.right


def _out_of_range(conjuncts: tuple[ir.Expr, ...]) -> bool:
    """Whether the comparisons of one expression with literals leave it no value (`x ≤ 140` and `x ≥ 219`)."""
    bounds: dict[tuple, list] = {}
    for c in conjuncts:
        found = _bound(c)
        if found is not None:
            operand, kind, op, value = found
            bounds.setdefault((operand, kind), []).append((op, value))
    return any(_empty(b) for b in bounds.values())


def _bound(c: ir.Expr):
    """(operand, what the literal measures, op, value) of `operand op literal`, in either order, else None."""
    if not isinstance(c, ir.Compare):
        return None
    operand, op, literal = c.left, c.op, c.right
    if _measure(operand):
        operand, op, literal = literal, MIRRORED[op], operand
    if not _measure(literal) or _measure(operand):
        return None
    value = literal.value.amount if literal.type.kind == "montant" else literal.value
    return operand, _measure(literal), op, value


def _measure(e: ir.Expr) -> str | None:
    """What an ordered literal measures; None for anything else."""
    return ORDERED.get(e.type.kind) if isinstance(e, ir.Literal) else None


def _unordered_literal(e: ir.Expr) -> bool:
    return isinstance(e, ir.Literal) and e.type.kind in ("texte", "booléen")


def _empty(bounds: list[tuple[str, object]]) -> bool:
    """Whether no value satisfies every `op value` at once: the interval they leave is empty, or one point ruled out."""
    lows = [(v, op == ">") for op, v in bounds if op in (">", ">=", "=")]
    highs = [(v, op == "<") for op, v in bounds if op in ("<", "<=", "=")]
    if not lows or not highs:
        return False
    # At equal bounds the strict one wins: x > 5 leaves less than x ≥ 5.
    low, low_open = max(lows)
    high, high_open = min(highs, key=lambda h: (h[0], not h[1]))
    excluded = {v for op, v in bounds if op == "!="}
    return low > high or (low == high and (low_open or high_open or low in excluded))
