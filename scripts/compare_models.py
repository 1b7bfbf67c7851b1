"""Compare the project's model with baselines, and write the README's model figures (make evaluate).

Everything is measured on turns the model did not train on, and reported for natural-density
sessions (markers as rare as in real sessions) apart from rupture-dense ones:

- the test split, trained on the train split: a majority baseline (every turn ``none``);
  TF-IDF (word 1-2-grams) + logistic regression on the turn's own text; spaCy's
  ``TextCategorizer`` (bag of words); rupture-nlp without its context stage (``before=0,
  after=0``: the second stage only calibrates each turn's own scores); rupture-nlp;
- leave writers out on train+dev: the writers (distinct style briefs) in ``--writer-folds``
  groups (10; as many as writers is leave one writer out), each group held out in turn and the
  model trained on the others: the honest estimate for sessions written by someone else;
- with ``--real PATH``: a labelled set of real sessions outside the repository, scored by the
  default model trained on the train split (figures only; no text is written anywhere);
- a learning curve: natural-density test figures at 25/50/75/100% of the training sessions.

Figures go to stdout, to ``--out`` (JSON) and, with ``--write README.md``, into the README
between ``<!-- model-figures:start -->`` and ``<!-- model-figures:end -->``.

Usage: python scripts/compare_models.py --data data/ [--real FILE] [--out out/compare.json]
       [--write README.md] [--quick] [--writer-folds K] [--jobs N]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from rupture_nlp.corpus import load_corpus
from rupture_nlp.evaluation import cross_val_predictions, figures_by_density, prediction_figures
from rupture_nlp.labels import LABELS
from rupture_nlp.model import predict, require_labels, train
from rupture_nlp.readers import read_transcripts
from rupture_nlp.writers import fill_marked_block, markdown_table

SEED = 0
START, END = "<!-- model-figures:start -->", "<!-- model-figures:end -->"
MARKERS = ("withdrawal", "confrontation", "repair")


def majority(train_df, test_df):
    label = train_df["label"].value_counts().idxmax()
    return np.full(len(test_df), label)


def tfidf_lr(train_df, test_df):
    clf = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(max_iter=2000, class_weight="balanced"),
    )
    clf.fit(train_df["text"], train_df["label"])
    return clf.predict(test_df["text"])


def spacy_textcat(train_df, test_df, epochs: int = 8):
    import spacy
    from spacy.training import Example
    from spacy.util import fix_random_seed, minibatch

    fix_random_seed(SEED)
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe(
        "textcat",
        config={
            "model": {
                "@architectures": "spacy.TextCatBOW.v3",
                "exclusive_classes": True,
                "ngram_size": 2,
                "no_output_layer": False,
                "length": 262144,
            }
        },
    )
    for label in LABELS:
        textcat.add_label(label)
    examples = [
        Example.from_dict(nlp.make_doc(t), {"cats": {lab: float(lab == y) for lab in LABELS}})
        for t, y in zip(train_df["text"], train_df["label"], strict=True)
    ]
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(SEED)
    for _ in range(epochs):
        rng.shuffle(examples)
        for batch in minibatch(examples, size=64):
            nlp.update(batch, sgd=optimizer, drop=0.2)
    docs = nlp.pipe(test_df["text"], batch_size=256)
    return np.array([max(doc.cats, key=doc.cats.get) for doc in docs])


def row(figs: dict) -> dict:
    """One table row of :func:`~rupture_nlp.evaluation.prediction_figures` output: marker F1s,
    flagged/coded turns, unrepaired episodes and (with p_*) ICC and ECE."""
    m, episodes = figs["turns"], figs["episodes"]
    out = {
        "turns": m["n_turns"],
        **{f"F1 {lab}": m["per_label"][lab]["f1"] for lab in MARKERS},
        "marker macro-F1": m["marker_macro_f1"],
        "flagged": m["flagged_turns"],
        "coded": m["coded_turns"],
        "unrepaired flagged": episodes["predicted"],
        "unrepaired coded": episodes["gold"],
    }
    if "session_icc" in m:
        out.update({f"ICC {lab}": m["session_icc"][lab] for lab in MARKERS})
        out.update({f"ECE {lab}": m["calibration_ece"][lab] for lab in MARKERS})
    return out


def figures(pred: pd.DataFrame) -> dict:
    return row(prediction_figures(pred))


def by_density(pred: pd.DataFrame) -> dict:
    return {kind: row(figs) for kind, figs in figures_by_density(pred).items()}


def test_split(train_df, test_df) -> tuple[list[dict], object]:
    """Rows of the test-split table, and the default model trained on the train split."""
    rows = []
    for name, fn in (
        ("majority (none)", majority),
        ("TF-IDF + LR, turn text only", tfidf_lr),
        ("spaCy TextCategorizer (BOW)", spacy_textcat),
    ):
        pred = test_df.assign(predicted_label=fn(train_df, test_df))
        rows.append({"model": name, **_flat(by_density(pred))})
    for name, params in (
        ("rupture-nlp without context stage", {"before": 0, "after": 0}),
        ("rupture-nlp", {}),
    ):
        start = time.perf_counter()
        model = train(train_df, seed=SEED, **params)
        fit_s = time.perf_counter() - start
        pred = predict(model, test_df)
        rows.append({"model": name, **_flat(by_density(pred)), "train s": round(fit_s, 1)})
    return rows, model


def _flat(d: dict) -> dict:
    return {f"{kind} {k}": v for kind, figs in d.items() for k, v in figs.items()}


def learning_curve(train_df, test_df, full_model) -> list[dict]:
    sessions = sorted(train_df["session_id"].unique())
    random.Random(SEED).shuffle(sessions)
    test = test_df[test_df["density"] == "natural"]
    out = []
    for share in (0.25, 0.5, 0.75, 1.0):
        keep = set(sessions[: max(2, int(round(share * len(sessions))))])
        part = train_df[train_df["session_id"].isin(keep)]
        model = full_model if share == 1.0 else train(part, seed=SEED)
        f = figures(predict(model, test))
        out.append({"share": f"{share:.0%}", **f, "train turns": len(part)})
    return out


def leave_writers_out(df, k: int, n_jobs: int = 1) -> dict:
    """Out-of-writer figures: ``k`` folds grouped by writer (at most one per writer), so every
    writer's sessions are predicted by a model that saw none of that writer's (``k`` = number
    of writers: leave one writer out). Returns the folds used, the figures by density and per
    writer."""
    k = min(k, df["writer"].nunique())
    pred = cross_val_predictions(df, k=k, seed=SEED, groups_column="writer", n_jobs=n_jobs)
    per = [
        {"held-out writer": w, "density": part["density"].iloc[0], **figures(part)}
        for w, part in pred.groupby("writer")
    ]
    return {"folds": k, "overall": by_density(pred), "per_writer": per}


def md_table(rows: list[dict], columns: list[str]) -> str:
    def fmt(v):
        return f"{v:.3f}" if isinstance(v, float) else ("-" if v is None else str(v))

    return markdown_table(columns, ([fmt(r.get(c)) for c in columns] for r in rows))


def readme_block(result: dict) -> str:
    f1 = ["F1 withdrawal", "F1 confrontation", "F1 repair", "marker macro-F1"]
    parts = []
    rows = result["test_split"]
    parts.append(
        "Test split, trained on the train split; natural-density sessions (markers as rare as in "
        "real sessions) and rupture-dense sessions apart:\n\n"
        + md_table(
            rows,
            ["model"]
            + [f"natural {c}" for c in (*f1, "flagged", "coded")]
            + ["dense marker macro-F1"],
        )
    )
    nat = rows[-1]
    parts.append(
        "The default model on the natural-density test sessions: per-session frequency ICC(2,1) "
        + ", ".join(f"{lab} {nat[f'natural ICC {lab}']}" for lab in MARKERS)
        + "; expected calibration error "
        + ", ".join(f"{lab} {nat[f'natural ECE {lab}']}" for lab in MARKERS)
        + f"; unrepaired episodes {nat['natural unrepaired flagged']} flagged against "
        f"{nat['natural unrepaired coded']} coded."
    )
    if "leave_writers_out" in result:
        lowo = result["leave_writers_out"]
        parts.append(
            f"**Leave writers out** (train+dev in {lowo['folds']} folds grouped by writer: each "
            "writer's sessions are predicted by a model trained on other writers only): the "
            "figure to expect on sessions written in another style.\n\n"
            + md_table(
                [{"sessions": k, **v} for k, v in lowo["overall"].items()],
                ["sessions", *f1, "flagged", "coded", "ICC withdrawal", "ICC repair"],
            )
            + "\n\n"
            + md_table(lowo["per_writer"], ["held-out writer", "density", *f1, "flagged", "coded"])
        )
    if "real" in result:
        r = result["real"]
        parts.append(
            f"**Real sessions** ({r['name']}, {r['figures']['turns']} turns of real clients; not "
            "part of the repository, never trained on), default model trained on the train "
            "split:\n\n"
            + md_table(
                [r["figures"]],
                [*f1, "flagged", "coded", "unrepaired flagged", "unrepaired coded"]
                + [f"ICC {lab}" for lab in MARKERS],
            )
        )
    if "learning_curve" in result:
        parts.append(
            "Learning curve (natural-density test sessions):\n\n"
            + md_table(
                result["learning_curve"],
                ["share", "train turns", "marker macro-F1", "flagged", "coded"],
            )
        )
    parts.append(f"Measured by `make evaluate` ({result['machine']}).")
    return f"{START}\n\n" + "\n\n".join(parts) + f"\n\n{END}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("data"))
    ap.add_argument("--real", type=Path, help="labelled real sessions outside the repository")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--write", type=Path, help="README to write the figures into")
    ap.add_argument("--quick", action="store_true", help="skip leaving writers out")
    ap.add_argument(
        "--writer-folds",
        type=int,
        default=10,
        help="folds grouped by writer (the number of writers: leave one writer out)",
    )
    ap.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="writer folds fitted at once, in worker processes (the other figures use one)",
    )
    args = ap.parse_args(argv)
    if args.writer_folds < 2:
        ap.error("--writer-folds needs at least 2 folds")
    pd.set_option("display.width", 200)
    corpus = load_corpus(args.data)
    train_df = corpus[corpus["split"] == "train"].reset_index(drop=True)
    test_df = corpus[corpus["split"] == "test"].reset_index(drop=True)
    rows, default_model = test_split(train_df, test_df)
    result = {
        "machine": f"{platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}, seed {SEED}",
        "test_split": rows,
    }
    print(pd.DataFrame(result["test_split"]).T.to_string(), "\n")
    if args.real:
        real = require_labels(read_transcripts([args.real]))
        pred = predict(default_model, real)
        result["real"] = {"name": args.real.name, "figures": figures(pred)}
        print("real:", result["real"], "\n")
    if not args.quick:
        dev_train = corpus[corpus["split"] != "test"].reset_index(drop=True)
        lwo = result["leave_writers_out"] = leave_writers_out(
            dev_train, args.writer_folds, args.jobs
        )
        print(pd.DataFrame(lwo["per_writer"]).to_string(index=False), "\n", lwo["overall"], "\n")
    result["learning_curve"] = learning_curve(train_df, test_df, default_model)
    print(pd.DataFrame(result["learning_curve"]).to_string(index=False))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    if args.write:
        try:
            fill_marked_block(args.write, START, END, readme_block(result))
        except ValueError as e:
            raise SystemExit(str(e)) from None
        print(f"wrote model figures into {args.write}")


if __name__ == "__main__":
    main()
