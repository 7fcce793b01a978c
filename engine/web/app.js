// The instructors' page: a dossier built by the form or given as JSON goes to /v1/validate, and its report is
// shown, verdict first. Report data enters the page through textContent only (el() below), never as HTML: a
// report repeats the dossier's own text (names, addresses), which must never become markup.
"use strict";

const API = {
  validate: "/v1/validate?explain=true",
  rules: "/v1/rules",
  schema: "/v1/schema/dossier",
  health: "/health",
};
const VERDICTS = { complete: "COMPLET", incomplete: "INCOMPLET", rejected: "REJETÉ" };
const ERROR_TITLES = {
  400: "Dossier illisible",
  413: "Dossier trop volumineux",
  415: "Type de contenu refusé",
  422: "Dossier non conforme",
};
// The pieces whose own fields the rules read (a technical inspection's date and result, the crossed-out
// certificate's « vendu le » and signature): the form asks for them beside their checkbox.
const PIECE_DETAILS = {
  proces_verbal_controle_technique: "details-ct",
  certificat_immatriculation_barre: "details-barre",
};

const state = { schema: null, rules: new Map() };
const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== ""));
  return node;
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url} : réponse ${response.status}`);
  return response.json();
}

// ------------------------------------------------------------------ the dossier schema's words

function resolve(node) {
  // A property's own title and description win over those of the definition it refers to.
  while (node && node.$ref) {
    const target = node.$ref.replace(/^#\//, "").split("/").reduce((n, part) => n && n[part], state.schema);
    const { $ref, ...own } = node;
    node = { ...target, ...own };
  }
  return node || {};
}

function schemaNode(pointer) {
  let node = resolve(state.schema);
  for (const part of pointer.split("/").filter(Boolean)) {
    node = resolve(/^\d+$/.test(part) ? node.items : (node.properties || {})[part]);
  }
  return node;
}

function fieldName(pointer) {
  const title = state.schema ? schemaNode(pointer).title : "";
  if (!pointer) return title || "le dossier";
  return title ? `${title} (${pointer})` : pointer;
}

function codedValues(node) {
  const values = (node.enum || []).map((value) => ({ value: String(value), description: "" }));
  for (const option of node.oneOf || node.anyOf || []) {
    if (option && "const" in option) {
      values.push({ value: String(option.const), description: option.description || "" });
    }
  }
  return values;
}

// As reports name a coded value: its description up to the first comma, parenthesis or full stop.
const shortName = (description) => description.split(/, | \(|\. |\.$/)[0];

const plain = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/_/g, " ").toLowerCase();

function optionText({ value, description }) {
  const words = description.replace(/\.$/, "");
  if (!words) return value;
  const named = new RegExp(`\\b${plain(value).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`).test(plain(words));
  return named ? words : `${words} (${value})`;
}

// ------------------------------------------------------------------ the form

function fillSelect(select, node) {
  select.replaceChildren(el("option", { value: "", text: "— non renseigné —" }));
  for (const option of codedValues(node)) {
    select.append(el("option", { value: option.value, text: optionText(option) }));
  }
}

function prepareForm() {
  for (const select of document.querySelectorAll("#formulaire select[data-champ]")) {
    fillSelect(select, schemaNode(select.dataset.champ));
  }
  for (const input of document.querySelectorAll("#formulaire input[type=number][data-champ]")) {
    const node = schemaNode(input.dataset.champ);
    if (node.minimum !== undefined) input.min = node.minimum;
    if (node.maximum !== undefined) input.max = node.maximum;
    input.step = node.type === "integer" ? "1" : "any";
  }
  const list = $("f-pieces-liste");
  list.replaceChildren(...codedValues(schemaNode("/pieces/0/type")).map(pieceChoice));
}

// Whom a piece concerns, once the dossier has a co-holder: the « titulaire » index of the piece (or both).
const CONCERNS = [["0", "le titulaire"], ["1", "le co-titulaire"], ["0,1", "les deux (une pièce chacun)"]];

function pieceChoice(option, index) {
  const id = `f-piece-${index}`;
  const box = el("input", { type: "checkbox", id, "data-piece": option.value });
  const label = el("label", { for: id, text: shortName(option.description) || option.value });
  const item = el("div", { class: "piece" }, el("div", { class: "champ case" }, box, label));
  const template = PIECE_DETAILS[option.value] && $(PIECE_DETAILS[option.value]);
  const details = template ? template.content.firstElementChild.cloneNode(true) : el("div", { class: "precisions" });
  const concerns = el("div", { class: "champ pour", hidden: true },
    el("label", { text: "Pièce qui se rapporte à" }),
    el("select", { "data-piece-pour": "" }, ...CONCERNS.map(([value, text]) => el("option", { value, text }))));
  details.append(concerns);
  details.querySelectorAll(".champ").forEach((field, j) => {
    const control = field.querySelector("input, select");
    control.id = `${id}-${j}`;
    field.querySelector("label").htmlFor = control.id;
  });
  details.querySelectorAll("select[data-piece-champ]").forEach((select) => {
    fillSelect(select, schemaNode(`/pieces/0/${select.dataset.pieceChamp}`));
  });
  // Shown when there is something to ask: the piece's own fields, or whom it concerns.
  const update = () => {
    concerns.hidden = !$("f-cotitulaire").checked;
    details.hidden = !box.checked || (!template && concerns.hidden);
  };
  box.addEventListener("change", update);
  $("f-cotitulaire").addEventListener("change", update);
  update();
  item.append(details);
  return item;
}

function controlValue(control) {
  if (control.type === "checkbox") return control.checked;
  const text = control.value.trim();
  if (text === "") return undefined;
  return control.type === "number" ? Number(text) : text;
}

function setAt(target, pointer, value) {
  const parts = pointer.split("/").filter(Boolean);
  let node = target;
  parts.slice(0, -1).forEach((part, i) => {
    if (node[part] === undefined) node[part] = /^\d+$/.test(parts[i + 1]) ? [] : {};
    node = node[part];
  });
  node[parts[parts.length - 1]] = value;
}

function formDossier() {
  const dossier = {};
  for (const control of document.querySelectorAll("#formulaire [data-champ]")) {
    if (control.closest("[hidden]")) continue;  // a co-holder's fields, without a co-holder
    const value = controlValue(control);
    if (value !== undefined) setAt(dossier, control.dataset.champ, value);
  }
  dossier.pieces = [];
  for (const box of document.querySelectorAll("#formulaire [data-piece]:checked")) {
    const piece = { type: box.dataset.piece };
    const item = box.closest(".piece");
    for (const control of item.querySelectorAll("[data-piece-champ]")) {
      const value = controlValue(control);
      if (value !== undefined) piece[control.dataset.pieceChamp] = value;
    }
    const concerns = $("f-cotitulaire").checked ? item.querySelector("[data-piece-pour]").value : "0";
    for (const holder of concerns.split(",").map(Number)) {  // the holder is left out for the first, its default
      dossier.pieces.push(holder ? { ...piece, titulaire: holder } : piece);
    }
  }
  return dossier;
}

// ------------------------------------------------------------------ checking a dossier

function announce(text) {
  $("annonce").textContent = text;
}

// `form`: the dossier comes from the form, whose fields a schema error may then point at. One dossier at a
// time: the buttons wait for the answer.
async function verify(text, form = false) {
  const buttons = [...document.querySelectorAll("button[type=submit]")].filter((button) => !button.disabled);
  buttons.forEach((button) => { button.disabled = true; });
  $("resultat").setAttribute("aria-busy", "true");
  try {
    await checked(text, form);
  } finally {
    buttons.forEach((button) => { button.disabled = false; });
    $("resultat").removeAttribute("aria-busy");
  }
}

async function checked(text, form) {
  document.querySelectorAll("[aria-invalid]").forEach((control) => control.removeAttribute("aria-invalid"));
  announce("Vérification en cours…");
  let response;
  try {
    response = await fetch(API.validate, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: text,
    });
  } catch (error) {
    return showErrors("Le serveur ne répond pas", [{ message: String(error) }]);
  }
  const body = await response.json().catch(() => null);
  if (response.ok && body) return showReport(body);
  if (body && Array.isArray(body.errors)) {
    return showErrors(ERROR_TITLES[response.status] || "Dossier non vérifié", body.errors, form);
  }
  return showErrors("Dossier non vérifié", [{ message: `le serveur a répondu ${response.status}` }]);
}

function shown(title, nodes, summary) {
  $("resultat-titre").textContent = title;
  $("rapport").replaceChildren(...nodes);
  announce(summary);
  $("resultat-titre").focus();
}

// ------------------------------------------------------------------ a located error

function showErrors(title, errors, form = false) {
  const items = errors.map((error) => el("li", {}, where(error, form),
    el("span", { class: "message" }, error.message)));
  shown("Dossier non vérifié", [
    el("p", { class: "verdict illisible" }, title),
    el("ul", { class: "erreurs" }, ...items),
  ], `${title} : ${errors.length} erreur(s). ${errors.map((e) => e.message).join(" ; ")}`);
}

// Where an error is: a button that goes there (the place in the JSON, or the form's field), else its words.
function where(error, form) {
  if (error.line) {
    return placeButton(`ligne ${error.line}, colonne ${error.column}`, () => selectAt(error.line, error.column), " ");
  }
  if (error.pointer === undefined || error.pointer === null) return null;
  const control = form && document.querySelector(`#formulaire [data-champ="${CSS.escape(error.pointer)}"]`);
  if (!control) return el("span", { class: "lieu" }, fieldName(error.pointer), " : ");
  control.setAttribute("aria-invalid", "true");
  return placeButton(fieldName(error.pointer), () => control.focus(), " : ");
}

