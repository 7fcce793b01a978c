"""`immat serve`: every answer to a dossier is what `immat validate` writes for it; bad input gets a French
located error with its status, never a stack trace or a 5xx; the logs never hold a dossier's content."""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import subprocess
import sys
import time
import warnings

import pytest

from .conftest import ROOT

with warnings.catch_warnings():  # Starlette prefers httpx2 for its test client; httpx serves it as well
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from immat.pipeline import load_rules, worked_examples  # noqa: E402
from immat.serve import Limits, create_app  # noqa: E402

EXAMPLE = "fixtures/exemple/dossier.json"
FIXTURES = [EXAMPLE] + [f"fixtures/{case}/dossier.json" for case in
                        ("ct_vehicule_dispense", "deux_titulaires_titulaire_partenaire", "electrique_neuf_normandie_2024")]
JSON = {"content-type": "application/json"}
LINES = {"content-type": "application/x-ndjson"}


@pytest.fixture(scope="module")
def program():
    return load_rules(ROOT / "rules", needs_requirement=True).program


@pytest.fixture(scope="module")
def client(program):
    examples, _ = worked_examples(program, ROOT / "fixtures")
    with TestClient(create_app(program, examples)) as test_client:
        yield test_client


def _post(client, path: str, body: bytes, name: str | None = None, headers=JSON, **params):
    extra = {"x-dossier-name": name} if name else {}
    return client.post(path, content=body, headers={**headers, **extra}, params=params)


def _one_line(path: str) -> str:
    return json.dumps(json.loads((ROOT / path).read_text("utf-8")), ensure_ascii=False)


# ------------------------------------------------------------------ the same reports as the command


@pytest.mark.parametrize("path", FIXTURES)
@pytest.mark.parametrize("flags", [[], ["--explain"], ["--tout"]], ids=["default", "explain", "tout"])
def test_a_report_is_byte_for_byte_what_validate_prints(client, cli, path, flags):
    params = {flag[2:]: "true" for flag in flags}
    answer = _post(client, "/v1/validate", (ROOT / path).read_bytes(), name=path, **params)
    printed = cli("validate", "--format", "json", *flags, path)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    assert answer.text == printed.stdout


def test_a_dossier_without_a_name_is_the_request(client):
    report = _post(client, "/v1/validate", (ROOT / EXAMPLE).read_bytes()).json()
    assert report["dossier"] == "requête" and report["verdict"] == "incomplete"


