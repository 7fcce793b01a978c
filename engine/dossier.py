"""Dossier JSON text → validated Dossier, every problem reported as a diagnostic carrying a JSON pointer; and a
pack's schema text → the Schema its dossiers are validated against."""

from __future__ import annotations

import datetime
import decimal
import functools
import json
import re
from typing import TYPE_CHECKING

import attrs
import fastjsonschema
import orjson

from . import cache
from .diagnostics import Diagnostic, DiagnosticError, error
from .escape import excerpt
from .frozen import frozen
from .schema import NAMES, Finding, Schema, shipped_schema, too_deep, unreadable, walk
from .values import format_number

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

PLATE_PATH = ("vehicule", "immatriculation")
# A real dossier weighs a few kilobytes; one at every bound of the schema (10 holders, 100 pieces, every text
# 1 000 characters written as \uXXXX\uXXXX pairs) stays under 700 000 bytes. Reading stops here, so that a
# mistaken input (a disk image, /dev/zero) costs a message, not the memory it would fill.
MAX_BYTES = 1_000_000


@frozen
class Dossier:
    """A dossier that passed the schema: `data` is plain JSON, non-integer numbers as Decimal."""

    name: str
    data: dict


# What follows is built once per schema (by its digest: a Schema is equal to any copy of itself).


@functools.cache
def _checked_schema(schema: Schema) -> dict:
    return _for_jsonschema(schema.document)


@functools.cache
def _validator(schema: Schema) -> Draft202012Validator:
    # Imported here: jsonschema is only needed for a dossier the fast path refuses, and its import is
    # the slowest part of a cold start.
    from jsonschema import Draft202012Validator, FormatChecker

    dates = FormatChecker(formats=())
    dates.checks("date")(_is_date)
    return Draft202012Validator(_checked_schema(schema), format_checker=dates)


_DATE = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _is_date(value: object) -> bool:
    """What « format: date » accepts, for both validators: AAAA-MM-JJ, a day that exists (not 2021-02-30).

    jsonschema asserts a format only with a checker, and fastjsonschema has its own idea of a date: one
    definition keeps the two paths in agreement. A value of another type is the « type » keyword's business.
    """
    if not isinstance(value, str):
        return True
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return _DATE.fullmatch(value) is not None  # fromisoformat also reads 20210315 and 2021-W11


# What the fast validator expresses exactly as jsonschema does. A schema that uses anything else (oneOf of
# objects, uniqueItems, a $ref with checking siblings, a remote $ref…) is checked by jsonschema alone.
_FAST_KEYWORDS = frozenset({
    "type", "properties", "additionalProperties", "required", "items", "enum", "const", "minimum", "maximum",
    "minLength", "maxLength", "minItems", "maxItems", "pattern", "format", "$ref", "$defs",
})
_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description"})


def _fast_expressible(node: object) -> bool:
    if not isinstance(node, dict):
        return False  # a boolean schema: rare enough to leave to jsonschema
    keywords = {key for key in node if not key.startswith("x-")} - _ANNOTATIONS
    if not keywords <= _FAST_KEYWORDS:
        return False
    if "$ref" in node and (keywords != {"$ref"} or not node["$ref"].startswith("#/")):
        return False  # fastjsonschema ignores a $ref's siblings, as draft 7 did
    values = node.get("enum", []) + ([node["const"]] if "const" in node else [])
    if not all(isinstance(value, str) for value in values) or node.get("format", "date") != "date":
        return False  # equality (true = 1) and other formats are where the two validators differ
    children = [*node.get("properties", {}).values(), *node.get("$defs", {}).values()]
    children += [node["items"]] if "items" in node else []
    children += [node["additionalProperties"]] if isinstance(node.get("additionalProperties"), dict) else []
    return all(map(_fast_expressible, children))


# A schema's pattern is an ECMA-262 regular expression (JSON Schema 2020-12, section 6.4), whose $ ends the text.
# Python's re, which jsonschema searches with, also matches $ before a final line break: « AB-123-CD\n » would
# pass for a plate. fastjsonschema turns every un-escaped $ into \Z, found as this does; jsonschema is given
# the same \Z, so that both read a pattern as the standard does.
_DOLLAR = re.compile(r"(?<!\\)\$")


