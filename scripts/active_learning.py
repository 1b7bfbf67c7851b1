"""Does the review queue save coding? A learning curve, queue picks against random picks.

Both arms start from the same seed set (every turn of a few coded training sessions), then add
batches of the same size for several rounds: the queue arm codes the turns
:func:`rupture_nlp.review_queue.select_uncertain` ranks first (margin of the calibrated
probabilities, at most ``--per-session`` turns of a session per batch), the random arm codes
uncoded turns drawn uniformly from the pool (the train split). "Coding" a turn reveals its
corpus label. After every batch the model is retrained and scored on the test split: marker
macro-F1 (the mean F1 of withdrawal, confrontation and repair) on all test sessions and on the
natural-density ones.

Turns are coded one by one, so the model trains as ``rupture train transcripts/ --labels
coded`` would: on every pool transcript, uncoded turns with an empty label (left out of the
fit, kept as the context of their neighbours; see :class:`rupture_nlp.context.ContextStack`).

What is cheaper than ``rupture train``, so that a run takes minutes on two shared cores: the
spaCy encoding and the feature blocks are computed once, the blocks fitted on the text of every
pool turn (they learn no labels: which hashed n-grams occur in two turns, and their IDF), and
looked up by row, instead of being refitted on each fold's training sessions at every retrain.
The linear classifier and the context stage are the default model's (``C=0.3``, two turns before
and after, five session folds), refitted on the coded turns at every round.

Usage: python scripts/active_learning.py --data data/ [--seeds 0 1 2 3 4] [--rounds 12]
       [--batch 250] [--seed-sessions 6] [--per-session 5] [--out out/active_learning.json]
       [--write README.md] [--render out/active_learning.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from rupture_nlp.corpus import load_corpus
from rupture_nlp.evaluation import metrics
from rupture_nlp.features import turn_features
from rupture_nlp.labels import LABELS
from rupture_nlp.model import build_model, predict
from rupture_nlp.preprocess import TurnEncoder
from rupture_nlp.review_queue import select_uncertain
from rupture_nlp.writers import fill_marked_block, markdown_table

START, END = "<!-- active-learning:start -->", "<!-- active-learning:end -->"
_FEATURES: dict = {}


class CachedFeatures(TransformerMixin, BaseEstimator):
    """The feature rows of turns (by their ``row`` column), computed once for the corpus."""

    def __init__(self, key="corpus"):
        self.key = key

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return _FEATURES[self.key][X["row"].to_numpy()]


def precompute_features(corpus: pd.DataFrame, pool_split: str = "train") -> None:
    """Encode every turn once; fit the feature blocks on the pool's text; keep every row."""
    features = turn_features()
    parts = {}
    for split, part in corpus.groupby("split", sort=False):
        encoded = TurnEncoder().fit_transform(part)
        if split == pool_split:
            features.fit(encoded)
        parts[split] = (part["row"].to_numpy(), encoded)
    rows, blocks = [], []
    for ids, encoded in parts.values():
        rows.append(ids)
        blocks.append(features.transform(encoded))
    order = np.argsort(np.concatenate(rows))
    _FEATURES["corpus"] = sp.vstack(blocks).tocsr()[order]


def make_model(seed: int):
    model = build_model(seed=seed)
    clf = model.first.named_steps["clf"]
    return model.set_params(first=Pipeline([("features", CachedFeatures()), ("clf", clf)]))


def training_table(pool: pd.DataFrame, coded: np.ndarray) -> pd.DataFrame:
    """Every pool turn; the uncoded ones with an empty label."""
    return pool.assign(label=np.where(coded, pool["label"], ""))


def seed_set(pool: pd.DataFrame, n_sessions: int, rng) -> np.ndarray:
    """Every turn of ``n_sessions`` random sessions in which each label occurs in two sessions."""
    sessions = pool["session_id"].unique()
    while True:
        chosen = rng.choice(sessions, n_sessions, replace=False)
        part = pool[pool["session_id"].isin(chosen)]
        if (part.groupby("label")["session_id"].nunique().reindex(LABELS) >= 2).all():
            return pool["session_id"].isin(chosen).to_numpy().copy()


def scores(model, test: pd.DataFrame) -> dict:
    pred = predict(model, test)
    natural = pred["density"] == "natural"
    return {
        "all": metrics(pred["label"], pred["predicted_label"])["marker_macro_f1"],
        "natural": metrics(pred.loc[natural, "label"], pred.loc[natural, "predicted_label"])[
            "marker_macro_f1"
        ],
    }


