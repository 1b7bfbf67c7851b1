"""Explanations: exact contributions, readable reasons, the why column of rupture tag --explain."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from rupture_nlp.cli import cli
from rupture_nlp.errors import ModelError
from rupture_nlp.explain import (
    WHY_COLUMN,
    contributions,
    explain,
    format_why,
    parse_why,
    why,
)
from rupture_nlp.model import build_model, predict, train
from rupture_nlp.modelio import load_model
from rupture_nlp.readers import read_transcripts

DATA = Path(__file__).resolve().parent.parent / "data"
WORD_BLOCKS = {"words", "role_words", "chars", "prev_words", "next_words"}

#: A handcrafted exchange: homework not done, the therapist explains, the client confronts,
#: the therapist owns their part.
EXCHANGE = [
    (
        "therapist",
        "Last week we said you'd try the breathing exercise each morning. How did that go?",
    ),
    ("client", "I didn't do it. I don't see what breathing is supposed to fix."),
    ("therapist", "It can take the edge off the panic, so that we can --"),
    ("client", "You keep pushing me, this is pointless."),
    (
        "therapist",
        "You're right, I keep steering us back to the exercise instead of listening. "
        "What's it been like, coming here?",
    ),
    ("client", "Honestly? Like nobody gets it."),
]


@pytest.fixture(scope="module")
def model(mini_model):
    return load_model(mini_model)


@pytest.fixture(scope="module")
def corpus_model():
    """A model that has seen confrontations: three rupture-dense training sessions per writer
    of the corpus (1,418 turns), two folds for the context stage to keep the test quick."""
    sessions = pd.DataFrame(json.loads((DATA / "sessions.json").read_text(encoding="utf-8")))
    train_ids = json.loads((DATA / "splits.json").read_text(encoding="utf-8"))["train"]
    dense = sessions[(sessions["density"] == "dense") & sessions["session_id"].isin(train_ids)]
    picked = dense.sort_values("session_id").groupby("writer").head(3)["session_id"]
    corpus = read_transcripts([DATA / "corpus.csv"])
    return train(corpus[corpus["session_id"].isin(picked)], cv=2)


@functools.cache
def _nlp():
    from rupture_nlp.preprocess import build_nlp

    return build_nlp()


def exchange() -> pd.DataFrame:
    speakers, texts = zip(*EXCHANGE, strict=True)
    return pd.DataFrame({"session_id": "s1", "speaker": speakers, "text": texts})


def decision_margin(model, df, rows, labels, versus, prior_power=0.0):
    """``log(p_label / p_versus)`` of ``rows``, less the prior term, from the model's own
    probabilities."""
    proba = model.predict_proba(df)
    classes = list(model.classes_)
    k = np.array([classes.index(x) for x in labels])
    o = np.array([classes.index(x) for x in versus])
    rows = np.asarray(rows)
    log_prior = np.log(model.class_prior_)
    return (
        np.log(proba[rows, k])
        - np.log(proba[rows, o])
        - prior_power * (log_prior[k] - log_prior[o])
    )


def check_exact(model, df, rows, prior_power=0.0):
    terms = contributions(model, df, rows=rows)
    by_row = terms.groupby("row").agg(
        label=("label", "first"), versus=("versus", "first"), total=("contribution", "sum")
    )
    assert by_row.index.tolist() == sorted(rows)
    assert (by_row["label"].to_numpy() == model.predict(df)[by_row.index]).all()
    expected = decision_margin(
        model, df, by_row.index, by_row["label"], by_row["versus"], prior_power
    )
    np.testing.assert_allclose(by_row["total"], expected, atol=1e-6, rtol=0)
    return terms, by_row


def test_contributions_add_up_to_the_decision(model, mini_df):
    rows = np.random.default_rng(0).choice(len(mini_df), size=12, replace=False).tolist()
    terms, by_row = check_exact(model, mini_df, rows)
    # the decided label beats the runner-up, unless it is `none` for a marker under the threshold
    proba = model.predict_proba(mini_df)[by_row.index]
    under = (by_row["label"] == "none").to_numpy() & (
        proba.argmax(axis=1) != list(model.classes_).index("none")
    )
    assert (by_row["total"][~under] > 0).all() and (by_row["total"][under] < 0).all()
    # every stage and source is there: the turn's own score, neighbours' scores, both intercepts
    assert {-2, -1, 0, 1, 2} <= set(terms["offset"])
    assert {"words", "role_words", "chars", "prev_words", "next_words", "cues"} <= set(
        terms["block"]
    )
    assert set(terms.loc[terms["block"] == "intercept", "feature"]) == {
        "first stage",
        "second stage",
    }


def test_contributions_follow_a_prior_tempered_decision(mini_model, mini_df):
    model = load_model(mini_model).set_params(prior_power=0.5)
    tempered = np.flatnonzero(model.predict(mini_df) != load_model(mini_model).predict(mini_df))
    rows = sorted({0, 7, 20, *tempered[:4].tolist()})
    terms, _ = check_exact(model, mini_df, rows, prior_power=0.5)
    assert "label priors" in set(terms["feature"])


def test_a_chosen_label_is_explained_against_the_best_other(model, mini_df):
    terms = contributions(model, mini_df, rows=[0, 43], label="withdrawal")
    by_row = terms.groupby("row").agg(versus=("versus", "first"), total=("contribution", "sum"))
    assert (terms["label"] == "withdrawal").all()
    expected = decision_margin(model, mini_df, [0], ["withdrawal"], ["none"])
    assert by_row["versus"].tolist() == ["none", "confrontation"]
    assert by_row.loc[0, "total"] == pytest.approx(expected[0], abs=1e-6)
    assert by_row.loc[0, "total"] < 0  # the first turn is not withdrawal


def test_every_word_feature_is_named_by_the_turns_own_tokens(model, mini_df):
    terms = contributions(model, mini_df, rows=[3, 15, 43])
    words = terms[terms["block"].isin(WORD_BLOCKS)]
    assert len(words) > 100
    assert (words["word"] != "").all()
    for r in (3, 15, 43):  # the turn's own word features are the turn's own n-grams
        own = words[(words["row"] == r) & (words["offset"] == 0) & (words["block"] == "words")]
        assert set(own["word"]) <= _ngrams(mini_df["text"].iloc[r]), r
        assert len(own) >= 5
    chars = words[words["block"] == "chars"]
    assert all(f.strip() in f" {w} " for f, w in zip(chars["feature"], chars["word"], strict=True))


def _ngrams(text: str) -> set[str]:
    lemmas = [t.lemma_.lower() for t in _nlp()(text)]
    return set(lemmas) | {f"{a} {b}" for a, b in zip(lemmas, lemmas[1:], strict=False)}


def test_without_text_no_word_is_named(model, mini_df):
    terms = contributions(model, mini_df, rows=[43], text=False)
    words = terms[terms["block"].isin(WORD_BLOCKS)]
    assert (words["word"] == "").all()
    assert words["feature"].str.fullmatch(r"(w|r|c|n[+-]1w)\d+").all()
    reasons = explain(model, mini_df, rows=[43], top=None, text=False)
    assert not reasons["reason"].str.contains('"').any()
    assert "own words" in set(reasons["reason"])


def test_reasons_group_the_terms_and_add_up_to_the_margin(model, mini_df):
    everything = explain(model, mini_df, rows=[43], top=None)
    assert everything["contribution"].sum() == pytest.approx(everything["margin"].iloc[0], abs=1e-9)
    assert set(everything["kind"]) == {"words", "cue", "context", "turn", "baseline"}
    assert (everything["kind"] == "words").sum() == 1  # the turn's own words are one reason
    top = explain(model, mini_df, rows=[43])
    assert top["reason"].tolist() == everything["reason"].head(3).tolist()
    assert (top["contribution"] > 0).all() and "baseline" not in set(top["kind"])
    # a neighbour is described by who spoke it and how it reads, never by its text
    neighbour = everything.loc[everything["kind"] == "context", "reason"]
    assert neighbour.str.fullmatch(
        r"(previous|next) turn \((therapist|client), (no marker|reads as \w+)\)"
        r"|2 turns (before|after) \((therapist|client), (no marker|reads as \w+)\)"
    ).all()


def test_a_confrontation_turn_is_explained_by_its_complaint(corpus_model):
    turns = exchange()
    assert predict(corpus_model, turns)["predicted_label"].iloc[3] == "confrontation"
    reasons = parse_why(why(corpus_model, turns).iloc[3])
    assert len(reasons) == 3
    first, value = reasons[0]
    assert first.startswith("words ") and value > 0
    terms = contributions(corpus_model, turns, rows=[3])
    own = terms[(terms["offset"] == 0) & terms["block"].isin({"words", "role_words", "chars"})]
    per_word = own.groupby("word")["contribution"].sum()
    assert per_word["you keep"] > 0 and per_word["pointless"] > 0
    # without text: no word of the turn at all
    blind = why(corpus_model, turns, text=False).iloc[3]
    assert blind.startswith("own words +") and '"' not in blind
    assert not {"keep", "push", "pointless"} & set(re.findall(r"\w+", blind))


def test_why_is_empty_exactly_for_turns_labelled_none(model, mini_df):
    column = why(model, mini_df)
    labels = predict(model, mini_df)["predicted_label"]
    assert column.name == WHY_COLUMN and column.index.equals(mini_df.index)
    assert ((column == "") == (labels == "none")).all()
    assert (labels != "none").sum() == 23
    for r in np.flatnonzero(labels != "none")[:5]:
        top = explain(model, mini_df, rows=[r])
        assert parse_why(column.iloc[r]) == [
            (reason, round(value, 2))
            for reason, value in zip(top["reason"], top["contribution"], strict=True)
        ]


def test_why_strings_read_back():
    pairs = [('words "you never", "me"', 1.4213), ("previous turn: question", 0.899)]
    text = format_why(pairs)
    assert text == 'words "you never", "me" +1.42; previous turn: question +0.90'
    assert parse_why(text) == [('words "you never", "me"', 1.42), ("previous turn: question", 0.9)]
    assert parse_why("") == [] and parse_why(None) == [] and parse_why(float("nan")) == []


def test_explaining_needs_a_fitted_two_stage_model(model, mini_df):
    with pytest.raises(ModelError, match="fitted two-stage rupture model"):
        why(build_model(), mini_df)
    with pytest.raises(ModelError, match="no label 'anger'"):
        explain(model, mini_df.head(3), label="anger")


def test_an_empty_table_has_no_reasons(model, mini_df):
    empty = mini_df.head(0)
    assert list(explain(model, empty).columns)[:3] == ["row", "label", "versus"]
    assert contributions(model, empty).empty and why(model, empty).empty


def test_tag_explain_adds_the_why_column(tmp_path, mini_model, mini_csv, model, mini_df):
    out = tmp_path / "tagged.csv"
    result = CliRunner().invoke(
        cli,
        ["tag", mini_csv, "--model", str(mini_model), "--explain", "--chunk-turns", "20"]
        + ["-o", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    tagged = pd.read_csv(out, keep_default_na=False)
    assert tagged.columns[-1] == WHY_COLUMN
    plain = tmp_path / "plain.csv"
    CliRunner().invoke(cli, ["tag", mini_csv, "-m", str(mini_model), "-o", str(plain)])
    pd.testing.assert_frame_equal(
        tagged.drop(columns="why"), pd.read_csv(plain, keep_default_na=False)
    )
    assert ((tagged["why"] == "") == (tagged["predicted_label"] == "none")).all()
    # chunks of whole sessions: each session's turns see the same neighbours as in one piece
    assert tagged["why"].tolist() == why(model, mini_df).tolist()
