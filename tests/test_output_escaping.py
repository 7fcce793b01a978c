"""A dossier cannot forge a report: its values are shown, never obeyed, in every output format.

Each test writes a dossier whose reference, holder name or file name tries to add a line, move the terminal's
cursor or inject Markdown or HTML, and runs `immat validate` on it as an instructor would.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
import unittest.mock

import click.testing
import pytest
from hypothesis import given, settings, strategies as st

from immat import escape
from immat.diagnostics import DiagnosticError
from immat.escape import UNSAFE, excerpt, visible
from immat.pipeline import load_rules, validate
from immat.report import outcome_json
from tests.conftest import ROOT

EXAMPLE = json.loads((ROOT / "fixtures/exemple/dossier.json").read_text("utf-8"))
FORGED_VERDICT = "X\nVerdict : COMPLET"
CLEAR_SCREEN = "\x1b[2J\x1b[H"


def _dossier(tmp_path, name="dossier.json", **changes):
    data = json.loads(json.dumps(EXAMPLE))
    for key, value in changes.items():
        if key == "nom":
            data["titulaires"][0]["nom"] = value
        else:
            data[key] = value
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=True), "utf-8")
    return path


@pytest.mark.parametrize("fmt, shown", [("text", "X\\nVerdict : COMPLET"), ("html", "X\\nVerdict : COMPLET"),
                                        ("markdown", "X\\\\nVerdict : COMPLET")])
def test_a_reference_cannot_add_a_verdict_line(fmt, shown, cli, tmp_path):
    result = cli("validate", "--format", fmt, _dossier(tmp_path, reference=FORGED_VERDICT))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert not any(line.startswith("Verdict : COMPLET") for line in lines)
    assert shown in result.output  # as the dossier file writes it (Markdown escapes the backslash)


def test_a_holder_name_cannot_move_the_terminal_cursor(cli, tmp_path):
    result = cli("validate", "--explain", _dossier(tmp_path, nom=f"Fictif{CLEAR_SCREEN}\u202eLEVART"))
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "Fictif\\u001b[2J\\u001b[H\\u202eLEVART" in result.output


def test_colours_on_a_terminal_leave_escapes_and_rich_markup_of_a_value_inert(cli, tmp_path, monkeypatch):
    # The text report is coloured by rich when standard output is a terminal.
    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True, raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = cli("validate", _dossier(tmp_path, reference=f"[bold red]ROUGE[/bold red]{CLEAR_SCREEN}"))
    assert "\x1b[1m" in result.output or "\x1b[33m" in result.output or "\x1b[1;33m" in result.output
    assert "[bold red]ROUGE[/bold red]\\u001b[2J\\u001b[H" in result.output
    assert "\x1b[2J" not in result.output


def test_markdown_shows_markup_of_a_value_as_text(cli, tmp_path):
    reference = "# titre [lien](https://exemple.invalid) `code` | cellule <b>gras</b> _souligné_"
    result = cli("validate", "--format", "markdown", _dossier(tmp_path, reference=reference))
    first = result.output.splitlines()[0]
    assert first.startswith("# Dossier # titre \\[lien\\](https://exemple.invalid) \\`code\\` \\| cellule "
                            "\\<b\\>gras\\</b\\> \\_souligné\\_")


RULE_WITH_BACKTICKS = """
exigence sans_guillemets_obliques
  titre "Code de cession sans accent grave"
  source "Essai"
  exige que non (achat.code_cession contient "```")
  message "Corrigez le code de cession."
