"""The checked pack kept between runs: a second run of the same rules neither parses nor checks them, and any
change to a file read, imports included, is seen at once."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from immat import parse
from immat.cli import main
from immat.pack import rule_files

from .conftest import ROOT

EXAMPLE = "fixtures/exemple/dossier.json"
MESSAGE = "Joignez le certificat de situation administrative (dit de non-gage) du véhicule."


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache folder of this test's own, enabled whatever the environment says."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("IMMAT_CACHE_DIR", str(folder))
    monkeypatch.delenv("IMMAT_NO_CACHE", raising=False)
    return folder


@pytest.fixture
def immat(monkeypatch):
    monkeypatch.chdir(ROOT)

    def run(*args):
        result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


@pytest.fixture
def rules(tmp_path) -> Path:
    """A copy of the shipped pack, to edit."""
    copy = tmp_path / "regles"
    shutil.copytree(ROOT / "rules", copy, ignore=shutil.ignore_patterns("__*"))
    return copy


def never_parsed_nor_checked(monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("the pack was parsed or checked again")

    monkeypatch.setattr("immat.parse.parse_module", fail)
    monkeypatch.setattr("immat.check.check", fail)


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("pack-*.pickle"))


def test_a_second_run_gives_the_same_report_without_parsing_or_checking(immat, cache, rules, monkeypatch):
    first = immat("validate", "--rules", rules, EXAMPLE)
    assert first[0] == 1 and MESSAGE in first[1]
    assert len(entries(cache)) == 1
    never_parsed_nor_checked(monkeypatch)
    assert immat("validate", "--rules", rules, EXAMPLE) == first


def test_check_warnings_and_errors_are_the_same_from_the_cache(immat, cache, rules, monkeypatch):
    text = (rules / "controle_technique.immat").read_text("utf-8")
    (rules / "controle_technique.immat").write_text(text.replace("vehicule.dispense_controle_technique",
                                                                 "vehicule.dispense_ct"), "utf-8")
    first = immat("check", rules)
    assert first[0] == 3 and "erreur[champ-inconnu]" in first[1]
    never_parsed_nor_checked(monkeypatch)
    assert immat("check", rules) == first


def test_an_edited_rule_file_is_read_anew(immat, cache, rules):
    first = immat("validate", "--rules", rules, EXAMPLE)
    for path in rule_files(rules):
        path.write_text(path.read_text("utf-8").replace(MESSAGE, "Joignez le certificat de non-gage."), "utf-8")
    second = immat("validate", "--rules", rules, EXAMPLE)
    assert MESSAGE not in second[1] and "Joignez le certificat de non-gage." in second[1]
    def digest(report: str) -> str:  # « Règles : … (empreinte …) », wrapped where the path is long
        return re.search(r"empreinte\s+([0-9a-f]{12})", report)[1]
    assert digest(second[1]) != digest(first[1])
    assert len(entries(cache)) == 2


def test_an_edited_import_is_read_anew_though_the_pack_file_is_the_same(immat, cache, tmp_path, monkeypatch):
    folder = tmp_path / "paquet"
    folder.mkdir()
    (folder / "principal.immat").write_text('importe "pieces.immat"\n', "utf-8")
    imported = folder / "pieces.immat"
    requirement = ('exigence identite\n  titre "Justificatif d\'identité"\n  source "Code de la route, art. R. 322-1"\n'
                   '  exige une pièce "certificat_situation_administrative"\n  message "{}"\n')
    imported.write_text(requirement.format("Joignez un justificatif."), "utf-8")
    first = immat("validate", "--rules", folder / "principal.immat", EXAMPLE)
    assert "Joignez un justificatif." in first[1]
    with monkeypatch.context() as patched:
        never_parsed_nor_checked(patched)
        assert immat("validate", "--rules", folder / "principal.immat", EXAMPLE) == first
    imported.write_text(requirement.format("Joignez une pièce d'identité."), "utf-8")
    assert "Joignez une pièce d'identité." in immat("validate", "--rules", folder / "principal.immat", EXAMPLE)[1]
    imported.unlink()
    code, _, stderr = immat("validate", "--rules", folder / "principal.immat", EXAMPLE)
    assert code == 3 and "pieces.immat" in stderr


def test_a_damaged_cache_file_is_ignored_and_rebuilt(immat, cache, rules):
    first = immat("validate", "--rules", rules, EXAMPLE)
    [entry] = entries(cache)
    for damage in (b"", b"not a pickle", entry.read_bytes()[:1000]):
        entry.write_bytes(damage)
        assert immat("validate", "--rules", rules, EXAMPLE) == first
        assert entry.stat().st_size > 1000  # written again, whole


@pytest.mark.parametrize("setting", ["IMMAT_NO_CACHE", "unwritable"])
def test_without_a_usable_cache_the_outputs_are_the_same(immat, cache, rules, monkeypatch, setting):
    expected = immat("validate", "--rules", rules, EXAMPLE)
    shutil.rmtree(cache)
    if setting == "IMMAT_NO_CACHE":
        monkeypatch.setenv("IMMAT_NO_CACHE", "1")
    else:
        cache.write_text("a file where the cache folder would be", "utf-8")
        monkeypatch.setenv("IMMAT_CACHE_DIR", str(cache / "immat"))
    assert immat("validate", "--rules", rules, EXAMPLE) == expected
    assert immat("validate", "--rules", rules, EXAMPLE) == expected
    assert not cache.is_dir()


def test_the_parser_from_the_cache_parses_as_a_built_one(cache):
    built = parse._parser.__wrapped__()
    assert list(cache.glob("lark-*.pickle"))
    loaded = parse._parser.__wrapped__()
    for path in rule_files(ROOT / "rules"):
        text = path.read_text("utf-8")
        assert loaded.parse(text) == built.parse(text)
    for damaged in cache.glob("lark-*.pickle"):
        damaged.write_bytes(b"damaged")
    assert parse._parser.__wrapped__().parse(text) == built.parse(text)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away takes root")
def test_an_entry_another_user_owns_is_not_read_but_replaced(immat, cache, rules):
    first = immat("validate", "--rules", rules, EXAMPLE)
    [entry] = entries(cache)
    os.chown(entry, 65534, -1)
    assert immat("validate", "--rules", rules, EXAMPLE) == first
    assert entry.stat().st_uid == os.getuid()
