from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from rupture_nlp.errors import ModelError
from rupture_nlp.model import SessionCalibratedClassifier, predict, train
from rupture_nlp.modelio import load_model, metadata_path, save_model
from rupture_nlp.training import train_and_save


@parametrize_with_checks([SessionCalibratedClassifier(LogisticRegression(), cv=3)])
def test_calibrated_classifier_follows_sklearn_conventions(estimator, check):
    check(estimator)


def test_two_trainings_same_seed_give_identical_predictions(mini_df):
    a = predict(train(mini_df, seed=3), mini_df)
    b = predict(train(mini_df, seed=3), mini_df)
    cols = ["predicted_label", "p_withdrawal", "p_confrontation", "p_repair", "p_none"]
    assert a[cols].equals(b[cols])


def test_probabilities_are_a_distribution(mini_df):
    out = predict(train(mini_df), mini_df)
    p = out[["p_withdrawal", "p_confrontation", "p_repair", "p_none"]].to_numpy()
    assert np.allclose(p.sum(axis=1), 1, atol=1e-5) and (p >= 0).all()


def test_save_and_load_round_trip_with_metadata(mini_model, mini_df):
    model, meta = load_model(mini_model)
    assert meta["seed"] == 0 and meta["n_turns"] == len(mini_df)
    assert set(meta["versions"]) >= {"python", "spacy", "scikit-learn", "rupture-nlp"}
    assert meta["label_counts"]["none"] == int((mini_df["label"] == "none").sum())
    assert len(meta["data_sha256"]) == 64 and meta["parameters"]["clf__cv"] == 5
    assert predict(model, mini_df.head(3))["predicted_label"].notna().all()


def test_tampered_model_is_refused_before_unpickling(tmp_path, mini_model, monkeypatch):
    import joblib

    copy = tmp_path / "m.joblib"
    copy.write_bytes(mini_model.read_bytes() + b"\0")
    metadata_path(copy).write_text(metadata_path(mini_model).read_text())
    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("unpickled a tampered file"))
    with pytest.raises(ModelError, match="does not match the sha256"):
        load_model(copy)


def test_missing_metadata_and_version_mismatch_are_refused(tmp_path, mini_model):
    copy = tmp_path / "m.joblib"
    copy.write_bytes(mini_model.read_bytes())
    with pytest.raises(ModelError, match="has no metadata file m.json"):
        load_model(copy)
    meta = json.loads(metadata_path(mini_model).read_text())
    meta["versions"]["scikit-learn"] = "0.1"
    metadata_path(copy).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"made with scikit-learn 0.1 \(installed: "):
        load_model(copy)
    meta["format_version"] = 99
    metadata_path(copy).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="has model format 99"):
        load_model(copy)


def test_cross_validated_metrics_are_recorded(tmp_path, mini_df):
    meta = train_and_save(mini_df, tmp_path / "cv.joblib", cv=3)
    cv = meta["cv_metrics"]
    assert cv["n_turns"] == len(mini_df)
    assert 0 <= cv["marker_macro_f1"] <= 1 and set(cv["per_label"]) == {
        "withdrawal",
        "confrontation",
        "repair",
        "none",
    }


def test_unlabelled_turns_cannot_train(mini_df):
    from rupture_nlp.errors import TranscriptError

    df = mini_df.copy()
    df.loc[3, "label"] = ""
    with pytest.raises(TranscriptError, match="1 turns have no label"):
        train(df)


def test_save_model_is_atomic(tmp_path, monkeypatch):
    import joblib

    target = tmp_path / "m.joblib"
    monkeypatch.setattr(joblib, "dump", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        save_model(object(), target, {})
    assert list(tmp_path.iterdir()) == []


def test_small_or_unbalanced_coded_sets_get_a_clear_error(mini_df):
    from rupture_nlp.errors import TranscriptError

    with pytest.raises(TranscriptError, match="at least 2 sessions"):
        train(mini_df[mini_df["session_id"] == "mini01"])
    two = mini_df[mini_df["session_id"].isin(["mini01", "mini03"])]
    with pytest.raises(TranscriptError, match="occurs in only one session"):
        train(two)


def test_refitting_after_set_params_uses_the_new_settings(mini_df):
    from rupture_nlp.features import ContextFeatures
    from rupture_nlp.preprocess import TurnEncoder

    enc = TurnEncoder().fit_transform(mini_df)
    feats = ContextFeatures(n_features=2**18).fit(enc)
    wide = len(feats.char_idf_)
    feats.set_params(n_features=2**10, char_ngrams=(2, 2)).fit(enc)
    fresh = ContextFeatures(n_features=2**10, char_ngrams=(2, 2)).fit(enc)
    assert len(feats.char_idf_) == len(fresh.char_idf_) < wide


def test_a_model_from_another_rupture_nlp_version_is_refused(tmp_path, mini_model):
    copy = tmp_path / "m.joblib"
    copy.write_bytes(mini_model.read_bytes())
    meta = json.loads(metadata_path(mini_model).read_text())
    meta["versions"]["rupture-nlp"] = "0.0.1"
    metadata_path(copy).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"made with rupture-nlp 0.0.1"):
        load_model(copy)
    with pytest.raises(ModelError, match="cannot end in .json"):
        save_model(object(), tmp_path / "m.json", {})


def test_predictions_do_not_depend_on_chunking(mini_df):
    model = train(mini_df)
    whole = predict(model, mini_df, chunk_turns=10**6)
    pieces = predict(model, mini_df, chunk_turns=5)
    assert whole.equals(pieces)


def test_predict_with_interleaved_sessions_does_not_depend_on_chunking(mini_df):
    model = train(mini_df)
    a = mini_df[mini_df["session_id"] == "mini01"]
    mixed = pd.concat([a.iloc[:5], mini_df[mini_df["session_id"] == "mini02"], a.iloc[5:]])
    assert predict(model, mixed, chunk_turns=3).equals(predict(model, mixed, chunk_turns=10**6))


def test_decide_falls_back_for_models_without_a_prior(mini_df):
    model = train(mini_df)
    clf = model[-1]
    del clf.class_prior_
    out = predict(model, mini_df.head(5))
    p = out[["p_withdrawal", "p_confrontation", "p_repair", "p_none"]].to_numpy()
    labels = np.array(["withdrawal", "confrontation", "repair", "none"])[p.argmax(axis=1)]
    assert out["predicted_label"].tolist() == labels.tolist()
