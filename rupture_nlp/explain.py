"""Why this label: the words, cues and context that pushed a turn towards its label, exactly.

Both stages of the model are linear, so a turn's decision is a sum that can be taken apart
without approximation. The context stage's score of a label is its coefficients times its inputs
(the first stage's score of each label for the turn and for each neighbour, who spoke them, and
whether a neighbour exists) plus an intercept; each of those first-stage scores is the linear
classifier's coefficients times the turn's non-zero features plus its intercept. Multiplying out
gives one term per (neighbour, feature), each named by what produced it: a lemma or lemma
bigram, a character n-gram of a lemma, a role-specific word, the previous or next turn's words,
a rupture cue (:mod:`rupture_nlp.cues`), or the neighbour's score itself.

**What the terms add up to.** The explained quantity is the *margin*: the predicted label's
context-stage score minus the score of the runner-up (the label the decision rule would pick
next), which is ``log(p_label / p_versus)``, less ``prior_power * log(prior_label /
prior_versus)`` when the model tempers its decision by the label priors. Not the predicted
label's score alone: the probabilities are a softmax, unchanged when the same amount is added to
every label's score, so one label's score has no fixed zero; a word can raise it and still favour
another label more. The margin is positive exactly when the label wins, and each term's sign says
whether it pushed towards the label or towards the runner-up; a turn the model's ``threshold``
makes ``none`` (its most probable label was a marker or repair under it) has that label as its
runner-up and a negative margin. A term of ``+0.7`` alone multiplies
the odds of the label over the runner-up by ``e**0.7``, about two.

**Reasons** group the terms for a reader (:func:`explain`, :func:`why`):

- the turn's own ``words``: one reason, all its lemma, lemma-pair, role-word and character
  n-gram terms together, quoting the (up to three) words or pairs that pushed hardest;
- each of its cues (``negation``, ``question``, ``short turn (4-12 words)``...) and of its
  neighbours' cues as its own score reads them (``previous turn: question``);
- each neighbouring turn, described by who spoke it and how the first stage reads it, never by
  its text (``next turn (therapist, reads as repair)``): its score, and the words of it that
  this turn's score reads;
- ``speaker changed`` and ``place in the session``.

What is the same for every turn of a speaker with the same neighbours present (the intercepts,
the speaker's role, whether a previous or next turn exists) is the ``baseline``, never a reason:
otherwise "spoken by the client" would head every withdrawal. Only the turn's own words are
quoted, and none with ``text=False`` (``own words`` instead).

The ``why`` column (``rupture tag --explain``) is the top reasons as one string, stable for
other tools to read (:func:`parse_why`)::

    words "whatever", "fine", "be fine" +7.75; 2 turns before (client, no marker) +1.06; \
2 turns before: 'you' words +0.45

``; ``-separated reasons (at most :data:`DEFAULT_TOP`), each a description, one space and a
signed contribution with two decimals, strongest first; only reasons that pushed towards the
label; empty for turns labelled ``none``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

from .errors import ModelError
from .features import CharNgrams, Cues, NeighbourWords, OpeningWords, OwnWords, RoleWords
from .labels import SPEAKER_ROLES, is_client
from .model import with_predictions

__all__ = [
    "DEFAULT_TOP",
    "WHY_COLUMN",
    "can_explain",
    "contributions",
    "explain",
    "format_why",
    "parse_why",
    "predict_with_reasons",
    "why",
]

#: The column ``rupture tag --explain`` adds (and the report reads).
WHY_COLUMN = "why"
#: Reasons per turn in the ``why`` column.
DEFAULT_TOP = 3

#: How a cue reads in a reason.
CUE_PHRASES = {
    "negation": "negation",
    "first_person": "'I' words",
    "second_person": "'you' words",
    "we": "'we' words",
    "hedge": "hedging",
    "agreement": "agreement words",
    "backchannel": "backchannel",
    "apology": "apology",
    "feeling": "feeling words",
    "process": "talk about the therapy",
    "laughter": "laughter",
    "pause": "pause",
    "question": "question",
    "invitation": "open-question words",
    "exclamation": "exclamation",
    "minimal": "minimal answer (0-3 words)",
    "short": "short turn (4-12 words)",
}

#: How the cue block's columns about the turn's place read.
_SHAPE_PHRASES = {
    "speaker_changed": "speaker changed",
    "position": "place in the session",
    "position_squared": "place in the session",
    "client_after_open_question": "answers an open question",
    "client_after_closed_question": "answers a closed question",
    "client_minimal_after_open_question": "minimal answer to an open question",
    "client_minimal_after_closed_question": "minimal answer to a closed question",
    "client_short_after_open_question": "short answer to an open question",
}
#: Cue-block columns that are the same for every turn of a speaker with a previous turn: like
#: the intercepts and the context stage's speaker and presence inputs, part of the baseline.
_BASELINE_CUES = {"client", "has_previous"}

_CONTRIB_COLUMNS = [
    "row",
    "label",
    "versus",
    "offset",
    "block",
    "feature",
    "word",
    "value",
    "contribution",
]
_REASON_COLUMNS = ["row", "label", "versus", "margin", "kind", "reason", "contribution"]


@dataclass
class _Parts:
    """The fitted pieces of a model that the decomposition needs, in ``classes_`` order."""

    classes: np.ndarray
    encoder: object
    union: FeatureUnion
    clf: object
    blocks: list  # (name, transformer, first column, width)
    kinds: dict  # block name -> "own", "cues", "other", or a neighbour's step
    names: dict  # block name -> feature names, for blocks without hashed n-grams
    baseline: np.ndarray  # per first-stage feature: a cue column that is part of the baseline
    w1: np.ndarray  # first stage: labels x features
    b1: np.ndarray
    w2: np.ndarray  # second stage: labels x context inputs
    b2: np.ndarray
    layout: dict  # step -> (therapist columns, client columns, presence column or None)
    log_prior: np.ndarray
    power: float


def can_explain(model) -> bool:
    """Whether ``model`` is one this module can take apart (the project's two-stage linear
    model); ``rupture scan`` adds reasons only then, so any other classifier still scans."""
    try:
        _parts(model)
    except ModelError:
        return False
    return True


def _parts(model) -> _Parts:
    """Check that ``model`` is the project's two-stage linear model and take its weights apart."""
    try:
        check_is_fitted(model, "second_")
        first, second = model.first_, model.second_
    except Exception:
        raise ModelError("explanations need a fitted two-stage rupture model") from None
    steps = first.steps if isinstance(first, Pipeline) else []
    if len(steps) != 3 or not isinstance(steps[1][1], FeatureUnion):
        raise ModelError("explanations need a first stage of encoder, feature union, classifier")
    encoder, union, clf = (step for _, step in steps)
    if not hasattr(clf, "coef_") or not hasattr(second, "coef_"):
        raise ModelError("explanations need linear classifiers in both stages")
    classes = model.classes_
    k = len(classes)

    coef, intercept = np.asarray(clf.coef_, np.float64), np.asarray(clf.intercept_, np.float64)
    if coef.shape[0] == 1:  # binary: ContextStack scores the classes -d and d
        coef, intercept = np.vstack([-coef, coef]), np.r_[-intercept, intercept]
    w1, b1 = np.zeros((k, coef.shape[1])), np.full(k, -1.0)  # see ContextStack._scores
    where = np.searchsorted(classes, clf.classes_)
    w1[where], b1[where] = coef, intercept

    w2, b2 = np.asarray(second.coef_, np.float64), np.asarray(second.intercept_, np.float64)
    if w2.shape[0] == 1:  # binary logistic regression: the first class scores 0
        w2, b2 = np.vstack([np.zeros_like(w2), w2]), np.r_[0.0, b2]

    layout, col = {}, 1  # column 0: the turn's speaker is a client (ContextStack._context)
    for step in range(-model.before, model.after + 1):
        here = col + 2 * k if step else None
        layout[step] = (np.arange(col, col + k), np.arange(col + k, col + 2 * k), here)
        col += 2 * k + (1 if step else 0)
    if col != w2.shape[1]:
        raise ModelError("the context stage's inputs are not those of rupture_nlp.context")

    blocks, start = [], 0
    for name, trans in union.transformer_list:
        if trans == "drop":
            continue
        if hasattr(trans, "columns_"):
            width = int((trans.columns_ >= 0).sum())
        else:
            width = len(trans.get_feature_names_out())
        blocks.append((name, trans, start, width))
        start += width
    if start != w1.shape[1]:
        raise ModelError("the feature blocks do not add up to the classifier's features")
    power = float(model.prior_power or 0.0)
    names = {
        name: np.asarray(block.get_feature_names_out(), dtype=object)
        for name, block, _, _ in blocks
        if not hasattr(block, "turn_ngrams")
    }
    return _Parts(
        classes=np.asarray(classes),
        encoder=encoder,
        union=union,
        clf=clf,
        blocks=blocks,
        kinds={name: _kind(block) for name, block, _, _ in blocks},
        names=names,
        baseline=np.isin(
            np.arange(w1.shape[1]),
            [
                start + i
                for name, block, start, _ in blocks
                if isinstance(block, Cues)
                for i, feature in enumerate(names[name])
                if feature in _BASELINE_CUES
            ],
        ),
        w1=w1,
        b1=b1,
        w2=w2,
        b2=b2,
        layout=layout,
        log_prior=np.log(model.class_prior_),
        power=power,
    )


