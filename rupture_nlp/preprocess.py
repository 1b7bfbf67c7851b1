"""spaCy preprocessing: turn transcript turns into token ids, lemmas and rupture cues.

The default pipeline is ``spacy.blank("en")`` with a sentencizer and a lookup lemmatizer whose
tables come from the ``spacy-lookups-data`` package, so it works offline with nothing
downloaded. ``spacy_model="en_core_web_sm"`` (or any installed pipeline) uses that instead.

Everything downstream is computed from the ``Doc`` arrays spaCy has already made (norm and
lemma hashes, alphabetic flags) with numpy, never by tokenising the text a second time: the
tokenizer is the floor any spaCy tagger pays, and the rest should cost little above it. For the
default pipeline the lookup lemmatizer's own table is applied once per distinct word rather
than once per token, which gives the same lemmas as running the component.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from .cues import CUE_NAMES, CUE_WORDS, LENGTH_BANDS
from .errors import ModelError
from .labels import is_client

__all__ = ["DEFAULT_SPACY_MODEL", "EncodedTurns", "TurnEncoder", "build_nlp", "reusing_encoding"]

DEFAULT_SPACY_MODEL = "blank:en"


def build_nlp(spacy_model: str | None = None):
    """Build the spaCy pipeline: blank English + sentencizer + lookup lemmatizer by default.

    Examples
    --------
    >>> nlp = build_nlp()
    >>> [t.lemma_ for t in nlp("she felt tired of sessions")]
    ['she', 'feel', 'tire', 'of', 'session']
    """
    import spacy

    if _is_default(spacy_model):
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
        return nlp
    try:
        return spacy.load(spacy_model)
    except OSError:
        raise ModelError(
            f"spaCy pipeline {spacy_model!r} is not installed; install its package, or leave out "
            "--spacy-model to use the built-in blank English pipeline"
        ) from None


@functools.lru_cache(maxsize=4)
def _shared_nlp(spacy_model: str | None):
    """One pipeline per process and name: encoders unpickled in parallel workers (one per chunk)
    would otherwise each load the lemma tables again. Encoders only read from it."""
    return build_nlp(spacy_model)


@dataclass
class EncodedTurns:
    """What the model needs from each turn, in flat numpy arrays.

    ``lemmas[offsets[i]:offsets[i+1]]`` are the lemma hashes of turn ``i``; ``strings`` maps
    every hash that occurs to its text (for character n-grams); ``cues`` is ``n x len(CUE_NAMES)``.
    """

    lemmas: np.ndarray
    offsets: np.ndarray
    cues: np.ndarray
    roles: np.ndarray  # 0 therapist, 1 client (any client role), per turn
    sessions: np.ndarray  # integer code of the session, per turn
    position: np.ndarray  # relative position in the session, 0..1
    strings: dict[int, str] = field(repr=False)
    #: work the feature blocks share within one pass over these turns (see features._memo)
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def take(self, rows: np.ndarray) -> EncodedTurns:
        """The encoding of turns ``rows`` (in that order), as encoding them alone would give.

        Everything but the session codes and positions belongs to one turn; those two are
        computed again from the rows taken, as :meth:`TurnEncoder.transform` computes them.
        """
        rows = np.asarray(rows, dtype=np.int64)
        lengths = np.diff(self.offsets)[rows]
        offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
        starts = np.repeat(self.offsets[:-1][rows] - offsets[:-1], lengths)
        lemmas = self.lemmas[starts + np.arange(offsets[-1])]
        sessions, _ = pd.factorize(self.sessions[rows], sort=False)
        return EncodedTurns(
            lemmas=lemmas,
            offsets=offsets,
            cues=self.cues[rows],
            roles=self.roles[rows],
            sessions=sessions.astype(np.int64),
            position=_positions(sessions),
            strings={h: self.strings[h] for h in np.unique(lemmas).tolist()},
        )


def _positions(sessions: np.ndarray) -> np.ndarray:
    """Each turn's relative position in its session (0 first, 1 last), from session codes."""
    order = pd.Series(sessions).groupby(sessions, sort=False).cumcount().to_numpy()
    size = pd.Series(sessions).map(pd.Series(sessions).value_counts()).to_numpy()
    return (order / np.maximum(size - 1, 1)).astype(np.float32)


#: (table, its encoding, spaCy pipeline name) while :func:`reusing_encoding` is active
_REUSED: contextvars.ContextVar = contextvars.ContextVar("rupture_reused_encoding", default=None)
_KEY_COLUMNS = ("session_id", "speaker", "text")