function placeButton(label, go, after) {
  const button = el("button", { type: "button", class: "lieu" }, label);
  button.addEventListener("click", go);
  return el("span", {}, button, after);
}

function selectAt(line, column) {
  const area = $("dossier-json");
  const lines = area.value.split("\n");
  const offset = lines.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0) + column - 1;
  area.focus();
  area.setSelectionRange(offset, offset + 1);
}

// ------------------------------------------------------------------ the report

function showReport(report) {
  const requirements = report.requirements || [];
  const missing = requirements.filter((r) => r.status === "missing").length;
  const groups = [
    ["Demande irrecevable", (r) => r.status === "missing" && r.kind === "recevabilité", "✗"],
    ["Pièces manquantes", (r) => r.status === "missing" && r.kind !== "recevabilité", "✗"],
    ["Informations à compléter", (r) => r.status === "unknown", "?"],
    ["Erreurs dans l'application des règles", (r) => r.status === "error", "!"],
  ];
  const nodes = [
    el("p", { class: `verdict ${report.verdict}` }, `Verdict : ${VERDICTS[report.verdict] || report.verdict}`),
    el("p", { class: "ants" }, `Statut ANTS attendu : ${report.ants_status}`),
    (report.facts || []).length ? el("ul", { class: "faits" }, ...report.facts.map((f) => el("li", {}, f))) : null,
    report.rules ? el("p", { class: "regles" }, rulesLine(report)) : null,
    ...groups.map(([title, test, mark]) => requirementList(title, requirements.filter(test), mark)),
    notices(report.notices || []),
    fees(report.amounts || []),
    requirementList("Exigences satisfaites", requirements.filter((r) => r.status === "satisfied"), "✓"),
    el("p", { class: "sans-objet" },
      `Sans objet pour ce dossier : ${report.summary ? report.summary.not_applicable : 0} exigence(s)`),
  ];
  const name = report.reference ? `Rapport du dossier ${report.reference}` : "Rapport";
  shown(name, nodes.filter(Boolean),
    `Verdict : ${(VERDICTS[report.verdict] || report.verdict).toLowerCase()} ; ${missing} exigence(s) manquante(s).`);
}

