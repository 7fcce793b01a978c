"""The dossier schema's two validators: the compiled fast path accepts exactly the dossiers jsonschema accepts,
on every fixture, on mutations of them and on values generated from the schema itself."""

from __future__ import annotations

import decimal
import functools
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fuzz.dossiers import mutate, places, values_by_key
from immat import dossier as dossier_module
from immat.diagnostics import DiagnosticError
from immat.pipeline import fixture_folders
from immat.schema import shipped_schema

from .conftest import ROOT

DOSSIERS = sorted(ROOT.glob("fixtures/*/dossier.json")) + sorted(ROOT.glob("tests/dossier/*/*.json"))
FIXTURES = fixture_folders(ROOT / "fixtures")


def jsonschema_accepts(data) -> bool:
    return not any(True for _ in dossier_module._validator(shipped_schema()).iter_errors(data))


def assert_both_agree(data) -> None:
    assert dossier_module._fast_accepts(shipped_schema(), data) == jsonschema_accepts(data), data


def loaded(text: str):
    """The JSON value the schema would see, or None when the loader refuses the text before any schema."""
    try:
        data, _ = dossier_module._load_json(text, "t.json")
    except DiagnosticError:
        return None
    return data


def test_the_shipped_schema_has_a_fast_validator():
    assert dossier_module._fast_validator(shipped_schema()) is not None