def _for_fastjsonschema(node, names: bool = False):
    """The schema as fastjsonschema must read it to agree with jsonschema: a const (a text, on the fast path) as
    the one-value enum it is, since fastjsonschema's own const does not compile without detailed exceptions.
    `names`: the keys of `node` are names, not keywords."""
    if isinstance(node, list):
        return [_for_fastjsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {key: _for_fastjsonschema(value) for key, value in node.items()}
    if "const" in node:
        allowed = [value for value in node.get("enum", [node["const"]]) if value == node["const"]]
        node = {key: value for key, value in node.items() if key != "const"} | {"enum": allowed}
    return {key: _for_fastjsonschema(value, key in NAMES) for key, value in node.items()}


_FORMATS = {"date": _is_date}
_ROOT = re.compile(r"^def (\w+)\(", re.MULTILINE)  # fastjsonschema writes the schema's own function first


def compile_fast(schema: dict, digest: str | None = None):
    """A function that raises fastjsonschema.JsonSchemaValueException when jsonschema would find an error in a
    value, and returns otherwise; None when the schema goes beyond what it expresses exactly.

    With the `digest` of the schema, the code is cached: generating and compiling it cost a cold start 20 ms.
    """
    if not _fast_expressible(schema):
        return None

    def source() -> str:
        code = fastjsonschema.compile_to_code(_for_fastjsonschema(schema), formats=_FORMATS, use_default=False,
                                              detailed_exceptions=False)
        return f"{code}\nROOT = {_ROOT.search(code)[1]}\n"

    try:
        if digest is None:
            code = compile(source(), "<schéma du dossier>", "exec")
        else:
            code = cache.code_of(("schema", digest, fastjsonschema.VERSION), source, "<schéma du dossier>")
    except fastjsonschema.JsonSchemaDefinitionException:  # a pack's schema it will not compile: jsonschema reads it
        return None
    namespace: dict = {}
    exec(code, namespace)
    return functools.partial(namespace["ROOT"], custom_formats=_FORMATS)


@functools.cache
def _fast_validator(schema: Schema):
    return compile_fast(_checked_schema(schema), schema.digest)


def _fast_accepts(schema: Schema, data: dict) -> bool:
    """Whether the fast validator accepts `data`; False, for jsonschema to decide, when there is none."""
    fast = _fast_validator(schema)
    if fast is None:
        return False
    try:
        fast(data)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def _for_jsonschema(node):
    """The schema as jsonschema checks it: each documented list of values (oneOf of const) as a plain enum, and
    each pattern's $ as the end of the text (see _DOLLAR).

    Both forms accept the same values; jsonschema tries every branch of a oneOf and builds an error
    for each that fails, which made validation the slowest stage of a batch.
    """
    if isinstance(node, list):
        return [_for_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    branches = node.get("oneOf")
    if branches and all(isinstance(b, dict) and "const" in b for b in branches):
        node = {k: v for k, v in node.items() if k != "oneOf"} | {"enum": [b["const"] for b in branches]}
    if isinstance(node.get("pattern"), str):
        node = node | {"pattern": _DOLLAR.sub(lambda _: r"\Z", node["pattern"])}
    return {key: _for_jsonschema(value) for key, value in node.items()}


# Marks a field whose values may be written in any case: the certificate prints its codes
# in capitals, and people and case-management systems copy them in any case.
CASE_INSENSITIVE = "x-casse-indifferente"


@functools.cache
def _spellings(schema: Schema) -> tuple[tuple[tuple[str, ...], dict[str, str]], ...]:
    """(path, value in folded case → its spelling in the enumeration) of each field marked case-insensitive.

    Read from the schema once, so that a dossier costs one lookup per marked field; "*" in a
    path stands for each item of a list.
    """
    return tuple(
        (path, {value.casefold(): value for value in node.get("enum", ()) if isinstance(value, str)})
        for path, node in _fields(_checked_schema(schema), ())
        if node.get(CASE_INSENSITIVE)
    )


def _fields(node: dict, path: tuple):
    yield path, node
    for key, child in node.get("properties", {}).items():
        yield from _fields(child, path + (key,))
    if "items" in node:
        yield from _fields(node["items"], path + ("*",))


def _in_listed_case(schema: Schema, data: dict) -> None:
    """Write each value of a case-insensitive field as the enumeration spells it, in place, so that
    the rules, which compare it with literal spellings, and the report see one spelling.

    Surrounding spaces are not forgiven: case is how the certificate and people write the same code,
    but a padded value comes from a faulty copy (a fixed-width export, a stray cell) that is better
    fixed where it was made, and no other field of the dossier is trimmed either. The error's hint
    gives the listed spelling.
    """
    for path, spellings in _spellings(schema):
        *parents, key = path
        for parent in _objects_at(data, parents):
            value = parent.get(key)
            if isinstance(value, str):
                parent[key] = spellings.get(value.casefold(), value)


def _objects_at(data: dict, path: list[str]) -> list[dict]:
    """The objects found at `path` ("*": each item of a list); a part of another type is skipped,
    the schema reports it."""
    nodes: list = [data]
    for key in path:
        if key == "*":
            nodes = [item for node in nodes if isinstance(node, list) for item in node]
        else:
            nodes = [node[key] for node in nodes if isinstance(node, dict) and key in node]
    return [node for node in nodes if isinstance(node, dict)]


def parse_dossier(text: str, name: str, schema: Schema) -> Dossier:
    """Parse and validate against the pack's schema; raise DiagnosticError carrying every problem found."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise DiagnosticError([too_large(name)])
    data, diagnostics = _load_json(text, name)
    if not isinstance(data, dict):
        message = f"le dossier doit être un objet JSON {{ … }} ; reçu {_describe_value(data)}"
        raise DiagnosticError([error("schema", message, file=name, pointer="")])
    _in_listed_case(schema, data)
    diagnostics += _schema_diagnostics(schema, data, name)
    diagnostics += _plate_diagnostics(data, name)
    diagnostics += _holder_index_diagnostics(data, name)
    if diagnostics:
        raise DiagnosticError(_in_pointer_order(diagnostics))
    return Dossier(name, data)


def too_large(name: str, **where) -> Diagnostic:
    message = (f"dossier trop volumineux : plus de {format_number(MAX_BYTES)} octets, la limite d'un dossier "
               "ou d'une ligne de lot ; il n'est pas lu")
    return error("trop-volumineux", message, file=name, **where)


# ---------------------------------------------------------------- JSON text


class _NonFinite:
    """Stands for NaN/Infinity until the tree is walked, so the error can carry a pointer."""

    def __init__(self, token: str) -> None:
        self.token = token


def _load_json(text: str, name: str, parse_float=decimal.Decimal) -> tuple[object, list[Diagnostic]]:
    duplicates: list[tuple[dict, str]] = []
    non_finite: list[_NonFinite] = []

    def constant_hook(token: str) -> _NonFinite:
        non_finite.append(_NonFinite(token))
        return non_finite[-1]

    def pairs_hook(pairs: list[tuple[str, object]]) -> dict:
        obj: dict = {}
        for key, value in pairs:
            if key in obj:
                duplicates.append((obj, key))
            obj[key] = value
        return obj

    try:
        data = json.loads(text, parse_float=parse_float, parse_constant=constant_hook)
        if not _without_duplicate_key(text, data):  # read again, a hook on every object noting each duplicate
            non_finite.clear()
            data = json.loads(
                text, parse_float=parse_float, parse_constant=constant_hook, object_pairs_hook=pairs_hook
            )
    except json.JSONDecodeError as exc:
        raise DiagnosticError([_syntax_diagnostic(exc, text, name)])
    except RecursionError:
        raise DiagnosticError([error("json-invalide", "JSON illisible : imbrication trop profonde", file=name)])
    except ValueError:  # Python refuses integers of more than 4300 digits
        raise DiagnosticError([error("json-invalide", "JSON illisible : nombre entier trop long", file=name)])
    # Each check walks the tree only when the text or the decoder says it has something to find: most
    # dossiers have no surrogate, no duplicate key and no NaN, and three walks cost more than the schema.
    surrogates = _surrogate_diagnostics(data, name) if _may_hold_surrogate(text) else []
    if surrogates:  # no message may quote these texts: no UTF-8 output can hold them
        raise DiagnosticError(surrogates)
    duplicated = _duplicate_diagnostics(data, duplicates, name) if duplicates else []
    if non_finite:  # not JSON at all: checking it against the schema would only add noise
        raise DiagnosticError(_non_finite_diagnostics(data, name) + duplicated)
    return data, duplicated


def _without_duplicate_key(text: str, data: object) -> bool:
    """Whether no object of `text` repeats a key, proven without a Python hook on every object (it cost twice
    the decoding itself): with no escaped quote in the text, each of its strings is two of its quotes, and the
    tree written back holds as many strings (none of them with a quote) only if no key was dropped."""
    if '\\"' in text:
        return False
    try:
        written = orjson.dumps(data, default=_unquoted)
    except TypeError:  # a lone surrogate, an integer beyond 64 bits, deep nesting: the hook decides
        return False
    return b'\\"' not in written and written.count(b'"') == text.count('"')


def _unquoted(value: object) -> int:
    """What orjson writes in the place of a Decimal or a NaN when only the quotes of the tree are counted."""
    return 0


_SYNTAX_MESSAGES = {
    "Expecting value": "valeur attendue",
    "Expecting ',' delimiter": "virgule manquante",
    "Expecting ':' delimiter": "deux-points manquant après le nom du champ",
    "Expecting property name enclosed in double quotes": "nom de champ attendu, entre guillemets doubles",
    "Unterminated string starting at": "texte non terminé : guillemet fermant manquant",
    "Extra data": "contenu en trop après la fin du document",
    "Invalid control character at": (
        "caractère de contrôle dans un texte (un saut de ligne ou une tabulation s'écrit \\n ou \\t)"
    ),
    "Invalid \\escape": "séquence d'échappement invalide après \\",
    "Invalid \\uXXXX escape": "séquence \\uXXXX invalide : 4 chiffres hexadécimaux attendus",
    "Unexpected UTF-8 BOM (decode using utf-8-sig)": "marque d'ordre des octets (BOM) en tête du texte",
    "Illegal trailing comma before end of object": "virgule en trop avant }",
    "Illegal trailing comma before end of array": "virgule en trop avant ]",
}


def _syntax_diagnostic(exc: json.JSONDecodeError, text: str, name: str) -> Diagnostic:
    message, pos = _syntax_message(exc, text)
    line = text.count("\n", 0, pos) + 1
    column = pos - text.rfind("\n", 0, pos)
    return error("json-invalide", f"JSON mal formé : {message}", file=name, line=line, column=column)


def _syntax_message(exc: json.JSONDecodeError, text: str) -> tuple[str, int]:
    """French message and the offset to show; the decoder's wording misleads in a few frequent cases."""
    pos = exc.pos
    if not text.strip():
        return "texte vide, un objet JSON est attendu", pos
    if pos < len(text) and text[pos] in "}]" and text[:pos].rstrip().endswith(","):
        return f"virgule en trop avant {text[pos]}", len(text[:pos].rstrip()) - 1
    if exc.msg == "Expecting ',' delimiter":
        if pos >= len(text.rstrip()):
            return "fin du texte inattendue : accolade } ou crochet ] fermant manquant", pos
        # Point just after the previous value, where the comma belongs, not at the next line.
        return "virgule manquante", len(text[:pos].rstrip())
    if exc.msg == "Invalid control character at" and text[pos] in "\r\n":
        return "saut de ligne dans un texte : guillemet fermant manquant ? (un saut de ligne s'écrit \\n)", pos
    return _SYNTAX_MESSAGES.get(exc.msg, "erreur de syntaxe"), pos


def _non_finite_diagnostics(data: object, name: str) -> list[Diagnostic]:
    return [
        error(
            "json-invalide",
            f"JSON mal formé : {node.token} n'est pas une valeur JSON ; un nombre fini est attendu",
            file=name,
            pointer=_pointer(path),
        )
        for path, node in walk(data)
        if isinstance(node, _NonFinite)
    ]


_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile("\\\\u[dD][89abcdefABCDEF]")


def _may_hold_surrogate(text: str) -> bool:
    """A text holds a lone surrogate once decoded only if it escapes one (\\uD800 to \\uDFFF) or holds one
    already, which UTF-8 cannot encode: two tests, each many times faster than one regex for both."""
    if _ESCAPED_SURROGATE.search(text):
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _surrogate_diagnostics(data: object, name: str) -> list[Diagnostic]:
    """A \\uD800 to \\uDFFF escape that is not half of a pair is valid JSON grammar but no character
    (RFC 8259, section 8.2), and no UTF-8 report could hold it: refused where it is, keys included."""
    found = []
    for path, node in walk(data):
        texts = [(path, node)] if isinstance(node, str) else []
        texts += [(path + (key,), key) for key in node] if isinstance(node, dict) else []
        for where, text in texts:
            match = _SURROGATE.search(text)
            if match:
                message = (f"JSON illisible : {_as_written(match.group())} est une moitié isolée de paire de "
                           "substitution UTF-16, pas un caractère")
                pointer = _pointer(tuple(map(_as_written, where)))
                found.append(error("json-invalide", message, file=name, pointer=pointer))
    return found


def _as_written(token):
    """A key or text with each lone surrogate back in its \\uXXXX escape, as the file writes it."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", token) if isinstance(token, str) else token


def _duplicate_diagnostics(data: object, duplicates: list[tuple[dict, str]], name: str) -> list[Diagnostic]:
    paths = {id(node): path for path, node in walk(data) if isinstance(node, dict)}
    found = []
    for obj, key in duplicates:
        # An object shadowed by a later duplicate is no longer in the tree: the
        # outer duplicate is what the author has to fix.
        if id(obj) in paths:
            found.append((paths[id(obj)] + (key,), key))
    return [
        error(
            "cle-dupliquee",
            f"champ « {excerpt(key)} » présent plusieurs fois dans le même objet ; seule la dernière valeur serait lue",
            file=name,
            pointer=_pointer(path),
        )
        for path, key in dict.fromkeys(found)
    ]


def _pointer(path: tuple) -> str:
    """RFC 6901 JSON pointer of a path of keys and indexes."""
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in path)


def _in_pointer_order(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    def key(d: Diagnostic) -> tuple:
        tokens = (d.pointer or "").split("/")[1:]
        return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in tokens), d.code, d.message

    return sorted(dict.fromkeys(diagnostics), key=key)


# ---------------------------------------------------------------- schema


def _schema_diagnostics(schema: Schema, data: dict, name: str) -> list[Diagnostic]:
    if _fast_accepts(schema, data):
        return []  # the usual case; jsonschema runs for the located French messages only
    errors = list(_validator(schema).iter_errors(data))
    # A value of the wrong type also fails its other keywords; the type error says it all.
    mistyped = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
    found = []
    for e in errors:
        path = tuple(e.absolute_path)
        if e.validator != "type" and path in mistyped:
            continue
        if e.validator == "pattern" and path == PLATE_PATH:
            continue  # plate_problem gives the precise reason
        for where, message, hint in _explain(e, path):
            found.append(error("schema", message, file=name, pointer=_pointer(where), help=hint))
    return found


def _explain(e: ValidationError, path: tuple) -> list[Finding]:
    """French findings for one jsonschema error; its English message is never used."""
    if e.validator == "required":
        missing = [key for key in e.validator_value if key not in e.instance]
        return [(path + (key,), f"champ obligatoire manquant : {key}", None) for key in missing]
    if e.validator == "additionalProperties":
        return _unknown_fields(e, path)
    explain = _EXPLAINERS.get(e.validator)
    if explain is None:
        return [(path, f"valeur non conforme au schéma (contrainte « {e.validator} »)", None)]
    message, hint = explain(e)
    return [(path, message, hint)]


def _unknown_fields(e: ValidationError, path: tuple) -> list[Finding]:
    allowed = list(e.schema.get("properties", {}))
    found = []
    for key in e.instance:
        if key not in allowed:
            suggestion = closest(key, allowed)
            if suggestion:
                hint = f"vouliez-vous dire « {suggestion} » ?"
            else:
                hint = f"champs admis ici : {', '.join(allowed)}"
            found.append((path + (key,), f"champ inconnu : « {excerpt(key)} »", hint))
    return found


_TYPE_NAMES = {
    "string": "un texte",
    "integer": "un entier",
    "number": "un nombre",
    "boolean": "un booléen (true ou false)",
    "array": "une liste",
    "object": "un objet",
    "null": "null",
}


def _type_message(e: ValidationError) -> tuple[str, str | None]:
    expected = e.validator_value if isinstance(e.validator_value, list) else [e.validator_value]
    message = f"doit être {' ou '.join(_TYPE_NAMES[t] for t in expected)} ; reçu {_describe_value(e.instance)}"
    return message, _type_help(expected, e.instance)


def _type_help(expected: list[str], value: object) -> str | None:
    if value is None:
        return "omettez le champ si l'information n'est pas connue"
    if isinstance(value, str) and "integer" in expected and value.strip().isdigit():
        return "écrivez le nombre sans guillemets"
    if isinstance(value, str) and "boolean" in expected and value in ("true", "false"):
        return "écrivez true ou false sans guillemets"
    return None


def _choice_message(e: ValidationError) -> tuple[str, str | None]:
    if e.validator == "enum":
        allowed = list(e.validator_value)
    elif all(isinstance(branch, dict) and "const" in branch for branch in e.validator_value):
        allowed = [branch["const"] for branch in e.validator_value]
    else:
        return "valeur non conforme : elle ne correspond à aucune des formes admises", None
    message = f"valeur « {_show(e.instance)} » non autorisée ; valeurs possibles : {allowed_values(allowed)}"
    # Stripped, so that a padded value is pointed to its listed spelling.
    suggestion = closest(_show(e.instance).strip(), [str(a) for a in allowed])
    return message, f"vouliez-vous dire « {suggestion} » ?" if suggestion else None


def allowed_values(allowed) -> str:
    """The values of an enumeration in one readable line: beside words, its codes (in capitals) are summed up."""
    codes = [value for value in allowed if isinstance(value, str) and value.isupper()]
    words = [value for value in allowed if value not in codes]
    if not codes or not words:
        return ", ".join(map(_show, allowed))
    examples = ", ".join(codes[:3])
    return (f"{', '.join(map(_show, words))}, ou l'un des {len(codes)} codes du certificat "
            f"({examples}…, liste complète : immat schema dossier)")


def _format_message(e: ValidationError) -> tuple[str, str | None]:
    if e.validator_value == "date":
        return f"date invalide « {_show(e.instance)} » : attendu une date réelle au format AAAA-MM-JJ", None
    return f"format « {e.validator_value} » non respecté : « {_show(e.instance)} »", None


def _pattern_message(e: ValidationError) -> tuple[str, str | None]:
    explanation = e.schema.get("x-message", "valeur non conforme au format attendu")
    return f"{explanation} ; reçu « {_show(e.instance)} »", None


def _minimum_message(e: ValidationError) -> tuple[str, str | None]:
    return f"doit être supérieur ou égal à {e.validator_value} ; reçu {_show(e.instance)}", None


def _maximum_message(e: ValidationError) -> tuple[str, str | None]:
    return f"doit être inférieur ou égal à {format_number(e.validator_value)} ; reçu {_show(e.instance)}", None


def _max_length_message(e: ValidationError) -> tuple[str, str | None]:
    # The text itself is not repeated: it is the one thing too long to show.
    return (f"texte trop long : {format_number(len(e.instance))} caractères, "
            f"au plus {format_number(e.validator_value)} admis"), None


def _max_items_message(e: ValidationError) -> tuple[str, str | None]:
    return f"liste trop longue : {len(e.instance)} éléments, au plus {e.validator_value} admis", None


def _min_items_message(e: ValidationError) -> tuple[str, str | None]:
    if not e.instance and e.validator_value == 1:
        return "liste vide : au moins un élément attendu", None
    return f"au moins {e.validator_value} éléments attendus ; la liste en a {len(e.instance)}", None


def _const_message(e: ValidationError) -> tuple[str, str | None]:
    return f"valeur attendue : « {_show(e.validator_value)} » ; reçu « {_show(e.instance)} »", None


_EXPLAINERS = {
    "type": _type_message,
    "enum": _choice_message,
    "oneOf": _choice_message,
    "format": _format_message,
    "pattern": _pattern_message,
    "minimum": _minimum_message,
    "minItems": _min_items_message,
    "maximum": _maximum_message,
    "maxLength": _max_length_message,
    "maxItems": _max_items_message,
    "const": _const_message,
}


def _show(value: object) -> str:
    """A JSON value as the author wrote it (a Decimal keeps its digits), cut to a short excerpt made visible:
    a message must neither copy personal data into logs nor break its line."""
    if isinstance(value, str):
        return excerpt(value)
    if isinstance(value, (dict, list)):
        return "{…}" if isinstance(value, dict) else "[…]"
    if isinstance(value, decimal.Decimal):
        return excerpt(str(value))
    return excerpt(json.dumps(value))


def _describe_value(value: object) -> str:
    if isinstance(value, str):
        return f"le texte « {_show(value)} »"
    if isinstance(value, bool):
        return f"le booléen {_show(value)}"
    if isinstance(value, int):
        return f"l'entier {value}"
    if isinstance(value, decimal.Decimal):
        return f"le nombre {value}"
    return {dict: "un objet", list: "une liste", type(None): "null"}.get(type(value), _show(value))


def closest(word: str, choices: list[str]) -> str | None:
    """The allowed spelling nearest to `word`, ignoring case (vp → VP)."""
    import difflib  # for a dossier in error only: a cold start does without it

    by_folded = {choice.casefold(): choice for choice in choices}
    matches = difflib.get_close_matches(word.casefold(), list(by_folded), n=1, cutoff=0.6)
    return by_folded[matches[0]] if matches else None


# ---------------------------------------------------------------- a pack's own schema


def load_schema(text: str, name: str, digest: str) -> Schema:
    """A pack's dossier schema (see read_schema); a copy of the shipped one, such as rules/dossier.schema.json,
    is not checked again: the test suite checks it, and checking costs a cold start a fifth of a second."""
    shipped = shipped_schema()
    if digest == shipped.digest:
        return attrs.evolve(shipped, origin=name)
    return read_schema(text, name, digest)


def read_schema(text: str, name: str, digest: str) -> Schema:
    """A pack's dossier schema, read as strictly as a dossier, checked against the JSON Schema 2020-12
    meta-schema, then for what immat walks itself; raise DiagnosticError carrying every problem, located."""
    # Numbers as json.loads reads them, not as Decimal: `immat schema dossier` writes the document back.
    document, diagnostics = _load_json(text, name, parse_float=float)
    if not diagnostics and not isinstance(document, dict):
        diagnostics = [error("schema-invalide", f"un schéma de dossier est un objet JSON {{ … }} ; reçu "
                             f"{_describe_value(document)}", file=name, pointer="")]
    findings = [] if diagnostics else too_deep(document) or _meta_findings(document) or unreadable(document)
    diagnostics += [error("schema-invalide", message, file=name, pointer=_pointer(path), help=hint)
                    for path, message, hint in findings]
    if diagnostics:
        raise DiagnosticError(_in_pointer_order(diagnostics))
    return Schema(document, digest, name)


def _meta_findings(document: dict) -> list[Finding]:
    """The French findings of the 2020-12 meta-schema, one per error, each at its most precise cause."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    found = []
    for e in meta.iter_errors(document):
        e = best_match([e])
        while e.context:  # « type » is an anyOf: of a name or of a list of names; the name is what is wrong
            e = best_match(e.context)
        found += _explain(e, tuple(e.absolute_path))
    return found


# ---------------------------------------------------------------- registration numbers

_SIV = re.compile(r"([A-Z]{2})-([0-9]{3})-([A-Z]{2})")
_FNI = re.compile(r"([0-9]{1,4}) ([A-Z]{1,3}) ([0-9]{2,3}|2[AB])")
# Spellings people actually type: lower case, spaces or other dashes instead of
# hyphens, no separator at all.
_SEPARATOR = r"[\s.\-‐‑–—_]*"
_SIV_LOOSE = re.compile(_SEPARATOR.join([r"([A-Z]{2})", r"([0-9]{3})", r"([A-Z]{2})"]))
_FNI_LOOSE = re.compile(_SEPARATOR.join([r"([0-9]{1,4})", r"([A-Z]{1,3})", r"([0-9]{2,3}|2[AB])"]))

_FNI_DEPARTEMENTS = frozenset(
    [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B", "971", "972", "973", "974", "976"]
)


def plate_problem(plate: str) -> str | None:
    """Why `plate` is not a registration number as printed on a certificate, in French; None if it is."""
    upper = plate.strip().upper()
    for strict, loose, reasons, form in _PLATE_FORMATS:
        match = strict.fullmatch(plate) or loose.fullmatch(upper)
        if match is None:
            continue
        canonical = form.format(*match.groups())
        problems = reasons(*match.groups())
        if canonical != plate:
            head = f"immatriculation « {plate} » mal écrite : attendu « {canonical} » ({_WRITTEN_FORM[form]})"
            return " ; ".join([head] + problems)
        return f"immatriculation « {plate} » invalide : {' ; '.join(problems)}" if problems else None
    what = f"« {excerpt(plate)} » non reconnue" if plate.strip() else "vide"
    return f"immatriculation {what} : attendu le format SIV AB-123-CD ou l'ancien format FNI 123 AB 01"


def _forbidden_letters(letters: str, banned: str, why: str) -> list[str]:
    found = sorted(set(letters) & set(banned))
    if not found:
        return []
    plural = "s" if len(found) > 1 else ""
    return [f"lettre{plural} {', '.join(found)} interdite{plural} : {why}"]


def _siv_reasons(left: str, digits: str, right: str) -> list[str]:
    reasons = _forbidden_letters(left + right, "IOU", "le SIV n'emploie jamais I, O ni U (confusion avec 1, 0 et V)")
    if digits == "000":
        reasons.append("le numéro 000 n'est jamais attribué : les chiffres vont de 001 à 999")
    if "SS" in (left, right):
        reasons.append("la paire de lettres SS n'est jamais attribuée")
    if left == "WW":
        reasons.append("WW est la série provisoire (certificat provisoire WW), pas un numéro définitif")
    return reasons


def _fni_reasons(digits: str, letters: str, departement: str) -> list[str]:
    reasons = _forbidden_letters(letters, "IO", "le FNI n'emploie ni I ni O")
    if departement == "20":
        reasons.append("département 20 : la Corse s'écrit 2A (Corse-du-Sud) ou 2B (Haute-Corse)")
    elif departement not in _FNI_DEPARTEMENTS:
        reasons.append(f"département « {departement} » inexistant : attendu 01 à 95, 2A, 2B, 971 à 974 ou 976")
    return reasons


_SIV_FORM = "{}-{}-{}"
_FNI_FORM = "{} {} {}"
_WRITTEN_FORM = {
    _SIV_FORM: "format SIV AB-123-CD : majuscules et traits d'union, comme sur le certificat",
    _FNI_FORM: "format FNI 123 AB 01 : majuscules, chiffres, lettres et département séparés par une espace",
}
_PLATE_FORMATS = (
    (_SIV, _SIV_LOOSE, _siv_reasons, _SIV_FORM),
    (_FNI, _FNI_LOOSE, _fni_reasons, _FNI_FORM),
)


def _plate_diagnostics(data: dict, name: str) -> list[Diagnostic]:
    vehicle = data.get("vehicule")
    plate = vehicle.get("immatriculation") if isinstance(vehicle, dict) else None
    problem = plate_problem(plate) if isinstance(plate, str) else None
    if problem is None:
        return []
    return [error("immatriculation", problem, file=name, pointer=_pointer(PLATE_PATH))]


# ---------------------------------------------------------------- cross-field checks


def _holder_index_diagnostics(data: dict, name: str) -> list[Diagnostic]:
    holders, pieces = data.get("titulaires"), data.get("pieces")
    if not isinstance(holders, list) or not isinstance(pieces, list):
        return []  # absent or mistyped: nothing to check against (or already reported)
    found = []
    for position, piece in enumerate(pieces):
        index = piece.get("titulaire") if isinstance(piece, dict) else None
        # `type(...) is int` because JSON true would otherwise pass as the index 1.
        if type(index) is int and index >= len(holders):
            count = f"n'en a que {len(holders)}" if holders else "n'en a aucun"
            found.append(
                error(
                    "schema",
                    f"la pièce désigne le titulaire n° {index + 1}, mais le dossier {count}",
                    file=name,
                    pointer=_pointer(("pieces", position, "titulaire")),
                    help="« titulaire » compte à partir de 0 : 0 désigne le titulaire, 1 le premier co-titulaire",
                )
            )
    return found
