"""A pack's dossier schema and the report schema → the OpenAPI 3.1 document of `immat serve`.

The request and response bodies are those very JSON Schemas, placed under `components/schemas` with their
local references rewritten to their new place: one description of a dossier and of a report, whichever
reads it (the CLI, the API, a client generator).
"""

from __future__ import annotations

from .report import report_schema

JSON, HTML, LINES = "application/json", "text/html", "application/x-ndjson"
# Accepted for a batch besides LINES: the names JSON Lines goes by.
LINES_TYPES = (LINES, "application/jsonl", "application/x-jsonlines", "application/jsonlines",
               "application/json-lines", "application/x-jsonl")
DOSSIER_NAME = "X-Dossier-Name"
# Keywords of a JSON Schema document that only a document at the root may hold.
_ROOT_ONLY = ("$schema", "$id")


def rehomed(document: dict, name: str) -> dict:
    """A JSON Schema document as the component `name`: its « #/… » references point inside the component."""
    prefix = f"#/components/schemas/{name}/"

    def moved(node):
        if isinstance(node, dict):
            return {key: (prefix + value[2:] if key == "$ref" and isinstance(value, str) and value.startswith("#/")
                          else moved(value)) for key, value in node.items() if key not in _ROOT_ONLY}
        if isinstance(node, list):
            return [moved(item) for item in node]
        return node

    return moved(document)


def _ref(name: str, *path: str) -> dict:
    return {"$ref": "/".join(("#/components/schemas", name, *path))}


def _content(schema: dict, media: str = JSON) -> dict:
    return {media: {"schema": schema}}


def _answer(description: str, content: dict | None = None) -> dict:
    return {"description": description, **({"content": content} if content else {})}


ERRORS = {
    "400": "JSON mal formé (ligne et colonne), texte qui n'est pas de l'UTF-8, ou paramètre invalide",
    "413": "requête trop volumineuse",
    "415": "type de contenu refusé",
    "422": "dossier non conforme au schéma (pointeur JSON de chaque champ en cause)",
    "503": "délai dépassé",
}
_FLAGS = [
    {"name": "explain", "in": "query", "required": False, "schema": {"type": "boolean", "default": False},
     "description": "Ajoute le raisonnement de chaque règle (arbres « reason » et « breakdown »), sa source "
                    "complète et les exigences sans objet (comme immat validate --explain)."},
    {"name": "tout", "in": "query", "required": False, "schema": {"type": "boolean", "default": False},
     "description": "Liste aussi les exigences sans objet (comme immat validate --tout)."},
    {"name": DOSSIER_NAME, "in": "header", "required": False, "schema": {"type": "string"},
     "description": "Le nom du dossier dans le rapport et les erreurs (« requête » par défaut ; "
                    "« requête.jsonl » pour un lot, dont chaque ligne N est nommée « requête.jsonl:N »)."},
]


def _errors(*codes: str) -> dict:
    return {code: _answer(ERRORS[code], _content(_ref("erreur_dossier"))) for code in codes}


def _validate() -> dict:
    return {"post": {
        "operationId": "validate", "summary": "Vérifie un dossier",
        "description": "Le corps est un dossier JSON ; la réponse est le rapport que « immat validate --format "
                       "json » écrit pour ce dossier, octet pour octet ; avec « Accept: text/html », la page HTML "
                       "du rapport (immat validate --format html).",
        "parameters": _FLAGS,
        "requestBody": {"required": True, "content": _content(_ref("dossier"))},
        "responses": {"200": _answer("le rapport", {**_content(_ref("rapport")), **_content({"type": "string"}, HTML)}),
                      **_errors("400", "413", "415", "422", "503")},
    }}


def _batch() -> dict:
    lines = {"type": "string", "description": "Un dossier JSON par ligne (JSON Lines)."}
    return {"post": {
        "operationId": "validate_batch", "summary": "Vérifie un lot de dossiers (JSON Lines)",
        "description": "Un dossier par ligne ; la réponse, envoyée au fil de la lecture, a une ligne par dossier "
                       "(le rapport, ou à sa place l'enregistrement « sans_rapport » qui dit pourquoi il n'y en a "
                       "pas), dans l'ordre : ce que « immat validate --format jsonl - » écrit.",
        "parameters": _FLAGS,
        "requestBody": {"required": True, "content": {media: {"schema": lines} for media in LINES_TYPES}},
        "responses": {"200": _answer("un rapport, ou une erreur, par ligne du lot", _content(lines, LINES)),
                      **_errors("400", "413", "415")},
    }}