"""


def test_markdown_reasoning_block_cannot_be_closed_by_its_text(cli, tmp_path):
    (tmp_path / "regles.immat").write_text(RULE_WITH_BACKTICKS, "utf-8")
    result = cli("validate", "--rules", tmp_path / "regles.immat", "--format", "markdown", "--explain",
                 _dossier(tmp_path))
    lines = result.output.splitlines()
    # Every reasoning block opens and closes with a fence longer than the value's three backticks.
    opening = [line for line in lines if line.strip().endswith("text") and line.strip().startswith("`")]
    assert opening and all(line.strip() == "````text" for line in opening)
    assert not any(line.startswith("# titre") for line in lines)


def test_html_shows_a_script_and_a_bidirectional_override_as_text(cli, tmp_path):
    reference = "<script>alert(1)</script>\u202eTELPMOC"
    result = cli("validate", "--format", "html", _dossier(tmp_path, reference=reference))
    assert "<script>alert" not in result.output and "\u202e" not in result.output
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\u202eTELPMOC" in result.output


def test_the_dossier_file_name_cannot_add_a_line(cli, tmp_path):
    path = _dossier(tmp_path, name="lot\nVerdict : COMPLET.json")
    result = cli("validate", path)
    assert not any(line.startswith("Verdict : COMPLET") for line in result.output.splitlines())
    assert "lot\\nVerdict : COMPLET.json" in result.output


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_reports_escape_separators_overrides_and_lone_surrogates(fmt, cli, tmp_path):
    reference = "A\u2028B\u0085C\u202eD\x7f"
    # A file name that is not UTF-8 reaches Python as a lone surrogate (PEP 383), which no UTF-8 output encodes.
    name = "lot\udcff.json"
    result = cli("validate", "--format", fmt, _dossier(tmp_path, name=name, reference=reference))
    assert result.exit_code == 1
    assert not UNSAFE.search(result.output.replace("\n", ""))
    assert json.loads(result.output)["dossier"].endswith(name)
    # str.splitlines() also breaks at U+2028 and U+0085: a reader using it still sees the lines written.
    assert result.output.splitlines() == result.output.rstrip("\n").split("\n")
    assert json.loads(result.output)["reference"] == reference  # the same string, decoded


def test_an_unreadable_dossier_is_quoted_as_a_short_visible_excerpt(cli, tmp_path):
    data = json.loads(json.dumps(EXAMPLE))
    data["vehicule"]["energie"] = "Jeanne Fictif, née le 02/04/1980, 12 rue Imaginaire 69003 Lyon" + "x" * 200 \
        + "\nVerdict : COMPLET"
    path = tmp_path / "dossier.json"
    path.write_text(json.dumps(data), "utf-8")
    result = cli("validate", path)
    assert result.exit_code == 2
    message = next(line for line in result.output.splitlines() if "/vehicule/energie" in line)
    assert f"« {data['vehicule']['energie'][:60]}… »" in message
    assert "x" * 100 not in result.output
    assert not any(line.startswith("Verdict") for line in result.output.splitlines())


def test_an_unknown_key_cannot_add_a_line_to_a_diagnostic(cli, tmp_path):
    data = json.loads(json.dumps(EXAMPLE))
    data["achat"]["x\nVerdict : COMPLET"] = 1
    path = tmp_path / "dossier.json"
    path.write_text(json.dumps(data), "utf-8")
    result = cli("validate", path)
    assert result.exit_code == 2
    assert not any(line.startswith("Verdict") for line in result.output.splitlines())
    assert "/achat/x\\nVerdict : COMPLET" in result.output


def test_the_unsafe_class_is_every_control_format_surrogate_and_separator_character():
    expected = {"Cc", "Cf", "Cs", "Zl", "Zp"}
    wrong = [hex(c) for c in range(0x110000)
             if (unicodedata.category(chr(c)) in expected) != bool(UNSAFE.fullmatch(chr(c)))]
    assert wrong == []


def test_visible_is_idempotent_and_excerpt_cuts_after_sixty_characters():
    assert visible(visible("a\n\x1b\u2028b")) == visible("a\n\x1b\u2028b") == "a\\n\\u001b\\u2028b"
    assert excerpt("é" * 60) == "é" * 60
    assert excerpt("é" * 61) == "é" * 60 + "…"


@pytest.mark.parametrize("fmt, ext", [("html", "html"), ("markdown", "md")])
def test_the_docs_show_a_worked_example_as_text(fmt, ext, cli, tmp_path):
    # The lawyers' site shows each fixture that exercises a rule: its folder name, its description, its holders.
    case = tmp_path / "fixtures" / "cas`<b>gras"
    case.mkdir(parents=True)
    _dossier(case, nom="Fictif\u202e<img src=x onerror=alert(1)>")
    expected = json.loads((ROOT / "fixtures/exemple/attendu.json").read_text("utf-8"))
    (case / "attendu.json").write_text(json.dumps({**expected, "description": "Essai\x1b[2J [lien](x)"}), "utf-8")
    result = cli("docs", "--format", fmt, "--fixtures", tmp_path / "fixtures", "-o", tmp_path / "site")
    assert result.exit_code == 0
    pages = "".join(p.read_text("utf-8") for p in (tmp_path / "site").rglob(f"*.{ext}"))
    assert ("Fictif\\u202e" if fmt == "html" else "Fictif\\\\u202e") in pages  # Markdown escapes the backslash
    assert not UNSAFE.search(pages.replace("\n", ""))
    assert not re.search(r"(?<!\\)<img", pages)  # escaped: &lt;img in HTML, \<img in Markdown
    # The folder name is code: HTML escapes it, Markdown puts it in a span its backtick cannot close.
    assert "<b>gras" not in pages if fmt == "html" else "``cas`<b>gras``" in pages
    assert fmt == "html" or "[lien](x)" not in pages  # in HTML, brackets are only text


# ---------------------------------------------------------------- orjson writes what json.dumps wrote

LAYOUTS = [{"indent": 2}, {"separators": (",", ":")}]


def stdlib_only():
    """json_dumps as it was before orjson, within the block: json.dumps, then the escapes."""
    return unittest.mock.patch.object(escape, "_orjson", lambda value, layout, known_plain: None)


def stdlib_json_dumps(value, **layout) -> str:
    with stdlib_only():
        return escape.json_dumps(value, **layout)


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_every_fixture_report_is_written_byte_for_byte_as_by_json_dumps(fmt, cli):
    fast = cli("validate", "--format", fmt, "--jobs", "1", "fixtures")
    with stdlib_only():
        slow = cli("validate", "--format", fmt, "--jobs", "1", "fixtures")
    assert (fast.exit_code, fast.stdout) == (slow.exit_code, slow.stdout)
    # One record a fixture (in JSON, the elements of one array): a report, or the error record of a fixture
    # refused on purpose.
    records = json.loads(fast.stdout) if fmt == "json" else fast.stdout.splitlines()
    assert len(records) == len(list(ROOT.glob("fixtures/*/dossier.json")))


def test_a_report_is_written_by_orjson():
    text = (ROOT / "fixtures/exemple/dossier.json").read_text("utf-8")
    report = outcome_json(validate(load_rules(ROOT / "rules").program, text, "dossier.json"))
    assert all(escape._orjson(report, layout) is not None for layout in LAYOUTS)


@pytest.mark.parametrize("explain", [False, True], ids=["compact", "explained"])
def test_every_fixture_report_is_of_plain_types_as_its_writer_promises(explain):
    """Reports are written with known_plain, which skips the walk that checks for floats and other types orjson
    writes unlike json.dumps: every fixture's report, trees included, holds none."""
    program = load_rules(ROOT / "rules").program
    for path in sorted(ROOT.glob("fixtures/*/dossier.json")):
        try:
            outcome = validate(program, path.read_text("utf-8"), path.name, explain=explain)
        except DiagnosticError:
            continue  # a fixture refused on purpose has an error record, not a report
        assert escape._plain(outcome_json(outcome, explain=explain)), path