@contextlib.contextmanager
def reusing_encoding(df: pd.DataFrame, encoding: EncodedTurns | None = None, spacy_model=None):
    """Encode ``df`` once; inside the block, encoders take any of its rows from that encoding.

    Cross-validation encodes the same turns again in every fold (and a context stack's inner
    folds again in each outer fold); spaCy is deterministic per text, so the rows of one
    encoding of the whole table are what encoding each part afresh gives
    (:meth:`EncodedTurns.take`). A table that is not rows of ``df`` (by index, with the same
    session, speaker and text), or an encoder of another pipeline, is encoded as usual.
    ``encoding`` passes one already made (a worker process gets it with ``df``).

    Yields the encoding of ``df``.
    """
    if not df.index.is_unique:
        df = df.reset_index(drop=True)
    if encoding is None:
        encoding = TurnEncoder(spacy_model=spacy_model).fit(df).transform(df)
    keys = {c: df[c].astype(str).to_numpy() for c in _KEY_COLUMNS}
    token = _REUSED.set((df.index, keys, encoding, spacy_model))
    try:
        yield encoding
    finally:
        _REUSED.reset(token)


def _reused_rows(X: pd.DataFrame, spacy_model) -> EncodedTurns | None:
    """The encoding of ``X`` taken from :func:`reusing_encoding`'s, when ``X`` is rows of it."""
    active = _REUSED.get()
    if active is None:
        return None
    index, keys, encoding, name = active
    if name != spacy_model and not (_is_default(name) and _is_default(spacy_model)):
        return None
    rows = index.get_indexer(X.index)
    if (rows < 0).any():
        return None
    for c in _KEY_COLUMNS:
        if not np.array_equal(X[c].astype(str).to_numpy(), keys[c][rows]):
            return None
    return encoding.take(rows)


def _is_default(spacy_model) -> bool:
    return spacy_model in (None, "", DEFAULT_SPACY_MODEL)


def _cue_masks(words: list[str]) -> np.ndarray:
    """Bit ``k`` set when a word is in cue ``k``'s list."""
    masks = np.zeros(len(words), dtype=np.int64)
    for k, name in enumerate(CUE_WORDS):
        vocab = CUE_WORDS[name]
        masks |= np.fromiter((w in vocab for w in words), bool, len(words)).astype(np.int64) << k
    return masks


