"""The instructors' page → Starlette routes: `GET /` and its static files, read from the package's data.

The page is plain HTML, CSS and JavaScript, with no build step and nothing loaded from elsewhere; it talks to the
API of `immat serve` on the same origin (/v1/validate, /v1/rules, /v1/schema/dossier, /health).
"""

from __future__ import annotations

import functools
import hashlib
import os

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from ..source import shipped

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
# The page is asked again at each visit (a new version of immat shows at once); its files are revalidated
# after an hour at most, cheaply, by their ETag.
PAGE_CACHE = "no-cache"
STATIC_CACHE = "public, max-age=3600"
# The page runs only its own script and style: were a report's text (a holder's name, an address) ever to become
# markup, the browser would still run nothing of it.
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
               "frame-ancestors 'none'")


@functools.cache
def _files() -> dict[str, tuple[bytes, str]]:
    """The page's files by name, each with its ETag; only these are served, so no path reaches outside the
    package."""
    folder = shipped("immat.web")
    bodies = {}
    for name in os.listdir(folder):
        if name.endswith(tuple(TYPES)):
            with open(os.path.join(folder, name), "rb") as stream:
                bodies[name] = stream.read()
    return {name: (body, '"' + hashlib.sha256(body).hexdigest()[:16] + '"') for name, body in bodies.items()}


def _served(request: Request, name: str, cache: str, **more: str) -> Response:
    body, etag = _files()[name]
    headers = {"Cache-Control": cache, "ETag": etag, "X-Content-Type-Options": "nosniff", **more}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    suffix = name[name.rindex("."):]
    return Response(body, media_type=TYPES[suffix], headers=headers)


async def page(request: Request) -> Response:
    return _served(request, "index.html", PAGE_CACHE, **{"Content-Security-Policy": PAGE_POLICY})


async def static(request: Request) -> Response:
    name = request.path_params["file"]
    if name not in _files() or name == "index.html":
        return PlainTextResponse(f"fichier introuvable : {name}", status_code=404)
    return _served(request, name, STATIC_CACHE)


def routes() -> list[BaseRoute]:
    """`GET /` (the page) and `GET /static/{file}` (its script and stylesheet), for an app to mount."""
    return [Route("/", page, methods=["GET", "HEAD"]), Route("/static/{file}", static, methods=["GET", "HEAD"])]
