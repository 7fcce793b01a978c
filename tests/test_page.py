"""The instructors' page at `GET /`: its files as served, then the page at work in headless Chromium."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import threading
import time
import warnings
from pathlib import Path

import pytest

starlette = pytest.importorskip("starlette", reason="starlette absent : pip install '.[test]'")


with warnings.catch_warnings():
    # Recent Starlette would rather have « httpx2 » under its test client; httpx, which it names, works the same.
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient  # noqa: E402

import immat  # noqa: E402
from immat import web  # noqa: E402
from immat.pipeline import load_rules  # noqa: E402
from immat.serve import create_app  # noqa: E402

from .browser import ABSENT, CHROMIUM, chromium  # noqa: E402
from .conftest import ROOT  # noqa: E402


def served_app():
    """The application `immat serve` runs, on the shipped pack: the page and the API it talks to."""
    return create_app(load_rules(needs_requirement=True).program)


# ---------------------------------------------------------------- the files, as served


@pytest.fixture(scope="module")
def client():
    return TestClient(served_app())


@pytest.mark.parametrize(("path", "content_type"), [
    ("/", "text/html; charset=utf-8"),
    ("/static/app.js", "text/javascript; charset=utf-8"),
    ("/static/style.css", "text/css; charset=utf-8"),
])
def test_the_page_and_its_files_are_served_with_their_types(client, path, content_type):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == (web.PAGE_CACHE if path == "/" else web.STATIC_CACHE)
    again = client.get(path, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and not again.content


@pytest.mark.parametrize("name", ["__init__.py", "index.html", "..%2F__init__.py", "absent.js"])
def test_only_the_page_s_own_files_are_served(client, name):
    response = client.get(f"/static/{name}")
    assert response.status_code == 404
    assert b"import" not in response.content


def test_the_page_is_french_and_loads_nothing_from_elsewhere(client):
    response = client.get("/")
    assert response.headers["content-security-policy"].startswith("default-src 'self';")
    page = response.text
    assert '<html lang="fr">' in page
    assert "http://" not in page and "https://" not in page
    script = client.get("/static/app.js").text
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script  # report data is text, never markup
    assert "@media print" in client.get("/static/style.css").text


# ---------------------------------------------------------------- the page at work, in headless Chromium


@pytest.fixture(scope="module")
def server():
    """The stand-in app on a real uvicorn server, in a thread, on a port the system chose."""
    uvicorn = pytest.importorskip("uvicorn", reason="uvicorn absent : pip install '.[test]'")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    running = uvicorn.Server(uvicorn.Config(served_app(), log_level="warning"))
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "le serveur de test n'a pas démarré"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    running.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip(ABSENT)
    with chromium(1200, 1600) as driver:
        yield driver


def opened(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/")
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#f-pieces-liste input"))
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "version").text.startswith("immat "))
    return browser


def report_shown(browser, text: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 15).until(lambda b: text in b.find_element(By.ID, "annonce").text)
    return browser.find_element(By.ID, "rapport")


def keep(browser, element, tmp_path: Path, name: str) -> None:
    """A screenshot of an element, whole however long, kept with the test's files and under $IMMAT_ARTEFACTS
    when CI collects them."""
    box = browser.execute_script("const r = arguments[0].getBoundingClientRect();"
                                 " return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height,"
                                 " scale: 1}", element)
    shot = tmp_path / name
    picture = browser.execute_cdp_cmd("Page.captureScreenshot", {"captureBeyondViewport": True, "clip": box})
    shot.write_bytes(base64.b64decode(picture["data"]))
    if os.environ.get("IMMAT_ARTEFACTS"):
        folder = Path(os.environ["IMMAT_ARTEFACTS"])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, folder / name)


# Every text drawn on screen against the background under it: WCAG AA asks 4.5:1, 3:1 for large text.
POOR_CONTRAST = """
const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
const channel = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
const under = (node) => {
  for (; node; node = node.parentElement) {
    const colour = rgb(getComputedStyle(node).backgroundColor);
    if (colour.length < 4 || colour[3] > 0) return colour;
  }
  return [255, 255, 255];
};
const poor = [];
for (const node of document.querySelectorAll("body *:not(option)")) {
  const words = [...node.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!words || !node.getClientRects().length) continue;
  const style = getComputedStyle(node);
  const [a, b] = [luminance(rgb(style.color)), luminance(under(node))];
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  if (ratio < (large ? 3 : 4.5)) poor.push(`${node.tagName} « ${node.textContent.trim().slice(0, 40)} » ${ratio}`);
}
return poor;
"""
UNLABELLED = "return [...document.querySelectorAll('input, select, textarea')].filter((c) => !c.labels.length)" \
             ".map((c) => c.outerHTML)"


def fill_used_car_bought_in_france(browser) -> None:
    """What an instructor types for a used car bought in France, with only the identity document at hand."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    def type_in(field, text):
        browser.find_element(By.ID, field).send_keys(text)

    def date_in(field, iso):
        # A date input takes what a user types in the browser's locale: set its value as a script does instead.
        browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, field), iso)

    def choose(field, label):
        Select(browser.find_element(By.ID, field)).select_by_visible_text(label)

    type_in("f-reference", "GUICHET-42")
    date_in("f-date-demande", "2021-06-15")
    choose("f-canal", "Demande faite en ligne sur le site de l'ANTS")
    choose("f-etat", "Véhicule d'occasion, déjà immatriculé en France ou à l'étranger")
    choose("f-origine", "Acheté en France")
    date_in("f-date-achat", "2021-06-01")
    choose("f-cession-par", "Le vendeur l'a enregistrée en ligne et a remis un code de cession")
    type_in("f-code-cession", "X7K2P9QW")
    type_in("f-immatriculation", "FX-482-KD")
    choose("f-genre", "Voiture particulière (VP)")
    choose("f-energie", "Essence")
    date_in("f-premiere", "2015-03-10")
    type_in("f-puissance", "5")
    type_in("f-co2", "118")
    type_in("f-prenoms", "Jeanne")
    type_in("f-nom", "Fictif <b>")  # a name is text on screen, never markup
    type_in("f-voie", "12 rue Imaginaire")
    type_in("f-code-postal", "69003")
    type_in("f-commune", "Lyon")
    browser.find_element(By.XPATH, "//label[normalize-space()=\"Justificatif d'identité\"]").click()