class TurnEncoder(TransformerMixin, BaseEstimator):
    """Run spaCy over a turns DataFrame and return :class:`EncodedTurns`.

    Stateless, so ``fit`` only checks its input; the spaCy pipeline is built on first use and is
    not pickled with the model (it is rebuilt from ``spacy_model`` when a model is loaded).

    Parameters
    ----------
    spacy_model : str or None
        ``None`` or ``"blank:en"`` for the built-in offline pipeline, or an installed pipeline name.
    batch_size : int
        Texts per ``nlp.pipe`` batch.
    n_process : int
        Processes for ``nlp.pipe``. For the cheap default pipeline 1 is fastest, because Docs
        are pickled between processes; more pays off only with a heavy trained pipeline.
    """

    def __init__(self, spacy_model=None, batch_size=1000, n_process=1):
        self.spacy_model = spacy_model
        self.batch_size = batch_size
        self.n_process = n_process

    def __getstate__(self):
        state = self.__dict__.copy()
        for key in ("_nlp", "_nlp_name", "_lemma_cache", "_string_cache"):
            state.pop(key, None)
        return state

    def _pipeline(self):
        if getattr(self, "_nlp", None) is None or self._nlp_name != self.spacy_model:
            self._nlp = _shared_nlp(self.spacy_model)
            self._nlp_name = self.spacy_model
            self._lemma_cache: dict[int, tuple[int, int]] = {}
            self._string_cache: dict[int, str] = {}
        return self._nlp

    def fit(self, X, y=None):
        _check_frame(X)
        self.n_features_in_ = 1
        return self

    def transform(self, X: pd.DataFrame) -> EncodedTurns:
        from spacy.attrs import IS_ALPHA, LEMMA, NORM

        _check_frame(X)
        reused = _reused_rows(X, self.spacy_model)
        if reused is not None:
            return reused
        nlp = self._pipeline()
        fast = _is_default(self.spacy_model)
        texts = X["text"].astype(str).to_numpy(dtype=object)
        # Each distinct text is tokenised once: a session repeats its backchannels ("Mm-hmm.",
        # "Yeah.", "Okay.") many times, and a Doc depends on its text alone.
        which, distinct = pd.factorize(texts)
        disable = [p for p in ("sentencizer", "lemmatizer") if fast and p in nlp.pipe_names]
        attrs = [NORM, IS_ALPHA] if fast else [NORM, IS_ALPHA, LEMMA]
        if disable == list(nlp.pipe_names) and self.n_process == 1:
            docs = self._tokenize(nlp, distinct.tolist())
        else:
            docs = nlp.pipe(
                distinct.tolist(),
                batch_size=self.batch_size,
                n_process=self.n_process,
                disable=disable,
            )
        arrays = [doc.to_array(attrs) for doc in docs]  # (tokens, attrs) for a list of attrs
        sizes = np.fromiter(map(len, arrays), np.int64, len(arrays))
        lengths = sizes[which]
        offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
        each = np.concatenate(arrays) if arrays else np.zeros((0, len(attrs)), dtype=np.uint64)
        starts = np.r_[0, np.cumsum(sizes)][:-1].astype(np.int64)
        flat = each[np.repeat(starts[which] - offsets[:-1], lengths) + np.arange(offsets[-1])]
        norms = flat[:, 0].astype(np.uint64)
        alpha = flat[:, 1].astype(bool)

        # Work per distinct word, not per token: lemma lookup, cue membership, strings.
        keys = norms if fast else flat[:, 2].astype(np.uint64)
        uniq, inverse = np.unique(keys, return_inverse=True)
        lemma_ids, masks, strings = self._lookup(uniq, nlp, fast)
        lemmas = lemma_ids[inverse]
        token_masks = masks[inverse]
        if not fast:  # trained pipelines lemmatise, but cue words are matched on norms too
            nu, ninv = np.unique(norms, return_inverse=True)
            _, nmasks, _ = self._lookup(nu, nlp, True)
            token_masks |= nmasks[ninv]

        n = len(texts)
        cues = np.zeros((n, len(CUE_NAMES)), dtype=np.float32)
        n_cue_words = len(CUE_WORDS)
        nonempty = lengths > 0
        starts = offsets[:-1][nonempty]
        for k in range(n_cue_words):
            bit = ((token_masks >> k) & 1).astype(np.float32)
            if len(bit):
                cues[nonempty, k] = np.add.reduceat(bit, starts)
        n_words = np.zeros(n, dtype=np.float32)
        if len(alpha):
            n_words[nonempty] = np.add.reduceat(alpha.astype(np.float32), starts)
        # presence, not counts, and length in bands: a long turn is not more of a marker for
        # holding more cue words, and a linear score must not grow without bound with length
        cues[:, :n_cue_words] = cues[:, :n_cue_words] > 0
        for k, (lo, hi) in enumerate(LENGTH_BANDS):
            cues[:, n_cue_words + k] = (n_words >= lo) & (n_words <= hi)

        sessions, _ = pd.factorize(X["session_id"].astype(str), sort=False)
        roles = is_client(X["speaker"]).astype(np.int8)
        return EncodedTurns(
            lemmas=lemmas,
            offsets=offsets,
            cues=cues,
            roles=roles,
            sessions=sessions.astype(np.int64),
            position=_positions(sessions),
            strings=strings,
        )

    @staticmethod
    def _tokenize(nlp, texts: list[str]):
        """The Docs ``nlp.pipe`` makes when every component is disabled, without its batching
        and generator layers: the tokenizer on each text, after ``make_doc``'s length check."""
        if texts and max(map(len, texts)) > nlp.max_length:
            return map(nlp.make_doc, texts)  # raises spaCy's own message for the long text
        return map(nlp.tokenizer, texts)

    def _lookup(self, uniq: np.ndarray, nlp, fast: bool):
        """Lemma hash, cue bitmask and lemma text for each distinct norm (or lemma) hash."""
        cache, strings_cache = self._lemma_cache, self._string_cache
        missing = [int(h) for h in uniq.tolist() if int(h) not in cache]
        if missing:
            store = nlp.vocab.strings
            table = None
            if fast and "lemmatizer" in nlp.pipe_names:
                table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup", {})
            words = [store[h] if h in store else "" for h in missing]  # noqa: SIM401 (no .get)
            if table is not None:
                lemmas = [table.get(w, w) for w in words]
            else:
                lemmas = [w.lower() for w in words]
            masks = _cue_masks(words) | _cue_masks(lemmas)
            for h, lemma, mask in zip(missing, lemmas, masks.tolist(), strict=True):
                lid = store.add(lemma)
                cache[h] = (lid, mask)
                strings_cache[lid] = lemma
        pairs = [cache[int(h)] for h in uniq.tolist()]
        lemma_ids = np.fromiter((p[0] for p in pairs), np.uint64, len(pairs))
        masks = np.fromiter((p[1] for p in pairs), np.int64, len(pairs))
        strings = {int(lid): strings_cache[int(lid)] for lid in lemma_ids.tolist()}
        return lemma_ids, masks, strings


def _check_frame(X) -> None:
    if not isinstance(X, pd.DataFrame):
        raise TypeError("TurnEncoder expects a DataFrame with session_id, speaker and text columns")
    missing = {"session_id", "speaker", "text"} - set(X.columns)
    if missing:
        raise ValueError(f"turns are missing column(s) {', '.join(sorted(missing))}")