def _kind(block):
    """What a feature block describes, for grouping its terms into reasons."""
    if isinstance(block, NeighbourWords):
        return block.step
    if isinstance(block, (OwnWords, RoleWords, OpeningWords, CharNgrams)):
        return "own"
    return "cues" if isinstance(block, Cues) else "other"


@dataclass
class _Pass:
    """One pass of the model over a turns table, with what the terms are made of."""

    parts: _Parts
    enc: object
    features: object  # CSR: turns x first-stage features
    scores: np.ndarray  # first stage, turns x labels
    proba: np.ndarray  # the model's predict_proba
    context: np.ndarray  # context-stage inputs
    label: np.ndarray  # index of the decided label, per turn
    versus: np.ndarray  # index of the runner-up
    margin: np.ndarray
    sessions: np.ndarray
    client: np.ndarray
    speakers: np.ndarray


def _run(model, turns: pd.DataFrame, label: str | None = None) -> _Pass:
    """Score ``turns`` once; explain the decided label, or ``label`` for every turn."""
    parts = _parts(model)
    if label is not None and label not in set(parts.classes.tolist()):
        raise ModelError(
            f"the model has no label {label!r}; its labels are {', '.join(parts.classes)}"
        )
    # the pipeline's own steps and the stack's own methods: the same numbers as predict_proba
    enc = parts.encoder.transform(turns)
    features = parts.union.transform(enc)
    last = SimpleNamespace(  # the final step, as the stack scores it (one pass, not two)
        classes_=parts.clf.classes_,
        decision_function=lambda _: parts.clf.decision_function(features),
    )
    scores = model._scores(last, turns)
    context = model._context(scores, turns)
    proba = model.second_.predict_proba(context)
    z = context @ parts.w2.T + parts.b2
    decided = z - parts.power * parts.log_prior
    if label is None:
        label = np.searchsorted(parts.classes, model.decide(proba))
    else:
        label = np.full(len(z), parts.classes.tolist().index(label))
    others = decided.copy()
    others[np.arange(len(z)), label] = -np.inf
    versus = others.argmax(axis=1) if z.shape[1] > 1 else label
    rows = np.arange(len(z))
    return _Pass(
        parts=parts,
        enc=enc,
        features=features.tocsr(),
        scores=scores,
        proba=proba,
        context=context,
        label=label,
        versus=versus,
        margin=decided[rows, label] - decided[rows, versus],
        sessions=pd.factorize(turns["session_id"].astype(str), sort=False)[0],
        client=is_client(turns["speaker"]),
        speakers=turns["speaker"].astype(str).to_numpy(),
    )


