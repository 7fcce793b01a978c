"""Two outcomes per dossier → the changes between rule versions, and their French text, JSON and Markdown forms.

A rule that exists in one version only is compared as if the other version had it « sans objet »: a new
requirement that applies to no dossier changes nothing, one that a dossier now meets or misses is a change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from . import __version__, escape
from .frozen import frozen
from .outcome import AmountOutcome, AmountStatus, Holder, Outcome, Rule, Status, Verdict
from .report import STATUS_WORDS, VERDICT_WORDS
from .source import PackIdentity
from .values import Money, format_euros


@frozen
class AmountState:
    """What a reader compares in an amount: its status and, when computed, its value to the cent."""

    status: AmountStatus
    value: str | None = None

    @staticmethod
    def of(amount: AmountOutcome) -> AmountState:
        value = amount.value.decimal_string() if isinstance(amount.value, Money) else None
        return AmountState(amount.status, value if amount.status is AmountStatus.COMPUTED else None)


State = Verdict | Status | AmountState | None  # None: the rule does not exist in that version


@frozen
class Change:
    dossier: str
    holder: Holder | None
    before: State
    after: State


@frozen
class RuleChanges:
    """One rule (as the current version names it when it has it) and every dossier it now treats differently."""

    id: str
    kind: str
    title: str
    changes: tuple[Change, ...]

    @property
    def dossiers(self) -> int:
        return len({c.dossier for c in self.changes})


@frozen
class Impact:
    base: str
    current: str | None  # None: the rules shipped with immat
    total: int  # dossiers in the corpus, unreadable ones included
    changed: int
    unreadable: tuple[str, ...]
    verdicts: tuple[Change, ...]
    rules: tuple[RuleChanges, ...]
    packs: tuple[PackIdentity, PackIdentity] | None = None  # the base's and the current rules' digests

    @property
    def verdict_dossiers(self) -> int:
        return len({c.dossier for c in self.verdicts})


# ------------------------------------------------------------------ comparison


def dossier_changes(before: Outcome, after: Outcome) -> list[tuple[Rule | None, Change]]:
    """Every difference for one dossier, in the current rules' order; the rule is None for the verdict."""
    found: list[tuple[Rule | None, Change]] = []
    if before.verdict is not after.verdict:
        found.append((None, Change(after.dossier, None, before.verdict, after.verdict)))
    found += _differences(after.dossier, before.requirements, after.requirements,
                          key=lambda r: (r.rule.id, r.holder.index if r.holder else None),
                          state=lambda r: r.status, neutral=Status.NOT_APPLICABLE)
    found += _differences(after.dossier, before.amounts, after.amounts, key=lambda a: (a.rule.id, None),
                          state=AmountState.of, neutral=AmountState(AmountStatus.NOT_APPLICABLE))
    return found


def _differences(dossier, old_items, new_items, key, state, neutral) -> Iterator[tuple[Rule, Change]]:
    old = {key(item): item for item in old_items}
    new = {key(item): item for item in new_items}
    for k in list(new) + [k for k in old if k not in new]:
        a, b = old.get(k), new.get(k)
        sa, sb = (state(a) if a else None), (state(b) if b else None)
        if (neutral if sa is None else sa) != (neutral if sb is None else sb):
            shown = b or a
            yield shown.rule, Change(dossier, getattr(shown, "holder", None), sa, sb)


def compare(results: Iterable[tuple[str, list | None]], base: str, current: str | None,
            packs: tuple[PackIdentity, PackIdentity] | None = None) -> Impact:
    """(name, the dossier's changes as dossier_changes gives them, None when unreadable) per dossier, in order."""
    total, changed, unreadable, verdicts = 0, 0, [], []
    rules: dict[str, Rule] = {}
    changes: dict[str, list[Change]] = {}
    for name, found in results:
        total += 1
        if found is None:
            unreadable.append(name)
            continue
        changed += bool(found)
        for rule, change in found:
            if rule is None:
                verdicts.append(change)
                continue
            rules.setdefault(rule.id, rule)
            changes.setdefault(rule.id, []).append(change)
    return Impact(base, current, total, changed, tuple(unreadable), tuple(verdicts), _grouped(rules, changes), packs)


