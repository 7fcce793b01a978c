"""The dossier schema → its French words: each field's node, each coded value's description and short name.

Reports and the docs site name piece types and coded values the same way, from the schema's own words.
"""

from __future__ import annotations

import re

from .schema import resolve


class Vocabulary:
    """Titles, descriptions and coded values of the dossier's fields, by schema pointer (/titulaires/*/nom)."""

    def __init__(self, schema: dict) -> None:
        self.schema = schema

    def node(self, pointer: str) -> dict:
        node = self.schema
        for part in [p for p in pointer.split("/") if p]:
            node = self._resolve(node)
            node = node.get("items", {}) if part == "*" else node.get("properties", {}).get(part, {})
        return self._resolve(node)

    def _resolve(self, node: dict) -> dict:
        # A property's own title and description win over those of the definition it refers to.
        while isinstance(node, dict) and "$ref" in node:
            node = {**resolve(self.schema, node["$ref"]), **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    def enum(self, pointer: str) -> dict[str, str]:
        """The coded values of a field with what each means."""
        node = self.node(pointer)
        values = {str(v): "" for v in node.get("enum", ())}
        for option in node.get("oneOf", ()) or node.get("anyOf", ()):
            if isinstance(option, dict) and "const" in option:
                values[str(option["const"])] = option.get("description", "")
        return values

    def short_names(self, pointer: str) -> dict[str, str]:
        """Each described coded value's short name: its description up to the first comma, parenthesis or
        full stop (« Certificat de situation administrative (dit « de non-gage ») » → « Certificat de
        situation administrative »)."""
        return {value: re.split(r", | \(|\. |\.$", description, maxsplit=1)[0]
                for value, description in self.enum(pointer).items() if description}


def lower_first(title: str) -> str:
    """A title used inside a sentence: « Taxe fixe (Y.4) » → « taxe fixe (Y.4) », acronyms kept."""
    if len(title) > 1 and title[0].isupper() and not title[1].isupper():
        return title[0].lower() + title[1:]
    return title
