"""``python -m propdesk`` is the ``propdesk`` command."""

from propdesk.cli import main

main()
