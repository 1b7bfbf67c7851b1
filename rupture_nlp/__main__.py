"""``python -m rupture_nlp``: the ``rupture`` command."""

from .entry import main

main()
