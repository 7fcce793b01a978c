"""The dossier schema's words for fields and coded values."""

from __future__ import annotations

from ..vocabulary import Vocabulary
from . import french as fr


class Fields(Vocabulary):
    """The schema's words as the docs use them: a piece's name and description, a field's hint."""

    def piece_label(self, piece_type: str) -> tuple[str, str]:
        """A piece type's short French name and its full description, from the dossier schema."""
        description = self.enum("/pieces/*/type").get(piece_type, "")
        if not description:
            return fr.humanize(piece_type), ""
        return self.short_names("/pieces/*/type")[piece_type], description

    def hint(self, pointer: str) -> str:
        node = self.node(pointer)
        shown = pointer.replace("/*", "/…")
        return f"Champ {shown} du dossier" + (f" : {node['description']}" if node.get("description") else "")
