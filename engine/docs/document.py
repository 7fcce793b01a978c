"""A small document model (pages of blocks of phrases) and its two writers: HTML and Markdown.

The site's content is built once as these nodes; each writer only decides how they look, so the HTML
and the Markdown pages always say the same thing.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import escape
from ..frozen import frozen

# ------------------------------------------------------------------ inline content


@frozen
class Link:
    """A link to another page of the site, named by the kind and name of what it documents."""

    kind: str
    name: str
    text: str


@frozen
class Web:
    """A link out of the site: a legal text's page on Légifrance."""

    text: str
    href: str


@frozen
class Term:
    """A word standing for something technical (a dossier field, a coded value): `hint` names it.

    The hint is shown as a numbered note at the end of the page, not only on hover: a printed page, a
    touch screen and a screen reader have no hover.
    """

    text: str
    hint: str


@frozen
class Code:
    """A technical name, shown as such (a rule identifier, a piece type, a file)."""

    text: str


@frozen
class Strong:
    text: str
    tone: str | None = None  # « ok » or « ko »: a result that is good or bad news for the applicant


Inline = str | Link | Web | Term | Code | Strong
Phrase = tuple[Inline, ...]


def phrase(*parts) -> Phrase:
    """Flattens strings, inlines and phrases into one phrase, merging adjacent strings."""
    out: list[Inline] = []
    for part in parts:
        for item in (part if isinstance(part, (tuple, list)) else (part,)):
            if isinstance(item, (tuple, list)):
                out.extend(phrase(*item))
            elif isinstance(item, str) and out and isinstance(out[-1], str):
                out[-1] += item
            elif item != "":
                out.append(item)
    return tuple(out)


def plain(words: Phrase) -> str:
    return "".join(w if isinstance(w, str) else w.text for w in words)


def sentence(*parts) -> Phrase:
    """The parts as one phrase ending with a full stop, unless it already ends a sentence."""
    words = phrase(*parts)
    return words if plain(words).rstrip().endswith((".", "!", "?", "…")) else phrase(words, ".")


# ------------------------------------------------------------------ blocks


@frozen
class Heading:
    level: int
    text: Phrase
    anchor: str | None = None


@frozen
class Para:
    text: Phrase
    style: str | None = None  # lead, note, where, empty


@frozen
class Bullets:
    """A list whose items are block sequences; `joiner` is written before every item but the first."""

    items: tuple[tuple, ...]
    joiner: str | None = None
    style: str | None = None


@frozen
class Callout:
    """A framed block with a label: the legal source, the message to the applicant."""

    label: str
    body: tuple
    style: str


@frozen
class Table:
    header: tuple[Phrase, ...]
    rows: tuple[tuple[Phrase, ...], ...]
    caption: Phrase = ()
    numeric: tuple[int, ...] = ()  # columns aligned to the right
    groups: tuple[int, ...] = ()  # rows that open a group (a key's history), set apart by a rule


@frozen
class Columns:
    """Tables shown side by side on a wide screen (a long grid cut in slices); one table in Markdown."""

    tables: tuple[Table, ...]


@frozen
class Details:
    """A section the reader may fold: `summary` always shows, `body` when opened (and in print)."""

    summary: Phrase
    body: tuple
    open: bool = False


@frozen
class Definitions:
    """Terms and what they mean, as a definition list."""

    entries: tuple[tuple[Phrase, tuple], ...]


Block = Heading | Para | Bullets | Callout | Table | Columns | Details | Definitions


@frozen
class Page:
    path: str  # without extension, e.g. "exigence-controle_technique"
    title: str
    kicker: str
    blocks: tuple[Block, ...]


Resolve = Callable[[Link], str | None]  # a link's target file, or None when there is no such page
TERMS_HEADING = "Termes du dossier"


class Writer:
    """What both writers share: where links lead, the navigation, and the page's numbered terms."""

    def __init__(self, resolve: Resolve, nav: list[tuple[str, str]], site_title: str) -> None:
        self.resolve = resolve
        self.nav = nav
        self.site_title = site_title
        self.terms: dict[str, int] = {}  # a page's term hints, numbered in reading order

    def term_number(self, term: Term) -> int:
        return self.terms.setdefault(term.hint, len(self.terms) + 1)

    def body(self, page: Page) -> str:
        """The page's blocks, then the list of its terms' hints (numbered while the blocks were written)."""
        self.terms = {}
        body = self.blocks(page.blocks)
        return body + self.term_notes() if self.terms else body


# ------------------------------------------------------------------ HTML

