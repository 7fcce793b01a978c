"""immat: French vehicle-registration dossiers checked against readable rules."""

__version__ = "0.1.0"
