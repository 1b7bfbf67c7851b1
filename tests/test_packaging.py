"""What a wheel carries: everything `pip install .` needs to tag a file offline, no checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w"]
        + [str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("rupture_nlp-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_ships_the_corpus_the_default_model_is_built_from(wheel):
    names = set(wheel.namelist())
    corpus = {"corpus.csv", "splits.json", "sessions.json", "README.md"}
    assert {f"rupture_nlp/data/{name}" for name in corpus} <= names
    assert wheel.read("rupture_nlp/data/corpus.csv") == (ROOT / "data" / "corpus.csv").read_bytes()
    samples = {n for n in names if n.startswith("rupture_nlp/data/samples/")}
    assert samples == {
        f"rupture_nlp/data/samples/{p.name}" for p in (ROOT / "data/samples").iterdir()
    }
    # every module of the package, and no model file (it is built where it is used)
    modules = {
        f"rupture_nlp/{p.relative_to(ROOT / 'rupture_nlp')}"
        for p in (ROOT / "rupture_nlp").rglob("*.py")
    }
    assert modules <= names
    assert not [n for n in names if n.endswith(".joblib")]


def test_the_wheel_declares_what_it_imports(wheel):
    (meta,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    requires = [
        line.split(":", 1)[1].strip().split(">")[0].split("<")[0].split("=")[0].split(";")[0]
        for line in wheel.read(meta).decode().splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert {"murmurhash", "platformdirs", "tqdm", "spacy", "scikit-learn"} <= set(requires)
    entry = wheel.read(meta.replace("METADATA", "entry_points.txt")).decode()
    assert "rupture = rupture_nlp.entry:main" in entry
