"""The command for case-management systems and browsers: the rules served over HTTP (`immat serve`)."""

from __future__ import annotations

import copy
import errno
import logging
import os
import socket
import sys
from pathlib import Path

import click

from ..dossier import MAX_BYTES
from . import BAD_INPUT, FOUND, _load, configured, exit_codes, rules_option


@click.command(epilog="""
\b
Exemples :
  immat serve
  immat serve --host 0.0.0.0 --port 8080 --workers 2
  curl -s -H 'Content-Type: application/json' --data @fixtures/exemple/dossier.json localhost:8000/v1/validate
\b
Adresses : POST /v1/validate (un dossier ; ?explain=true, ?tout=true ; Accept: text/html pour la page du
rapport), POST /v1/validate/batch (JSON Lines), GET /v1/rules, /v1/rules/{id}, /v1/schema/dossier,
/v1/schema/report, /health, /openapi.json, /regles/ (le site des règles).
""" + exit_codes("le service n'a pas pu démarrer (adresse déjà utilisée…)",
                 "mauvaise utilisation, ou l'extra serve n'est pas installé (pip install 'immat[serve]')",
                 interrupted="arrêté par Ctrl-C ou SIGTERM, les requêtes en cours finies (0 avec --workers 2 ou plus)"))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Adresse d'écoute (0.0.0.0 : toutes les interfaces).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port d'écoute.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processus qui répondent ; chacun charge et compile les règles une fois.")
@click.option("--fixtures", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Dossiers d'exemple du site des règles (/regles/) ; par défaut, celui que nomme [tool.immat] "
                   "fixtures, sinon ./fixtures s'il existe.")
@click.option("--max-bytes", type=click.IntRange(1, MAX_BYTES), default=MAX_BYTES, show_default=True,
              help="Taille maximale d'un dossier envoyé à /v1/validate, en octets (413 au-delà).")
@click.option("--max-batch-bytes", type=click.IntRange(min=1), default=100_000_000, show_default=True,
              help="Taille maximale d'un lot envoyé à /v1/validate/batch, en octets ; chaque ligne a la limite "
                   "d'un dossier.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              help="Délai de réponse pour un dossier, en secondes (503 au-delà).")
@click.option("--batch-timeout", type=click.FloatRange(min=0, min_open=True), default=600.0, show_default=True,
              help="Délai pour un lot entier, en secondes ; au-delà, le lot s'arrête sur un enregistrement qui "
                   "le dit.")
@rules_option
def serve(host, port, workers, fixtures, max_bytes, max_batch_bytes, timeout, batch_timeout, rules) -> None:
    """Sert les règles en HTTP : l'API qui vérifie les dossiers (un par requête ou en lot), les règles et leurs
    schémas, le document OpenAPI (/openapi.json) et le site des règles pour les juristes. Le journal a une
    ligne par requête (méthode, adresse, statut, durée, référence et verdict du dossier), jamais le contenu
    d'un dossier."""
    try:
        import uvicorn

        from ..serve import ENVIRONMENT, Limits, settings_json
    except ImportError as exc:
        click.echo(f"immat serve demande l'extra serve ({exc.name} manque) : pip install 'immat[serve]'", err=True)
        sys.exit(BAD_INPUT)
    _load(rules)  # rules with an error stop the command here, with their diagnostics, before any worker starts
    if fixtures is None:
        fixtures = configured().fixtures
    limits = Limits(max_bytes, max_batch_bytes, timeout, batch_timeout)
    os.environ[ENVIRONMENT] = settings_json(rules, fixtures, limits)
    refused = _unbound(host, port)
    if refused:
        click.echo(f"immat serve : impossible d'écouter sur {host}:{port} : {refused}", err=True)
        sys.exit(FOUND)
    click.echo(f"immat : http://{host}:{port}/ ({workers} processus) ; Ctrl-C pour arrêter", err=True)
    try:
        uvicorn.run("immat.serve:app_from_environment", factory=True, host=host, port=port, workers=workers,
                    access_log=False, log_config=_log_config(uvicorn), server_header=False,
                    http="immat.cli.connections:Protocol")
    except SystemExit as exc:
        if exc.code == 3:  # uvicorn's own « startup failed », which is not this command's 3 (the rules' errors)
            sys.exit(FOUND)
        raise


_REFUSALS = {
    errno.EADDRINUSE: "l'adresse est déjà utilisée (un autre service écoute sur ce port ? choisissez-en un autre "
                      "avec --port)",
    errno.EACCES: "permission refusée (un port sous 1024 demande des droits d'administrateur)",
    errno.EADDRNOTAVAIL: "cette adresse n'est pas l'une de cette machine",
}


def _unbound(host: str, port: int) -> str | None:
    """Why the service could not listen on host:port, in French (None if it can): asked before uvicorn starts,
    whose own refusal is an English line after each process has said it was ready."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return "adresse inconnue (ni une adresse IP, ni un nom que cette machine sait résoudre)"
    try:
        with socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET):
            return None
    except OSError as exc:
        return _REFUSALS.get(exc.errno) or f"refusée par le système ({os.strerror(exc.errno or 0)})"


def _log_config(uvicorn) -> dict:
    """The service's lines (immat.serve: each process's start and stop, each request) on standard error, with
    their time; of uvicorn's own, its warnings and errors only, in French where they are known (_Uvicorn)."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["formatters"]["requests"] = {"format": "%(asctime)s %(message)s"}
    config["handlers"]["requests"] = {"formatter": "requests", "class": "logging.StreamHandler",
                                      "stream": "ext://sys.stderr"}
    config["filters"] = {"french": {"()": f"{__name__}._Uvicorn"}}
    config["handlers"]["default"] |= {"formatter": "requests", "filters": ["french"]}
    config["loggers"]["immat.serve"] = {"handlers": ["requests"], "level": "INFO", "propagate": False}
    for name in ("uvicorn", "uvicorn.error"):  # its English start and stop lines: the service writes its own
        config["loggers"][name]["level"] = "WARNING"
    return config


class _Uvicorn(logging.Filter):
    """uvicorn's warnings and errors as the service's other lines say things: in French, after the time, its
    level first. A message it does not know stays as uvicorn wrote it; one that would send the operator to
    install what the service does not need (a WebSocket library) is dropped."""

    LEVELS = {"WARNING": "avertissement", "ERROR": "erreur", "CRITICAL": "erreur"}
    FRENCH = {
        "Invalid HTTP request received.": "requête HTTP mal formée : réponse 400, connexion fermée",
        "Unsupported upgrade request.": "changement de protocole demandé (en-tête Upgrade) non pris en charge : "
                                        "la requête est traitée en HTTP/1.1",
        "Exceeded concurrency limit.": "trop de connexions à la fois : réponse 503",
        "Exception in ASGI application\n": "erreur interne en traitant une requête (réponse 500) :",
        "ASGI callable returned without starting response.": "une requête est restée sans réponse : réponse 500",
        "ASGI callable returned without completing response.": "une réponse n'a pas été finie : connexion fermée",
        "Cancel %s running task(s), timeout graceful shutdown exceeded":
            "arrêt : %s requête(s) en cours abandonnée(s), le délai d'arrêt est dépassé",
    }

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg if isinstance(record.msg, str) else ""
        if message.startswith("No supported WebSocket library detected"):
            return False
        record.msg = self.FRENCH.get(message, record.msg)
        record.msg = f"uvicorn, {self.LEVELS.get(record.levelname, record.levelname.lower())} : {record.msg}"
        return True
