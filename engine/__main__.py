"""`python -m immat`: the same as the `immat` command."""

from .cli import main

main(prog_name="immat")