HOSTILE = ["\x00", "\x1b", "\x7f", "\x85", "\x9f", "\xad", "\u2028", "\u2029", "\u202e", "\u2066", "\ufeff",
           "\U0001f600", "\U000e0001", '"', "\\", "/", "é", "«", "\n", "\t"]
hostile_texts = st.text(st.sampled_from(HOSTILE), min_size=1, max_size=6) | st.text(
    st.characters(exclude_categories=["Cs"]), max_size=8)
# A lone surrogate, which orjson refuses: one in a value sends all of it to json.dumps.
surrogate_texts = st.text(st.characters(codec=None) | st.sampled_from(["\ud800", "\udfff"]), max_size=8)


def json_values(scalars, keys):
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                        | st.dictionaries(keys, inner, max_size=4), max_leaves=12)


# What orjson takes (a lone surrogate aside), and what it writes otherwise (floats) or refuses.
plain = json_values(st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | hostile_texts, hostile_texts)
odd = json_values(st.floats() | st.sampled_from([2**64, -(2**63) - 1, 10**30]) | surrogate_texts | plain,
                  hostile_texts | surrogate_texts | st.integers() | st.none() | st.booleans())


@settings(max_examples=300)
@given(value=plain | odd, layout=st.sampled_from(LAYOUTS))
def test_json_dumps_writes_what_json_dumps_wrote(value, layout):
    assert escape.json_dumps(value, **layout) == stdlib_json_dumps(value, **layout)


@pytest.mark.parametrize("char", HOSTILE, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("layout", LAYOUTS, ids=["indent", "compact"])
def test_each_hostile_character_alone_in_a_report_is_written_as_json_dumps_wrote(char, layout):
    value = {"reference": f"A{char}B", "pieces": [{char: "x"}]}
    assert escape._orjson(value, layout) is not None
    assert escape.json_dumps(value, **layout) == stdlib_json_dumps(value, **layout)


@pytest.mark.parametrize("value", [
    {"a": 1.5}, [1e-07], 2**64, {1: "x"}, "\ud800", functools.reduce(lambda v, _: [v], range(300), []),
], ids=["float", "exponent", "big-int", "int-key", "lone-surrogate", "deep"])
@pytest.mark.parametrize("layout", LAYOUTS, ids=["indent", "compact"])
def test_what_orjson_would_write_differently_is_left_to_json_dumps(value, layout):
    assert escape._orjson(value, layout) is None
    assert escape.json_dumps(value, **layout) == stdlib_json_dumps(value, **layout)
