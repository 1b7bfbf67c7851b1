"""The context stage: each turn's label from the first stage's scores of it and its neighbours.

A coder reads a turn with the turns around it: a repair answers a strain, a minimal answer is
withdrawal only after an open invitation, a reflection of feeling is ordinary unless something
strained came before. The first stage scores each turn from its own words and a little context;
this stage then learns how a turn's label depends on the scores of the turns before and after it
(who spoke them, and whether a session edge is near), which is stacking in scikit-learn's sense.

The second stage must learn from scores like those it will see on new sessions, so it is fitted
on out-of-fold scores: sessions are split into ``cv`` groups, and each group is scored by a
first stage trained without it. Its logistic-regression probabilities are therefore calibrated
on held-out scores; the first stage finally used is trained on all sessions, so its scores on
new sessions are a little surer than the fold models' (the expected calibration error that
``rupture evaluate`` reports measures how much that matters).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from .features import shift_rows
from .labels import is_client

__all__ = ["ContextStack", "coded_mask", "fit_first_stage", "rows_key"]


def _fit_weighted(estimator, X, y, sample_weight):
    """Fit, passing weights to a pipeline's final step (where a pipeline wants them)."""
    if sample_weight is None:
        return estimator.fit(X, y)
    if isinstance(estimator, Pipeline):
        return estimator.fit(X, y, **{f"{estimator.steps[-1][0]}__sample_weight": sample_weight})
    return estimator.fit(X, y, sample_weight=sample_weight)


def coded_mask(y) -> np.ndarray:
    """True for coded turns: an empty label means the turn was not coded.

    >>> coded_mask(["none", "", "repair"]).tolist()
    [True, False, True]
    """
    y = np.asarray(y)
    if y.dtype.kind not in "OUS":
        return np.ones(len(y), dtype=bool)
    return y.astype(str) != ""


def _fit_coded(estimator, X, y, sample_weight, coded):
    """Fit on the coded turns of ``X``, the uncoded ones kept as their neighbours' context.

    The feature steps of a pipeline see every turn (they learn no label, and a coded turn's
    context features need the turns around it, coded or not); its final classifier fits the
    coded rows only.
    """
    if coded.all():
        return _fit_weighted(estimator, X, y, sample_weight)
    if not isinstance(estimator, Pipeline):
        raise ValueError("uncoded turns (empty labels) need a Pipeline as the first stage")
    rows = np.flatnonzero(coded)
    features = estimator[:-1].fit_transform(X)
    _fit_weighted(
        estimator.steps[-1][1],
        features[rows],
        y[rows],
        None if sample_weight is None else sample_weight[rows],
    )
    return estimator


def fit_first_stage(first, X: pd.DataFrame, y, sample_weight=None):
    """A clone of ``first`` fitted on a turns table as :meth:`ContextStack.fit` fits each of its
    first stages (the uncoded turns as context only), so that a first stage fitted elsewhere (in
    a worker process, or once for two stacks) is the one ``fit`` would have made."""
    y = np.asarray(y)
    # One BLAS thread: where the solver uses BLAS (liblinear's primal
    # solver does, when there are more turns than features), its sums then do not depend on
    # whether the fit ran in a worker process or on how many cores the machine has.
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_coded(clone(first), X, y, sample_weight, coded_mask(y))


def rows_key(rows) -> bytes:
    """A dictionary key for a set of row positions (see :meth:`ContextStack.fit`'s ``fitted``)."""
    return np.asarray(rows, dtype=np.int64).tobytes()


