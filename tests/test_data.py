"""The shipped corpus: valid, big enough, well mixed, and its data card up to date."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rupture_nlp.corpus import load_corpus
from rupture_nlp.labels import SUBTYPES
from rupture_nlp.readers import expand_paths, read_file

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(DATA)


def test_every_data_file_validates():
    for path in expand_paths([DATA]):
        _, problems = read_file(path)
        assert problems == [], path


def test_counts_the_corpus_promises(corpus):
    assert corpus["session_id"].nunique() >= 280 and len(corpus) >= 30_000
    counts = corpus["label"].value_counts()
    assert min(counts[["withdrawal", "confrontation", "repair"]]) >= 600
    sub = corpus["subtype"].value_counts()
    assert min(sub.get(code, 0) for code in SUBTYPES) >= 30


def test_markers_are_about_as_rare_as_in_real_sessions(corpus):
    markers = corpus["label"] != "none"
    client = corpus["speaker"].str.startswith("client")
    assert markers.mean() <= 0.10  # real sessions: 2-8% of turns
    assert markers[client].mean() <= 0.15
    natural = corpus[corpus["density"] == "natural"]
    per_session = natural.groupby("session_id")["label"].apply(lambda s: (s != "none").sum())
    assert (per_session == 0).mean() >= 1 / 3  # a third of natural sessions have no marker
    assert natural["session_id"].nunique() >= 180 and len(natural) >= 25_000
    for split in ("dev", "test"):  # held-out figures can be reported for each kind
        assert set(corpus.loc[corpus["split"] == split, "density"]) == {"natural", "dense"}


def test_splits_are_by_session_and_cover_every_writer(corpus):
    splits = json.loads((DATA / "splits.json").read_text())
    ids = [sid for v in splits.values() for sid in v]
    assert len(ids) == len(set(ids)) == corpus["session_id"].nunique()
    for name in ("train", "dev", "test"):
        assert set(corpus.loc[corpus["split"] == name, "writer"]) == set(corpus["writer"])


def test_data_card_figures_are_current():
    script = Path(__file__).resolve().parent.parent / "scripts" / "data_card.py"
    done = subprocess.run(
        [sys.executable, str(script), "--data", str(DATA), "--check", str(DATA / "README.md")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_every_blind_coded_natural_session_falls_in_a_batch_of_writers(load_script):
    """A new batch of writers coded blind must be named in ``data/agreement/passes.json``
    (``import_agreement.py --batch``), or its agreement would drop out of the by-batch table
    unseen."""
    card = load_script("scripts/data_card.py")
    order = card.batches(DATA)
    assert card.batch_of("ak", order) == card.batch_of("bm", order) == "ak-bm"
    assert card.batch_of("z", order) == "y-ac" and card.batch_of("bn", order) == "bn-bu"
    assert card.batch_of("b", order) is None
    sessions = {
        s["session_id"]: s["writer"] for s in json.loads((DATA / "sessions.json").read_text())
    }
    passed = json.loads((DATA / "agreement" / "natural_pass.json").read_text())
    writers = {sessions[r["session_id"]] for r in passed}
    assert writers and all(card.batch_of(w, order) for w in writers)