function section(title, ...content) {
  return el("section", { class: "partie" }, el("h3", {}, title), ...content);
}

function requirementList(title, requirements, mark) {
  if (!requirements.length) return null;
  return section(`${title} (${requirements.length})`,
    el("ul", { class: "exigences" }, ...requirements.map((r) => requirementItem(r, mark))));
}

function requirementItem(r, mark) {
  const title = r.title + (r.holder ? ` — ${r.holder.name}` : "");
  const head = el("p", { class: "titre" }, el("span", { class: "marque", "aria-hidden": "true" }, mark), " ",
    el("strong", {}, title));
  const page = rulePage(r);
  if (page) head.append(" ", ruleLink(page, title, "page de la règle"));
  const item = el("li", { class: `exigence ${r.status}` }, head);
  if (r.message) item.append(el("p", { class: "message" }, r.message));
  if (r.pieces && r.status === "missing") {
    const accepted = r.pieces.length === 1 ? "Pièce acceptée" : "Pièces acceptées (une seule suffit)";
    item.append(el("p", { class: "pieces-acceptees" }, `${accepted} : ${r.pieces.map(pieceName).join(" ; ")}`));
  }
  if (r.missing_fields) {
    item.append(el("p", {}, `Informations à compléter : ${r.missing_fields.map(fieldName).join(", ")}`));
  }
  if (r.error) item.append(el("p", {}, `Erreur : ${r.error}`));
  if (r.citation) item.append(el("p", { class: "source" }, `Source : ${r.citation}`));
  if (r.reason) item.append(reasoning("Raisonnement et source complète", r.reason, r.source));
  return item;
}