CSS = """
:root { --ink: #1d2330; --muted: #5b6474; --line: #d9dde5; --accent: #1f4e8c; --paper: #fbfbf8;
        --source: #f3f0e6; --message: #eaf2fb; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 17px/1.55 Georgia, "DejaVu Serif", "Times New Roman", serif; }
header.site { background: var(--accent); color: #fff; padding: .6rem 1.5rem; font-family: system-ui, "DejaVu Sans", sans-serif; font-size: 15px; }
header.site a { color: #fff; text-decoration: none; margin-right: 1.1rem; }
header.site a:hover { text-decoration: underline; }
header.site strong { margin-right: 1.6rem; }
main { max-width: 52rem; margin: 0 auto; padding: 1.2rem 1.5rem 3rem; }
h1 { font-size: 1.75rem; line-height: 1.25; margin: .3rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 1px solid var(--line); font-family: system-ui, "DejaVu Sans", sans-serif; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; font-family: system-ui, "DejaVu Sans", sans-serif; }
p { margin: .5rem 0; }
a { color: var(--accent); }
.kicker { text-transform: uppercase; letter-spacing: .06em; font: 600 13px/1.4 system-ui, "DejaVu Sans", sans-serif; color: var(--muted); margin: 0; }
.lead { font-size: 1.08rem; }
.note { color: var(--muted); font-style: italic; }
.where, .empty { color: var(--muted); font-size: .9rem; }
.callout { border-left: 5px solid #b69d4c; background: var(--source); padding: .7rem 1rem; margin: 1rem 0 1.4rem; border-radius: 0 4px 4px 0; }
.callout .label { display: block; font: 700 12px/1.4 system-ui, "DejaVu Sans", sans-serif; text-transform: uppercase; letter-spacing: .08em; color: #7a6420; margin-bottom: .2rem; }
.callout.message { border-left-color: var(--accent); background: var(--message); }
.callout.message .label { color: var(--accent); }
.callout.message p { font-style: italic; }
.champ { border-bottom: 1px dotted var(--muted); cursor: help; }
sup.renvoi { font: 600 .68em/0 system-ui, "DejaVu Sans", sans-serif; margin-left: .08em; }
sup.renvoi a { text-decoration: none; }
.termes { margin-top: 2.5rem; font-size: .88rem; color: var(--muted); }
.termes h2 { font-size: 1rem; }
.termes li:target { background: var(--message); }
a.externe { text-decoration-style: dotted; }
code { font: .85em/1.3 "DejaVu Sans Mono", Menlo, Consolas, monospace; background: #eef0f4; padding: .05em .3em; border-radius: 3px; overflow-wrap: anywhere; }
ul { padding-left: 1.4rem; }
li { margin: .3rem 0; }
ul.alternatives { list-style: none; padding-left: 0; }
ul.alternatives > li { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .8rem; margin: 0; background: var(--paper); }
ul.alternatives > li > ul { margin: .3rem 0 0; }
ul.alternatives > li.joiner { border: none; background: none; padding: .3rem 0 .3rem 1rem; font: 700 13px/1.2 system-ui, "DejaVu Sans", sans-serif; text-transform: uppercase; letter-spacing: .12em; color: var(--accent); }
ul.conditions > li::marker { color: var(--accent); }
dl { margin: .5rem 0; }
dt { font-weight: bold; margin-top: .7rem; }
dt code { font-weight: normal; }
dd { margin: .15rem 0 .4rem 1.4rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font: 14px/1.4 system-ui, "DejaVu Sans", sans-serif; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { border: 1px solid var(--line); padding: .25rem .55rem; vertical-align: top; text-align: left; }
th { background: #eef1f6; }
tbody tr:nth-child(even) td { background: #fafbfc; }
table.grouped tbody tr td { background: #fff; }
table.grouped tr.group td { border-top: 2px solid #9aa3b2; }
strong.ok { color: #1c6b35; }
strong.ko { color: #a32020; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.columns { display: flex; flex-wrap: wrap; gap: 0 1.2rem; align-items: flex-start; }
.columns table { margin-top: .2rem; }
details { border: 1px solid var(--line); border-radius: 6px; padding: .3rem .8rem; margin: .6rem 0; }
details > summary { cursor: pointer; font: 600 15px/1.6 system-ui, "DejaVu Sans", sans-serif; }
details[open] > summary { margin-bottom: .3rem; }
footer { max-width: 52rem; margin: 0 auto; padding: 1rem 1.5rem 2rem; color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); }
@media print {
  header.site, footer .screen { display: none; }
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  .champ { border-bottom: none; }
  .callout, ul.alternatives > li, details { break-inside: avoid; }
  h2, h3, dt, p:has(+ ul), p:has(+ table) { break-after: avoid; }
  tr { break-inside: avoid; }
  details > summary { list-style: none; }
}
"""