def _grouped(rules: dict[str, Rule], changes: dict[str, list[Change]]) -> tuple[RuleChanges, ...]:
    """Requirements before amounts, each by id: the same order whatever the corpus order."""
    order = sorted(rules, key=lambda i: (rules[i].kind == "montant", i))
    return tuple(RuleChanges(i, rules[i].kind, rules[i].title, tuple(changes[i])) for i in order)


# ------------------------------------------------------------------ words

AMOUNT_WORDS = {
    AmountStatus.NOT_APPLICABLE: "sans objet",
    AmountStatus.NOT_COVERED: "non couvert",
    AmountStatus.UNKNOWN: "à compléter",
    AmountStatus.ERROR: "erreur",
}


def state_text(state: State) -> str:
    if state is None:
        return "règle absente"
    if isinstance(state, Verdict):
        return VERDICT_WORDS[state].lower()
    if isinstance(state, Status):
        return STATUS_WORDS[state]
    if state.status is AmountStatus.COMPUTED:
        return format_euros(Decimal(state.value))
    return AMOUNT_WORDS[state.status]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


def summary_text(impact: Impact) -> str:
    if impact.changed == 0:
        return (f"Aucun changement : {_plural(impact.total, 'dossier')}, même résultat avec les deux versions "
                "des règles.")
    verb = "changent" if impact.changed > 1 else "change"
    return f"{_plural(impact.changed, 'dossier')} sur {impact.total} {verb}."


def _current_words(impact: Impact) -> str:
    return impact.current if impact.current is not None else "règles livrées avec immat"


def _compared_words(impact: Impact, code=str) -> str:
    """Which rules are compared, by their digests, and the immat that compared them."""
    base, current = code(impact.base), code(_current_words(impact))
    if impact.packs is None:
        return f"{base} (base) → {current}"
    before, after = impact.packs
    return f"{base} (base, empreinte {before.digest}) → {current} (empreinte {after.digest}) — immat {__version__}"


def _who(change: Change) -> str:
    return change.dossier + (f" — {change.holder.name}" if change.holder else "")


def _transition(change: Change) -> str:
    return f"{state_text(change.before)} → {state_text(change.after)}"


def _groups(impact: Impact) -> Iterator[tuple[str, str, int, tuple[Change, ...]]]:
    """(id, title, dossiers, changes): the verdict first, then each rule."""
    if impact.verdicts:
        yield "verdict", "Verdict du dossier", impact.verdict_dossiers, impact.verdicts
    for rule in impact.rules:
        yield rule.id, rule.title, rule.dossiers, rule.changes


# ------------------------------------------------------------------ French text


def render_text(impact: Impact) -> str:
    lines = [f"Règles comparées : {_compared_words(impact)}", summary_text(impact)]
    for rule_id, title, dossiers, changes in _groups(impact):
        lines += ["", f"{rule_id} — {title} ({_plural(dossiers, 'dossier')})"]
        lines += [f"  {_who(c)} : {_transition(c)}" for c in changes]
    if impact.unreadable:
        lines += ["", f"Illisibles, non comparés ({len(impact.unreadable)})"]
        lines += [f"  {name}" for name in impact.unreadable]
    return "\n".join(map(escape.visible, lines)) + "\n"


# ------------------------------------------------------------------ JSON


def _state_json(state: State):
    if state is None or isinstance(state, (Verdict, Status)):
        return None if state is None else str(state)
    return {"status": str(state.status), "value": state.value}


def _change_json(change: Change, with_holder: bool = True) -> dict:
    out = {"dossier": change.dossier}
    if with_holder:
        out["holder"] = None if change.holder is None else {"index": change.holder.index, "name": change.holder.name}
    return {**out, "before": _state_json(change.before), "after": _state_json(change.after)}


def impact_json(impact: Impact) -> dict:
    return {
        "base": impact.base,
        "current": impact.current,
        "digests": None if impact.packs is None else {"base": impact.packs[0].digest, "current": impact.packs[1].digest},
        "immat": __version__,
        "summary": {"dossiers": impact.total, "changed": impact.changed, "unreadable": len(impact.unreadable)},
        "unreadable": list(impact.unreadable),
        "verdict": {"dossiers": impact.verdict_dossiers,
                    "changes": [_change_json(c, with_holder=False) for c in impact.verdicts]},
        "rules": [{"id": r.id, "kind": r.kind, "title": r.title, "dossiers": r.dossiers,
                   "changes": [_change_json(c) for c in r.changes]} for r in impact.rules],
    }


