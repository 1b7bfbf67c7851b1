"""Shared fixtures: real-looking transcript files and a model trained on the packaged mini corpus."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from rupture_nlp.datasets import fixture_path, load_fixture
from rupture_nlp.labels import LABELS
from rupture_nlp.training import train_and_save

FILES = Path(__file__).parent / "files"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def load_script():
    """The project's scripts and benchmarks are files, not modules of the package: load one by
    its path under the checkout (``load_script("scripts/data_card.py")``)."""

    def load(relative: str):
        path = ROOT / relative
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


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


class KnownProbabilities:
    """Stands in for a trained model where a test needs exact probabilities: each turn gets its
    ``label`` with the probability in its ``confidence`` column, the rest shared evenly."""

    classes_ = np.array(LABELS)

    def predict_proba(self, df):
        conf = df["confidence"].astype(float).to_numpy()
        proba = np.repeat(((1 - conf) / (len(LABELS) - 1))[:, None], len(LABELS), axis=1)
        proba[np.arange(len(df)), [LABELS.index(lab) for lab in df["label"]]] = conf
        return proba


@pytest.fixture
def supervision() -> Path:
    """Four sessions of two therapists, with dates, times in two of them and the model's reasons:
    an unrepaired episode with a repair attempt inside it, a repaired one, one cut off by the end
    of the session, and a session without ruptures."""
    return Path(__file__).parent / "supervision" / "supervision.csv"  # read, never written


@pytest.fixture
def known_model():
    return KnownProbabilities()