# Folded sections print unfolded: the reader of a printed page cannot click.
PRINT_SCRIPT = ("window.addEventListener('beforeprint',function(){"
                "document.querySelectorAll('details').forEach(function(d){d.open=true;});});")


class HtmlWriter(Writer):
    def page(self, page: Page) -> str:
        e = escape.html
        nav = "".join(f'<a href="{e(href)}">{e(label)}</a>' for label, href in self.nav)
        body = self.body(page)
        kicker = f'<p class="kicker">{e(page.kicker)}</p>\n' if page.kicker else ""
        return (
            "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{e(page.title)} — {e(self.site_title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<header class=\"site\"><nav><strong>{e(self.site_title)}</strong>{nav}</nav></header>\n"
            f"<main>\n{kicker}<h1>{e(page.title)}</h1>\n{body}\n</main>\n"
            "<footer><p>Documentation produite par <code>immat docs</code> à partir des règles vérifiées ; "
            "elle ne remplace pas la lecture des textes cités.</p></footer>\n"
            f"<script>{PRINT_SCRIPT}</script>\n</body>\n</html>\n"
        )

    def inline(self, words: Phrase) -> str:
        return "".join(self._inline(w) for w in words)

    def _inline(self, w: Inline) -> str:
        e = escape.html
        if isinstance(w, str):
            return e(w)
        if isinstance(w, Link):
            href = self.resolve(w)
            return f'<a href="{e(href)}">{e(w.text)}</a>' if href else e(w.text)
        if isinstance(w, Web):
            return f'<a class="externe" href="{e(w.href)}">{e(w.text)}</a>'
        if isinstance(w, Term):
            n = self.term_number(w)
            return (f'<span class="champ" title="{e(w.hint)}" aria-describedby="terme-{n}">{e(w.text)}</span>'
                    f'<sup class="renvoi"><a href="#terme-{n}">{n}</a></sup>')
        if isinstance(w, Code):
            return f"<code>{e(w.text)}</code>"
        tone = f' class="{w.tone}"' if w.tone else ""
        return f"<strong{tone}>{e(w.text)}</strong>"

    def blocks(self, blocks) -> str:
        return "\n".join(self.block(b) for b in blocks)

    def term_notes(self) -> str:
        items = "\n".join(f'<li id="terme-{n}">{escape.html(hint)}</li>' for hint, n in self.terms.items())
        return f'\n<section class="termes">\n<h2>{TERMS_HEADING}</h2>\n<ol>\n{items}\n</ol>\n</section>'

    def block(self, b: Block) -> str:
        return getattr(self, "_" + type(b).__name__.lower())(b)

    def _heading(self, b: Heading) -> str:
        anchor = f' id="{escape.html(b.anchor)}"' if b.anchor else ""
        return f"<h{b.level}{anchor}>{self.inline(b.text)}</h{b.level}>"

    def _para(self, b: Para) -> str:
        style = f' class="{b.style}"' if b.style else ""
        return f"<p{style}>{self.inline(b.text)}</p>"

    def _bullets(self, b: Bullets) -> str:
        style = f' class="{b.style}"' if b.style else ""
        items = []
        for i, item in enumerate(b.items):
            if b.joiner and i:
                items.append(f'<li class="joiner">{escape.html(b.joiner)}</li>')
            items.append(f"<li>{self._item(item)}</li>")
        return f"<ul{style}>\n" + "\n".join(items) + "\n</ul>"

    def _item(self, blocks) -> str:
        # A one-paragraph item is written without its <p>, so bullets stay tight.
        if len(blocks) >= 1 and isinstance(blocks[0], Para) and blocks[0].style is None:
            return self.inline(blocks[0].text) + "".join("\n" + self.block(b) for b in blocks[1:])
        return self.blocks(blocks)

    def _callout(self, b: Callout) -> str:
        return (f'<div class="callout {b.style}"><span class="label">{escape.html(b.label)}</span>\n'
                f"{self.blocks(b.body)}\n</div>")

    def _table(self, b: Table) -> str:
        caption = f"<caption>{self.inline(b.caption)}</caption>" if b.caption else ""
        head = "".join(f"<th>{self.inline(h)}</th>" for h in b.header)
        rows = []
        for n, row in enumerate(b.rows):
            cells = "".join(f'<td class="num">{self.inline(c)}</td>' if i in b.numeric else f"<td>{self.inline(c)}</td>"
                            for i, c in enumerate(row))
            opens = ' class="group"' if n in b.groups and n else ""
            rows.append(f"<tr{opens}>{cells}</tr>")
        style = ' class="grouped"' if b.groups else ""
        return (f"<table{style}>{caption}<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows)
                + "\n</tbody></table>")

    def _columns(self, b: Columns) -> str:
        return '<div class="columns">\n' + "\n".join(self._table(t) for t in b.tables) + "\n</div>"

    def _details(self, b: Details) -> str:
        opened = " open" if b.open else ""
        return f"<details{opened}><summary>{self.inline(b.summary)}</summary>\n{self.blocks(b.body)}\n</details>"

    def _definitions(self, b: Definitions) -> str:
        entries = "".join(f"<dt>{self.inline(term)}</dt>\n<dd>{self._item(body)}</dd>\n" for term, body in b.entries)
        return f"<dl>\n{entries}</dl>"