@dataclass
class _Batch:
    """Terms from one source: a feature block of one turn's first-stage score, or one input."""

    offset: int  # whose first-stage score: 0 the turn, -1 the previous turn...
    block: str
    features: list | np.ndarray | None  # a name per term; None where no one asked for names
    words: list | None  # the n-gram each word feature came from
    values: np.ndarray
    contribs: np.ndarray


def _single(offset: int, block: str, feature: str, value: float, contribution: float) -> _Batch:
    return _Batch(offset, block, [feature], [""], np.array([value]), np.array([contribution]))


def _terms(run: _Pass, r: int, names_for, whole_neighbours: bool = False) -> list[_Batch]:
    """The terms of row ``r``'s margin, in batches.

    ``names_for(offset, block)`` says how to name a word block's features: ``"words"`` by the
    turn's n-grams (which splits a column among the n-grams that made it), ``"buckets"`` by the
    hashed column, ``None`` not at all. ``whole_neighbours`` puts each neighbour's features in
    one unnamed batch (block ``neighbour``), its baseline cue columns in another (``baseline``):
    all a reason needs.
    """
    p, k, o = run.parts, run.label[r], run.versus[r]
    d2 = p.w2[k] - p.w2[o]
    out = [_single(0, "intercept", "second stage", 1.0, p.b2[k] - p.b2[o])]
    if p.power:
        prior = -p.power * (p.log_prior[k] - p.log_prior[o])
        out.append(_single(0, "intercept", "label priors", 1.0, prior))
    if run.context[r, 0]:
        out.append(_single(0, "context", "client", run.context[r, 0], d2[0] * run.context[r, 0]))
    n = len(run.label)
    for step, (therapist_cols, client_cols, here) in p.layout.items():
        j = r + step
        if not (0 <= j < n and run.sessions[j] == run.sessions[r]):
            continue
        u = d2[client_cols] if run.client[j] else d2[therapist_cols]
        if here is not None:
            out.append(_single(step, "context", "present", 1.0, d2[here]))
        out.append(_single(step, "intercept", "first stage", 1.0, float(u @ p.b1)))
        if step and whole_neighbours:
            out += _neighbour_terms(run, j, step, u)
        else:
            out += _feature_terms(run, j, step, u, names_for)
    return out


