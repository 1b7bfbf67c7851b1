"""Feature blocks of a turn and of its context, built from :class:`~rupture_nlp.preprocess.EncodedTurns`.

A marker is often only a marker in context: "Fine." after "what came up for you when I said
that?" is withdrawal, after "how old is he?" it is not. So each turn is described by small
blocks, each one transformer with its own ``weight`` (scikit-learn's text features compose the
same way), joined side by side by :class:`TurnFeatures`:

============  ==================================================================================
block         what it describes
============  ==================================================================================
words         the turn's own lemma unigrams and bigrams
role_words    lemma unigrams conjoined with the speaker's role ("sorry" from a therapist is not
              "sorry" from a client)
opening       the turn's first few words, conjoined with the role: how it answers the turn before
chars         character n-grams of the lemmas (robust to the spelling noise of recognisers and
              of typed chat)
prev_words    the words of the previous turn in the same session
next_words    the words of the next turn in the same session
cues          rupture cues of the turn (split by the speaker's role) and of its neighbours;
              role, speaker change and position in the session
============  ==================================================================================

All n-grams are hashed (no vocabulary to store, nothing to tokenise twice); ``fit`` keeps those
seen in at least ``min_df`` training turns and learns their IDF weights. The hash functions are
spaCy's and murmurhash, the same in every process, so predictions are reproducible.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse as sp
from murmurhash.mrmr import hash as murmur
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import FeatureUnion
from sklearn.utils.validation import check_is_fitted

from .cues import ANSWER_CUES, CUE_NAMES

__all__ = [
    "CharNgrams",
    "Cues",
    "NeighbourWords",
    "OpeningWords",
    "OwnWords",
    "RoleWords",
    "TurnFeatures",
    "turn_features",
]

_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)
_K3 = np.uint64(0x165667B19E3779F9)
_K4 = np.uint64(0x27D4EB2F165667C5)


def _counts(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    data = np.ones(len(rows), dtype=np.float32)
    m = sp.csr_matrix((data, (rows, cols)), shape=(n_rows, n_cols), dtype=np.float32)
    m.sum_duplicates()
    return m


def _neighbour_index(sessions: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row ``i``: the row ``i+step`` and whether it exists in the same session."""
    n = len(sessions)
    src = np.arange(n) + step
    ok = (src >= 0) & (src < n)
    ok[ok] = sessions[src[ok]] == sessions[np.flatnonzero(ok)]
    return src, ok


def shift_rows(values: np.ndarray, sessions: np.ndarray, step: int) -> np.ndarray:
    """Row ``i`` of the result is row ``i+step`` of a dense ``values`` within the session, else 0.

    >>> shift_rows(np.array([[1.0], [2.0], [3.0]]), np.array([0, 0, 1]), -1).ravel().tolist()
    [0.0, 1.0, 0.0]
    """
    src, ok = _neighbour_index(sessions, step)
    out = np.zeros_like(values)
    out[ok] = values[src[ok]]
    return out


