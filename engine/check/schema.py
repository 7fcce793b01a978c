"""The dossier's JSON Schema read as the rule language's types."""

from __future__ import annotations

from ..frozen import frozen
from ..ir import Type
from ..schema import resolve


@frozen
class DossierSchema:
    root: dict

    def resolve(self, node: dict) -> dict:
        while "$ref" in node:
            node = resolve(self.root, node["$ref"])
        return node

    def type_of(self, node: dict, pointer: str) -> Type:
        node = self.resolve(node)
        kind = node.get("type")
        if isinstance(kind, list):  # a pack's own schema may say ["string", "null"]: null reads as not given
            types = [self.type_of({**node, "type": k}, pointer) for k in kind if k != "null"]
            # Of several types, no operation applies to every one: any use is a type error, not a guess.
            return types[0] if len(types) == 1 else Type(" ou ".join(t.kind for t in types) or "nul", pointer=pointer)
        enum = enum_values(node)
        if enum:
            return Type("texte", enum=enum, pointer=pointer)
        if kind == "string":
            return Type("date", pointer=pointer) if node.get("format") == "date" else Type("texte", pointer=pointer)
        if kind == "number" and node.get("x-unite") == "euro":
            return Type("montant", pointer=pointer)  # a price in the dossier computes as money, to the cent
        simple = {"boolean": "booléen", "integer": "entier", "number": "décimal"}
        if kind in simple:
            return Type(simple[kind], pointer=pointer)
        if kind == "array":
            return Type("liste", schema=self.resolve(node.get("items", {})), pointer=pointer)
        return Type("objet", schema=node, pointer=pointer)

    def properties(self, type_: Type) -> dict:
        return self.resolve(type_.schema or {}).get("properties", {})


def enum_values(node: dict) -> tuple[str, ...]:
    if "enum" in node:
        return tuple(str(v) for v in node["enum"])
    alternatives = node.get("oneOf") or node.get("anyOf") or ()
    consts = [a["const"] for a in alternatives if isinstance(a, dict) and "const" in a]
    return tuple(consts) if consts and len(consts) == len(alternatives) else ()


# ------------------------------------------------------------------ the checker