def test_a_browser_gets_the_html_report(client, cli):
    answer = _post(client, "/v1/validate", (ROOT / EXAMPLE).read_bytes(), name=EXAMPLE,
                   headers={**JSON, "accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.text == cli("validate", "--format", "html", EXAMPLE).stdout


def test_a_batch_is_what_validate_jsonl_writes_for_standard_input(client, cli):
    lines = [_one_line(p) for p in FIXTURES[:2]] + ['{"reference": "R",, }', "", '{"reference": "R", "canal": "fax"}',
                                                    _one_line(FIXTURES[2])]
    text = "\n".join(lines) + "\n"
    answer = _post(client, "/v1/validate/batch", text.encode("utf-8"), name="<stdin>", headers=LINES)
    printed = cli("validate", "--format", "jsonl", "-", input=text)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/x-ndjson"
    assert answer.text == printed.stdout
    records = [json.loads(line) for line in answer.text.splitlines()]
    assert [r.get("verdict") for r in records] == ["incomplete", "complete", None, None, "complete"]
    assert records[2]["errors"][0]["line"] == 3  # located in the batch, as `validate` locates it


def test_a_batch_without_a_name_names_each_line(client):
    answer = _post(client, "/v1/validate/batch", (_one_line(EXAMPLE) + '\n{"a" 1}\n').encode(), headers=LINES)
    first, second = (json.loads(line) for line in answer.text.splitlines())
    assert first["dossier"] == "requête.jsonl:1"
    assert (second["dossier"], second["errors"][0]["file"], second["errors"][0]["line"]) == \
        ("requête.jsonl:2", "requête.jsonl", 2)


def test_a_batch_is_checked_in_chunks_of_the_lines_already_received(program, monkeypatch):
    """Lines sent together are evaluated together (on columns); a line the client sends only once it has the
    record before is evaluated alone, as it comes (the command's test below sends lines one by one). The
    records are the command's: test_a_batch_is_what_validate_jsonl_writes_for_standard_input."""
    import immat.serve

    sizes: list[int] = []
    together = immat.serve.render_batch

    def counted(program, render, explain, documents):
        sizes.append(len(documents))
        return together(program, render, explain, documents)

    monkeypatch.setattr(immat.serve, "render_batch", counted)
    lines = [_one_line(path) for path in sorted((ROOT / "fixtures").glob("*/dossier.json"))]
    body = "".join(line + "\n" for line in lines * 3).encode()
    with TestClient(create_app(program)) as whole:
        answer = whole.post("/v1/validate/batch", content=body, headers=LINES)
    assert sizes == [3 * len(lines)]
    records = answer.text.splitlines()
    assert [json.loads(r)["dossier"] for r in records] == [f"requête.jsonl:{n}" for n in range(1, 3 * len(lines) + 1)]
    unnamed = [re.sub(r"requête\.jsonl:\d+", "L", r) for r in records]  # the same dossiers, three times over
    assert unnamed[:len(lines)] == unnamed[len(lines):2 * len(lines)] == unnamed[2 * len(lines):]


def test_a_batch_is_read_as_it_comes(program):
    """A body sent in chunks, without a length: records for what fits the limit, then one that says where
    reading stopped."""
    line = (_one_line(EXAMPLE) + "\n").encode()

    def chunks():
        for _ in range(5):
            yield line[:100]
            yield line[100:]

    with TestClient(create_app(program, limits=Limits(batch_bytes=3 * len(line)))) as small:
        answer = small.post("/v1/validate/batch", content=chunks(), headers=LINES)
    records = [json.loads(r) for r in answer.text.splitlines()]
    assert [r.get("verdict") for r in records] == ["incomplete"] * 3 + [None]
    assert records[3]["errors"][0]["code"] == "lecture-interrompue"
    assert "la limite de ce service" in records[3]["errors"][0]["message"]


# ------------------------------------------------------------------ bad input


def _error(answer) -> dict:
    body = answer.json()
    assert set(body) == {"dossier", "errors"} and "Traceback" not in answer.text
    return body["errors"][0]


def test_malformed_json_is_400_with_its_line_and_column(client, cli, tmp_path):
    text = '{\n  "reference": "R",\n  "canal": \n}\n'
    answer = _post(client, "/v1/validate", text.encode(), name="d.json")
    (tmp_path / "d.json").write_text(text, "utf-8")
    printed = cli("validate", "--format", "json", tmp_path / "d.json")
    assert answer.status_code == 400
    error = _error(answer)
    assert (error["code"], error["line"], error["column"]) == ("json-invalide", 4, 1)
    assert error["message"] == json.loads(printed.stdout)["errors"][0]["message"]


def test_a_dossier_that_fails_its_schema_is_422_with_json_pointers(client):
    answer = _post(client, "/v1/validate", b'{"reference": "R", "vehicule": {"energie": "vapeur"}}')
    assert answer.status_code == 422
    assert _error(answer)["pointer"] == "/vehicule/energie"


def test_text_that_is_not_utf8_is_400_with_its_position(client):
    answer = _post(client, "/v1/validate", b'{"reference": "\xff"}')
    assert answer.status_code == 400 and _error(answer)["code"] == "encodage"


@pytest.mark.parametrize("path, headers", [("/v1/validate", {"content-type": "text/plain"}),
                                           ("/v1/validate", {}),
                                           ("/v1/validate/batch", JSON)])
def test_a_body_of_another_type_is_415(client, path, headers):
    answer = client.post(path, content=b"{}", headers=headers)
    assert answer.status_code == 415 and _error(answer)["code"] == "type-de-contenu"


@pytest.mark.parametrize("streamed", [False, True], ids=["length", "chunked"])
def test_a_body_over_the_limit_is_413(program, streamed):
    body = (ROOT / EXAMPLE).read_bytes()
    with TestClient(create_app(program, limits=Limits(dossier_bytes=100, batch_bytes=100))) as small:
        answer = small.post("/v1/validate", content=iter([body]) if streamed else body, headers=JSON)
        batch = small.post("/v1/validate/batch", content=body, headers=LINES)
    assert answer.status_code == 413 and "plus de 100 octets" in _error(answer)["message"]
    assert batch.status_code == 413


def test_a_dossier_over_the_reader_s_limit_is_413(client):
    answer = _post(client, "/v1/validate", b'{"reference": "' + b"x" * 1_000_000 + b'"}')
    assert answer.status_code == 413 and _error(answer)["code"] == "trop-volumineux"


def test_nesting_past_the_reader_s_limit_is_an_error_not_a_crash(client):
    answer = _post(client, "/v1/validate", b"[" * 100_000 + b"]" * 100_000)
    assert 400 <= answer.status_code < 500 and _error(answer)["message"]


def test_a_flag_that_is_neither_true_nor_false_is_400(client):
    answer = _post(client, "/v1/validate", b"{}", explain="peut-etre")
    assert answer.status_code == 400 and "explain" in _error(answer)["message"]


def test_a_request_past_its_time_is_503_and_a_batch_says_where_it_stopped(program):
    with TestClient(create_app(program, limits=Limits(seconds=1e-9, batch_seconds=1e-9))) as hurried:
        answer = hurried.post("/v1/validate", content=(ROOT / EXAMPLE).read_bytes(), headers=JSON)
        batch = hurried.post("/v1/validate/batch", content=_one_line(EXAMPLE).encode(), headers=LINES)
    assert answer.status_code == 503 and _error(answer)["code"] == "delai-depasse"
    (record,) = (json.loads(r) for r in batch.text.splitlines())
    assert "délai dépassé" in record["errors"][0]["message"]


@pytest.mark.parametrize("method, path, status", [("GET", "/v1/nulle-part", 404), ("DELETE", "/health", 405),
                                                  ("GET", "/v1/validate", 405), ("GET", "/regles/absente.html", 404)])
def test_other_refusals_are_french_json(client, method, path, status):
    answer = client.request(method, path)
    assert answer.status_code == status and answer.json()["errors"][0]["message"].isascii() is False


# ------------------------------------------------------------------ rules, schemas, health, the site


def test_rules_list_requirements_amounts_and_notices_with_their_page(client, program):
    items = client.get("/v1/rules").json()
    assert {i["id"] for i in items} == {r.name for r in program.requirements} | set(program.amounts) | \
        {n.name for n in program.notices}
    assert {i["kind"] for i in items} == {"exigence", "recevabilité", "montant", "avis"}
    for item in items:
        assert client.get(item["page"]).status_code == 200
    ct = client.get("/v1/rules/controle_technique").json()
    assert ct["title"] == "Procès-verbal de contrôle technique de moins de 6 mois"
    assert ct["source"].startswith("Code de la route") and ct["page"] == "/regles/exigence-controle_technique.html"
    assert ct["message"] and ct["not_handled"]


def test_a_refusal_that_quotes_the_request_escapes_what_would_reorder_or_hide_its_text(client):
    """The CLI's escapes (escape.json_dumps) in the API's own refusals: a path with a bidirectional override or a
    line separator is quoted as \\uXXXX, and reads back the same."""
    answer = client.get("/v1/rules/x\u202ey\u2028z")
    assert answer.status_code == 404
    assert "\u202e" not in answer.text and "\\u202e" in answer.text and "\\u2028" in answer.text
    assert "« x\u202ey\u2028z »" in answer.json()["errors"][0]["message"]


def test_an_unknown_rule_is_404_in_french(client):
    answer = client.get("/v1/rules/controle_technik")
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["message"] == ("aucune exigence, aucun montant ni aucun avis ne s'appelle "
                                                     "« controle_technik » ; vouliez-vous dire « controle_technique » ?")


@pytest.mark.parametrize("which", ["dossier", "report"])
def test_the_schemas_are_those_the_command_prints(client, cli, which):
    assert client.get(f"/v1/schema/{which}").json() == json.loads(cli("schema", which).stdout)


def test_health_names_immat_s_version_and_the_pack_s_digest(client, cli):
    health = client.get("/health").json()
    report = json.loads(cli("validate", "--format", "json", EXAMPLE).stdout)
    assert health["pack"] == report["rules"]["pack"] and health["digest"] == report["rules"]["digest"]
    assert cli("-V").stdout.startswith(f"immat {health['version']} ")


def test_the_lawyers_site_is_served_under_regles(client):
    index = client.get("/regles/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert 'href="exigence-controle_technique.html"' in index.text
    assert client.get("/regles", follow_redirects=False).headers["location"] == "/regles/"
    page = client.get("/regles/exigence-controle_technique.html").text
    assert "Procès-verbal de contrôle technique" in page and "exemple" in page  # a worked example


def test_the_openapi_document_describes_every_route_from_the_same_schemas(client, program):
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert {"/v1/validate", "/v1/validate/batch", "/v1/rules", "/v1/rules/{id}", "/v1/schema/dossier",
            "/v1/schema/report", "/health"} <= set(document["paths"])
    dossier = document["components"]["schemas"]["dossier"]
    assert dossier["properties"].keys() == program.schema.document["properties"].keys()
    refs = [v for v in _walk(document) if isinstance(v, str) and v.startswith("#/")]
    assert refs and all(r.startswith("#/components/schemas/") for r in refs)


def _walk(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
    else:
        yield node


# ------------------------------------------------------------------ the log


def test_the_log_has_one_line_a_request_with_the_reference_and_verdict_never_the_content(client, caplog):
    dossier = json.loads((ROOT / EXAMPLE).read_text("utf-8"))
    dossier["titulaires"][0]["nom"] = "Zéphyrinette"
    body = json.dumps(dossier, ensure_ascii=False).encode()
    with caplog.at_level(logging.INFO, logger="immat.serve"):
        _post(client, "/v1/validate", body)
        _post(client, "/v1/validate", body.replace(b'"reference"', '"Zéphyrinette"'.encode()))
        _post(client, "/v1/validate/batch", body + b"\n{\n", headers=LINES)
    lines = [r.getMessage() for r in caplog.records if r.name == "immat.serve"]
    assert len(lines) == 3
    assert lines[0].startswith("POST /v1/validate 200 ") and 'référence="EXEMPLE-2021-001" verdict=incomplete' in lines[0]
    assert lines[1].startswith("POST /v1/validate 422 ") and "erreur=schema" in lines[1]
    assert lines[2].startswith("POST /v1/validate/batch 200 ") and "incomplete=1 illisible=1" in lines[2]
    assert not any("Zéphyrinette" in line for line in lines)


# ------------------------------------------------------------------ the command


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, deadline: float) -> bytes:
    import httpx

    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).content
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("workers", [1, 2])
def test_immat_serve_answers_and_stops_cleanly_on_sigterm(workers):
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "immat", "serve", "--port", str(port), "--workers", str(workers)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        health = json.loads(_get(port, "/health", time.monotonic() + 60))
        assert health["pack"] == "rules"
        _each_record_comes_before_the_next_line_is_sent(port)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            connection.sendall(b"PAS DU HTTP\x00\r\n\r\n")  # below the application: uvicorn answers 400
            assert connection.recv(65536).startswith(b"HTTP/1.1 400 ")
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    # uvicorn finishes the requests under way, then ends as the signal asks (143 in a shell), or 0 for workers
    assert server.returncode in (0, -signal.SIGTERM), err
    assert "GET /health 200" in err and "Traceback" not in err
    # Each process says, in French, that it started and that it stopped; uvicorn's English lines are gone.
    assert err.count(" prêt : règles rules (empreinte ") == workers, err
    assert err.count(" arrêté, ses requêtes en cours finies") == workers, err
    assert "INFO:" not in err and "Uvicorn running" not in err, err
    # uvicorn's own warning, in French, timed as the other lines
    assert re.search(r"^\d{4}-\d\d-\d\d [\d:,]+ uvicorn, avertissement : requête HTTP mal formée : réponse 400", err,
                     re.MULTILINE), err
    assert "WARNING" not in err and "Invalid HTTP request" not in err, err


def _each_record_comes_before_the_next_line_is_sent(port: int) -> None:
    """A batch is streamed both ways: the answer to a line arrives while the client still holds the next one."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(b"POST /v1/validate/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n")
        received = b""
        for number in (1, 2):
            line = (_one_line(EXAMPLE) + "\n").encode()
            connection.sendall(b"%x\r\n%s\r\n" % (len(line), line))
            while f'"dossier":"requête.jsonl:{number}"'.encode() not in received:
                received += connection.recv(65536) or pytest.fail(f"no record for line {number}: {received!r}")
        connection.sendall(b"0\r\n\r\n")
    assert received.startswith(b"HTTP/1.1 200 ")


def test_immat_serve_refuses_rules_with_an_error(cli, tmp_path):
    (tmp_path / "r.immat").write_text("exigence x\n  titre\n", "utf-8")
    result = cli("serve", "--rules", tmp_path)
    assert result.exit_code == 3


def test_a_name_in_utf8_names_the_dossier(client):
    answer = client.post("/v1/validate", content=(ROOT / EXAMPLE).read_bytes(),
                         headers={**JSON, "x-dossier-name": "dossier-é.json".encode()})
    assert answer.json()["dossier"] == "dossier-é.json"


def test_immat_serve_on_an_address_in_use_says_so_in_french(cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--port", port)
    assert result.exit_code == 1  # « le service n'a pas pu démarrer », as its help says
    assert f"impossible d'écouter sur 127.0.0.1:{port} : l'adresse est déjà utilisée" in result.output
    assert "prêt" not in result.output and "ERROR" not in result.output


def test_immat_serve_on_an_unknown_host_says_so_in_french(cli):
    result = cli("serve", "--host", "hôte-inconnu.invalid", "--port", 0)
    assert result.exit_code == 1
    assert "adresse inconnue" in result.output


def test_uvicorn_s_other_lines_are_kept_as_it_wrote_them_and_its_websocket_advice_dropped():
    from immat.cli.serve import _Uvicorn

    def shown(message: str, level=logging.WARNING, *args):
        record = logging.LogRecord("uvicorn.error", level, __file__, 1, message, args, None)
        return record.getMessage() if _Uvicorn().filter(record) else None

    assert shown("Cancel %s running task(s), timeout graceful shutdown exceeded", logging.ERROR, 3) == \
        "uvicorn, erreur : arrêt : 3 requête(s) en cours abandonnée(s), le délai d'arrêt est dépassé"
    assert shown("Something new in uvicorn") == "uvicorn, avertissement : Something new in uvicorn"
    assert shown("No supported WebSocket library detected. Please use \"pip install 'uvicorn[standard]'\"") is None