def _row_features(run: _Pass, j: int, u):
    f = run.features
    lo, hi = f.indptr[j], f.indptr[j + 1]
    cols, vals = f.indices[lo:hi], f.data[lo:hi].astype(np.float64)
    return cols, vals, (u @ run.parts.w1[:, cols]) * vals


def _neighbour_terms(run: _Pass, j: int, step: int, u) -> list[_Batch]:
    cols, vals, contrib = _row_features(run, j, u)
    base = run.parts.baseline[cols]
    return [
        _Batch(step, "baseline", None, None, vals[base], contrib[base]),
        _Batch(step, "neighbour", None, None, vals[~base], contrib[~base]),
    ]


def _feature_terms(run: _Pass, j: int, step: int, u, names_for) -> list[_Batch]:
    """Turn ``j``'s first-stage features, weighted by ``u`` (what the margin gives each score)."""
    p = run.parts
    cols, vals, contrib = _row_features(run, j, u)
    out = []
    for name, block, start, width in p.blocks:
        inside = (cols >= start) & (cols < start + width)
        if not inside.any():
            continue
        local, v, c = cols[inside] - start, vals[inside], contrib[inside]
        how = names_for(step, name) if name not in p.names else "names"
        if how == "names":
            out.append(_Batch(step, name, p.names[name][local], None, v, c))
        elif how == "words":
            out.append(_named_terms(block.turn_ngrams(run.enc, j), step, name, local, v, c))
        elif how == "buckets":
            buckets = np.flatnonzero(block.columns_ >= 0)[local]
            out.append(_Batch(step, name, [f"{block.prefix}{h}" for h in buckets], None, v, c))
        else:
            out.append(_Batch(step, name, None, None, v, c))
    return out


