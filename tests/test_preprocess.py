from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from rupture_nlp.cues import CUE_NAMES
from rupture_nlp.features import NeighbourWords, turn_features
from rupture_nlp.preprocess import TurnEncoder, build_nlp


def turns(*texts, speakers=None):
    speakers = speakers or ["therapist", "client"] * len(texts)
    return pd.DataFrame(
        {
            "session_id": "s",
            "turn": range(1, len(texts) + 1),
            "speaker": speakers[: len(texts)],
            "text": list(texts),
        }
    )


def cue(enc, i, name):
    return float(enc.cues[i, CUE_NAMES.index(name)])


def test_default_pipeline_is_offline_blank_english_with_lemmas():
    nlp = build_nlp()
    assert nlp.pipe_names == ["sentencizer", "lemmatizer"]
    assert [t.lemma_ for t in nlp("the sessions went badly")][:3] == ["the", "session", "go"]


def test_lemmas_are_case_normalised_before_lookup():
    enc = TurnEncoder().fit_transform(turns("You WENT. Sorry!", "you went. sorry!"))
    first = enc.lemmas[enc.offsets[0] : enc.offsets[1]]
    second = enc.lemmas[enc.offsets[1] : enc.offsets[2]]
    assert first.tolist() == second.tolist()
    assert enc.strings[int(first[1])] == "go"


def test_cues_count_what_coders_look_at():
    enc = TurnEncoder().fit_transform(
        turns(
            "Fine.",
            "No, I don't think you listen. You never do!",
            "(laughs) yeah, whatever you think... [pause]",
            "I'm sorry, I think we got off track there?",
        )
    )
    assert cue(enc, 0, "minimal") == 1 and cue(enc, 0, "agreement") > 0
    # presence, not counts: three negations and two "you" count as one each
    assert cue(enc, 1, "negation") == 1 and cue(enc, 1, "second_person") == 1
    assert cue(enc, 1, "exclamation") > 0 and cue(enc, 1, "minimal") == 0
    # nine alphabetic words: the 4-12 band; a minimal turn is not also short
    assert cue(enc, 1, "short") == 1 and cue(enc, 0, "short") == 0
    assert cue(enc, 3, "we") == 1 and cue(enc, 2, "first_person") == 0
    assert cue(enc, 2, "laughter") > 0 and cue(enc, 2, "pause") > 0 and cue(enc, 2, "hedge") > 0
    assert cue(enc, 3, "apology") > 0 and cue(enc, 3, "we") > 0 and cue(enc, 3, "question") > 0


def test_empty_and_odd_texts_do_not_break_the_encoder():
    enc = TurnEncoder().fit_transform(turns("", "   ", "…", "mm-hmm"))
    assert len(enc) == 4 and enc.cues.shape == (4, len(CUE_NAMES))
    assert cue(enc, 3, "backchannel") > 0


def test_encoder_clones_pickles_and_keeps_params():
    enc = TurnEncoder(batch_size=64)
    assert clone(enc).get_params() == {"batch_size": 64, "n_process": 1, "spacy_model": None}
    enc.fit_transform(turns("Hello."))
    restored = pickle.loads(pickle.dumps(enc))
    assert "_nlp" not in restored.__dict__
    a = restored.transform(turns("Whatever you think."))
    b = enc.transform(turns("Whatever you think."))
    assert a.lemmas.tolist() == b.lemmas.tolist()


def test_context_features_see_the_previous_turn():
    """The same 'Fine.' gets different features after an interpretation and after a question."""
    df = pd.DataFrame(
        {
            "session_id": ["a", "a", "b", "b"],
            "turn": [1, 2, 1, 2],
            "speaker": ["therapist", "client"] * 2,
            "text": [
                "What came up for you when I said that about your father?",
                "Fine.",
                "How old is he?",
                "Fine.",
            ],
        }
    )
    enc = TurnEncoder().fit_transform(df)
    feats = turn_features().set_params(words__min_df=1, prev_words__min_df=1).fit(enc)
    X = feats.transform(enc).toarray()
    assert X.shape == (4, len(feats.get_feature_names_out()))
    assert not np.allclose(X[1], X[3])
    # the previous-turn block of a session's first turn is empty: context stops at sessions
    prev = NeighbourWords(step=-1, min_df=1).fit(enc).transform(enc).toarray()
    assert not prev[2].any() and prev[3].any() and not np.allclose(prev[1], prev[3])


