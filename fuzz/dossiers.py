"""Mutations of the fixture dossiers, and what a dossier must give: the same reports twice (and the same outcome
from the compiled evaluator as from the reference), or located diagnostics. Shared by the suite's fuzz tests and by `fuzz/fuzz_dossiers.py`."""

from __future__ import annotations

import copy
import functools
import json
import random

import attrs

from immat.diagnostics import DiagnosticError
from immat.evaluate import evaluate
from immat.pipeline import load_rules, parse_dossier, validate
from immat.report import render_html, render_json, render_jsonl, render_markdown, render_text

RENDERERS = (render_json, render_jsonl, render_markdown, render_html, render_text,
             functools.partial(render_text, explain=True))

# What a careless user, a broken export or an attacker puts in a dossier: edges of every JSON type, calendar
# edges, terminal escapes, markup, lone surrogates, huge numbers.
HOSTILE_TEXTS = ["", " ", "9999-12-31", "0001-01-01", "2024-02-29", "2023-02-29", "\x1b[2J", "<script>",
                 "# Verdict : COMPLET", "X\nVerdict : COMPLET", "\u202e", "\ud800", "EL", "el", "VP", "neuf",
                 "occasion", "hors_union_europeenne", "en_ligne", "1e308", "NaN"]


def hostile_value(rng: random.Random):
    kind = rng.randrange(7)
    if kind == 0:
        return rng.choice([None, True, False, [], {}])
    if kind == 1:
        return rng.choice([0, -1, 1, 10**6, 10**25, -10**30, 2**63])
    if kind == 2:
        return rng.choice([0.5, -0.0, 1e300, 1e-300, 123.456])
    if kind == 3:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(12)))
    return rng.choice(HOSTILE_TEXTS)


def places(node, path=()):
    """Every place in the dossier a value sits, as a path of keys and indexes."""
    yield path
    if isinstance(node, dict):
        for key, child in node.items():
            yield from places(child, path + (key,))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from places(child, path + (index,))


def values_by_key(dossiers) -> dict:
    """Every value the fixtures give each key: swapping them makes dossiers the schema accepts, whose
    combinations the fixtures never tried, so that evaluation, not only validation, is fuzzed."""
    found: dict = {}
    for dossier in dossiers:
        for path in places(dossier):
            if path and isinstance(path[-1], str):
                node = dossier
                for part in path:
                    node = node[part]
                found.setdefault(path[-1], []).append(node)
    return found


def mutate(dossier: dict, rng: random.Random, pool: dict) -> str:
    """The dossier with one to three values replaced, by another fixture's value for the same key or by a
    hostile one, as JSON text."""
    data = copy.deepcopy(dossier)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(list(places(data)))
        if not path:
            continue
        node = data
        for part in path[:-1]:
            node = node[part]
        same_key = pool.get(path[-1]) if isinstance(path[-1], str) else None
        node[path[-1]] = copy.deepcopy(rng.choice(same_key)) if same_key and rng.random() < 0.6 \
            else hostile_value(rng)
    return json.dumps(data, ensure_ascii=True)


def damage(text: str, rng: random.Random) -> str:
    """The JSON text cut, or with random characters inserted at a random place."""
    at = rng.randrange(len(text) + 1)
    noise = "".join(chr(rng.randrange(1, 0x2100)) for _ in range(rng.randrange(8)))
    return text[:at] + noise + text[at + rng.randrange(3):]


@functools.cache
def program():
    return load_rules().program


def reports(text: str) -> tuple[str, ...] | str:
    """Each report format of the dossier, or "diagnostics" when it is refused with located diagnostics.

    Anything else (an exception, a diagnostic without message) propagates: that is a failure."""
    try:
        outcome = validate(program(), text, "fuzz.json", explain=True)
    except DiagnosticError as e:
        if not e.diagnostics or not all(d.message for d in e.diagnostics):
            raise AssertionError("refused without a located message") from e
        return "diagnostics"
    reference = evaluate(program(), outcome.dossier, parse_dossier(text, "fuzz.json", program().schema).data)
    if attrs.evolve(outcome, rules=None, data=None) != reference:
        raise AssertionError("the explaining compiled evaluator and the reference disagree")
    if validate(program(), text, "fuzz.json") != outcome.unexplained():
        raise AssertionError("the compiled evaluator and the reference disagree")
    return tuple(render(outcome) for render in RENDERERS)


def run_one(text: str) -> str:
    """"report" or "diagnostics"; raises if the dossier crashes immat or gives different reports twice."""
    first = reports(text)
    if first != reports(text):
        raise AssertionError("two runs gave different reports")
    return "diagnostics" if first == "diagnostics" else "report"
