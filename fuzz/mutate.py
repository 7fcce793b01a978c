"""A rule file's text × a random source → the same text with a few tokens deleted, duplicated, swapped,
wrapped in parentheses or replaced by random Unicode: what a hurried edit or a bad copy makes of a file."""

from __future__ import annotations

import random
import re

# Words, numbers, quoted texts and labels stay whole, so that a mutation moves meaningful pieces.
TOKEN = re.compile(r'"[^"\n]*"|«[^«»\n]*»|\w+|[^\w\s]|\s+')
# Characters that have broken parsers and renderers: controls, separators, overrides, keywords' look-alikes.
ODD = ["\x00", "\x1b[2J", "\u2028", "\u202e", "\ufeff", "«", "»", '"', "’", "(", ")", "#", "non", "et", "ou",
       "×", "÷", "−", "€", "%", "30 000", "2,76", "01/01/2020", "29/02/2021", "sauf si", "exige que", "\n"]


def mutate(text: str, rng: random.Random, edits: int = 3) -> str:
    tokens = TOKEN.findall(text)
    for _ in range(rng.randint(1, edits)):
        if not tokens:
            break
        i = rng.randrange(len(tokens))
        j = min(len(tokens), i + rng.randint(1, 8))
        kind = rng.choice(("delete", "duplicate", "swap", "wrap", "insert", "unicode"))
        if kind == "delete":
            del tokens[i:j]
        elif kind == "duplicate":
            tokens[i:i] = tokens[i:j]
        elif kind == "swap" and j < len(tokens):
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif kind == "wrap":
            tokens[i:j] = ["(", *tokens[i:j], ")"]
        elif kind == "insert":
            tokens.insert(i, rng.choice(ODD))
        else:
            tokens.insert(i, "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randint(1, 4))))
    return "".join(tokens)
