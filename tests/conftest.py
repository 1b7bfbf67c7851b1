"""Shared fixtures: real-looking transcript files and a model trained on the packaged mini corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rupture_nlp.datasets import fixture_path, load_fixture
from rupture_nlp.training import train_and_save

FILES = Path(__file__).parent / "files"


@pytest.fixture
def files(tmp_path) -> Path:
    """A private copy of the sample transcript files, so tests may write beside them."""
    dest = tmp_path / "files"
    shutil.copytree(FILES, dest)
    return dest


@pytest.fixture(scope="session")
def mini_df():
    return load_fixture()


@pytest.fixture(scope="session")
def mini_csv() -> str:
    return fixture_path()


@pytest.fixture(scope="session")
def mini_model(tmp_path_factory, mini_df) -> Path:
    """A model file (with metadata) trained on the mini corpus, shared by the whole run."""
    path = tmp_path_factory.mktemp("model") / "mini.joblib"
    train_and_save(mini_df, path, seed=0, cv=0)
    return path
