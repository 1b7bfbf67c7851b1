from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from rupture_nlp.context import ContextStack
from rupture_nlp.errors import ModelError, TranscriptError
from rupture_nlp.model import build_model, predict, train
from rupture_nlp.modelio import load_model, metadata_path, save_model
from rupture_nlp.training import train_and_save


def _apology_sessions(n: int) -> pd.DataFrame:
    """The same therapist words are a repair after a complaint and ordinary after small talk."""
    rows = []
    for i in range(n):
        strained = i % 2 == 0
        turns = [
            ("client", "this is useless and you never listen" if strained else "the bus was late"),
            ("therapist", "sorry about that"),
            ("client", "okay"),
        ]
        labels = ["confrontation" if strained else "none", "repair" if strained else "none", "none"]
        for t, ((speaker, text), label) in enumerate(zip(turns, labels, strict=True), 1):
            rows.append(
                {"session_id": f"s{i}", "turn": t, "speaker": speaker, "text": text, "label": label}
            )
    return pd.DataFrame(rows)


def _text_only_first_stage():
    from sklearn.compose import make_column_transformer

    return make_pipeline(
        make_column_transformer((TfidfVectorizer(), "text")), LogisticRegression(max_iter=500)
    )


def test_context_stage_reads_the_turn_before():
    df = _apology_sessions(40)
    y = df["label"].to_numpy()
    apology = (df["text"] == "sorry about that").to_numpy()
    alone = ContextStack(_text_only_first_stage(), before=0, after=0, cv=4).fit(df, y)
    context = ContextStack(_text_only_first_stage(), before=1, after=0, cv=4).fit(df, y)
    assert (alone.predict(df)[apology] == y[apology]).mean() <= 0.5
    assert (context.predict(df)[apology] == y[apology]).all()


def test_context_stage_takes_weights_and_any_second_stage():
    from sklearn.preprocessing import StandardScaler

    df = _apology_sessions(20)
    y = df["label"].to_numpy()
    second = make_pipeline(StandardScaler(), LogisticRegression())
    heavy = np.where(y == "repair", 5.0, 1.0)
    stack = ContextStack(_text_only_first_stage(), second=second, before=1, after=0, cv=4)
    plain = clone(stack).fit(df, y).predict_proba(df)
    weighted = clone(stack).fit(df, y, sample_weight=heavy).predict_proba(df)
    repair = list(stack.fit(df, y).classes_).index("repair")
    assert weighted[:, repair].mean() > plain[:, repair].mean()  # the weights reached the fit


def test_a_fold_without_a_rare_label_keeps_the_score_columns_aligned():
    df = _apology_sessions(12)
    y = df["label"].to_numpy().copy()
    y[(df["session_id"] == "s0").to_numpy() & (y == "repair")] = "withdrawal"  # one session
    stack = ContextStack(_text_only_first_stage(), before=1, after=0, cv=3).fit(df, y)
    assert list(stack.classes_) == ["confrontation", "none", "repair", "withdrawal"]
    assert stack.predict_proba(df).shape == (len(df), 4)


def test_explicit_splits_must_hold_out_every_turn_once():
    df = _apology_sessions(6)
    stack = ContextStack(_text_only_first_stage(), cv=3)
    first, second = np.arange(0, 9), np.arange(9, 18)
    with pytest.raises(ValueError, match="held-out rows must be every row of X, each once"):
        stack.fit(df, df["label"], splits=[(second, first)])
    fitted = stack.fit(df, df["label"], splits=[(second, first), (first, second)])
    assert fitted.predict_proba(df).shape == (18, 3)


def test_a_context_stage_without_a_first_stage_says_what_it_needs():
    with pytest.raises(ValueError, match="needs a first-stage estimator"):
        ContextStack().fit(_apology_sessions(4), np.array(["none"] * 12))


def test_prior_power_tempers_the_decision_towards_rare_labels(mini_df):
    model = train(mini_df, prior_power=0.0, threshold=0.0)
    proba = model.predict_proba(mini_df)
    plain = model.decide(proba)
    model.prior_power = 3.0
    tempered = model.decide(proba)
    rare = model.classes_[np.argmin(model.class_prior_)]
    assert (tempered == rare).sum() >= (plain == rare).sum()
    assert (tempered != plain).any()


def test_a_marker_below_the_threshold_is_none(mini_df):
    # five inner folds: with three, the mini corpus gives no marker below a half to test on
    model = train(mini_df, threshold=0.0, cv=5)
    proba = model.predict_proba(mini_df)
    plain = model.decide(proba)
    top = proba.max(axis=1)
    model.threshold = 0.5
    assert model.get_params()["threshold"] == 0.5
    decided = model.decide(proba)
    unsure = (plain != "none") & (top < 0.5)
    assert unsure.any() and (decided[unsure] == "none").all()
    assert (decided[~unsure] == plain[~unsure]).all()
    model.threshold = 1.0
    assert (model.decide(proba) == "none").all()


def test_n_process_reaches_the_fitted_encoder(mini_model):
    from rupture_nlp.modelio import resolve_model

    fitted = resolve_model(mini_model, n_process=2)
    assert fitted.first_.named_steps["encode"].n_process == 2