// The report header's last line, as the HTML report writes it: the rules, the date they were applied at, immat.
function rulesLine(report) {
  const [year, month, day] = (report.evaluation_date || "").split("-");
  const when = year ? `appliquées au ${day}/${month}/${year}` : "date de référence inconnue";
  return `Règles : ${report.rules.pack} (empreinte ${report.rules.digest}), ${when} — immat ${report.immat}`;
}

function pieceName(type) {
  if (!state.schema) return type;
  const option = codedValues(schemaNode("/pieces/0/type")).find((o) => o.value === type);
  return option && option.description ? shortName(option.description) : type;
}

function rulePage(rule) {
  const known = state.rules.get(`${rule.kind}:${rule.id}`) || state.rules.get(rule.id);
  return known && known.page;
}

// A link's name says which rule it leads to: a screen reader's list of links is read out of context.
function ruleLink(page, title, words) {
  return el("a", { href: page, "aria-label": `Page de la règle « ${title} »` }, words);
}

function notices(items) {
  if (!items.length) return null;
  return section("À savoir", el("ul", { class: "avis" },
    ...items.map((n) => el("li", {}, el("strong", {}, n.title), ` : ${n.message}`))));
}

// ------------------------------------------------------------------ the fees

function euros(decimal) {
  const cents = !/\.00$/.test(decimal);
  return new Intl.NumberFormat("fr-FR", {
    style: "currency", currency: "EUR", minimumFractionDigits: cents ? 2 : 0, maximumFractionDigits: 2,
  }).format(Number(decimal));
}

const AMOUNT_WORDS = {
  not_applicable: "sans objet", not_covered: "non couvert", unknown: "à compléter", error: "erreur",
};

function amountCells(a, byId) {
  if (a.unsettled_parts) {
    const parts = a.unsettled_parts.map((p) => `${(byId.get(p.id) || p).title || p.id} (${AMOUNT_WORDS[p.status]})`);
    return ["non calculé", `faute de : ${parts.join(" ; ")}`];
  }
  if (a.status === "computed") return [euros(a.value), a.calculation || ""];
  if (a.status === "unknown") return [AMOUNT_WORDS.unknown, (a.missing_fields || []).map(fieldName).join(", ")];
  return [AMOUNT_WORDS[a.status] || a.status, a.error || ""];
}

function fees(amounts) {
  if (!amounts.length) return null;
  const byId = new Map(amounts.map((a) => [a.id, a]));
  const rows = amounts.map((a) => {
    const [value, detail] = amountCells(a, byId);
    const cell = el("td", { class: "detail" }, detail);
    if (a.breakdown && a.status === "computed") cell.append(reasoning("Détail du calcul", a.breakdown));
    const page = rulePage(a);
    const title = el("th", { scope: "row" }, a.title);
    if (page) title.append(" ", ruleLink(page, a.title, "page"));
    return el("tr", { class: a.status }, title, el("td", { class: "somme" }, value), cell);
  });
  return section("Montants", el("div", { class: "tableau" }, el("table", { class: "montants" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Montant"), el("th", { scope: "col" }, "Somme"),
      el("th", { scope: "col" }, "Calcul"))),
    el("tbody", {}, ...rows))));
}

// ------------------------------------------------------------------ the reasoning tree

function reasoning(label, step, source = "") {
  const where = step.location ? el("span", { class: "ou" }, ` (${step.location})`) : null;
  return el("details", { class: "raisonnement" }, el("summary", {}, label),
    source ? el("p", { class: "source" }, `Source : ${source}`) : null,
    el("ul", { class: "arbre" }, stepItem(step, where)));
}

