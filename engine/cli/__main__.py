"""`python -m immat.cli`: the same as the `immat` command."""

from . import main

main(prog_name="immat")