def _neighbour_rows(m: sp.csr_matrix, sessions: np.ndarray, step: int) -> sp.csr_matrix:
    """Row ``i`` of the result is row ``i+step`` of a sparse ``m`` within the session, else empty.

    Row indexing keeps column indices sorted (a sparse product with a shift matrix does not,
    and sorting them again costs more than the product).
    """
    src, ok = _neighbour_index(sessions, step)
    picked = m[np.where(ok, src, 0)]
    lengths = np.diff(picked.indptr) * ok
    keep = np.repeat(ok, np.diff(picked.indptr))
    indptr = np.zeros(len(sessions) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return sp.csr_matrix((picked.data[keep], picked.indices[keep], indptr), shape=m.shape)


def _memo(enc, key, compute):
    """Work that several blocks need from the same turns (word hashing) is done once per pass."""
    memo = enc.memo
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _word_entries(enc, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """(turn, hashed column) of every lemma unigram and bigram."""
    doc = np.repeat(np.arange(len(enc)), np.diff(enc.offsets))
    return _ngram_entries(enc.lemmas, doc, n_features)


def _ngram_entries(lemmas: np.ndarray, doc: np.ndarray, n_features: int):
    """(turn, hashed column) of every unigram in token order, then of every bigram in order."""
    size = np.uint64(n_features)
    lem = lemmas.astype(np.uint64)
    same = doc[1:] == doc[:-1]
    bi = ((lem[:-1] * _K1) ^ (lem[1:] * _K2))[same] % size
    rows = np.concatenate([doc, doc[:-1][same]])
    return rows, np.concatenate([lem % size, bi]).astype(np.int64)


def _role_word_entries(enc, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """(turn, hashed column) of every lemma unigram conjoined with its speaker's role."""
    doc = np.repeat(np.arange(len(enc)), np.diff(enc.offsets))
    return doc, _role_columns(enc.lemmas, enc.roles[doc], n_features)


def _role_columns(
    values: np.ndarray, roles: np.ndarray, n_features: int, key: np.uint64 = _K3
) -> np.ndarray:
    """Hashed columns of ``values`` (lemma hashes, or columns) conjoined with each one's role;
    each block that conjoins passes its own ``key``, so the blocks' columns do not coincide."""
    role = roles.astype(np.uint64) + np.uint64(1)
    return ((values.astype(np.uint64) * key + role) % np.uint64(n_features)).astype(np.int64)


def _turn_lemmas(enc, i: int) -> tuple[np.ndarray, list[str]]:
    """Lemma hashes of turn ``i`` and their texts."""
    lem = enc.lemmas[enc.offsets[i] : enc.offsets[i + 1]]
    return lem, [enc.strings.get(int(h), "") for h in lem.tolist()]


def _ngram_names(words: list[str]) -> list[str]:
    """Unigrams, then bigrams, in the order :func:`_ngram_entries` hashes them."""
    return words + [f"{a} {b}" for a, b in zip(words[:-1], words[1:], strict=True)]


def _kept(columns: np.ndarray, hashed, features, words) -> list[tuple[int, str, str]]:
    kept = columns[np.asarray(hashed, dtype=np.int64)].tolist()
    return [(k, f, w) for k, f, w in zip(kept, features, words, strict=True) if k >= 0]


def _frequent(counts: sp.csr_matrix, min_df: int) -> tuple[np.ndarray, np.ndarray]:
    """Map hashed columns seen in at least ``min_df`` turns to 0..k-1 (others to -1), and their
    inverse document frequencies (smoothed, as scikit-learn's TF-IDF)."""
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    kept = np.flatnonzero(df >= min_df)
    columns = np.full(counts.shape[1], -1, dtype=np.int64)
    columns[kept] = np.arange(len(kept))
    idf = np.log((1 + counts.shape[0]) / (1 + df[kept])) + 1
    return columns, idf.astype(np.float32)


def _kept_counts(counts: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    """The kept columns of hashed counts (``columns`` maps hashed to kept, -1 for dropped): the
    matrix that counting only the kept columns gives. ``columns`` keeps the hashed order, so
    sorted rows stay sorted."""
    cols = columns[counts.indices]
    keep = cols >= 0
    indptr = np.r_[0, np.cumsum(keep)][counts.indptr]
    width = int((columns >= 0).sum())
    return sp.csr_matrix((counts.data[keep], cols[keep], indptr), shape=(counts.shape[0], width))


def _tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear TF times IDF, rows scaled to unit length, all in float32 and in place."""
    m = counts.astype(np.float32)
    if not m.nnz:
        return m
    m.data = (1 + np.log(m.data)) * idf[m.indices]
    sq = np.add.reduceat(m.data**2, m.indptr[:-1][np.diff(m.indptr) > 0])
    norms = np.ones(m.shape[0], np.float32)
    norms[np.diff(m.indptr) > 0] = np.sqrt(sq)
    m.data /= np.repeat(norms, np.diff(m.indptr))
    return m


def _scaled(m: sp.csr_matrix, factor: float) -> sp.csr_matrix:
    """``m`` times ``factor``, a new matrix sharing ``m``'s index arrays (``m`` may be memoized)."""
    if factor == 1:
        return m
    return sp.csr_matrix((m.data * np.float32(factor), m.indices, m.indptr), shape=m.shape)


@functools.lru_cache(maxsize=8192)
def _char_grams(text: str, lo: int, hi: int, n_features: int) -> dict[str, int]:
    padded = f" {text} "
    grams = {padded[i : i + k] for k in range(lo, hi + 1) for i in range(len(padded) - k + 1)}
    return {g: (murmur(g) & 0x7FFFFFFF) % n_features for g in grams}


@functools.lru_cache(maxsize=2**16)
def _lemma_columns(text: str, lo: int, hi: int, n_features: int) -> np.ndarray:
    """The sorted hashed columns of one lemma's character n-grams (shared: read-only).

    Cached across blocks, so that the folds of a cross-validation (each a fresh clone of the
    block) hash a lemma once; large enough for a corpus's vocabulary, whose lemmas a pass visits
    in turn (a cache smaller than that would keep none of them).
    """
    ids = np.array(sorted(_char_grams(text, lo, hi, n_features).values()), dtype=np.int64)
    ids.flags.writeable = False
    return ids


class _HashedBlock(TransformerMixin, BaseEstimator):
    """What every hashed n-gram block shares: keep frequent columns, TF-IDF, scale by ``weight``.

    A block says how to hash turns into ``(turn, column)`` entries (``_entries``), or how to
    count them directly (``_hashed``); everything else is here. Attributes learned by ``fit``:
    ``columns_`` (hashed column -> kept column, -1 for dropped) and ``idf_`` (one weight per
    kept column).
    """

    prefix = "h"

    def __init__(self, n_features=2**17, min_df=2, weight=1.0):
        self.n_features = n_features
        self.min_df = min_df
        self.weight = weight

    def _entries(self, enc):
        raise NotImplementedError

    def _hashed(self, enc, columns: np.ndarray | None = None) -> sp.csr_matrix:
        rows, cols = self._entries(enc)
        if columns is None:
            return _counts(rows, cols, len(enc), self.n_features)
        cols = columns[cols]
        keep = cols >= 0
        return _counts(rows[keep], cols[keep], len(enc), int((columns >= 0).sum()))

    def _hash_key(self) -> tuple:
        """What the hashed counts depend on besides the turns: blocks that agree share them."""
        return (type(self).__name__, self.n_features)

    def fit(self, X, y=None):
        # kept for the transform that follows in fit_transform, which takes the frequent
        # columns out of them instead of hashing the same turns again
        counts = _memo(X, ("counts", *self._hash_key()), lambda: self._hashed(X))
        self.columns_, self.idf_ = _frequent(counts, self.min_df)
        return self

    def _tfidf_rows(self, X) -> sp.csr_matrix:
        check_is_fitted(self, "columns_")
        counts = X.memo.get(("counts", *self._hash_key()))
        if counts is None:
            counts = self._hashed(X, self.columns_)
        else:
            counts = _kept_counts(counts, self.columns_)
        return _tfidf(counts, self.idf_)

    def transform(self, X) -> sp.csr_matrix:
        return _scaled(self._tfidf_rows(X), self.weight)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Kept hashed columns, named by their hash bucket (``w123``: words bucket 123)."""
        check_is_fitted(self, "columns_")
        return np.array([f"{self.prefix}{h}" for h in np.flatnonzero(self.columns_ >= 0)], object)


class OwnWords(_HashedBlock):
    """The turn's own lemma unigrams and bigrams, TF-IDF weighted, rows of unit length.

    Parameters
    ----------
    n_features : int
        Hash space.
    min_df : int
        Keep only n-grams seen in at least this many training turns: rarer ones cannot
        generalise, and dropping them keeps the model small and quick to fit.
    weight : float
        Scale of the block against the others.
    """

    prefix = "w"

    def _entries(self, enc):
        return _memo(enc, ("words", self.n_features), lambda: _word_entries(enc, self.n_features))

    def _hash_key(self) -> tuple:
        return ("words", self.n_features)  # the neighbour blocks hash the same words

    def turn_ngrams(self, enc, i: int) -> list[tuple[int, str, str]]:
        """``(column, n-gram, n-gram)`` for every n-gram of turn ``i`` whose column was kept.

        The reverse of the hashing, for one turn: which of the turn's own n-grams made each of
        its non-zero columns (two may share one). :mod:`rupture_nlp.explain` names features so.
        """
        check_is_fitted(self, "columns_")
        lem, words = _turn_lemmas(enc, i)
        _, hashed = _ngram_entries(lem, np.zeros(len(lem), dtype=np.int64), self.n_features)
        grams = _ngram_names(words)
        return _kept(self.columns_, hashed, grams, grams)

    def _tfidf_rows(self, X) -> sp.csr_matrix:
        # the own-word rows that the neighbour blocks shift are the same rows: one per pass
        check_is_fitted(self, "columns_")
        key = ("words_tfidf", self.n_features, self.columns_.tobytes(), self.idf_.tobytes())
        return _memo(X, key, lambda: super(OwnWords, self)._tfidf_rows(X))


class RoleWords(_HashedBlock):
    """Lemma unigrams conjoined with the speaker's role (therapist or client).

    Parameters are those of :class:`OwnWords`.
    """

    prefix = "r"

    def _entries(self, enc):
        return _role_word_entries(enc, self.n_features)

    def turn_ngrams(self, enc, i: int) -> list[tuple[int, str, str]]:
        """``(column, lemma, lemma)`` for every word of turn ``i`` (see :meth:`OwnWords.turn_ngrams`)."""
        check_is_fitted(self, "columns_")
        lem, words = _turn_lemmas(enc, i)
        hashed = _role_columns(lem, np.full(len(lem), enc.roles[i]), self.n_features)
        return _kept(self.columns_, hashed, words, words)


def _opening_columns(lemmas, offsets, roles, n_tokens: int, n_features: int):
    """(turn, hashed column) of the unigrams and bigrams among each turn's first ``n_tokens``
    tokens, conjoined with the speaker's role."""
    lengths = np.diff(offsets)
    doc = np.repeat(np.arange(len(lengths)), lengths)
    keep = np.arange(len(doc)) - np.repeat(offsets[:-1], lengths) < n_tokens
    rows, cols = _ngram_entries(lemmas[keep], doc[keep], n_features)
    return rows, _role_columns(cols, roles[rows], n_features, _K4)


class OpeningWords(_HashedBlock):
    """The first few words of the turn, conjoined with the speaker's role.

    How a turn opens is how it answers the turn before: "no," "yeah but", "that's okay",
    "you're right", "sorry". In a long turn the opening is the part that responds; its other
    words are about something else and would drown it among the turn's own words.

    Parameters
    ----------
    n_tokens : int
        How many tokens count as the opening.
    n_features, min_df, weight
        As :class:`OwnWords`.
    """

    prefix = "o"

    def __init__(self, n_tokens=4, n_features=2**17, min_df=2, weight=0.5):
        self.n_tokens = n_tokens
        super().__init__(n_features=n_features, min_df=min_df, weight=weight)

    def _entries(self, enc):
        return _opening_columns(enc.lemmas, enc.offsets, enc.roles, self.n_tokens, self.n_features)

    def _hash_key(self) -> tuple:
        return ("opening", self.n_features, self.n_tokens)

    def turn_ngrams(self, enc, i: int) -> list[tuple[int, str, str]]:
        """``(column, n-gram, n-gram)`` for the opening n-grams of turn ``i``."""
        check_is_fitted(self, "columns_")
        lem, words = _turn_lemmas(enc, i)
        lem, words = lem[: self.n_tokens], words[: self.n_tokens]
        offsets = np.array([0, len(lem)], dtype=np.int64)
        _, hashed = _opening_columns(
            lem, offsets, np.full(1, enc.roles[i]), self.n_tokens, self.n_features
        )
        grams = _ngram_names(words)
        return _kept(self.columns_, hashed, grams, grams)


class NeighbourWords(OwnWords):
    """The words (as :class:`OwnWords`) of the turn ``step`` places away in the same session.

    A minimal answer reads differently after an open invitation than after a closed question;
    a reflection reads differently after a complaint about the therapist. ``step=-1`` is the
    previous turn, ``step=1`` the next; turns at a session's edge get an empty row.

    Parameters
    ----------
    step : int
        Which neighbour.
    n_features, min_df, weight
        As :class:`OwnWords`.
    """

    def __init__(self, step=-1, n_features=2**17, min_df=2, weight=0.5):
        self.step = step
        super().__init__(n_features=n_features, min_df=min_df, weight=weight)

    @property
    def prefix(self):
        return f"n{self.step:+d}w"

    def transform(self, X) -> sp.csr_matrix:
        rows = _neighbour_rows(self._tfidf_rows(X), X.sessions, self.step)
        return _scaled(rows, self.weight)

    def turn_ngrams(self, enc, i: int) -> list[tuple[int, str, str]]:
        """The n-grams of the neighbour that fill turn ``i``'s row (none at a session's edge)."""
        src, ok = _neighbour_index(enc.sessions, self.step)
        return super().turn_ngrams(enc, int(src[i])) if ok[i] else []


class CharNgrams(_HashedBlock):
    """Character n-grams of the turn's lemmas, counted through each distinct lemma once.

    Parameters
    ----------
    ngram_range : tuple of int
        Lengths of the character n-grams (padded lemma, as ``" word "``).
    n_features, min_df, weight
        As :class:`OwnWords`.
    """

    prefix = "c"

    def __init__(self, ngram_range=(3, 5), n_features=2**17, min_df=2, weight=0.6):
        self.ngram_range = ngram_range
        self.n_features = n_features
        self.min_df = min_df
        self.weight = weight

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_cache", None)
        return state

    def _hash_key(self) -> tuple:
        return ("chars", self.n_features, tuple(self.ngram_range))

    def lemma_grams(self, text: str) -> dict[str, int]:
        """The distinct character n-grams of one lemma and the hashed column of each (shared:
        do not modify)."""
        lo, hi = self.ngram_range
        return _char_grams(text, lo, hi, self.n_features)

    def _lemma_columns(self, text: str) -> np.ndarray:
        lo, hi = self.ngram_range
        return _lemma_columns(text, lo, hi, self.n_features)

    def turn_ngrams(self, enc, i: int) -> list[tuple[int, str, str]]:
        """``(column, character n-gram, lemma it is in)`` for every lemma of turn ``i``."""
        check_is_fitted(self, "columns_")
        hashed, grams, words = [], [], []
        for word in _turn_lemmas(enc, i)[1]:
            table = self.lemma_grams(word)
            hashed += table.values()
            grams += table
            words += [word] * len(table)
        return _kept(self.columns_, hashed, grams, words)

    def _per_lemma(self, uniq: np.ndarray, strings: dict) -> list[np.ndarray]:
        # cached per lemma, for one setting of the hashing parameters
        key = (self.n_features, tuple(self.ngram_range))
        cache = self.__dict__.get("_cache")
        if cache is None or cache[0] != key:
            cache = self._cache = (key, {})
        out = []
        for h in uniq.tolist():
            ids = cache[1].get(h)
            if ids is None:
                ids = cache[1][h] = self._lemma_columns(strings.get(int(h), ""))
            out.append(ids)
        return out

    def _hashed(self, enc, columns=None) -> sp.csr_matrix:
        """Counts per turn as (turn x lemma counts) @ (lemma x n-gram counts)."""
        n = len(enc)
        width = self.n_features if columns is None else int((columns >= 0).sum())
        if self.ngram_range[1] <= 0 or not len(enc.lemmas) or not width:
            return sp.csr_matrix((n, width), dtype=np.float32)
        uniq, inverse = np.unique(enc.lemmas, return_inverse=True)
        per_word = self._per_lemma(uniq, enc.strings)
        lengths = np.fromiter((len(p) for p in per_word), np.int64, len(per_word))
        word_rows = np.repeat(np.arange(len(uniq)), lengths)
        grams = np.concatenate(per_word)
        if columns is not None:
            grams = columns[grams]
            word_rows, grams = word_rows[grams >= 0], grams[grams >= 0]
        word_grams = _counts(word_rows, grams, len(uniq), width)
        doc = np.repeat(np.arange(n), np.diff(enc.offsets))
        return (_counts(doc, inverse, n, len(uniq)) @ word_grams).tocsr()


class Cues(TransformerMixin, BaseEstimator):
    """Rupture cues (see :mod:`rupture_nlp.cues`) of the turn and its neighbours, and its place.

    Columns: the turn's cues if a therapist spoke it, the same if a client did; the cues of each
    of the ``before`` turns before it and the ``after`` turns after it; role, whether there is a
    previous turn, whether the speaker changed, and relative position (and its square).

    Parameters
    ----------
    before, after : int
        How many neighbouring turns' cues to include.
    weight : float
        Scale of the block against the others.
    """

    def __init__(self, before=2, after=1, weight=0.5):
        self.before = before
        self.after = after
        self.weight = weight

    def fit(self, X, y=None):
        self.n_features_out_ = len(self.get_feature_names_out())
        return self

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        names = [f"therapist_{c}" for c in CUE_NAMES] + [f"client_{c}" for c in CUE_NAMES]
        for step in [*range(-1, -self.before - 1, -1), *range(1, self.after + 1)]:
            names += [f"turn{step:+d}_{c}" for c in CUE_NAMES]
        names += ["client", "has_previous", "speaker_changed", "position", "position_squared"]
        names += [f"client_{c}" for c in ANSWER_CUES]
        return np.array(names, dtype=object)

    def transform(self, X) -> sp.csr_matrix:
        check_is_fitted(self, "n_features_out_")
        cues, roles = X.cues, X.roles.astype(np.float32)[:, None]
        steps = [*range(-1, -self.before - 1, -1), *range(1, self.after + 1)]
        _, has_prev = _neighbour_index(X.sessions, -1)
        prev_role = shift_rows(roles, X.sessions, -1)[:, 0]
        changed = has_prev & (prev_role != roles[:, 0])
        prev = shift_rows(cues, X.sessions, -1)
        blocks = [
            cues * (1 - roles),
            cues * roles,
            *(prev if s == -1 else shift_rows(cues, X.sessions, s) for s in steps),
            roles,
            has_prev[:, None],
            changed[:, None],
            X.position[:, None],
            X.position[:, None] ** 2,
            _answer_cues(cues, prev, changed) * roles,
        ]
        dense = np.hstack(blocks).astype(np.float32) * np.float32(self.weight)
        return sp.csr_matrix(dense)


_CUE_COLUMN = {name: k for k, name in enumerate(CUE_NAMES)}


def _answer_cues(cues: np.ndarray, prev: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """The :data:`~rupture_nlp.cues.ANSWER_CUES` columns: how a turn answers the question the
    other speaker just asked (all zero when the previous turn was not another speaker's question).
    ``prev`` holds each turn's previous turn's cues.
    """
    column = _CUE_COLUMN
    asked = changed & (prev[:, column["question"]] > 0)
    open_ = asked & (prev[:, column["invitation"]] > 0)
    closed = asked & ~open_
    minimal, short = cues[:, column["minimal"]] > 0, cues[:, column["short"]] > 0
    answers = [open_, closed, minimal & open_, minimal & closed, short & open_]
    return np.column_stack(answers).astype(np.float32)


class TurnFeatures(FeatureUnion):
    """The feature blocks side by side, as scikit-learn's ``FeatureUnion``, stacked faster.

    Parameters, fitted blocks and ``get_feature_names_out`` are ``FeatureUnion``'s (block
    parameters are reachable as ``features__chars__weight``). Only the joining differs:
    ``scipy.sparse.hstack`` spends a fifth of tagging time re-sorting; the blocks' rows are
    already sorted, so :func:`hstack_rows` scatters each block's entries straight into place.
    """

    def _hstack(self, Xs):
        return hstack_rows(list(Xs))


def turn_features() -> TurnFeatures:
    """The default feature blocks (the table in this module's docstring), with their defaults.

    >>> [name for name, _ in turn_features().transformer_list]
    ['words', 'role_words', 'opening', 'chars', 'prev_words', 'next_words', 'cues']
    """
    return TurnFeatures(
        [
            ("words", OwnWords()),
            ("role_words", RoleWords()),
            ("opening", OpeningWords()),
            ("chars", CharNgrams()),
            ("prev_words", NeighbourWords(step=-1)),
            ("next_words", NeighbourWords(step=1)),
            ("cues", Cues()),
        ]
    )


def hstack_rows(blocks: list[sp.csr_matrix]) -> sp.csr_matrix:
    """Put CSR blocks side by side, row by row, in float32."""
    blocks = [b.tocsr() for b in blocks]
    n = blocks[0].shape[0]
    lengths = [np.diff(b.indptr) for b in blocks]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sum(lengths), out=indptr[1:])
    data = np.empty(indptr[-1], dtype=np.float32)
    indices = np.empty(indptr[-1], dtype=np.int32)
    row_start, offset = indptr[:-1].copy(), 0
    for block, length in zip(blocks, lengths, strict=True):
        if block.nnz:
            block.sort_indices()
            dest = np.repeat(row_start - block.indptr[:-1], length) + np.arange(block.nnz)
            data[dest] = block.data
            indices[dest] = block.indices + offset
        row_start += length
        offset += block.shape[1]
    return sp.csr_matrix((data, indices, indptr), shape=(n, offset))