function stepItem(step, where = null) {
  const value = el("span", { class: `valeur ${valueClass(step.value)}` }, valueText(step.value));
  const item = el("li", {}, el("span", { class: "mots" }, step.text), " : ", value, where,
    step.note ? ` — ${step.note}` : null);
  if (step.children && step.children.length) item.append(el("ul", {}, ...step.children.map((c) => stepItem(c))));
  return item;
}

function valueClass(value) {
  if (value === true) return "vrai";
  if (value === false) return "faux";
  return value !== null && typeof value === "object" && ("unknown" in value || "error" in value) ? "inconnu" : "";
}

function duration({ months, days }) {
  const years = Math.trunc(months / 12);
  const rest = months % 12;
  const parts = [];
  if (years) parts.push(`${years} an${years > 1 ? "s" : ""}`);
  if (rest) parts.push(`${rest} mois`);
  if (days || !parts.length) parts.push(`${days} jour${Math.abs(days) > 1 ? "s" : ""}`);
  return parts.join(" ");
}

function valueText(value) {
  if (value === true) return "vrai";
  if (value === false) return "faux";
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") return value.toLocaleString("fr-FR");
  if (typeof value === "string") {
    return /^\d{4}-\d{2}-\d{2}$/.test(value) ? value.split("-").reverse().join("/") : value;  // a date, as in France
  }
  if ("months" in value) return duration(value);
  if ("unknown" in value) return `inconnu (à compléter : ${value.unknown.join(", ")})`;
  if ("error" in value) return `erreur : ${value.error}`;
  if ("items" in value) return `${value.items} élément(s)`;
  if ("item" in value) return value.item;
  return JSON.stringify(value);
}

// ------------------------------------------------------------------ wiring

async function loadFile(file) {
  try {
    const text = await file.text();
    $("dossier-json").value = text;
    await verify(text);
  } catch (error) {
    showErrors("Fichier illisible", [{ message: `${file.name} : ${error}` }]);
  }
}

function wire() {
  $("f-cotitulaire").addEventListener("change", (event) => {
    $("f-cotitulaire-champs").hidden = !event.target.checked;
  });
  $("formulaire").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = JSON.stringify(formDossier(), null, 2);
    $("dossier-json").value = text;
    verify(text, true);
  });
  $("form-json").addEventListener("submit", (event) => {
    event.preventDefault();
    verify($("dossier-json").value);
  });
  $("fichier-json").addEventListener("change", (event) => {
    if (event.target.files.length) loadFile(event.target.files[0]);
  });
  const drop = $("depot");
  drop.addEventListener("dragover", (event) => {
    if (event.dataTransfer.types.includes("Files")) {
      event.preventDefault();
      drop.classList.add("survol");
    }
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("survol"));
  drop.addEventListener("drop", (event) => {
    drop.classList.remove("survol");
    if (event.dataTransfer.files.length) {
      event.preventDefault();
      loadFile(event.dataTransfer.files[0]);
    }
  });
}

async function start() {
  wire();
  const today = new Date();  // the instructor's own day, not UTC's
  $("f-date-demande").value = [today.getFullYear(), today.getMonth() + 1, today.getDate()]
    .map((n) => String(n).padStart(2, "0")).join("-");
  const [schema, rules, health] = await Promise.allSettled([API.schema, API.rules, API.health].map(getJson));
  if (schema.status === "fulfilled") {
    state.schema = schema.value;
    prepareForm();
    $("formulaire-etat").textContent = "Les listes suivent le schéma du dossier des règles en service.";
  } else {
    $("formulaire-etat").textContent = `Le formulaire n'a pas pu être préparé (${schema.reason.message}) : `
      + "collez le dossier JSON.";
    $("verifier-formulaire").disabled = true;
  }
  if (rules.status === "fulfilled") {
    for (const rule of rules.value) {
      state.rules.set(`${rule.kind}:${rule.id}`, rule);
      if (!state.rules.has(rule.id)) state.rules.set(rule.id, rule);
    }
  }
  if (health.status === "fulfilled") {
    const h = health.value;
    $("version").textContent = `immat ${h.version} — règles ${h.pack} (empreinte ${h.digest})`;
  }
}

document.addEventListener("DOMContentLoaded", start);