def render_json(impact: Impact) -> str:
    return escape.json_dumps(impact_json(impact), indent=2) + "\n"


# ------------------------------------------------------------------ Markdown (a pull-request comment)


def _markdown_table(impact: Impact) -> list[str]:
    lines = ["| règle | titre | dossiers |", "|---|---|---:|"]
    for rule_id, title, dossiers, _ in _groups(impact):
        lines.append(f"| {escape.markdown_code(rule_id)} | {escape.markdown(title)} | {dossiers} |")
    return lines


def _markdown_details(impact: Impact) -> list[str]:
    lines = ["<details>", "<summary>Détail par règle</summary>"]
    for rule_id, title, _, changes in _groups(impact):
        lines += ["", f"#### {escape.markdown_code(rule_id)} — {escape.markdown(title)}", ""]
        lines += [f"- {escape.markdown_code(c.dossier)}{f' — {escape.markdown(c.holder.name)}' if c.holder else ''} : "
                  f"{escape.markdown(_transition(c))}" for c in changes]
    return lines + ["", "</details>"]


def _totals(impact: Impact) -> list[str]:
    """What a reviewer reads first: how many dossiers move from one verdict to another, and by how much each
    amount changes over the dossiers where it is computed in both versions."""
    lines = []
    moves: dict[tuple, int] = {}
    for change in impact.verdicts:
        key = (change.before, change.after)
        moves[key] = moves.get(key, 0) + 1
    for (before, after), count in moves.items():
        lines.append(f"- verdict {state_text(before)} → {state_text(after)} : {_plural(count, 'dossier')}")
    for rule in impact.rules:
        deltas = [Decimal(c.after.value) - Decimal(c.before.value) for c in rule.changes
                  if isinstance(c.before, AmountState) and isinstance(c.after, AmountState)
                  and c.before.value is not None and c.after.value is not None]
        if deltas:
            total = sum(deltas, Decimal(0))
            sign = "+" if total > 0 else ""
            lines.append(f"- {escape.markdown(rule.title)} : {sign}{format_euros(total)} sur "
                         f"{_plural(len(deltas), 'dossier')}")
    return lines


def render_markdown(impact: Impact, max_bytes: int | None = None) -> str:
    """A pull-request comment: totals first, then the rules that change, then every change by rule, folded. With
    `max_bytes`, the changes are cut where the comment would pass that size, and the count of those left out
    is said."""
    lines = ["### immat diff : effet du changement de règles", "",
             f"Règles comparées : {_compared_words(impact, escape.markdown_code)}",
             "",
             f"**{summary_text(impact)}**"]
    if impact.changed:
        lines += ["", *_totals(impact), "", *_markdown_table(impact), ""]
    tail = []
    if impact.unreadable:
        tail = ["", f"Illisibles, non comparés ({len(impact.unreadable)}) : "
                + ", ".join(escape.markdown_code(name) for name in impact.unreadable)]
    details = _markdown_details(impact) if impact.changed else []
    text = "\n".join(lines + details + tail) + "\n"
    if max_bytes is None or len(text.encode("utf-8")) <= max_bytes:
        return text
    return _cut(lines, details, tail, max_bytes)


def _cut(lines: list[str], details: list[str], tail: list[str], max_bytes: int) -> str:
    """The comment within `max_bytes`: as many detail lines as fit, then how many changes are left out."""
    note = "_… {n} changement(s) de plus, non affichés ici (limite de {limit} octets) : le détail complet est " \
           "dans le fichier qu'écrit `immat diff -o`._"
    budget = max_bytes - len("\n".join(lines + tail).encode("utf-8")) - len(note) - 64
    kept, used = [], 0
    for line in details[:-2]:  # the closing blank line and </details> are written last
        size = len(line.encode("utf-8")) + 1
        if used + size > budget:
            break
        kept.append(line)
        used += size
    left = sum(1 for line in details[len(kept):] if line.startswith("- "))
    cut = kept + ["", note.format(n=left, limit=f"{max_bytes:,}".replace(",", " ")), "", "</details>"]
    return "\n".join(lines + cut + tail) + "\n"
