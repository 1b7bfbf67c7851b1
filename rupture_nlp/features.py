"""Features of a turn and of its context, built from :class:`~rupture_nlp.preprocess.EncodedTurns`.

A marker is often only a marker in context: "Fine." after "what came up for you when I said
that?" is withdrawal, after "how old is he?" it is not. So each turn is described by

- its own lemma unigrams and bigrams, lemma unigrams conjoined with the speaker's role
  ("sorry" from a therapist is not "sorry" from a client), and character n-grams of its lemmas
  (robust to the spelling noise of automatic transcripts);
- the words of the previous and the next turn in the same session;
- its rupture cues, the cues of the two turns before and the one after, split by role;
- its role, whether the speaker changed, and its relative position in the session.

All n-grams are hashed (no vocabulary to store, nothing to tokenise twice); ``fit`` keeps those
seen in at least ``min_df`` training turns and learns their IDF weights. The hash functions
are spaCy's and murmurhash, which are the same in
every process, so predictions are reproducible.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from murmurhash.mrmr import hash as murmur
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["ContextFeatures"]

_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)
_K3 = np.uint64(0x165667B19E3779F9)


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


def _shift(sessions: np.ndarray, step: int) -> sp.csr_matrix:
    """Sparse matrix that moves row ``i+step`` into row ``i`` within the same session."""
    src, ok = _neighbour_index(sessions, step)
    rows = np.flatnonzero(ok)
    n = len(sessions)
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, src[ok])), shape=(n, n))


def _neighbour_rows(m: sp.csr_matrix, sessions: np.ndarray, step: int) -> sp.csr_matrix:
    """Row ``i`` of the result is row ``i+step`` of ``m`` within the same session, else empty.

    The same as ``_shift(sessions, step) @ m``, by row indexing, which keeps column indices
    sorted (a sparse product does not, and sorting them again costs more than the product).
    """
    src, ok = _neighbour_index(sessions, step)
    picked = m[np.where(ok, src, 0)]
    lengths = np.diff(picked.indptr) * ok
    keep = np.repeat(ok, np.diff(picked.indptr))
    indptr = np.zeros(len(sessions) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return sp.csr_matrix((picked.data[keep], picked.indices[keep], indptr), shape=m.shape)


class ContextFeatures(TransformerMixin, BaseEstimator):
    """Hashed n-gram, cue and context features for each turn.

    Parameters
    ----------
    n_features : int
        Hash space of each n-gram block (words, characters).
    char_ngrams : tuple of int
        Range of character n-gram lengths over lemmas, or ``(0, 0)`` for none.
    min_df : int
        Keep only hashed n-grams seen in at least this many training turns: rarer ones cannot
        generalise, and dropping them makes the model small and quick to fit.
    char_weight, context_weight, cue_weight : float
        Scale of the character block, of the neighbouring turns' words, and of the cue block,
        relative to the turn's own words (whose TF-IDF rows have unit length).
    """

    def __init__(
        self,
        n_features=2**18,
        char_ngrams=(3, 5),
        min_df=2,
        char_weight=0.6,
        context_weight=0.5,
        cue_weight=0.5,
    ):
        self.n_features = n_features
        self.min_df = min_df
        self.char_ngrams = char_ngrams
        self.char_weight = char_weight
        self.context_weight = context_weight
        self.cue_weight = cue_weight

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_char_cache", None)
        state.pop("_char_cache_key", None)
        return state

    # -- n-gram blocks --------------------------------------------------------------------------

    def _word_entries(self, enc) -> tuple[np.ndarray, np.ndarray]:
        """(turn, hashed column) of every word unigram, role-conjoined unigram and bigram."""
        n, size = len(enc), np.uint64(self.n_features)
        doc = np.repeat(np.arange(n), np.diff(enc.offsets))
        lem = enc.lemmas.astype(np.uint64)
        uni = lem % size
        conj = (lem * _K3 + enc.roles[doc].astype(np.uint64) + np.uint64(1)) % size
        same = doc[1:] == doc[:-1]
        bi = ((lem[:-1] * _K1) ^ (lem[1:] * _K2))[same] % size
        rows = np.concatenate([doc, doc, doc[:-1][same]])
        return rows, np.concatenate([uni, conj, bi]).astype(np.int64)

    def _char_ids(self, lemma_id: int, text: str) -> np.ndarray:
        # cached per lemma; the cache belongs to one setting of the hashing parameters
        key = (self.n_features, tuple(self.char_ngrams))
        if self.__dict__.get("_char_cache_key") != key:
            self._char_cache, self._char_cache_key = {}, key
        cache = self._char_cache
        ids = cache.get(lemma_id)
        if ids is None:
            lo, hi = self.char_ngrams
            padded = f" {text} "
            grams = {
                padded[i : i + k] for k in range(lo, hi + 1) for i in range(len(padded) - k + 1)
            }
            ids = np.array(
                sorted((murmur(g) & 0x7FFFFFFF) % self.n_features for g in grams), dtype=np.int64
            )
            cache[lemma_id] = ids
        return ids

    def _char_counts(self, enc, columns: np.ndarray | None = None) -> sp.csr_matrix:
        """Character n-gram counts per turn, via the n-grams of each distinct lemma.

        ``columns`` maps hashed columns to kept ones (-1: dropped); without it, all columns.
        """
        n = len(enc)
        width = self.n_features if columns is None else int((columns >= 0).sum())
        if self.char_ngrams[1] <= 0 or not len(enc.lemmas) or not width:
            return sp.csr_matrix((n, width), dtype=np.float32)
        uniq, inverse = np.unique(enc.lemmas, return_inverse=True)
        per_word = [self._char_ids(int(h), enc.strings.get(int(h), "")) for h in uniq.tolist()]
        lengths = np.fromiter((len(p) for p in per_word), np.int64, len(per_word))
        word_rows = np.repeat(np.arange(len(uniq)), lengths)
        grams = np.concatenate(per_word)
        if columns is not None:
            grams = columns[grams]
            word_rows, grams = word_rows[grams >= 0], grams[grams >= 0]
        word_grams = _counts(word_rows, grams, len(uniq), width)
        doc = np.repeat(np.arange(n), np.diff(enc.offsets))
        return (_counts(doc, inverse, n, len(uniq)) @ word_grams).tocsr()

    def _word_counts(self, enc, columns: np.ndarray | None = None) -> sp.csr_matrix:
        rows, cols = self._word_entries(enc)
        if columns is None:
            return _counts(rows, cols, len(enc), self.n_features)
        cols = columns[cols]
        keep = cols >= 0
        return _counts(rows[keep], cols[keep], len(enc), int((columns >= 0).sum()))

    # -- dense block -----------------------------------------------------------------------------

    def _dense(self, enc) -> np.ndarray:
        cues, roles = enc.cues, enc.roles.astype(np.float32)[:, None]
        prev1, prev2, nxt = (
            _shift(enc.sessions, -1),
            _shift(enc.sessions, -2),
            _shift(enc.sessions, 1),
        )
        has_prev = np.asarray(prev1.sum(axis=1)).ravel().astype(np.float32)
        prev_role = prev1 @ enc.roles.astype(np.float32)
        changed = has_prev * (prev_role != enc.roles)
        blocks = [
            cues * roles,
            cues * (1 - roles),
            prev1 @ cues,
            prev2 @ cues,
            nxt @ cues,
            roles,
            has_prev[:, None],
            changed[:, None].astype(np.float32),
            enc.position[:, None],
            (enc.position[:, None] ** 2),
        ]
        return np.hstack(blocks).astype(np.float32)

    # -- estimator API ---------------------------------------------------------------------------

    def _frequent(self, counts: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """Map hashed columns seen in at least ``min_df`` turns to 0..k-1 (others to -1), and
        their inverse document frequencies (smoothed, as scikit-learn's TF-IDF)."""
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        kept = np.flatnonzero(df >= self.min_df)
        columns = np.full(counts.shape[1], -1, dtype=np.int64)
        columns[kept] = np.arange(len(kept))
        idf = np.log((1 + counts.shape[0]) / (1 + df[kept])) + 1
        return columns, idf.astype(np.float32)

    def fit(self, X, y=None):
        self.word_columns_, self.word_idf_ = self._frequent(self._word_counts(X))
        self.char_columns_, self.char_idf_ = self._frequent(self._char_counts(X))
        n_words, n_chars = len(self.word_idf_), len(self.char_idf_)
        self.n_features_out_ = 3 * n_words + n_chars + self._dense(X).shape[1]
        return self

    def transform(self, X) -> sp.csr_matrix:
        check_is_fitted(self, "word_columns_")
        words = _tfidf(self._word_counts(X, self.word_columns_), self.word_idf_)
        chars = _tfidf(self._char_counts(X, self.char_columns_), self.char_idf_)
        w = self.context_weight
        blocks = [
            words,
            _scaled(chars, self.char_weight),
            _scaled(_neighbour_rows(words, X.sessions, -1), w),
            _scaled(_neighbour_rows(words, X.sessions, 1), w),
            sp.csr_matrix(self._dense(X) * self.cue_weight),
        ]
        return _hstack_rows(blocks)


def _hstack_rows(blocks: list[sp.csr_matrix]) -> sp.csr_matrix:
    """Put CSR blocks side by side, row by row, in float32.

    ``scipy.sparse.hstack`` spends a fifth of tagging time here; the blocks' rows are already
    sorted, so each block's entries can be scattered straight to their places in the result.
    """
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
    m = m.astype(np.float32, copy=True)
    m.data *= np.float32(factor)
    return m
