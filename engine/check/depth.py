"""Declared items → the ones whose evaluation would nest deeper than MAX_DEPTH, definitions used included.

Measured before names are resolved, because resolving (like evaluating and documenting) follows each
reference recursively: a chain d1 = d2, d2 = d3, … d5000 must be refused before anything walks it.
"""

from __future__ import annotations

from .. import syntax as s
from ..diagnostics import Diagnostic, error

_SHOWN_LINKS = 3


def too_deep(items: dict[str, tuple[s.Item, s.Module]]) -> list[Diagnostic]:
    """One error per item that is too deep and is not itself used by a deeper one (the chain's head).

    An item's depth is that of its deepest expression, where a use of a definition or an amount at depth k
    counts k + that item's depth: d1 = d2, d2 = 1 is 2 deep. A reference that closes a cycle counts its own
    level only; the cycle itself is the checker's error.
    """
    references = {name: _references(item, items) for name, (item, _) in items.items()}
    found = _depths(references)
    deep = {name for name, (depth, _) in found.items() if depth > s.MAX_DEPTH}
    used_by_deep = {found[name][1] for name in deep}
    return [_error(name, items, found) for name in sorted(deep - used_by_deep)]


def _references(item: s.Item, items: dict) -> tuple[int, list[tuple[int, str]]]:
    """The item's own depth, and (depth, name) of each definition or amount it uses."""
    own, used = 0, []
    for e, depth in s.nesting(item):
        own = max(own, depth)
        if isinstance(e, s.Path) and isinstance(items.get(e.parts[0], (None,))[0], (s.Definition, s.Amount)):
            used.append((depth, e.parts[0]))
    return own, used


def _depths(references: dict[str, tuple[int, list[tuple[int, str]]]]) -> dict[str, tuple[int, str | None]]:
    """(depth, the item the deepest path goes through) of every item: a depth-first walk with its own stack."""
    done: dict[str, tuple[int, str | None]] = {}
    for root in references:
        if root in done:
            continue
        stack, on_path = [(root, iter(references[root][1]))], {root}
        while stack:
            name, pending = stack[-1]
            target = next((t for _, t in pending if t not in done and t not in on_path), None)
            if target is not None:
                stack.append((target, iter(references[target][1])))
                on_path.add(target)
                continue
            stack.pop()
            on_path.discard(name)
            own, used = references[name]
            done[name] = max([(own, None)] + [(k + done[t][0], t) for k, t in used if t in done],
                             key=lambda pair: pair[0])
    return done


def _error(name: str, items: dict, found: dict) -> Diagnostic:
    chain = [name]
    while found[chain[-1]][1] is not None and len(chain) <= _SHOWN_LINKS:
        chain.append(found[chain[-1]][1])
    shown = " → ".join(chain) + (" → …" if found[chain[-1]][1] is not None else "")
    depth = found[name][0]
    message = (f"« {name} » s'évalue à travers une chaîne de définitions trop longue ou trop imbriquée : "
               f"{depth} niveaux, au plus {s.MAX_DEPTH} ({shown})")
    return error("chaine-trop-longue", message, items[name][0].name_span,
                 help="raccourcissez la chaîne : employez directement la définition qu'une autre ne fait que "
                      "reprendre, ou simplifiez les expressions")