class ContextStack(ClassifierMixin, BaseEstimator):
    """A first-stage turn classifier, and a second stage over its scores in context.

    Parameters
    ----------
    first : estimator
        Fits a turns DataFrame (``session_id``, ``speaker``, ``text``) and has
        ``decision_function`` or ``predict_proba``; :func:`rupture_nlp.model.build_model` gives the
        project's pipeline.
    second : estimator or None
        Classifier over the context scores; ``None`` is a logistic regression (``C=1``).
    before, after : int
        How many turns before and after each turn the second stage sees. ``0, 0`` makes it a
        plain calibration of the first stage (the ablation without context).
    cv : int
        Session-grouped folds for the out-of-fold scores.
    prior_power : float
        Decision rule: the predicted label maximises ``p / prior ** prior_power`` (``prior`` =
        the label's share of training turns). 0 is the most probable label; larger values trade
        precision of the rare marker labels for their recall.
    threshold : float
        A label other than ``none`` (a marker or a repair) is predicted only when its
        probability is at least this; below it the turn is ``none``. 0 leaves the most probable
        label; 0.5 flags a turn only when the model finds it more likely than not, which keeps
        the turns that sit between two labels near a half (a short answer in a new setting)
        from being flagged. It cannot be combined with ``prior_power``: at 0.5 the label that
        passes is already the most probable one, so tempering could only take flags away.
    dense_weight : float
        Weight in both stages of turns whose ``density`` column says ``dense`` (sessions written
        rich in ruptures, as in the project's corpus), times any ``sample_weight``. Such
        sessions give every subtype examples, but they also teach that ordinary words of
        agreement are deference ("Sure, whatever you think"); counted for less, they inform the
        model without setting its base rates. 1 weighs every turn alike; a table without a
        ``density`` column is unaffected.

    Attributes
    ----------
    first_ : estimator
        The first stage fitted on all training turns.
    second_ : estimator
        The second stage fitted on out-of-fold context scores.
    classes_ : ndarray
        Labels, in the column order of ``predict_proba``.
    class_prior_ : ndarray
        Share of training turns of each label.
    """

    def __init__(
        self,
        first=None,
        second=None,
        before=3,
        after=1,
        cv=5,
        prior_power=0.0,
        threshold=0.0,
        dense_weight=1.0,
    ):
        self.first = first
        self.second = second
        self.before = before
        self.after = after
        self.cv = cv
        self.prior_power = prior_power
        self.threshold = threshold
        self.dense_weight = dense_weight

    def fit(self, X: pd.DataFrame, y, groups=None, sample_weight=None, fitted=None, splits=None):
        """Fit on a turns table; ``groups`` (default: ``session_id``) keeps sessions whole.

        ``sample_weight`` weighs turns in both stages (for example, to count sessions written
        rupture-dense for less than sessions written at natural density). Turns whose label is
        empty were not coded: they are left out of both fits but kept as the context of the
        turns around them, so a table of partly coded sessions (a review queue's corrections)
        trains the same model as if only the coded turns had labels. Both stages are fitted
        with one BLAS thread, so the model is the same on a machine with any number of cores.

        ``fitted`` saves work, never changes the model: it maps :func:`rows_key` of row
        positions of ``X`` to a first stage already fitted on those rows (by
        :func:`fit_first_stage`, with the same table, labels and weights), which ``fit`` then
        uses instead of fitting it again. Cross-validation of a stack fits the same first stages
        as the stack's own folds, and :mod:`rupture_nlp.training` fits them in parallel.

        ``splits`` gives the ``(train rows, held-out rows)`` of the out-of-fold scores instead of
        :meth:`fold_splits` (row positions of ``X``; the held-out parts must hold out each row
        once): a cross-validation's stack can then take the other outer folds as its inner ones,
        so that two of its stacks share first stages (see :mod:`rupture_nlp.training`).
        """
        if self.first is None:
            raise ValueError(
                "ContextStack needs a first-stage estimator; rupture_nlp.model.build_model() "
                "gives the project's"
            )
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, not {self.threshold}")
        if self.threshold and self.prior_power:
            raise ValueError("prior_power needs threshold=0 (see ContextStack)")
        fitted = fitted or {}
        y = np.asarray(y)
        coded = coded_mask(y)
        check_classification_targets(y[coded])
        self.classes_ = np.unique(y[coded])
        w = self.turn_weights(X, sample_weight)

        def first_stage(rows):
            done = fitted.get(rows_key(rows))
            if done is not None:
                return done
            return fit_first_stage(
                self.first, X.iloc[rows], y[rows], None if w is None else w[rows]
            )

        splits = self.fold_splits(X, groups) if splits is None else list(splits)
        held_out = np.sort(np.concatenate([np.empty(0, np.int64), *(te for _, te in splits)]))
        if not np.array_equal(held_out, np.arange(len(X))):
            raise ValueError("the splits' held-out rows must be every row of X, each once")
        if any(np.intersect1d(tr, te).size for tr, te in splits):
            raise ValueError("a split trains on rows it holds out")
        oof = np.zeros((len(X), len(self.classes_)))
        for tr, te in splits:
            oof[te] = self._scores(first_stage(tr), X.iloc[te])
        self.first_ = first_stage(np.arange(len(X)))
        second = self.second if self.second is not None else LogisticRegression(max_iter=2000)
        rows = np.flatnonzero(coded)
        # One BLAS thread, as for the first stages: the model must not depend on the machine's
        # core count, and a logistic regression's BLAS threads crawl on busy cores (10x measured).
        with threadpool_limits(limits=1, user_api="blas"):
            self.second_ = _fit_weighted(
                clone(second),
                self._context(oof, X)[rows],
                y[rows],
                None if w is None else w[rows],
            )
        self.class_prior_ = np.array([np.mean(y[rows] == c) for c in self.classes_])
        return self

    def turn_weights(self, X: pd.DataFrame, sample_weight=None) -> np.ndarray | None:
        """The weight of each turn in :meth:`fit`: ``sample_weight`` times ``dense_weight`` for
        turns of rupture-dense sessions; ``None`` when every turn weighs 1."""
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if self.dense_weight != 1 and "density" in X.columns:
            dense = (X["density"].astype(str) == "dense").to_numpy()
            if dense.any():
                base = np.ones(len(X)) if w is None else w
                w = np.where(dense, base * float(self.dense_weight), base)
        return w

    def fold_splits(self, X: pd.DataFrame, groups=None) -> list[tuple[np.ndarray, np.ndarray]]:
        """The session-grouped ``(train rows, held-out rows)`` of :meth:`fit`'s out-of-fold scores."""
        groups = np.asarray(X["session_id"] if groups is None else groups)
        n_splits = max(2, min(self.cv, len(np.unique(groups))))
        return list(GroupKFold(n_splits=n_splits).split(X, None, groups))

    def _scores(self, fitted, X: pd.DataFrame) -> np.ndarray:
        """First-stage scores in ``classes_`` order.

        A fold whose training part lacks a rare label scores it -1 (a margin of "surely not"),
        which teaches the second stage that the label's own score says little about it; labels
        in at least ``cv`` sessions avoid that.
        """
        if hasattr(fitted, "decision_function"):
            s = np.asarray(fitted.decision_function(X), dtype=np.float64)
            if s.ndim == 1:
                s = np.column_stack([-s, s])
        else:
            s = np.asarray(fitted.predict_proba(X), dtype=np.float64)
        out = np.full((len(X), len(self.classes_)), -1.0)
        out[:, np.searchsorted(self.classes_, fitted.classes_)] = s
        return out

    def _context(self, scores: np.ndarray, X: pd.DataFrame) -> np.ndarray:
        """Scores of each turn and its neighbours, split by the neighbour's role, with flags
        for neighbours that fall outside the session."""
        sessions = pd.factorize(X["session_id"].astype(str), sort=False)[0]
        client = is_client(X["speaker"]).astype(np.float64)[:, None]
        present = np.ones((len(X), 1))
        columns = [client]
        for step in range(-self.before, self.after + 1):
            s = shift_rows(scores, sessions, step)
            c = shift_rows(client, sessions, step)
            here = shift_rows(present, sessions, step)
            columns += [s * (here - c), s * c] + ([here] if step else [])
        return np.hstack(columns)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "second_")
        context = self._context(self._scores(self.first_, X), X)
        # one BLAS thread, as in fit: the probabilities do not depend on where they are made
        with threadpool_limits(limits=1, user_api="blas"):
            return self.second_.predict_proba(context)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.decide(self.predict_proba(X))

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Labels for rows of ``predict_proba`` output, by the prior-tempered rule and the
        threshold above."""
        check_is_fitted(self, "second_")
        if not self.prior_power:
            best = np.argmax(proba, axis=1)
        else:
            best = np.argmax(proba / self.class_prior_**self.prior_power, axis=1)
        labels = self.classes_[best]
        if self.threshold and "none" in self.classes_:
            unsure = proba[np.arange(len(best)), best] < self.threshold
            labels = np.where(unsure, "none", labels).astype(self.classes_.dtype)
        return labels