# ------------------------------------------------------------------ Markdown

class MarkdownWriter(Writer):
    def page(self, page: Page) -> str:
        nav = " · ".join(f"[{label}]({href})" for label, href in self.nav)
        head = [nav, "", f"*{page.kicker}*", "", f"# {escape.markdown(page.title)}"] if page.kicker else \
            [nav, "", f"# {escape.markdown(page.title)}"]
        body = self.body(page)
        return "\n".join(head) + "\n\n" + body.rstrip() + "\n"

    def inline(self, words: Phrase) -> str:
        return "".join(self._inline(w) for w in words)

    def _inline(self, w: Inline) -> str:
        if isinstance(w, str):
            return escape.markdown(w)
        if isinstance(w, Link):
            href = self.resolve(w)
            text = escape.markdown(w.text)
            return f"[{text}]({href})" if href else text
        if isinstance(w, Web):
            return f"[{escape.markdown(w.text)}]({w.href})"
        if isinstance(w, Term):
            return f"{escape.markdown(w.text)}[^{self.term_number(w)}]"
        if isinstance(w, Code):
            return escape.markdown_code(w.text)
        return f"**{escape.markdown(w.text)}**"

    def blocks(self, blocks) -> str:
        return "".join(self.block(b) + "\n\n" for b in blocks)

    def term_notes(self) -> str:
        notes = "".join(f"[^{n}]: {escape.markdown(hint)}\n" for hint, n in self.terms.items())
        return f"## {TERMS_HEADING}\n\n{notes}"

    def block(self, b: Block) -> str:
        return getattr(self, "_" + type(b).__name__.lower())(b).rstrip("\n")

    def _heading(self, b: Heading) -> str:
        return "#" * b.level + " " + self.inline(b.text)

    def _para(self, b: Para) -> str:
        text = self.inline(b.text)
        return f"*{text}*" if b.style in ("note", "where", "empty") else text

    def _bullets(self, b: Bullets) -> str:
        lines = []
        for i, item in enumerate(b.items):
            body = self.blocks(item).rstrip("\n").split("\n")
            joiner = f"*{b.joiner}* " if b.joiner and i else ""
            lines.append("- " + joiner + body[0])
            lines.extend(("  " + line) if line else "" for line in body[1:])
        return "\n".join(lines)

    def _callout(self, b: Callout) -> str:
        body = self.blocks(b.body).rstrip("\n").split("\n")
        return f"> **{b.label}**\n>\n" + "\n".join("> " + line if line else ">" for line in body)

    def _table(self, b: Table) -> str:
        def row(cells) -> str:
            return "| " + " | ".join(self.inline(c).replace("\n", " ") for c in cells) + " |"

        align = "|" + "|".join(" ---: " if i in b.numeric else " --- " for i in range(len(b.header))) + "|"
        caption = [f"**{self.inline(b.caption)}**", ""] if b.caption else []
        return "\n".join([*caption, row(b.header), align, *(row(r) for r in b.rows)])

    def _columns(self, b: Columns) -> str:
        first = b.tables[0]
        rows = tuple(r for t in b.tables for r in t.rows)
        return self._table(Table(first.header, rows, first.caption, first.numeric))

    def _details(self, b: Details) -> str:
        return f"**{self.inline(b.summary)}**\n\n" + self.blocks(b.body)

    def _definitions(self, b: Definitions) -> str:
        out = []
        for term, body in b.entries:
            plain_term = not any(isinstance(w, (Strong, Code)) for w in term)
            out.append("- " + (f"**{self.inline(term)}**" if plain_term else self.inline(term)))
            out.append("")
            out.extend(("  " + line) if line else "" for line in self.blocks(body).rstrip("\n").split("\n"))
        return "\n".join(out)
