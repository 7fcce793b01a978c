"""schemathesis against `immat serve`'s own OpenAPI document: on every operation, bodies made from the schemas
and bodies that break them, never a 5xx, and every answer as the document describes it."""

from __future__ import annotations

import json
import warnings

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from immat.pipeline import load_rules
from immat.openapi import LINES_TYPES
from immat.serve import create_app

from .conftest import ROOT

warnings.filterwarnings("ignore", module="starlette.testclient")
APP = create_app(load_rules(ROOT / "rules", needs_requirement=True).program)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
SCHEMA.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
                                max_examples=50)


@schemathesis.serializer(*LINES_TYPES)
def _json_lines(context, value) -> bytes:
    """A batch's body as it goes on the wire: the text generated, or anything else as one line of JSON."""
    if isinstance(value, bytes):
        return value
    return (value if isinstance(value, str) else json.dumps(value)).encode("utf-8", "surrogatepass")


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@SCHEMA.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case):
    case.call_and_validate(checks=CHECKS)