def _named_terms(ngrams, step, name, local, values, contribs) -> _Batch:
    """Split each column's term among the turn's n-grams that hashed to it, by their counts.

    Every non-zero column of a turn was made by its own n-grams, so each gets a name; an
    n-gram twice in the turn (or two that share a column) each take their share.
    """
    cols = np.fromiter((c for c, _, _ in ngrams), np.int64, len(ngrams))
    at = np.searchsorted(local, cols)  # ``local`` is sorted: CSR rows keep sorted indices
    keep = at < len(local)
    keep[keep] = local[at[keep]] == cols[keep]
    ngrams = [g for g, k in zip(ngrams, keep.tolist(), strict=True) if k]
    at = at[keep]
    counts = np.bincount(at, minlength=len(local))
    unnamed = np.flatnonzero(counts == 0)  # none, unless a block's hashing changed
    features = [f for _, f, _ in ngrams] + [f"column {c}" for c in local[unnamed]]
    words = [w for _, _, w in ngrams] + [""] * len(unnamed)
    at = np.r_[at, unnamed]
    share = contribs[at] / np.maximum(counts[at], 1)
    return _Batch(step, name, features, words, values[at], share)


def _rows(run: _Pass, rows) -> np.ndarray:
    n = len(run.label)
    if rows is None:
        return np.arange(n)
    rows = np.asarray(rows)
    if rows.dtype == bool:
        return np.flatnonzero(rows)
    return rows.astype(np.int64)


