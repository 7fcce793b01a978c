"""A pack's dossier schema → a Schema every stage reads the same way, and the parts of one that immat cannot read.

A pack may ship its own dossier.schema.json beside its rules, so that immat checks other procedures than the
carte grise; a pack without one is checked against the carte-grise schema shipped with the rules. The schema
is JSON Schema 2020-12, read as written except where immat walks it itself (fields, their types, their French
words): there, it must hold objects and local references only.
"""

from __future__ import annotations

import functools
import hashlib
import json

import attrs

from .source import shipped

SCHEMA_FILE = "dossier.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
SHIPPED_ORIGIN = "schéma livré (carte grise)"
# The shipped schema nests 12 levels deep. Validating a schema walks it recursively: this bound keeps that walk
# far from Python's recursion limit.
MAX_DEPTH = 64
NAMES = ("properties", "$defs")  # keywords whose keys are names, not keywords
VALUES = ("examples", "default", "const", "enum")  # keywords that hold JSON values, not schemas


@attrs.frozen(cache_hash=True)  # looked up in caches several times per dossier
class Schema:
    """A dossier schema: its document and where it comes from. Equal, and hashed, by the SHA-256 of its bytes,
    so that what is built from it (validators, French words) is built once per schema, not once per copy."""

    document: dict = attrs.field(eq=False, repr=False)
    digest: str
    origin: str = attrs.field(eq=False)  # as outputs name it: « regles/dossier.schema.json »


@functools.cache
def shipped_schema() -> Schema:
    """The carte-grise dossier schema, shipped with the rules: the schema of every pack without its own."""
    with open(shipped("immat.rules", SCHEMA_FILE), "rb") as stream:
        data = stream.read()
    return Schema(json.loads(data), hashlib.sha256(data).hexdigest(), SHIPPED_ORIGIN)


def walk(value: object):
    """Every (path, node) of a parsed JSON tree; iterative, as deep trees would exhaust the stack."""
    stack: list[tuple[tuple, object]] = [((), value)]
    while stack:
        path, node = stack.pop()
        yield path, node
        if isinstance(node, dict):
            stack.extend((path + (key,), child) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((path + (index,), child) for index, child in enumerate(node))


# (path of the offending value, French message, help or None)
Finding = tuple[tuple, str, str | None]


def too_deep(document: object) -> list[Finding]:
    """The first value nested deeper than MAX_DEPTH, if any: checked before anything walks the schema."""
    deep = next((path for path, _ in walk(document) if len(path) > MAX_DEPTH), None)
    if deep is None:
        return []
    return [(deep, f"schéma trop imbriqué : plus de {MAX_DEPTH} niveaux ; simplifiez-le", None)]


def unreadable(document: dict) -> list[Finding]:
    """What immat cannot read in a schema valid against the 2020-12 meta-schema: another dialect, a field
    described by true or false, a reference that is not a path in the same file or that loops, a field both
    required and refused (no dossier could be valid)."""
    found: list[Finding] = []
    cycles: set[frozenset] = set()
    if document.get("$schema", DIALECT) != DIALECT:
        found.append((("$schema",), f"immat lit les schémas JSON de la version 2020-12 : « $schema » doit valoir "
                                    f"« {DIALECT} » ou être omis", None))
    for path, node in walk(document):
        if _in_values(path) or (path and path[-1] in NAMES):  # a map of names (one may be « $ref ») is no schema
            continue
        if isinstance(node, bool) and _describes_a_field(path):
            found.append((path, "un champ décrit par true ou false : décrivez-le par un objet ({} pour toute "
                                "valeur), immat y lit son type et ses mots", None))
        elif isinstance(node, dict):
            problem = _reference_problem(document, node, cycles)
            found += [(path + ("$ref",), problem, None)] if problem else []
            found += [(path + ("required",), f"« {name} » est obligatoire, mais « additionalProperties » à false "
                       "le refuse : décrivez-le dans « properties »", None) for name in _refused_but_required(node)]
    return found


def _refused_but_required(node: dict) -> list[str]:
    if node.get("additionalProperties") is not False or "patternProperties" in node:
        return []
    return [name for name in node.get("required", ()) if name not in node.get("properties", {})]


def _describes_a_field(path: tuple) -> bool:
    """Whether the value at `path` is a schema immat walks: the root, a property, a list's items, a definition."""
    return not path or (len(path) >= 2 and path[-2] in NAMES) or path[-1] == "items"


def _in_values(path: tuple) -> bool:
    """Whether `path` lies in a value the schema holds (an example, a default, a listed value), not a schema."""
    return any(part in VALUES and (i == 0 or path[i - 1] not in NAMES) for i, part in enumerate(path))


def _reference_problem(document: dict, node: dict, cycles: set[frozenset]) -> str | None:
    """Why the references from `node` cannot be followed to a schema, if they cannot; a cycle is told once."""
    seen = []
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#"):
            return (f"référence « {ref} » hors de ce fichier : immat ne lit que des références internes "
                    "(« #/$defs/… »)")
        if ref in seen:
            cycle = seen[seen.index(ref):]
            if frozenset(cycle) in cycles:
                return None
            cycles.add(frozenset(cycle))
            return "références circulaires : " + " → ".join([*cycle, ref])
        seen.append(ref)
        node = resolve(document, ref)
        if not isinstance(node, dict):
            return f"la référence « {ref} » ne mène à aucune définition de ce schéma"
    return None


def resolve(document: dict, ref: str) -> object:
    """What a local reference (« #/$defs/x ») designates, as immat reads it: names between slashes, no escapes;
    None when it designates nothing."""
    target: object = document
    for part in ref.removeprefix("#").split("/"):
        if part:
            target = target.get(part) if isinstance(target, dict) else None
    return target