def test_an_instructor_fills_the_form_for_an_incomplete_used_car_dossier(browser, server, tmp_path):
    from selenium.webdriver.common.by import By

    opened(browser, server)
    footer = browser.find_element(By.ID, "version").text
    assert footer.startswith(f"immat {immat.__version__} — règles paquet livré (empreinte ")
    inspection_date = browser.find_element(
        By.CSS_SELECTOR, ".piece:has([data-piece=proces_verbal_controle_technique]) [data-piece-champ=date]")
    assert not inspection_date.is_displayed()  # asked for only when the piece is at hand
    ct = browser.find_element(By.XPATH, "//label[normalize-space()='Procès-verbal de contrôle technique']")
    ct.click()
    assert inspection_date.is_displayed()
    ct.click()
    fill_used_car_bought_in_france(browser)
    browser.find_element(By.ID, "verifier-formulaire").click()
    shown = report_shown(browser, "Verdict : incomplet")
    assert browser.execute_script(POOR_CONTRAST) == []
    assert browser.execute_script(UNLABELLED) == []

    verdict = shown.find_element(By.CSS_SELECTOR, ".verdict")
    assert verdict.text == "Verdict : INCOMPLET"
    assert verdict.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "transparent")
    assert "En attente télédéclarant" in shown.find_element(By.CSS_SELECTOR, ".ants").text
    # The dossier's facts head the report, as on a printed report: the purchase, the holder.
    facts = shown.find_element(By.CSS_SELECTOR, "ul.faits").text
    assert "Achat : véhicule d'occasion acheté en France le 01/06/2021" in facts and "Titulaire : " in facts
    assert f"appliquées au 15/06/2021 — immat {immat.__version__}" in shown.find_element(
        By.CSS_SELECTOR, ".regles").text
    sections = [h.text for h in shown.find_elements(By.TAG_NAME, "h3")]
    assert sections[0].startswith("Pièces manquantes")  # what is missing comes right after the verdict
    missing = shown.find_element(By.XPATH, ".//h3[starts-with(., 'Pièces manquantes')]/following-sibling::ul")
    assert "Pièce acceptée : Certificat de situation administrative" in missing.text
    assert "Fictif <b>" in missing.text  # the holder's name, shown as typed
    item = missing.find_element(By.XPATH, "li[contains(., 'non-gage')]")
    link = item.find_element(By.CSS_SELECTOR, "a")
    assert link.get_attribute("href").endswith("/regles/exigence-situation_administrative_occasion_france.html")
    keep(browser, browser.find_element(By.ID, "resultat"), tmp_path, "page-dossier-incomplet.png")
    reasoning = item.find_element(By.CSS_SELECTOR, "details.raisonnement")
    assert not reasoning.find_element(By.CSS_SELECTOR, "ul.arbre").is_displayed()  # folded until asked for
    reasoning.find_element(By.TAG_NAME, "summary").click()
    assert "achat.etat" in reasoning.find_element(By.CSS_SELECTOR, "ul.arbre").text
    fees = shown.find_element(By.CSS_SELECTOR, "table.montants")
    assert "5 × 43 € × 100 % × 100 %" in fees.text and "228,76" in fees.text
    assert "Sans objet pour ce dossier :" in shown.find_element(By.CSS_SELECTOR, ".sans-objet").text

    built = json.loads(browser.find_element(By.ID, "dossier-json").get_attribute("value"))
    assert built["achat"] == {"etat": "occasion", "origine": "france", "date": "2021-06-01",
                              "cession_enregistree_par": "vendeur", "code_cession": "X7K2P9QW"}
    assert built["pieces"] == [{"type": "justificatif_identite"}]

    assert [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []  # no script error

    printed = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})["data"])
    assert len(re.findall(rb"/Type\s*/Page\b", printed)) == 1, "le rapport imprimé dépasse une page A4"
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not browser.find_element(By.ID, "formulaire").is_displayed()  # on paper, the report alone