def run_arm(pool, test, strategy: str, seed: int, args, log) -> list[dict]:
    rng = np.random.default_rng(seed)
    coded = seed_set(pool, args.seed_sessions, rng)
    curve = []
    rounds = args.rounds + (args.extend_random if strategy == "random" else 0)
    for round_ in range(rounds + 1):
        started = time.perf_counter()
        table = training_table(pool, coded)
        model = make_model(seed).fit(table, table["label"].to_numpy())
        point = {
            "round": round_,
            "coded_turns": int(coded.sum()),
            "coded_markers": int((coded & (pool["label"] != "none").to_numpy()).sum()),
            **scores(model, test),
        }
        batch = args.batch if round_ < args.rounds else args.extend_batch
        if round_ < rounds:
            if strategy in ("margin", "entropy"):
                # coded turns keep their label in the table, so they are never queued
                tagged = predict(model, table)
                picks = select_uncertain(tagged, batch, args.per_session, method=strategy)
                coded[picks.index.to_numpy()] = True
            else:
                uncoded = np.flatnonzero(~coded)
                coded[rng.choice(uncoded, batch, replace=False)] = True
        point["seconds"] = round(time.perf_counter() - started, 1)
        log(f"{strategy} seed {seed} {point}")
        curve.append(point)
    return curve


def turns_to_reach(curve: list[dict], target: float, key: str) -> float | None:
    """Coded turns at which the curve first reaches ``target`` (linear between rounds)."""
    prev = None
    for p in curve:
        if p[key] >= target:
            if prev is None:
                return float(p["coded_turns"])
            frac = (target - prev[key]) / (p[key] - prev[key])
            return prev["coded_turns"] + frac * (p["coded_turns"] - prev["coded_turns"])
        prev = p
    return None


def summary(curves: dict[str, dict[int, list[dict]]], targets, key: str) -> dict:
    """Mean and spread per round, over the seeds every arm has finished."""
    seeds = set.intersection(*(set(c) for c in curves.values()))
    out = {}
    for strategy, runs in curves.items():
        by_seed = {s: c for s, c in runs.items() if s in seeds}
        rounds = list(zip(*by_seed.values(), strict=True))
        out[strategy] = {
            "seeds": sorted(by_seed),
            "per_round": [
                {
                    "coded_turns": round(float(np.mean([p["coded_turns"] for p in r]))),
                    "f1_mean": round(float(np.mean([p[key] for p in r])), 3),
                    "f1_sd": round(float(np.std([p[key] for p in r])), 3),
                    "coded_markers": round(float(np.mean([p["coded_markers"] for p in r]))),
                }
                for r in rounds
            ],
            "turns_to_reach": {
                str(t): [turns_to_reach(c, t, key) for c in by_seed.values()] for t in targets
            },
        }
    return out


