"""Rewrites that let a condition be said more simply, without changing what it means.

Each works on the flat operands of one « et » or « ou »: a list of (expression, negated) pairs.
"""

from __future__ import annotations

from .. import ir
from ..frozen import frozen
from ..ir import FieldRef

NEGATED = {"=": "!=", "!=": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


@frozen
class OneOf:
    """`x = "a" ou x = "b"` said once: « x est « a » ou « b » » (with ≠ and « et »: « ni … ni … »)."""

    left: ir.Expr
    rights: tuple[ir.Expr, ...]
    equal: bool


def merge_undeclared(items: list, every: bool) -> list:
    """`X n'est pas renseigné ou X = faux` said once, as `non (X à défaut faux)`: « non X (si le dossier ne
    le dit pas : c'est le cas) »."""
    for i, (e, neg) in enumerate(items):
        if not isinstance(e, ir.IsSet) or neg == every or not isinstance(e.operand, FieldRef):
            continue
        for j, (other, other_neg) in enumerate(items):
            tested = _bool_test(other, other_neg)
            if tested is None or tested[0] != e.operand:
                continue
            b = tested[1]
            assumed = ir.Literal(b if not every else not b, type=ir.BOOL, span=e.span)
            merged = (ir.Default(e.operand, assumed, type=ir.BOOL, span=e.span), not b)
            rest = [x for k, x in enumerate(items) if k not in (i, j)]
            return merge_undeclared(rest[:min(i, j)] + [merged] + rest[min(i, j):], every)
    return items


def _bool_test(e, neg: bool) -> tuple[FieldRef, bool] | None:
    """(X, b) when the item holds exactly when the boolean field X is b."""
    if isinstance(e, FieldRef) and e.type.kind == "booléen":
        return e, not neg
    if isinstance(e, ir.Compare) and isinstance(e.right, ir.Literal) and isinstance(e.left, FieldRef) \
            and e.op in ("=", "!="):
        op = NEGATED[e.op] if neg else e.op
        return e.left, e.right.value if op == "=" else not e.right.value
    return None


def merge_one_of(items: list, every: bool) -> list:
    """Consecutive `x = "a" ou x = "b"` (`x ≠ "a" et x ≠ "b"`) merged into one item."""
    wanted = "!=" if every else "="
    out: list = []
    for e, neg in items:
        if out and _mergeable(e, neg, wanted):
            last, last_neg = out[-1]
            if isinstance(last, OneOf) and last.left == e.left:
                out[-1] = (OneOf(e.left, last.rights + (e.right,), not every), False)
                continue
            if _mergeable(last, last_neg, wanted) and last.left == e.left:
                out[-1] = (OneOf(e.left, (last.right, e.right), not every), False)
                continue
        out.append((e, neg))
    return out


def _mergeable(e, neg: bool, wanted: str) -> bool:
    if not isinstance(e, ir.Compare) or not isinstance(e.right, ir.Literal) or e.right.type.kind != "texte":
        return False
    return (NEGATED[e.op] if neg else e.op) == wanted
