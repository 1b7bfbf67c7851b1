"""Small labelled data that ships with the package, for examples, doctests and smoke tests.

The project's real corpus lives in ``data/`` of the repository (see :mod:`rupture_nlp.corpus`);
this mini corpus is six short hand-written sessions, one for each common rupture pattern,
so examples run without a checkout.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from .readers import read_transcripts

__all__ = ["fixture_path", "load_fixture"]


def fixture_path() -> str:
    """Path of the packaged mini corpus CSV."""
    return str(resources.files("rupture_nlp") / "fixtures" / "mini_corpus.csv")


def load_fixture() -> pd.DataFrame:
    """The packaged mini corpus as a canonical turns table.

    >>> int(load_fixture()["label"].value_counts()["none"])
    38
    """
    return read_transcripts([fixture_path()])
