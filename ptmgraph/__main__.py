"""``python -m ptmgraph`` runs the command line."""

from ptmgraph.cli import app

app(prog_name="ptmgraph")