def test_a_co_holder_gets_the_pieces_said_to_concern_them(browser, server):
    """A couple: with the co-holder's name in the form and the identity document of the first holder only, the
    co-holder's is missing; said to concern « les deux », the document is one piece for each."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    opened(browser, server)
    fill_used_car_bought_in_france(browser)
    concerns = browser.find_element(
        By.CSS_SELECTOR, ".piece:has([data-piece=justificatif_identite]) [data-piece-pour]")
    assert not concerns.is_displayed()  # asked only once there is a co-holder
    browser.find_element(By.XPATH, "//label[normalize-space()='Le certificat aura un co-titulaire']").click()
    assert concerns.is_displayed() and Select(concerns).first_selected_option.text == "le titulaire"
    browser.find_element(By.ID, "f-co-prenoms").send_keys("Paul")
    browser.find_element(By.ID, "f-co-nom").send_keys("Fictif")
    browser.find_element(By.ID, "verifier-formulaire").click()
    shown = report_shown(browser, "Verdict : incomplet")
    built = json.loads(browser.find_element(By.ID, "dossier-json").get_attribute("value"))
    assert built["titulaires"][1] == {"prenoms": "Paul", "nom": "Fictif"}
    assert built["pieces"] == [{"type": "justificatif_identite"}]
    missing = shown.find_element(By.XPATH, ".//h3[starts-with(., 'Pièces manquantes')]/following-sibling::ul").text
    assert "Paul Fictif" in missing  # the identity document asked of each holder
    assert "Titulaires : " in shown.find_element(By.CSS_SELECTOR, "ul.faits").text

    Select(concerns).select_by_visible_text("les deux (une pièce chacun)")
    browser.find_element(By.ID, "verifier-formulaire").click()
    WebDriverWait(browser, 15).until(lambda b: '"titulaire": 1' in b.find_element(By.ID, "dossier-json")
                                     .get_attribute("value"))
    built = json.loads(browser.find_element(By.ID, "dossier-json").get_attribute("value"))
    assert built["pieces"] == [{"type": "justificatif_identite"}, {"type": "justificatif_identite", "titulaire": 1}]
    # Without a co-holder again, the dossier has one holder: the co-holder's fields are not sent.
    browser.find_element(By.XPATH, "//label[normalize-space()='Le certificat aura un co-titulaire']").click()
    browser.find_element(By.ID, "verifier-formulaire").click()
    WebDriverWait(browser, 15).until(lambda b: '"titulaire": 1' not in b.find_element(By.ID, "dossier-json")
                                     .get_attribute("value"))
    assert len(json.loads(browser.find_element(By.ID, "dossier-json").get_attribute("value"))["titulaires"]) == 1
    assert [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_a_malformed_dossier_pasted_shows_where_it_breaks(browser, server):
    from selenium.webdriver.common.by import By

    opened(browser, server)
    area = browser.find_element(By.ID, "dossier-json")
    area.send_keys('{"reference": "X",\n  "vehicule": {"genre": "VP",}\n}')
    browser.find_element(By.ID, "verifier-json").click()
    shown = report_shown(browser, "Dossier illisible")
    error = shown.find_element(By.CSS_SELECTOR, ".erreurs li")
    assert error.text.startswith("ligne 2, colonne 29")
    assert "JSON mal formé : virgule en trop" in error.text
    error.find_element(By.CSS_SELECTOR, "button.lieu").click()
    assert browser.switch_to.active_element == area
    assert browser.execute_script("return arguments[0].selectionStart", area) == len('{"reference": "X",\n') + 28


def test_a_dossier_file_dropped_or_opened_is_checked(browser, server):
    from selenium.webdriver.common.by import By

    opened(browser, server)
    example = ROOT / "fixtures" / "exemple" / "dossier.json"
    browser.execute_script(
        "const data = new DataTransfer();"
        " data.items.add(new File([arguments[1]], 'dossier.json', {type: 'application/json'}));"
        " arguments[0].dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));",
        browser.find_element(By.ID, "dossier-json"), example.read_text(encoding="utf-8"))
    report_shown(browser, "Verdict : incomplet")
    assert browser.find_element(By.ID, "resultat-titre").text == "Rapport du dossier EXEMPLE-2021-001"
    assert "Paul Fictif" in browser.find_element(By.ID, "rapport").text

    new_car = ROOT / "fixtures" / "neuf_france_complet" / "dossier.json"
    browser.find_element(By.ID, "fichier-json").send_keys(str(new_car))
    report_shown(browser, "Verdict : complet")
    assert browser.find_element(By.CSS_SELECTOR, "#rapport .verdict").text == "Verdict : COMPLET"
    assert '"reference"' in browser.find_element(By.ID, "dossier-json").get_attribute("value")


# A case each report shows differently: a request refused, an amount left to complete.
OTHER_CASES = {
    "saint_martin": ("REJETÉ", "Demande irrecevable (1)", "non couvert"),
    "malus_masse_non_renseignee": ("COMPLET", "à compléter",
                                   "Masse en ordre de marche (/vehicule/masse_ordre_marche)"),
}


def test_a_refused_request_and_an_amount_to_complete_are_shown_in_words(browser, server):
    from selenium.webdriver.common.by import By

    opened(browser, server)
    for case, (verdict, *words) in OTHER_CASES.items():
        text = (ROOT / "fixtures" / case / "dossier.json").read_text(encoding="utf-8")
        browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, "dossier-json"), text)
        browser.find_element(By.ID, "verifier-json").click()
        shown = report_shown(browser, f"Verdict : {verdict.lower()} ")
        assert shown.find_element(By.CSS_SELECTOR, ".verdict").text == f"Verdict : {verdict}"
        for word in words:
            assert word in shown.text, case


def test_a_dossier_outside_its_schema_shows_the_field_at_fault(browser, server):
    from selenium.webdriver.common.by import By

    opened(browser, server)
    browser.find_element(By.ID, "f-reference").send_keys("GUICHET-43")
    browser.find_element(By.ID, "f-code-postal").send_keys("6900")
    browser.find_element(By.ID, "verifier-formulaire").click()
    shown = report_shown(browser, "Dossier non conforme")
    assert "Code postal (/titulaires/0/adresse/code_postal) : code postal invalide" in shown.text
    postcode = browser.find_element(By.ID, "f-code-postal")
    assert postcode.get_attribute("aria-invalid") == "true"
    shown.find_element(By.CSS_SELECTOR, "button.lieu").click()
    assert browser.switch_to.active_element == postcode


def test_the_keyboard_alone_reaches_the_submit_button_with_a_visible_focus(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    opened(browser, server)
    submit = browser.find_element(By.ID, "verifier-formulaire")
    body = browser.find_element(By.TAG_NAME, "body")
    body.click()
    for _ in range(150):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        if browser.switch_to.active_element == submit:
            break
    assert browser.switch_to.active_element == submit, "la touche Tab n'atteint pas le bouton de vérification"
    assert submit.value_of_css_property("outline-style") == "solid"


def test_a_phone_wide_screen_scrolls_only_down(browser, server):
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True})
    opened(browser, server)
    fill_used_car_bought_in_france(browser)
    browser.find_element(By.ID, "verifier-formulaire").click()
    report_shown(browser, "Verdict : incomplet")
    for details in browser.find_elements(By.CSS_SELECTOR, "details"):
        browser.execute_script("arguments[0].open = true", details)
    widths = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] == 360