@pytest.mark.parametrize("schema", [
    {"type": "array", "uniqueItems": True},
    {"$defs": {"d": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/d", "maxLength": 2}}},
    {"$ref": "https://example.org/schema.json"},
    {"enum": [1, True]},
    {"type": "string", "format": "email"},
    {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    {"properties": {"a": True}},
], ids=["uniqueItems", "ref-with-siblings", "remote-ref", "non-text-enum", "email", "oneOf", "boolean-schema"])
def test_a_schema_beyond_the_fast_validator_is_left_to_jsonschema(schema):
    assert dossier_module.compile_fast(schema) is None


@pytest.mark.parametrize("path", DOSSIERS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_both_validators_agree_on_every_fixture(path):
    data = loaded(path.read_text("utf-8"))
    if data is not None:
        assert_both_agree(data)


@functools.cache
def _fixtures() -> list[dict]:
    return [json.loads((folder / "dossier.json").read_text("utf-8")) for folder in FIXTURES]


@functools.cache
def _pool() -> dict:
    return values_by_key(_fixtures())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(FIXTURES) - 1), rng=st.randoms(use_true_random=False))
def test_both_validators_agree_on_mutated_fixtures(index, rng):
    data = loaded(mutate(_fixtures()[index], rng, _pool()))
    if data is not None:
        assert_both_agree(data)


# ---------------------------------------------------------------- values generated from the schema

# Everything JSON can hold, as the loader reads it (non-integer numbers as Decimal, no lone surrogate).
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
scalars = st.none() | st.booleans() | st.integers() | st.decimals(allow_nan=False, allow_infinity=False) | texts
any_json = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                        max_leaves=8)


WIDE_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def _valid(node: dict) -> st.SearchStrategy:
    """Values the schema `node` admits."""
    node = _resolved(node)
    kind = node.get("type")
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if "pattern" in node:
        return st.from_regex(node["pattern"], fullmatch=True)
    if node.get("format") == "date":
        return st.dates().map(str)
    if kind in ("integer", "number"):
        low, high = node.get("minimum", -(10**20)), node.get("maximum", 10**20)
        return st.integers(low, high) | st.decimals(low, high, places=2) if kind == "number" else st.integers(low, high)
    if kind == "array":
        return st.lists(_valid(node["items"]), min_size=node.get("minItems", 0), max_size=3)
    if kind == "object":
        fields = {key: _valid(child) for key, child in node.get("properties", {}).items()}
        return st.fixed_dictionaries({key: fields.pop(key) for key in node.get("required", [])}, optional=fields)
    return {"string": texts, "boolean": st.booleans()}.get(kind, any_json)


def _edges(node: dict) -> st.SearchStrategy:
    """Values at the edge of what `node` admits, on either side, where two validators are likeliest to differ."""
    node = _resolved(node)
    valid = _valid(node)
    if "enum" in node:
        return valid.map(str.lower) | valid.map(lambda s: s + " ")
    if node.get("format") == "date":
        odd = ["2021-02-29", "2020-02-29", "2021-02-30", "2021-13-01", "20210301", "2021-1-01", ""]
        # fastjsonschema's own date reads a year in any script's digits (\d); jsonschema's, 0-9 only.
        return valid.map(lambda s: s[:4].translate(WIDE_DIGITS) + s[4:]) | valid.map(lambda s: s + "\n") | \
            st.sampled_from(odd)
    if "pattern" in node:
        # Python's $ admits a final line break, \Z does not.
        return valid.map(lambda s: s + "\n") | valid.map(lambda s: " " + s) | \
            valid.map(lambda s: s.translate(WIDE_DIGITS))
    if "maxLength" in node:
        return st.integers(node["maxLength"], node["maxLength"] + 1).map(lambda n: "é" * n)
    if node.get("type") in ("integer", "number"):
        low, high = node.get("minimum", 0), node.get("maximum", 0)
        return st.sampled_from([low - 1, high + 1, decimal.Decimal(low), decimal.Decimal(high) + decimal.Decimal("0.5"),
                                decimal.Decimal(f"{low}.0"), True])
    if node.get("type") == "array":
        bound = node.get("maxItems", 3)
        # A list at its bound repeats one item: as hard to validate, much cheaper to generate.
        return st.builds(lambda item, n: [item] * n, _valid(node["items"]), st.integers(bound, bound + 1)) | st.just([])
    if node.get("type") == "object":
        return st.builds(lambda d, key, value: d | {key: value}, valid, texts, any_json) | \
            valid.map(lambda d: {k: v for k, v in d.items() if k not in node.get("required", [])})
    return any_json


def _resolved(node: dict) -> dict:
    return _schema()["$defs"][node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else node


def _schema() -> dict:
    return dossier_module._checked_schema(shipped_schema())


def _schema_at(path: tuple) -> dict:
    node = _schema()
    for part in path:
        node = _resolved(node)
        node = node["items"] if isinstance(part, int) else node["properties"][part]
    return node


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(dossier=st.deferred(lambda: _valid(_schema())), data=st.data())
def test_both_validators_agree_on_a_valid_generated_dossier_with_one_value_at_an_edge(dossier, data):
    assert dossier_module._fast_accepts(shipped_schema(), dossier) and jsonschema_accepts(dossier), dossier
    path = data.draw(st.sampled_from(list(places(dossier))))
    value = data.draw(_edges(_schema_at(path)) | any_json)
    if path:
        node = dossier
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    assert_both_agree(dossier if path else value)


@given(data=any_json)
def test_both_validators_agree_on_any_json_value(data):
    assert_both_agree(data)


# Each pattern of the shipped schema, with a value it accepts: a line break after it is not the same value.
PATTERN_FIELDS = [
    ("/achat/pays", "DE"), ("/vehicule/immatriculation", "AB-123-CD"), ("/vehicule/numero_formule", "2021AB12345"),
    ("/vehicule/vin", "VF1AB000012345678"), ("/titulaires/0/adresse/code_postal", "75001"),
    ("/titulaires/0/adresse/code_insee", "75101"),
]


def _with(data: dict, pointer: str, value) -> dict:
    data = json.loads(json.dumps(data))
    *parents, last = pointer.strip("/").split("/")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    node[last] = value
    return data


@pytest.mark.parametrize("pointer, good", PATTERN_FIELDS, ids=[p for p, _ in PATTERN_FIELDS])
def test_a_pattern_ends_at_the_end_of_the_text_as_json_schema_says(pointer, good, cli, tmp_path):
    """ECMA-262's $, not Python's: « 75001\\n » is not a postal code, for both validators and in the report."""
    base = json.loads((ROOT / "fixtures" / "exemple" / "dossier.json").read_text("utf-8"))
    assert dossier_module._fast_accepts(shipped_schema(), _with(base, pointer, good))
    assert jsonschema_accepts(_with(base, pointer, good))
    for bad in (good + "\n", good + "\n\n", "\n" + good):
        data = _with(base, pointer, bad)
        assert not dossier_module._fast_accepts(shipped_schema(), data)
        assert not jsonschema_accepts(data)
    path = tmp_path / "dossier.json"
    path.write_text(json.dumps(_with(base, pointer, good + "\n")), encoding="utf-8")
    result = cli("validate", "--format", "json", path)
    assert result.exit_code == 2
    assert [e["pointer"] for e in json.loads(result.stdout)["errors"]] == [pointer]