def readme_block(result: dict) -> str:
    cfg = result["config"]
    nat, allf = result["natural"], result["all"]
    arms = [a for a in ("margin", "entropy", "random") if a in nat]
    names = {"margin": "queue (margin)", "entropy": "queue (entropy)", "random": "random"}
    lines = [
        f"Marker macro-F1 on the test split's natural-density sessions (all test sessions in "
        f"brackets), mean of seeds {', '.join(map(str, nat[arms[0]]['seeds']))}; each run starts "
        "from "
        f"every turn of {cfg['seed_sessions']} random training sessions and adds "
        f"{cfg['batch']} coded turns a round, picked by the queue (at most "
        f"{cfg['per_session']} per session) or at random. Markers coded: marker turns "
        "(withdrawal, confrontation, repair) among the coded turns.",
        "",
    ]
    header = [
        "coded turns",
        *(names[a] for a in arms),
        "markers coded (" + " / ".join(names[a] for a in arms) + ")",
    ]
    rows = []
    depth = max(len(nat[a]["per_round"]) for a in arms)
    for i in range(depth):
        cells, markers, turns = [], [], None
        for a in arms:
            if i < len(nat[a]["per_round"]):
                p, q = nat[a]["per_round"][i], allf[a]["per_round"][i]
                cells.append(f"{p['f1_mean']:.3f} ({q['f1_mean']:.3f})")
                markers.append(str(p["coded_markers"]))
                turns = p["coded_turns"]
            else:
                cells.append("")
                markers.append("-")
        rows.append([turns, *cells, " / ".join(markers)])
    lines.append(markdown_table(header, rows))
    if result.get("full"):
        f = result["full"]
        lines += [
            "",
            f"Every one of the {f['coded_turns']} pool turns coded, same configuration: "
            f"{f['natural']:.3f} ({f['all']:.3f}).",
        ]
    lines += [
        "",
        "Coded turns needed to reach a natural-density marker macro-F1 (mean of the seeds that "
        "reach it within the rounds run; how many did in brackets):",
        "",
    ]

    def fmt(values):
        reached = [v for v in values if v is not None]
        if not reached:
            return "not reached"
        return f"{round(float(np.mean(reached)))} ({len(reached)}/{len(values)})"

    reach = [[t, *(fmt(nat[a]["turns_to_reach"][str(t)]) for a in arms)] for t in cfg["targets"]]
    lines.append(markdown_table(["marker macro-F1", *(names[a] for a in arms)], reach))
    lines += [
        "",
        f"Measured by `python scripts/active_learning.py` ({result['machine']}, "
        f"{result['minutes']} minutes of runs on two shared cores). The classifier and context stage are the default model's, "
        "refitted at every round; the feature blocks are fitted once on the pool's text (see "
        "the script's docstring).",
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument(
        "--arms", nargs="+", default=["margin", "entropy", "random"], help="margin entropy random"
    )
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--seed-sessions", type=int, default=6)
    ap.add_argument("--per-session", type=int, default=5)
    ap.add_argument("--extend-random", type=int, default=7, help="more random rounds after")
    ap.add_argument("--extend-batch", type=int, default=1000, help="turns per extra round")
    ap.add_argument("--targets", type=float, nargs="+", default=[0.5, 0.6, 0.65, 0.7])
    ap.add_argument("--out", default="out/active_learning.json")
    ap.add_argument("--write", help="README to update between the active-learning markers")
    ap.add_argument("--no-full", action="store_true", help="skip the every-turn-coded model")
    ap.add_argument(
        "--render",
        nargs="+",
        help="write the README block of earlier runs' --out files (runs of other seeds, same "
        "configuration, are merged)",
    )
    args = ap.parse_args(argv)
    if args.render:
        return _publish(
            merge([json.loads(Path(p).read_text("utf-8")) for p in args.render]), args.write
        )
    started = time.perf_counter()

    corpus = load_corpus(args.data)
    corpus["row"] = np.arange(len(corpus))
    precompute_features(corpus)
    pool = corpus[corpus["split"] == "train"].reset_index(drop=True)
    test = corpus[corpus["split"] == "test"].reset_index(drop=True)

    def log(msg):
        print(msg, flush=True)

    full_scores = None
    if not args.no_full:
        full = make_model(args.seeds[0]).fit(pool, pool["label"].to_numpy())
        full_scores = {"coded_turns": len(pool), **scores(full, test)}
        log(f"every pool turn coded: {full_scores}")
    curves: dict[str, dict[int, list[dict]]] = {arm: {} for arm in args.arms}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for strategy in curves:
            curves[strategy][seed] = run_arm(pool, test, strategy, seed, args, log)
            result = {
                "config": {
                    k: v for k, v in vars(args).items() if k not in ("write", "out", "data")
                },
                "machine": f"{platform.machine()}, Python {platform.python_version()}",
                "minutes": round((time.perf_counter() - started) / 60, 1),
                "full": full_scores,
                "natural": summary(curves, args.targets, "natural"),
                "all": summary(curves, args.targets, "all"),
                "curves": {s: {str(k): v for k, v in c.items()} for s, c in curves.items()},
            }
            # written after every run, so an interrupted experiment keeps its finished seeds
            out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    _publish(result, args.write)


def merge(results: list[dict]) -> dict:
    """One result from runs of different seeds with the same configuration."""
    same = ("seeds", "arms")
    first = results[0]
    for other in results[1:]:
        a = {k: v for k, v in first["config"].items() if k not in same}
        b = {k: v for k, v in other["config"].items() if k not in same}
        if a != b:
            raise SystemExit("runs with different configurations cannot be merged")
    curves: dict[str, dict[int, list[dict]]] = {}
    for result in results:
        for arm, runs in result["curves"].items():
            curves.setdefault(arm, {}).update({int(k): v for k, v in runs.items()})
    targets = first["config"]["targets"]
    return {
        **first,
        "full": next((r["full"] for r in results if r.get("full")), None),
        "minutes": round(sum(r["minutes"] for r in results), 1),
        "natural": summary(curves, targets, "natural"),
        "all": summary(curves, targets, "all"),
        "curves": {s: {str(k): v for k, v in c.items()} for s, c in curves.items()},
    }


def _publish(result: dict, write: str | None) -> None:
    block = readme_block(result)
    print(block)
    if write:
        readme = Path(write)
        try:
            fill_marked_block(readme, START, END, f"{START}\n{block}\n{END}")
        except ValueError as e:
            raise SystemExit(str(e)) from None


if __name__ == "__main__":
    main()
