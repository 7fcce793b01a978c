"""The documentation as a lawyer sees it: headless Chromium opens the index and follows a link."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from immat.cli import main
from immat.pipeline import load_rules

from ..conftest import ROOT
from . import ABSENT, CHROMIUM, chromium

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=ABSENT)


# What an element says, without the numbers that send its terms to the notes at the end of the page.
WORDS = ("var c = arguments[0].cloneNode(true);"
         " c.querySelectorAll('sup.renvoi').forEach(function (s) { s.remove(); });"
         " return c.textContent.replace(/\\s+/g, ' ').trim();")


@pytest.fixture
def browser():
    with chromium(1100, 1400) as driver:
        yield driver


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(ROOT)
    (tmp_path / "aucun_exemple").mkdir()
    result = CliRunner().invoke(main, ["docs", "-o", str(tmp_path / "site"), "--fixtures",
                                       str(tmp_path / "aucun_exemple")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return tmp_path / "site"


def test_a_reader_follows_the_index_to_the_technical_inspection_page(browser, site, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    requirement = next(r for r in load_rules().program.requirements if r.name == "controle_technique")
    browser.get((site / "index.html").as_uri())
    assert browser.title.startswith("Règles de la demande de certificat d'immatriculation")
    browser.find_element(By.CSS_SELECTOR, 'main a[href="exigence-controle_technique.html"]').click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("exigence-controle_technique.html"))

    assert browser.find_element(By.TAG_NAME, "h1").text == requirement.title
    source = browser.find_element(By.CSS_SELECTOR, ".callout.source")
    assert source.is_displayed() and "R. 323-22" in source.text
    when = browser.find_element(By.XPATH, "//h2[normalize-space()=\"Quand elle s'applique\"]")
    assert source.location["y"] < when.location["y"]  # the source comes first, framed
    assert source.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "transparent")

    text = browser.execute_script(WORDS, browser.find_element(By.TAG_NAME, "main"))
    assert ("Elle s'applique quand la condition « achat d'occasion en France » est remplie et l'âge du véhicule "
            "est supérieur à 4 ans.") in text
    assert ("Sauf si le véhicule est dispensé de contrôle technique (si le dossier ne le dit pas : ce n'est pas "
            "le cas)") in text
    pieces = browser.find_elements(By.CSS_SELECTOR, "ul.alternatives > li:not(.joiner)")
    assert len(pieces) == 2
    first = browser.execute_script(WORDS, pieces[0])
    assert first.startswith("Procès-verbal de contrôle technique")
    assert "datée d'au plus 6 mois (le délai du contrôle technique) avant la date de la demande" in first
    assert "dont le résultat du contrôle technique est « favorable »" in first
    assert browser.find_element(By.CSS_SELECTOR, "ul.alternatives > li.joiner").text.lower() == "ou"
    # A dossier field says what it is in visible text, not only on hover: a numbered note at the end of the page.
    field = browser.find_element(By.XPATH, "//span[@class='champ'][contains(., 'date de la demande')]")
    assert field.get_attribute("title").startswith("Champ /date_demande du dossier")
    note = browser.find_element(By.ID, field.get_attribute("aria-describedby"))
    assert note.is_displayed() and note.text == field.get_attribute("title")
    assert note.find_element(By.XPATH, "ancestor::section//h2").text == "Termes du dossier"
    browser.save_screenshot(str(tmp_path / "controle_technique.png"))

    # On paper: no navigation bar, and folded sections are opened before printing.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not browser.find_element(By.CSS_SELECTOR, "header.site").is_displayed()
