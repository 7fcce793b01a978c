"""Syntax trees + dossier schema → a resolved, typed Program, with every static error located."""

from .checker import check, import_path

__all__ = ["check", "import_path"]
