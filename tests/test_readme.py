"""The README's library examples run as doctests, from a folder that is not the checkout."""

from __future__ import annotations

import doctest
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_examples_run_from_any_folder(tmp_path, monkeypatch, mini_model):
    monkeypatch.chdir(tmp_path)
    # the mini corpus's model stands in for the default one, which takes minutes to build
    monkeypatch.setenv("RUPTURE_MODEL", str(mini_model))
    result = doctest.testfile(
        str(README),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert result.attempted >= 15
    assert result.failed == 0
    assert list(tmp_path.iterdir()) == []  # nothing written where the user stands
