"""Conditions → what can be proved about them without a dossier: exclusivity, impossibility."""

from __future__ import annotations

from . import syntax as s


def _conjuncts(e: s.Expr) -> tuple[s.Expr, ...]:
    return e.operands if isinstance(e, s.And) else (e,)


def exclusive(a: s.Expr, b: s.Expr) -> bool:
    """True when the two conditions provably cannot both hold (a sound, incomplete test)."""
    if isinstance(a, s.Or):
        return all(exclusive(x, b) for x in a.operands)
    if isinstance(b, s.Or):
        return all(exclusive(a, y) for y in b.operands)
    return any(_atoms_exclusive(x, y) for x in _conjuncts(a) for y in _conjuncts(b))


def _atoms_exclusive(x: s.Expr, y: s.Expr) -> bool:
    if isinstance(x, s.Not) and x.operand == y or isinstance(y, s.Not) and y.operand == x:
        return True
    if not (isinstance(x, s.Compare) and isinstance(y, s.Compare) and x.left == y.left):
        return False
    literal = (s.Text, s.Number, s.Boolean, s.DateLit)
    if not (isinstance(x.right, literal) and isinstance(y.right, literal)):
        return False
    ops = {x.op, y.op}
    if ops == {"="}:
        return x.right != y.right
    return ops == {"=", "!="} and x.right == y.right


def impossible(condition: s.Expr) -> bool:
    """True when the condition provably never holds: two of its conjuncts exclude each other."""
    if isinstance(condition, s.Or):
        return all(impossible(x) for x in condition.operands)
    parts = _conjuncts(condition)
    return any(exclusive(a, b) for i, a in enumerate(parts) for b in parts[i + 1:])