def test_model_clones_and_exposes_block_weights_as_parameters():
    model = build_model(first__features__cues__weight=0.1)
    params = clone(model).get_params()
    assert params["first__features__cues__weight"] == 0.1
    assert {"first__features__chars__weight", "first__clf__C", "prior_power", "before"} <= set(
        params
    )
    with pytest.raises(ValueError):
        build_model(clf__C=1.0)  # not a parameter of the model: grid search would fail too


def test_feature_names_match_the_feature_matrix(mini_df):
    from rupture_nlp.features import turn_features
    from rupture_nlp.preprocess import TurnEncoder

    enc = TurnEncoder().fit_transform(mini_df)
    feats = turn_features().fit(enc)
    names = feats.get_feature_names_out()
    assert feats.transform(enc).shape == (len(mini_df), len(names))
    assert "cues__client_negation" in set(names) and "cues__turn-1_question" in set(names)


def test_a_block_weight_scales_only_its_block(mini_df):
    from rupture_nlp.features import turn_features
    from rupture_nlp.preprocess import TurnEncoder

    enc = TurnEncoder().fit_transform(mini_df)
    base = turn_features().fit(enc)
    names = base.get_feature_names_out()
    heavy = clone(base).set_params(chars__weight=1.2).fit(enc)
    a, b = base.transform(enc).toarray(), heavy.transform(enc).toarray()
    chars = np.array([n.startswith("chars__") for n in names])
    assert np.allclose(b[:, chars], a[:, chars] * 2) and np.allclose(b[:, ~chars], a[:, ~chars])


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
    model = load_model(mini_model)
    meta = model.metadata_
    assert meta["seed"] == 0 and meta["n_turns"] == len(mini_df)
    assert set(meta["versions"]) >= {"python", "spacy", "scikit-learn", "rupture-nlp"}
    assert meta["label_counts"]["none"] == int((mini_df["label"] == "none").sum())
    assert len(meta["data_sha256"]) == 64 and meta["parameters"]["cv"] == 3
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
    from rupture_nlp.features import CharNgrams
    from rupture_nlp.preprocess import TurnEncoder

    enc = TurnEncoder().fit_transform(mini_df)
    feats = CharNgrams(n_features=2**18).fit(enc)
    wide = len(feats.idf_)
    feats.set_params(n_features=2**10, ngram_range=(2, 2)).fit(enc)
    fresh = CharNgrams(n_features=2**10, ngram_range=(2, 2)).fit(enc)
    assert len(feats.idf_) == len(fresh.idf_) < wide


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


def test_without_prior_power_or_threshold_the_most_probable_label_wins(mini_df):
    model = train(mini_df, prior_power=0.0, threshold=0.0)
    out = predict(model, mini_df.head(5))
    p = out[["p_withdrawal", "p_confrontation", "p_repair", "p_none"]].to_numpy()
    labels = np.array(["withdrawal", "confrontation", "repair", "none"])[p.argmax(axis=1)]
    assert out["predicted_label"].tolist() == labels.tolist()


def test_load_model_gives_what_predict_takes_and_predict_takes_a_path(mini_model, mini_df):
    model = load_model(mini_model)
    assert model.metadata_["sha256"] == json.loads(metadata_path(mini_model).read_text())["sha256"]
    direct = predict(model, mini_df.head(5))
    for given in (mini_model, str(mini_model), (model, model.metadata_)):
        assert predict(given, mini_df.head(5)).equals(direct)


def test_saving_a_loaded_model_writes_its_own_metadata_only(tmp_path, mini_model):
    import joblib

    model = load_model(mini_model)
    save_model(model, tmp_path / "again.joblib", {"note": "re-saved"})
    assert not hasattr(joblib.load(tmp_path / "again.joblib"), "metadata_")  # not pickled in
    assert load_model(tmp_path / "again.joblib").metadata_["note"] == "re-saved"
    assert model.metadata_["seed"] == 0  # the loaded model keeps its own