def test_row_wise_hstack_equals_scipy_hstack():
    import scipy.sparse as sp

    from rupture_nlp.features import hstack_rows

    blocks = [
        sp.random(40, k, density=d, format="csr", random_state=k, dtype=np.float32)
        for k, d in ((5, 0.3), (300, 0.02), (1, 0.5), (7, 0.0))
    ]
    blocks.append(sp.csr_matrix(np.arange(80, dtype=np.float32).reshape(40, 2)))
    assert np.array_equal(hstack_rows(blocks).toarray(), sp.hstack(blocks).toarray())


def test_neighbour_rows_never_cross_a_session():
    """Against a plain loop: row i gets row i+step if both are in one session, else nothing."""
    import scipy.sparse as sp

    from rupture_nlp.features import _neighbour_rows, shift_rows

    m = sp.random(30, 12, density=0.3, format="csr", random_state=1, dtype=np.float32)
    dense = m.toarray()
    sessions = np.repeat([0, 1, 2, 3], [1, 9, 15, 5])
    for step in (-2, -1, 1, 2):
        expected = np.zeros_like(dense)
        for i in range(30):
            j = i + step
            if 0 <= j < 30 and sessions[j] == sessions[i]:
                expected[i] = dense[j]
        assert np.array_equal(_neighbour_rows(m, sessions, step).toarray(), expected)
        assert np.array_equal(shift_rows(dense, sessions, step), expected)


def _answer(enc, i, name):
    from rupture_nlp.features import Cues

    block = Cues().fit(enc)
    names = block.get_feature_names_out().tolist()
    return float(block.transform(enc).toarray()[i, names.index(f"client_{name}")]) / block.weight


def test_answer_cues_tell_an_open_question_from_a_closed_one():
    enc = TurnEncoder().fit_transform(
        turns(
            "What came up for you when I said that?",
            "Fine.",
            "Do you still drive to work?",
            "Yes.",
            "Right, so you drive in on the ring road, I'd guess, most days of the week.",
            "Yeah, most days, except Fridays when my sister takes me in.",
        )
    )
    assert _answer(enc, 1, "minimal_after_open_question") == 1
    assert _answer(enc, 1, "minimal_after_closed_question") == 0
    assert _answer(enc, 3, "minimal_after_closed_question") == 1
    assert _answer(enc, 3, "after_open_question") == 0
    # a statement before: no answer cue at all, however the client replies
    assert not any(
        _answer(enc, 5, name) for name in ("after_open_question", "after_closed_question")
    )
    # the therapist's turns never get them, nor does a session's first turn
    assert not any(_answer(enc, i, "after_closed_question") for i in (0, 2, 4))


def test_answer_cues_need_the_other_speaker_to_have_asked():
    df = turns("Is that okay?", "Fine.", speakers=["client", "client"])
    enc = TurnEncoder().fit_transform(df)
    assert _answer(enc, 1, "minimal_after_closed_question") == 0


def test_opening_words_see_only_the_start_of_a_turn_and_who_said_it():
    from rupture_nlp.features import OpeningWords

    df = turns(
        "Sorry, I think I pushed too hard there.",
        "Sorry, I think I pushed too hard there.",
        "Okay so the bus was late again and I was sorry about it.",
        speakers=["therapist", "client", "client"],
    )
    enc = TurnEncoder().fit_transform(df)
    block = OpeningWords(n_tokens=3, min_df=1).fit(enc)
    X = block.transform(enc).toarray()
    # the same words open both turns, but a therapist's "sorry" is not a client's
    assert not (X[0].astype(bool) & X[1].astype(bool)).any()
    # "sorry" late in a turn is not its opening
    assert "sorry" not in [gram for _, gram, _ in block.turn_ngrams(enc, 2)]
    assert [gram for _, gram, _ in block.turn_ngrams(enc, 1)] == [
        "sorry",
        ",",
        "i",
        "sorry ,",
        ", i",
    ]
    # the names explain gives are the columns the turn really has
    for i in range(3):
        named = sorted({column for column, _, _ in block.turn_ngrams(enc, i)})
        assert named == np.flatnonzero(X[i]).tolist()


def test_the_tokenizer_called_directly_gives_what_the_pipe_gave(monkeypatch):
    from rupture_nlp.datasets import load_fixture

    df = load_fixture()
    direct = TurnEncoder().fit(df).transform(df)

    def through_pipe(nlp, texts):
        return nlp.pipe(texts, batch_size=1000, disable=list(nlp.pipe_names))

    monkeypatch.setattr(TurnEncoder, "_tokenize", staticmethod(through_pipe))
    piped = TurnEncoder().fit(df).transform(df)
    for name in ("lemmas", "offsets", "cues", "roles", "sessions", "position"):
        np.testing.assert_array_equal(getattr(direct, name), getattr(piped, name))
    assert direct.strings == piped.strings


