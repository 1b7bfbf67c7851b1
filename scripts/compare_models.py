"""Compare the project's model with baselines on the same splits, in one run (make evaluate).

Prints, side by side on the test split (trained on the train split):

- a majority baseline (every turn ``none``);
- TF-IDF (word 1-2-grams) + logistic regression on the turn's own text, no context;
- spaCy's own ``TextCategorizer`` (bag-of-words architecture, exclusive classes), trained on the
  same turns for a fixed number of epochs with a fixed seed;
- the rupture-nlp model with its defaults;

with per-label F1, macro-F1 over the three markers, and turns per second of prediction. Then:

- a learning curve: marker macro-F1 on test at 25/50/75/100% of the training sessions;
- leave-one-writer-out on train+dev: train on six writers, test on the seventh, for each writer.
  The corpus has seven writers with distinct style briefs, so this is the honest estimate of how
  the model does on sessions written by someone else;
- grouped 5-fold cross-validation on the train split.

Everything is seeded; figures go to stdout and, with ``--out``, to a JSON file.

Usage: python scripts/compare_models.py --data data/ [--out out/compare.json] [--quick]
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
from rupture_nlp.evaluation import cross_val_predictions, metrics, metrics_of_predictions
from rupture_nlp.labels import LABELS
from rupture_nlp.model import build_model, predict, train

SEED = 0


def timed_predict(fn, test: pd.DataFrame):
    start = time.perf_counter()
    y = fn(test)
    return y, len(test) / (time.perf_counter() - start)


def majority(train_df, test_df):
    label = train_df["label"].value_counts().idxmax()
    return timed_predict(lambda df: np.full(len(df), label), test_df)


def tfidf_lr(train_df, test_df):
    clf = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(max_iter=2000, class_weight="balanced"),
    )
    clf.fit(train_df["text"], train_df["label"])
    return timed_predict(lambda df: clf.predict(df["text"]), test_df)


def spacy_textcat(train_df, test_df, epochs: int = 12):
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
        for batch in minibatch(examples, size=32):
            nlp.update(batch, sgd=optimizer, drop=0.2)

    def run(df):
        return np.array(
            [max(doc.cats, key=doc.cats.get) for doc in nlp.pipe(df["text"], batch_size=256)]
        )

    return timed_predict(run, test_df)


def project_model(train_df, test_df):
    model = train(train_df, seed=SEED)
    return timed_predict(lambda df: predict(model, df)["predicted_label"].to_numpy(), test_df)


def row(name, y_true, y_pred, speed):
    m = metrics(y_true, y_pred)
    return {
        "model": name,
        **{f"F1 {lab}": m["per_label"][lab]["f1"] for lab in LABELS},
        "marker macro-F1": m["marker_macro_f1"],
        "rupture recall": m["rupture_recall"],
        "turns/s": int(speed),
    }


def learning_curve(train_df, test_df):
    sessions = sorted(train_df["session_id"].unique())
    random.Random(SEED).shuffle(sessions)
    out = []
    for share in (0.25, 0.5, 0.75, 1.0):
        keep = set(sessions[: max(2, int(round(share * len(sessions))))])
        part = train_df[train_df["session_id"].isin(keep)]
        model = train(part, seed=SEED)
        m = metrics(test_df["label"], predict(model, test_df)["predicted_label"])
        out.append(
            {
                "share of train sessions": f"{share:.0%}",
                "sessions": len(keep),
                "turns": len(part),
                "marker macro-F1": m["marker_macro_f1"],
                "macro-F1": m["macro_f1"],
            }
        )
    return pd.DataFrame(out)


def leave_one_writer_out(df):
    pred = cross_val_predictions(df, k=df["writer"].nunique(), seed=SEED, groups_column="writer")
    overall = metrics_of_predictions(pred)
    per = []
    for writer, part in pred.groupby("writer"):
        m = metrics_of_predictions(part)
        per.append(
            {
                "held-out writer": writer,
                "turns": len(part),
                **{f"F1 {lab}": m["per_label"][lab]["f1"] for lab in LABELS},
                "marker macro-F1": m["marker_macro_f1"],
            }
        )
    return overall, pd.DataFrame(per)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("data"))
    ap.add_argument("--out", type=Path)
    ap.add_argument("--quick", action="store_true", help="skip the slow parts (LOWO, CV)")
    args = ap.parse_args(argv)
    pd.set_option("display.width", 160)
    corpus = load_corpus(args.data)
    train_df = corpus[corpus["split"] == "train"].reset_index(drop=True)
    test_df = corpus[corpus["split"] == "test"].reset_index(drop=True)
    print(
        f"train {len(train_df)} turns / {train_df['session_id'].nunique()} sessions; "
        f"test {len(test_df)} turns / {test_df['session_id'].nunique()} sessions; "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}\n"
    )
    rows = []
    for name, fn in (
        ("majority (none)", majority),
        ("TF-IDF + LR, turn text only", tfidf_lr),
        ("spaCy TextCategorizer (BOW)", spacy_textcat),
        ("rupture-nlp", project_model),
    ):
        y_pred, speed = fn(train_df, test_df)
        rows.append(row(name, test_df["label"], y_pred, speed))
    table = pd.DataFrame(rows)
    print("Test split, trained on train:\n" + table.to_string(index=False) + "\n")
    curve = learning_curve(train_df, test_df)
    print("Learning curve (test split):\n" + curve.to_string(index=False) + "\n")
    result = {"comparison": rows, "learning_curve": curve.to_dict("records")}
    if not args.quick:
        dev_train = corpus[corpus["split"] != "test"].reset_index(drop=True)
        overall, per = leave_one_writer_out(dev_train)
        print(
            f"Leave one writer out (train+dev, {len(dev_train)} turns): marker macro-F1 "
            f"{overall['marker_macro_f1']:.3f}, macro-F1 {overall['macro_f1']:.3f}\n"
            + per.to_string(index=False)
            + "\n"
        )
        cv = metrics_of_predictions(
            cross_val_predictions(train_df, k=5, seed=SEED, model=build_model(seed=SEED))
        )
        print(
            f"5-fold CV grouped by session (train): marker macro-F1 {cv['marker_macro_f1']:.3f}, "
            f"macro-F1 {cv['macro_f1']:.3f}, ECE "
            + ", ".join(f"{k} {v:.3f}" for k, v in cv["calibration_ece"].items())
        )
        result.update(
            {
                "leave_one_writer_out": {"overall": overall, "per_writer": per.to_dict("records")},
                "cv5_train": cv,
            }
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
