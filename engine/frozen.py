"""Frozen attrs classes whose equality, hash and text are written once, for all of them.

attrs compiles an `__eq__`, a `__hash__` and a `__repr__` for every class it makes. immat makes about a hundred
at import, and compiling those three took about 15 ms of a cold start's 140 ms of imports. The functions here do the same
work for any class: the fields with `eq` compared, in order, only with an instance of the very same class; the
fields with `repr` shown, as attrs writes them (« Money(amount=Decimal('11')) »).
"""

from __future__ import annotations

import operator

import attrs


def _eq(value, other):
    if other.__class__ is not value.__class__:
        return NotImplemented
    return value.__compared__(value) == other.__compared__(other)


def _hash(value) -> int:
    return hash((value.__class__.__qualname__, value.__compared__(value)))


def _repr(value) -> str:
    shown = ", ".join(f"{a.name}={getattr(value, a.name)!r}" for a in attrs.fields(value.__class__) if a.repr)
    return f"{value.__class__.__qualname__.rsplit('>.', 1)[-1]}({shown})"


def frozen(cls: type | None = None, /, *, eq: bool = True, **options):
    """`attrs.frozen`, with the shared `__eq__`, `__hash__` (unless `eq=False`: compared by identity) and
    `__repr__`; the other options are attrs's own."""

    def make(cls: type) -> type:
        made = attrs.frozen(cls, repr=False, eq=False, **options)
        if eq:
            names = tuple(a.name for a in attrs.fields(made) if a.eq)
            made.__compared__ = staticmethod(operator.attrgetter(*names) if names else lambda value: ())
            made.__eq__, made.__hash__ = _eq, _hash
        made.__repr__ = _repr
        return made

    return make if cls is None else make(cls)