def test_a_text_past_spacys_length_limit_is_refused_as_spacy_refuses_it():
    from rupture_nlp.preprocess import _shared_nlp

    nlp = _shared_nlp(None)
    long = pd.DataFrame(
        {"session_id": ["s"], "speaker": ["client"], "text": ["a" * (nlp.max_length + 1)]}
    )
    with pytest.raises(ValueError, match=r"\[E088\]"):
        TurnEncoder().fit(long).transform(long)


def _same_encoding(a, b):
    for name in ("lemmas", "offsets", "cues", "roles", "sessions", "position"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    assert a.strings == b.strings


def test_repeated_texts_are_tokenised_once_and_encoded_as_each_turn_alone(monkeypatch):
    """Backchannels repeat; each distinct text goes through the tokenizer once, and every turn's
    encoding is still the one its own text gives, whoever says it and wherever it is."""
    texts = ["Mm-hmm.", "So the diary, did it help?", "Mm-hmm.", "Yeah.", "", "Mm-hmm.", "Yeah."]
    df = turns(*texts)
    seen = []
    tokenize = TurnEncoder._tokenize

    def counting(nlp, batch):
        seen.extend(batch)
        return tokenize(nlp, batch)

    monkeypatch.setattr(TurnEncoder, "_tokenize", staticmethod(counting))
    enc = TurnEncoder().fit(df).transform(df)
    assert sorted(seen) == sorted(set(texts))
    monkeypatch.undo()
    alone = [TurnEncoder().fit(df.iloc[[i]]).transform(df.iloc[[i]]) for i in range(len(df))]
    assert np.array_equal(np.diff(enc.offsets), [len(a.lemmas) for a in alone])
    assert np.array_equal(enc.lemmas, np.concatenate([a.lemmas for a in alone]))
    assert np.array_equal(enc.cues, np.vstack([a.cues for a in alone]))
    assert np.array_equal(enc.roles, [0, 1, 0, 1, 0, 1, 0])


def test_rows_of_a_reused_encoding_are_what_encoding_them_afresh_gives(mini_df):
    """Cross-validation takes each fold's turns from one encoding of the table: it must be the
    encoding of the fold alone, down to session codes and positions (sessions out of order,
    and a session's turns split between two parts)."""
    from rupture_nlp.preprocess import reusing_encoding

    rows = np.r_[40:62, 0:9, 20:30]  # a later session first, a session cut at 9 turns
    part = mini_df.iloc[rows]
    fresh = TurnEncoder().fit_transform(part)
    with reusing_encoding(mini_df) as whole:
        assert len(whole) == len(mini_df)
        _same_encoding(TurnEncoder().fit_transform(part), fresh)
        # a table that is not rows of it (a text changed) is encoded afresh, not taken
        changed = part.assign(text=part["text"].where(part["turn"] != 3, "I'm done with this."))
        inside = TurnEncoder().transform(changed)
    _same_encoding(inside, TurnEncoder().transform(changed))
    assert not np.array_equal(inside.lemmas, fresh.lemmas)
    _same_encoding(whole.take(rows), fresh)


def test_a_reused_encoding_is_not_used_for_another_pipeline(mini_df, monkeypatch):
    from rupture_nlp import preprocess

    with preprocess.reusing_encoding(mini_df):
        assert preprocess._reused_rows(mini_df.head(5), None) is not None
        assert preprocess._reused_rows(mini_df.head(5), "blank:en") is not None
        assert preprocess._reused_rows(mini_df.head(5), "en_core_web_sm") is None
    assert preprocess._reused_rows(mini_df.head(5), None) is None


def test_features_of_one_pass_equal_features_counted_afresh(mini_df):
    """fit_transform takes a block's kept columns out of the counts its fit made; transform on
    a new encoding counts the kept columns only. Both give the same matrix, entry for entry."""
    fitted = turn_features()
    together = fitted.fit_transform(TurnEncoder().fit_transform(mini_df))
    apart = fitted.transform(TurnEncoder().fit_transform(mini_df))
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(together, name), getattr(apart, name)), name
    assert together.shape == apart.shape and together.nnz > 500


def test_opening_blocks_of_different_lengths_do_not_share_counts():
    from rupture_nlp.features import OpeningWords

    enc = TurnEncoder().fit_transform(turns("No, I don't think that's it at all.", "Okay."))
    short = OpeningWords(n_tokens=1, min_df=1).fit(enc)
    long = OpeningWords(n_tokens=5, min_df=1).fit(enc)  # same pass: the memo is shared
    assert long.transform(enc).nnz > short.transform(enc).nnz