def contributions(
    model, turns: pd.DataFrame, rows=None, text: bool = True, label: str | None = None
) -> pd.DataFrame:
    """Every term of each turn's margin, one row per term; they add up to the margin exactly.

    Parameters
    ----------
    model : ContextStack
        A fitted model (:func:`rupture_nlp.model.train`, or a loaded model file).
    turns : DataFrame
        A turns table (``session_id``, ``speaker``, ``text``, in session order, as ``predict``
        takes it). Neighbours are the turns before and after in the same session.
    rows : array-like of int or bool, optional
        Which turns (positions) to explain; all by default. The whole table is still scored,
        because a turn's neighbours are part of its decision.
    text : bool
        Name word features by their n-gram (``True``) or by their hashed column (``w123``).
    label : str, optional
        Explain this label for every turn (against the best other), instead of the model's
        decision: why a turn was *not* labelled ``confrontation``, for instance (then the
        margin is negative).

    Returns
    -------
    DataFrame
        ``row`` (position in ``turns``), ``label`` (the model's decision), ``versus`` (the
        runner-up), ``offset`` (whose first-stage score the term enters: 0 the turn, -1 the
        previous turn...), ``block`` (feature block, ``context`` for the context stage's
        speaker and presence inputs, ``intercept``), ``feature`` (n-gram, character n-gram,
        cue column...), ``word`` (the lemma or n-gram a word feature came from, of the turn at
        ``offset``, or of its neighbour for ``prev_words``/``next_words``), ``value`` (the
        feature's value) and ``contribution``. Grouped by ``row``, the contributions add up to
        the margin ``log(p_label / p_versus)`` (less the prior term, see the module notes).

    Examples
    --------
    A client's complaint in the packaged mini corpus ("Ten minutes? We've barely started. Why do
    these sessions have to be fifty minutes anyway..."): its terms add up to
    ``log(p_confrontation / p_none)``.

    >>> import numpy as np
    >>> from rupture_nlp.datasets import load_fixture
    >>> from rupture_nlp.model import train
    >>> df = load_fixture()
    >>> model = train(df)
    >>> terms = contributions(model, df, rows=[43])
    >>> terms[["label", "versus"]].iloc[0].tolist()
    ['confrontation', 'none']
    >>> p = model.predict_proba(df)[43]
    >>> bool(np.isclose(terms["contribution"].sum(), np.log(p[0] / p[1])))
    True
    """
    if not len(turns):
        return pd.DataFrame(columns=_CONTRIB_COLUMNS)
    run = _run(model, turns, label)
    classes = run.parts.classes
    how = "words" if text else "buckets"
    parts = []
    for r in _rows(run, rows).tolist():
        for b in _terms(run, r, lambda step, name: how):
            n = len(b.contribs)
            parts.append(
                pd.DataFrame(
                    {
                        "row": r,
                        "label": classes[run.label[r]],
                        "versus": classes[run.versus[r]],
                        "offset": b.offset,
                        "block": b.block,
                        "feature": b.features,
                        "word": b.words if b.words is not None else [""] * n,
                        "value": b.values,
                        "contribution": b.contribs,
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=_CONTRIB_COLUMNS)
    terms = pd.concat(parts, ignore_index=True)
    # an n-gram twice in a turn is one term
    keys = ["row", "label", "versus", "offset", "block", "feature", "word"]
    return terms.groupby(keys, sort=False, as_index=False).agg(
        value=("value", "first"), contribution=("contribution", "sum")
    )


def explain(
    model,
    turns: pd.DataFrame,
    top: int | None = DEFAULT_TOP,
    text: bool = True,
    rows=None,
    label: str | None = None,
) -> pd.DataFrame:
    """The reasons each turn got its label: its words, cues and context, strongest first.

    Parameters
    ----------
    model, turns, rows, label
        As :func:`contributions`.
    top : int or None
        Keep each turn's ``top`` strongest reasons that pushed towards its label. ``None``
        keeps every reason, those against the label and the ``baseline`` included: then each
        turn's contributions add up to its margin.
    text : bool
        Quote the turn's own words (``word "pointless"``); ``False`` gives one ``own words``
        reason instead, so that no transcript text is in the result.

    Returns
    -------
    DataFrame
        One row per reason: ``row`` (position in ``turns``), ``label``, ``versus`` (runner-up
        label), ``margin``, ``kind`` (``words``, ``cue``, ``context``, ``turn`` or
        ``baseline``), ``reason`` (what a supervisor reads) and ``contribution``.

    Examples
    --------
    >>> from rupture_nlp.datasets import load_fixture
    >>> from rupture_nlp.model import train
    >>> df = load_fixture()
    >>> reasons = explain(train(df), df, rows=[43])
    >>> reasons[["label", "reason"]].to_numpy().tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['confrontation', '2 turns after (client, reads as confrontation)'],
     ['confrontation', 'next turn (therapist, reads as repair)'],
     ['confrontation', 'previous turn (therapist, no marker)']]
    """
    if not len(turns):
        return pd.DataFrame(columns=_REASON_COLUMNS)
    run = _run(model, turns, label)
    records = []
    for r in _rows(run, rows).tolist():
        head = {
            "row": r,
            "label": run.parts.classes[run.label[r]],
            "versus": run.parts.classes[run.versus[r]],
            "margin": float(run.margin[r]),
        }
        for kind, reason, value in _row_reasons(run, r, top, text):
            records.append(head | {"kind": kind, "reason": reason, "contribution": value})
    return pd.DataFrame.from_records(records, columns=_REASON_COLUMNS)


def why(model, turns: pd.DataFrame, top: int = DEFAULT_TOP, text: bool = True) -> pd.Series:
    """The ``why`` column: each flagged turn's top reasons as one string, ``""`` for ``none``.

    What ``rupture tag --explain`` adds and the report shows; the format is in the module
    notes and :func:`parse_why` reads it back. ``text=False`` quotes no words.

    Examples
    --------
    >>> from rupture_nlp.datasets import load_fixture
    >>> from rupture_nlp.model import train
    >>> df = load_fixture()
    >>> column = why(train(df), df, text=False)
    >>> column.iloc[0], column.iloc[43]  # doctest: +NORMALIZE_WHITESPACE
    ('', '2 turns after (client, reads as confrontation) +1.36; next turn (therapist, reads as
    repair) +0.59; previous turn (therapist, no marker) +0.55')
    """
    if not len(turns):
        return pd.Series("", index=turns.index, dtype=object, name=WHY_COLUMN)
    return _why_column(_run(model, turns), turns.index, top, text)


def predict_with_reasons(
    model, turns: pd.DataFrame, top: int = DEFAULT_TOP, text: bool = True
) -> pd.DataFrame:
    """:func:`rupture_nlp.model.predict` and the ``why`` column, from one pass of the model.

    The predictions are those of ``predict`` (the same pipeline steps give the same numbers);
    what ``rupture tag --explain`` writes.

    Examples
    --------
    >>> from rupture_nlp.datasets import load_fixture
    >>> from rupture_nlp.model import predict, train
    >>> df = load_fixture()
    >>> model = train(df)
    >>> tagged = predict_with_reasons(model, df)
    >>> tagged.drop(columns="why").equals(predict(model, df))
    True
    """
    if not len(turns):
        out = with_predictions(model, turns, np.zeros((0, len(model.classes_))))
        out[WHY_COLUMN] = pd.Series(dtype=object)
        return out
    run = _run(model, turns)
    out = with_predictions(model, turns, run.proba)
    out[WHY_COLUMN] = _why_column(run, turns.index, top, text).to_numpy()
    return out


def _why_column(run: _Pass, index, top: int, text: bool) -> pd.Series:
    out = pd.Series("", index=index, dtype=object, name=WHY_COLUMN)
    classes = list(run.parts.classes)
    flagged = run.label != classes.index("none") if "none" in classes else np.ones(len(out), bool)
    for r in np.flatnonzero(flagged).tolist():
        pairs = [(reason, value) for _, reason, value in _row_reasons(run, r, top, text)]
        out.iloc[r] = format_why(pairs)
    return out


def format_why(reasons) -> str:
    """``(reason, contribution)`` pairs as one ``why`` string.

    >>> format_why([('word "pointless"', 1.4213), ("question", 0.3)])
    'word "pointless" +1.42; question +0.30'
    """
    return "; ".join(f"{reason} {value:+.2f}" for reason, value in reasons)


def parse_why(value) -> list[tuple[str, float]]:
    """Read a ``why`` string back into ``(reason, contribution)`` pairs (``[]`` for empty).

    >>> parse_why('word "pointless" +1.42; previous turn (therapist, no marker) +0.30')
    [('word "pointless"', 1.42), ('previous turn (therapist, no marker)', 0.3)]
    """
    if not isinstance(value, str) or not value.strip():
        return []
    pairs = []
    for part in value.split("; "):
        reason, _, number = part.rpartition(" ")
        pairs.append((reason, float(number)))
    return pairs


def _row_reasons(run: _Pass, r: int, top: int | None, text: bool) -> list[tuple[str, str, float]]:
    """Row ``r``'s terms grouped into ``(kind, reason, contribution)``, strongest first."""
    kinds = run.parts.kinds
    want = "words" if text else None
    batches = _terms(
        run, r, lambda step, name: want if kinds[name] == "own" else None, whole_neighbours=True
    )
    sums: dict[tuple[str, str], float] = {}
    words: dict[str, float] = {}

    def add(key, value):
        sums[key] = sums.get(key, 0.0) + float(value)

    for b in batches:
        key = _reason_of(run, r, b)
        if key is not None:
            add(key, b.contribs.sum())
        else:  # cue columns: each its own reason
            for feature, value in zip(b.features, b.contribs, strict=True):
                if feature in _BASELINE_CUES:
                    add(("baseline", "baseline"), value)
                else:
                    add(
                        ("context", _neighbour(run, r, b.offset))
                        if b.offset
                        else _cue_reason(feature),
                        value,
                    )
        if key == _OWN_WORDS and b.words is not None:
            for word, value in zip(b.words, b.contribs, strict=True):
                words[word] = words.get(word, 0.0) + value
    ranked = sorted(((k, n, v) for (k, n), v in sums.items()), key=lambda x: (-x[2], x[1]))
    if text:
        ranked = [(k, _quote(words, v) if (k, n) == _OWN_WORDS else n, v) for k, n, v in ranked]
    if top is None:
        return ranked
    return [x for x in ranked if x[2] > 0 and x[0] != "baseline"][:top]


_OWN_WORDS = ("words", "own words")


def _quote(words: dict[str, float], net: float, most: int = 3) -> str:
    """The own-words reason with its strongest words: ``words "you keep", "pointless"``.

    Lists the (up to ``most``) words and word pairs that pushed hardest the way the words did
    on the whole (towards the label when ``net`` is positive), leaving out punctuation, which
    the reason's figure still counts.
    """
    sign = 1.0 if net >= 0 else -1.0
    pushing = sorted(
        (-sign * v, w)
        for w, v in words.items()
        if sign * v > 0 and all(any(c.isalnum() for c in token) for token in w.split())
    )
    shown = [w.replace(";", ",").replace('"', "'") for _, w in pushing[:most]]
    return "words " + ", ".join(f'"{w}"' for w in shown) if shown else _OWN_WORDS[1]


def _reason_of(run: _Pass, r: int, b: _Batch) -> tuple[str, str] | None:
    """The reason a batch of terms belongs to, ``(kind, what a reader sees)``; ``None`` for
    cue columns, which are reasons of their own."""
    if b.block in ("intercept", "context", "baseline"):
        return "baseline", "baseline"
    if b.block == "neighbour":
        return "context", _neighbour(run, r, b.offset)
    kind = run.parts.kinds[b.block]
    if kind == "cues":
        return None
    if b.offset:
        return "context", _neighbour(run, r, b.offset)
    if kind == "own":
        return _OWN_WORDS
    if isinstance(kind, int):  # the words of a neighbour, as this turn's score reads them
        return "context", _neighbour(run, r, kind)
    return "turn", b.block


def _cue_reason(name: str) -> tuple[str, str]:
    if name in _SHAPE_PHRASES:
        return "turn", _SHAPE_PHRASES[name]
    where, cue = name.split("_", 1)
    phrase = CUE_PHRASES.get(cue, cue)
    if where.startswith("turn"):
        return "cue", f"{_where(int(where[4:]))}: {phrase}"
    return "cue", phrase


def _where(step: int) -> str:
    if step in (-1, 1):
        return "previous turn" if step < 0 else "next turn"
    return f"{abs(step)} turns {'before' if step < 0 else 'after'}"


@functools.lru_cache(maxsize=4096)
def _neighbour_phrase(step: int, speaker: str, reads: str) -> str:
    return f"{_where(step)} ({speaker}, {'no marker' if reads == 'none' else 'reads as ' + reads})"


def _neighbour(run: _Pass, r: int, step: int) -> str:
    """A neighbouring turn as a reason: who spoke it and how the first stage reads it."""
    j = r + step
    speaker = run.speakers[j] if run.speakers[j] in SPEAKER_ROLES else "client"
    return _neighbour_phrase(step, speaker, run.parts.classes[int(run.scores[j].argmax())])
