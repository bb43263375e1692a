"""``python -m ptmgraph`` runs the command line."""

from ptmgraph.entry import main

main()