def _get(operation: str, summary: str, answer: str, content: dict, not_found: bool = False, **more) -> dict:
    responses = {"200": _answer(answer, content)}
    if not_found:
        responses["404"] = _answer("introuvable", _content(_ref("erreur")))
    return {"get": {"operationId": operation, "summary": summary, "responses": responses, **more}}


def _in_path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _rule_item() -> dict:
    text = {"type": "string"}
    return {"type": "object", "required": ["id", "kind", "title", "source", "page"], "properties": {
        "id": text, "kind": {"enum": ["exigence", "recevabilité", "montant", "avis"]}, "title": text,
        "source": {**text, "description": "La source légale de la règle, telle qu'elle l'écrit."},
        "page": {**text, "description": "L'adresse de sa page sur le site des règles (/regles/…)."},
        "location": {**text, "description": "fichier:ligne de la règle dans le paquet."},
        "message": {**text, "description": "Ce que le rapport dit au demandeur quand l'exigence n'est pas remplie."},
        "notes": {"type": "array", "items": text}, "not_handled": {"type": "array", "items": text},
    }}


def _health() -> dict:
    text = {"type": "string"}
    return {"type": "object", "required": ["status", "version", "pack", "digest"],
            "properties": {"status": {"const": "ok"}, "version": text, "pack": text,
                           "digest": {"type": "string", "pattern": "^[0-9a-f]{12}$"}}}


def document(dossier_schema: dict, version: str) -> dict:
    """The OpenAPI 3.1 document of the service for a pack whose dossiers follow `dossier_schema`."""
    report = report_schema()
    errors = _ref("rapport", "$defs", "sans_rapport", "properties", "errors")
    text = {"type": "string"}
    html = _content(text, HTML)
    json_schema = _content({"type": "object"})
    paths = {
        "/v1/validate": _validate(),
        "/v1/validate/batch": _batch(),
        "/v1/rules": _get("rules", "Les exigences, montants et avis du paquet", "la liste des règles",
                          _content({"type": "array", "items": _ref("regle")})),
        "/v1/rules/{id}": _get("rule", "Une règle", "la règle", _content(_ref("regle")), not_found=True,
                               parameters=[_in_path("id")]),
        "/v1/schema/dossier": _get("dossier_schema", "Le schéma JSON d'un dossier (celui du paquet)", "le schéma",
                                   json_schema),
        "/v1/schema/report": _get("report_schema", "Le schéma JSON d'un rapport", "le schéma", json_schema),
        "/health": _get("health", "État du service", "la version d'immat et le paquet de règles servi",
                        _content(_ref("sante"))),
        "/openapi.json": _get("openapi", "Ce document", "le document OpenAPI", json_schema),
        "/": _get("page", "La page des instructeurs", "la page", html),
        "/static/{file}": {"get": {"operationId": "page_file", "summary": "Le script et la feuille de style de la page",
                                   "parameters": [_in_path("file")], "responses": {
                                       "200": _answer("le fichier", {**_content(text, "text/javascript"),
                                                                     **_content(text, "text/css")}),
                                       "404": _answer("introuvable", _content(text, "text/plain"))}}},
        "/regles/": _get("site_index", "L'accueil du site des règles", "la page", html),
        "/regles/{page}": _get("site_page", "Une page du site des règles", "la page", html, not_found=True,
                               parameters=[_in_path("page")]),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "immat", "version": version,
                 "description": "Vérification des dossiers de demande de certificat d'immatriculation au regard "
                                "de règles lisibles par un juriste ; chaque résultat avec sa source légale."},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {"schemas": {
            "dossier": rehomed(dossier_schema, "dossier"),
            "rapport": rehomed(report, "rapport"),
            "erreur_dossier": _ref("rapport", "$defs", "sans_rapport"),
            "erreur": {"type": "object", "required": ["errors"], "additionalProperties": False,
                       "properties": {"errors": errors},
                       "description": "Une erreur qui ne concerne pas un dossier : ressource introuvable…"},
            "regle": _rule_item(),
            "sante": _health(),
        }},
    }
