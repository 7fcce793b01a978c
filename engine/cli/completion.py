"""`immat completion SHELL`: the script that completes immat's commands and options in that shell."""

from __future__ import annotations

import click

from . import exit_codes

SHELLS = ("bash", "zsh", "fish")


@click.command(epilog="""
\b
Exemples :
  eval "$(immat completion bash)"                  dans ~/.bashrc
  eval "$(immat completion zsh)"                   dans ~/.zshrc
  immat completion fish > ~/.config/fish/completions/immat.fish
""" + exit_codes(None, "mauvaise utilisation (shell inconnu)", rules=False))
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell) -> None:
    """Affiche le script de complétion des commandes, options et fichiers d'immat pour ce shell."""
    from click.shell_completion import get_completion_class

    from . import main

    script = get_completion_class(shell)(main, {}, "immat", "_IMMAT_COMPLETE")
    click.echo(script.source())