def test_the_default_model_is_built_once_into_the_user_cache(tmp_path, monkeypatch, mini_df):
    from rupture_nlp import corpus, modelio

    monkeypatch.delenv("RUPTURE_MODEL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(modelio, "_CHECKOUT", tmp_path / "no-checkout")
    monkeypatch.chdir(tmp_path)
    # the packaged corpus takes a minute to train on; the mini corpus stands in for it
    monkeypatch.setattr(corpus, "load_corpus", lambda path, split: mini_df)
    heard = []
    model = modelio.load_model(notice=heard.append)
    path = modelio.cached_model_path()
    assert path.is_file() and path.parent.parent == tmp_path / "cache" / "rupture-nlp"
    assert heard == [
        f"building the default model into {path} from the corpus that ships with rupture-nlp "
        "(once; about a minute on two cores)"
    ]
    assert model.metadata_["seed"] == 0 and model.metadata_["n_turns"] == len(mini_df)
    again = modelio.load_model(notice=heard.append)
    assert len(heard) == 1 and again.metadata_["sha256"] == model.metadata_["sha256"]


def test_the_cached_default_model_follows_the_packaged_corpus_and_defaults(tmp_path, monkeypatch):
    """A checkout updated between releases (new sessions, new default parameters) must not
    load the model the old corpus made: the cache folder changes with them."""
    from rupture_nlp import corpus, model, modelio

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    (data / "corpus.csv").write_text("session_id,turn,speaker,text,label\na,1,client,Hi.,none\n")
    (data / "splits.json").write_text('{"train": ["a"], "dev": [], "test": []}')
    monkeypatch.setattr(corpus, "corpus_dir", lambda path="data": data)
    first = modelio.cached_model_path()
    assert modelio.cached_model_path() == first
    (data / "corpus.csv").write_text("session_id,turn,speaker,text,label\na,1,client,Hi!,none\n")
    second = modelio.cached_model_path()
    assert second != first
    monkeypatch.setitem(model.DEFAULT_PARAMS, "threshold", 0.4)
    assert modelio.cached_model_path() not in (first, second)


def test_a_training_in_another_process_writes_the_identical_model_file(
    tmp_path, mini_csv, mini_model
):
    """What makes the cached default model the same file as 'make model': training is
    deterministic down to the bytes, whatever the process's hash seed, with or without CV, and
    with the first stages fitted in worker processes or not."""
    import subprocess
    import sys

    from rupture_nlp.modelio import file_sha256

    exe = str(Path(sys.executable).parent / "rupture")
    subprocess.run(
        [exe, "train", mini_csv, "-o", str(tmp_path / "again.joblib"), "--cv", "3", "--jobs", "2"],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONHASHSEED": "7"},
    )
    # mini_model: trained in this process, without cross-validation
    assert file_sha256(tmp_path / "again.joblib") == file_sha256(mini_model)


def test_the_model_file_does_not_depend_on_the_blas_threads(tmp_path, mini_csv):
    """Same data and seed, same model on a machine with any number of cores: a training with
    BLAS's own thread count (one per core) writes the file one with a single thread writes."""
    import subprocess
    import sys

    from rupture_nlp.modelio import file_sha256, read_metadata

    exe = str(Path(sys.executable).parent / "rupture")
    threads = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    unset = {k: v for k, v in os.environ.items() if k not in threads}
    for name, env in [("cores", unset), ("one", {**unset, **dict.fromkeys(threads, "1")})]:
        out = str(tmp_path / f"{name}.joblib")
        cmd = [exe, "train", mini_csv, "-o", out, "--cv", "3", "--jobs", "2"]
        subprocess.run(cmd, check=True, capture_output=True, env=env)
    assert file_sha256(tmp_path / "cores.joblib") == file_sha256(tmp_path / "one.joblib")
    cv = [read_metadata(tmp_path / f"{n}.joblib")["cv_metrics"] for n in ("cores", "one")]
    assert cv[0] == cv[1]


class _ThreadCountingLogisticRegression(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        from threadpoolctl import threadpool_info

        self.blas_threads_ = {
            i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"
        }
        return super().fit(X, y, sample_weight=sample_weight)


def test_the_second_stage_is_fitted_with_one_blas_thread():
    """Its sums then do not depend on the cores (nor does it crawl when they are busy)."""
    from threadpoolctl import threadpool_limits

    df = _apology_sessions(12)
    stack = ContextStack(_text_only_first_stage(), _ThreadCountingLogisticRegression(), cv=3)
    with threadpool_limits(limits=2, user_api="blas"):
        stack.fit(df, df["label"])
    assert stack.second_.blas_threads_ == {1}


def test_uncoded_turns_are_context_not_training_rows(mini_df):
    from rupture_nlp.features import turn_features
    from rupture_nlp.preprocess import TurnEncoder

    partial = mini_df.assign(label=np.where(mini_df["turn"] % 4 == 0, "", mini_df["label"]))
    coded = partial[partial["label"] != ""]
    model = train(partial, allow_uncoded=True)
    assert list(model.classes_) == sorted(set(coded["label"]))
    expected_prior = coded["label"].value_counts(normalize=True).sort_index().to_numpy()
    assert np.allclose(model.class_prior_, expected_prior)
    # the feature blocks learned from every turn's text, the classifier from coded turns only
    every_turn = turn_features().fit(TurnEncoder().fit_transform(partial))
    assert len(model.first_["features"].get_feature_names_out()) == len(
        every_turn.get_feature_names_out()
    )
    assert predict(model, partial)["predicted_label"].isin(model.classes_).all()
    with pytest.raises(TranscriptError, match="1 turns have no label"):
        train(partial.iloc[:4].assign(label=["none", "", "none", "none"]))
    with pytest.raises(TranscriptError, match="no coded turns to train on"):
        train(partial.assign(label=""), allow_uncoded=True)


def test_threshold_and_prior_power_together_are_refused(mini_df):
    with pytest.raises(ValueError, match="prior_power needs threshold=0"):
        train(mini_df, prior_power=0.25)
    with pytest.raises(ValueError, match="between 0 and 1"):
        train(mini_df, threshold=1.5)
