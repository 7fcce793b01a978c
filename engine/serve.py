"""HTTP requests → reports: the ASGI application of `immat serve` (Starlette), on a pack checked once per process.

`create_app` builds it from a checked Program; `app_from_environment` is the factory uvicorn's worker processes
call (`--workers N`), each loading the pack (from the cache) as the command did. Every answer to a dossier is
what `immat validate` writes for it, byte for byte: the same report, the same French located errors.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import io
import itertools
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import anyio.from_thread
import anyio.to_thread
import attrs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from . import __version__, openapi, report, web
from .compile import compiled
from .diagnostics import Diagnostic, error
from .diagnostics import to_json as diagnostics_json
from .dossier import MAX_BYTES
from .escape import json_dumps, visible
from .explain import explaining
from .frozen import frozen
from .inputs import line_documents, whole_document
from .pipeline import BATCH as TOGETHER
from .pipeline import FAILED, Unreadable, load_rules, render_batch, render_one, worked_examples
from .program import Program
from .runtime import rule_of
from .values import format_number

LOG = logging.getLogger("immat.serve")
ENVIRONMENT = "IMMAT_SERVE"  # the settings `immat serve` hands its worker processes, as JSON
DOSSIER, BATCH = "requête", "requête.jsonl"  # a dossier's name when the request gives none
# The status of a dossier without a report, by the code of its first error; any other is 422.
STATUS = {"json-invalide": 400, "encodage": 400, "parametre": 400, "lecture-interrompue": 400,
          "trop-volumineux": 413, "type-de-contenu": 415, "delai-depasse": 503, FAILED: 500}
CHUNK = 64  # batch records sent together: one thread hop and one write for many dossiers


@frozen
class Limits:
    """What one request may cost: bytes read, and seconds until it is answered (for a batch, until its end)."""

    dossier_bytes: int = MAX_BYTES
    batch_bytes: int = 100_000_000
    seconds: float = 10.0
    batch_seconds: float = 600.0


@frozen
class Service:
    """What every request reads, made once per process."""

    program: Program
    limits: Limits
    rules: dict[str, dict]  # /v1/rules, by id
    site: dict[str, str]  # the lawyers' site: file name → page
    openapi: dict
    version: str


# ------------------------------------------------------------------ building the application


def rule_items(program: Program, pages: dict[tuple[str, str], str]) -> dict[str, dict]:
    """Each requirement, amount and notice as /v1/rules/{id} gives it: what a report names, and its page."""
    found = {}
    for item in program.requirements:
        found[item.name] = _rule_item(item, pages[("exigence", item.name)], message=item.message)
    for name, item in program.amounts.items():
        found[name] = _rule_item(item, pages[("montant", name)])
    for item in program.notices:
        found[item.name] = _rule_item(item, pages[("avis", item.name)], message=item.message)
    return found


def _rule_item(item, page: str, message: str | None = None) -> dict:
    rule = rule_of(item)
    out = {"id": rule.id, "kind": rule.kind, "title": rule.title, "source": rule.source, "page": f"/regles/{page}",
           "location": rule.location}
    if message is not None:
        out["message"] = message
    return out | {"notes": [n.text for n in item.notes], "not_handled": [n.text for n in item.not_handled]}


def create_app(program: Program, examples=(), limits: Limits = Limits()) -> Starlette:
    """The application for a checked pack; `examples` are the lawyers' site's worked examples (docs.Example)."""
    from .docs import build_site, page_files

    compiled(program), explaining(program)  # generated now, so that the first requests do not wait for them
    version, report_schema = __version__, report.report_schema()
    service = Service(program, limits, rule_items(program, page_files(program)), build_site(program, examples),
                      openapi.document(program.schema.document, version), version)
    routes = [
        Route("/v1/validate", functools.partial(validate, service), methods=["POST"]),
        Route("/v1/validate/batch", functools.partial(batch, service), methods=["POST"]),
        Route("/v1/rules", functools.partial(rules, service)),
        Route("/v1/rules/{id}", functools.partial(rule, service)),
        Route("/v1/schema/dossier", lambda request: _json(program.schema.document)),
        Route("/v1/schema/report", lambda request: _json(report_schema)),
        Route("/health", functools.partial(health, service)),
        Route("/openapi.json", lambda request: _json(service.openapi)),
        Route("/regles", lambda request: RedirectResponse("/regles/", 308)),
        Route("/regles/{page:path}", functools.partial(site_page, service)),
        *web.routes(),
    ]
    handlers = {HTTPException: _http_error, Exception: _internal_error}
    return Starlette(routes=routes, exception_handlers=handlers, middleware=[Middleware(_RequestLog)],
                     lifespan=functools.partial(_lifespan, program))


@contextlib.asynccontextmanager
async def _lifespan(program: Program, app: Starlette):
    """The log's first and last lines of each process, in French as the request lines are (uvicorn's own are
    left to its warnings and errors)."""
    LOG.info("processus %d prêt : règles %s", os.getpid(), program.pack.signed())
    yield
    LOG.info("processus %d arrêté, ses requêtes en cours finies", os.getpid())


def settings_json(rules: str | os.PathLike | None, fixtures: str | os.PathLike | None, limits: Limits) -> str:
    """What `app_from_environment` reads in a worker process: where the pack and fixtures are, and the limits."""
    return json.dumps({"rules": rules and str(rules), "fixtures": fixtures and str(fixtures),
                       "limits": attrs.asdict(limits)})


def app_from_environment() -> Starlette:
    """The application a uvicorn worker builds (`immat.serve:app_from_environment`, a factory) from the settings
    `immat serve` left in its environment; the rules, checked by the command, come from the cache."""
    settings = json.loads(os.environ.get(ENVIRONMENT, "{}"))
    checked = load_rules(settings.get("rules"), needs_requirement=True)
    if not checked.ok:
        raise RuntimeError(f"les règles {checked.pack} contiennent des erreurs : lancez « immat check »")
    fixtures = settings.get("fixtures")
    examples, _ = worked_examples(checked.program, Path(fixtures) if fixtures else None)
    return create_app(checked.program, examples, Limits(**settings.get("limits", {})))


# ------------------------------------------------------------------ answers


def _json(document) -> Response:
    return Response(json_dumps(document, indent=2) + "\n", media_type=openapi.JSON)


def _refused(name: str, diagnostics: list[Diagnostic]) -> Response:
    """The record `immat validate` writes for a dossier it cannot report on, with the status that says why."""
    return Response(report.render_unreadable_json(name, diagnostics), STATUS.get(diagnostics[0].code, 422),
                    media_type=openapi.JSON)


def _failure(status: int, diagnostic: Diagnostic, headers=None) -> Response:
    """A refusal that concerns no dossier: the `errors` of an error record, without its `dossier`."""
    body = {"errors": [diagnostics_json(diagnostic)]}
    return Response(json_dumps(body) + "\n", status, headers, media_type=openapi.JSON)


def _not_found(what: str) -> Response:
    return _failure(404, error("introuvable", what))


async def _http_error(request: Request, exc: HTTPException) -> Response:
    """Starlette's own refusals (no such address, method not allowed), in French."""
    if exc.status_code == 404:
        return _not_found(f"aucune ressource à l'adresse « {request.url.path} »")
    words = {405: f"méthode {request.method} non permise à l'adresse « {request.url.path} »"}
    message = words.get(exc.status_code, f"requête refusée ({exc.status_code})")
    return _failure(exc.status_code, error("requete", message), exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    """An anomaly of immat: a French sentence, never a stack trace (nor the dossier)."""
    LOG.log(logging.ERROR, "anomalie d'immat sur %s %s : %s", request.method, request.url.path, type(exc).__name__)
    return _failure(500, error(FAILED, "erreur interne d'immat : la requête n'a pas été traitée ; signalez l'anomalie"))


async def health(service: Service, request: Request) -> Response:
    pack = service.program.pack
    return _json({"status": "ok", "version": service.version, "pack": pack.name, "digest": pack.digest})


async def rules(service: Service, request: Request) -> Response:
    return _json(list(service.rules.values()))


async def rule(service: Service, request: Request) -> Response:
    wanted = request.path_params["id"]
    if wanted in service.rules:
        return _json(service.rules[wanted])
    close = difflib.get_close_matches(wanted, list(service.rules), n=1)
    hint = f" ; vouliez-vous dire « {close[0]} » ?" if close else ""
    return _not_found(f"aucune exigence, aucun montant ni aucun avis ne s'appelle « {wanted} »{hint}")


async def site_page(service: Service, request: Request) -> Response:
    page = request.path_params["page"] or "index.html"
    if page not in service.site:
        return _not_found(f"le site des règles n'a pas de page « {page} »")
    return Response(service.site[page], media_type=openapi.HTML)


# ------------------------------------------------------------------ one dossier


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _name(request: Request, default: str) -> str:
    raw = request.headers.get(openapi.DOSSIER_NAME, "")
    try:  # HTTP headers come as bytes, which Starlette reads as Latin-1: a client writes a name in UTF-8
        raw = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass
    return raw.strip() or default


def _flags(request: Request, name: str) -> tuple[bool, bool]:
    """?explain= and ?tout=, as true/false (1/0); anything else is a usage error."""
    values = []
    for flag in ("explain", "tout"):
        raw = request.query_params.get(flag, "false").lower()
        if raw not in ("true", "false", "1", "0"):
            raise _Refusal(error("parametre", f"paramètre « {flag} » : « {raw} » n'est ni true ni false", file=name))
        values.append(raw in ("true", "1"))
    return values[0], values[1]


class _Refusal(Exception):
    """A request refused before any dossier is read: the record and the status to answer with."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.response = _refused(diagnostic.file, [diagnostic])


def _too_large(name: str, limit: int) -> _Refusal:
    message = f"requête trop volumineuse : plus de {format_number(limit)} octets, la limite de ce service ; elle n'est pas lue"
    return _Refusal(error("trop-volumineux", message, file=name))


def _unsupported(name: str, media: str, expected: str) -> _Refusal:
    message = f"type de contenu « {media or 'absent'} » refusé : envoyez {expected}"
    return _Refusal(error("type-de-contenu", message, file=name))


async def _body(request: Request, name: str, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(name, limit)  # refused before a byte is read
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(name, limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def validate(service: Service, request: Request) -> Response:
    """POST /v1/validate: one dossier → its report (JSON, or HTML when asked)."""
    name, media = _name(request, DOSSIER), _media_type(request)
    limits = service.limits
    try:
        if media != openapi.JSON and not media.endswith("+json"):
            raise _unsupported(name, media, "un dossier JSON (Content-Type: application/json)")
        explain, show_all = _flags(request, name)
        html = _wants_html(request.headers.get("accept", ""))
        render = functools.partial(report.render_html if html else report.render_json, explain=explain,
                                   show_all=show_all)
        with anyio.fail_after(limits.seconds):
            document = whole_document(name, io.BytesIO(await _body(request, name, limits.dossier_bytes)))
            result = await anyio.to_thread.run_sync(render_one, service.program, render, explain, document,
                                                    abandon_on_cancel=True)
    except _Refusal as refusal:
        return refusal.response
    except ClientDisconnect:  # nobody to answer: what the log says
        return _refused(name, [error("lecture-interrompue", "la connexion a été coupée avant la fin du dossier",
                                     file=name)])
    except TimeoutError:
        message = f"délai dépassé : la requête n'a pas été traitée en {limits.seconds:g} s ; réessayez plus tard"
        return _refused(name, [error("delai-depasse", message, file=name)])
    if isinstance(result, Unreadable):
        request.scope[_LOGGED] = f"erreur={result.diagnostics[0].code}"
        return _refused(result.name, result.diagnostics)
    reference = visible(json.dumps(result.reference, ensure_ascii=False))
    request.scope[_LOGGED] = f"référence={reference} verdict={result.verdict}"
    return Response(result.text, media_type=openapi.HTML if html else openapi.JSON)


def _wants_html(accept: str) -> bool:
    """An HTML report for a browser (text/html asked, JSON not), JSON for everyone else."""
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return "text/html" in types and openapi.JSON not in types


# ------------------------------------------------------------------ a batch


async def batch(service: Service, request: Request) -> Response:
    """POST /v1/validate/batch: JSON Lines in, JSON Lines out, as `immat validate --format jsonl -`."""
    name = _name(request, BATCH)
    try:
        if _media_type(request) not in openapi.LINES_TYPES:
            raise _unsupported(name, _media_type(request), f"un lot en JSON Lines (Content-Type: {openapi.LINES})")
        explain, show_all = _flags(request, name)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > service.limits.batch_bytes:
            raise _too_large(name, service.limits.batch_bytes)
    except _Refusal as refusal:
        return refusal.response
    return _Records(service, request, name, functools.partial(report.render_jsonl, explain=explain,
                                                              show_all=show_all), explain)


class _Body(io.RawIOBase):
    """A request's body as the blocking stream `inputs.line_documents` reads, from a worker thread: each read
    waits on the event loop for the next chunk, within the limits of bytes and time, once the records made so
    far are sent (`before_waiting`). Past the limits, and when the client leaves, reading fails (OSError) and the
    batch ends with a record that says so at its place. It reads lines itself, so that `ready` can tell whether
    the next one is already here: a client may wait for a line's record before it sends the next line."""

    def __init__(self, request: Request, limit: int, deadline: float, before_waiting: Callable) -> None:
        self._chunks, self._before_waiting = request.stream(), before_waiting
        self._pending = bytearray()
        self._searched = 0  # how far _pending is known to hold no line break
        self._ended = False
        self._size, self._limit, self._deadline, self._full = 0, limit, deadline, False

    def readable(self) -> bool:
        return True

    def ready(self) -> bool:
        """Whether the next line (or the body's end) is here: reading it would not wait for the client."""
        return self._ended or self._pending.find(b"\n", self._searched) >= 0

    def readline(self, size: int = -1) -> bytes:
        while True:
            end = self._pending.find(b"\n", self._searched)
            if end >= 0 and (size < 0 or end < size):
                return self._taken(end + 1)
            if 0 <= size <= len(self._pending):
                return self._taken(size)
            self._searched = len(self._pending)
            more = b"" if self._ended else anyio.from_thread.run(self._next)
            if not more:
                self._ended = True
                return self._taken(len(self._pending))
            self._pending += more

    def _taken(self, size: int) -> bytes:
        taken = bytes(self._pending[:size])
        del self._pending[:size]
        self._searched = 0
        return taken

    def readinto(self, buffer) -> int:
        line = self.readline(len(buffer))
        buffer[:len(line)] = line
        return len(line)

    async def _next(self) -> bytes:
        if self._full:
            raise OSError(f"le lot dépasse {format_number(self._limit)} octets, la limite de ce service")
        await self._before_waiting()
        with anyio.move_on_after(self._deadline - time.monotonic()) as waited:
            try:
                chunk = await anext(self._chunks, b"")
            except ClientDisconnect:
                raise OSError("la connexion a été coupée") from None
        if waited.cancelled_caught:
            raise OSError("délai dépassé")
        room = self._limit - self._size
        if len(chunk) > room:  # what fits is read: the dossiers before the limit are checked
            self._full, chunk = True, chunk[:room]
            if not chunk:
                return await self._next()
        self._size += len(chunk)
        return chunk


def _in_time(documents, deadline: float, seconds: float) -> Iterator:
    """The documents, until the batch's time is up: then one record says from which dossier on none was checked."""
    for document in documents:
        if time.monotonic() > deadline:
            name = document.name if isinstance(document, Unreadable) else document[0]
            message = f"délai dépassé ({seconds:g} s) : les dossiers à partir de celui-ci ne sont pas vérifiés"
            yield Unreadable(name, [error("delai-depasse", message, file=name)])
            return
        yield document


def _arrived(documents: Iterator, body: _Body) -> Iterator[list]:
    """The documents in chunks of those already received (TOGETHER at most), evaluated together on columns: a
    chunk ends where the next line has not arrived, so that no record waits for a line the client may only send
    once it has that record."""
    chunk: list = []
    for document in documents:
        chunk.append(document)
        if len(chunk) >= TOGETHER or not body.ready():
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Records(Response):
    """The batch's records, sent as they are made, and at the latest whenever reading waits for more of the body,
    which is read as it comes, never held whole.

    Not a StreamingResponse: that one reads the request's messages itself, to notice a client that leaves,
    and would take the body's chunks from the reader."""

    def __init__(self, service: Service, request: Request, name: str, render: Callable, explain: bool) -> None:
        self.raw_headers = [(b"content-type", openapi.LINES.encode())]
        limits = service.limits
        deadline = time.monotonic() + limits.batch_seconds
        body = _Body(request, limits.batch_bytes, deadline, self._flush)
        documents = _in_time(line_documents(name, body), deadline, limits.batch_seconds)
        self.results = itertools.chain.from_iterable(render_batch(service.program, render, explain, chunk)
                                                     for chunk in _arrived(documents, body))
        self.texts: list[str] = []  # made in the worker thread, sent from the event loop, never both at once
        self.counts: dict[str, int] = {}
        self.send = None

    def _make(self) -> int:
        """Up to CHUNK more records (in a worker thread); how many."""
        made = 0
        for made, result in enumerate(itertools.islice(self.results, CHUNK), 1):
            if isinstance(result, Unreadable):
                self.texts.append(report.render_unreadable_jsonl(result.name, result.diagnostics))
                verdict = "illisible"
            else:
                self.texts.append(result.text)
                verdict = result.verdict
            self.counts[verdict] = self.counts.get(verdict, 0) + 1
        return made

    async def _flush(self) -> None:
        if self.texts:
            chunk = "".join(self.texts).encode("utf-8")
            self.texts.clear()
            await self.send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def __call__(self, scope, receive, send) -> None:
        self.send = send
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        while await anyio.to_thread.run_sync(self._make):
            await self._flush()
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        scope[_LOGGED] = " ".join(f"{verdict}={count}" for verdict, count in self.counts.items()) or "dossiers=0"


# ------------------------------------------------------------------ the log


_LOGGED = "immat.log"  # where a handler leaves what the request's log line says of its dossiers


class _RequestLog:
    """One line per request: method, path, status, duration, and the dossier's reference and verdict (a batch:
    its count per verdict); never a dossier's content."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def sent(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            took = (time.perf_counter() - started) * 1000
            about = f" {scope[_LOGGED]}" if _LOGGED in scope else ""
            LOG.info("%s %s %d %.1f ms%s", scope["method"], visible(scope["path"]), status[0], took, about)
