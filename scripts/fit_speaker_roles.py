"""Fit the speaker-role model on the corpus's train split, and measure it (make speaker-roles).

The corpus's sessions are rendered as a recogniser gives them (speakers renamed ``SPEAKER_00``,
``SPEAKER_01``... in a seeded random order, every turn kept), the per-speaker features of
``rupture_nlp.speakers`` are fitted with a logistic regression on the train split, and the
coefficients are written to ``rupture_nlp/speaker_roles.json`` (deterministic: same data, same
file). Then the roles are inferred back and compared with the truth:

- dev+test sessions (not trained on): read back as diarised ``.txt`` files through the readers
  with ``--speaker-map auto``, the way a user's files go;
- leave one writer out: for each writer, fitted on the other writers' train sessions and
  scored on every session of the held-out writer;
- sessions cut to their first 20 turns or to 6-turn excerpts (less evidence), sessions starting
  at turn 2 (the client speaks first, as in a recording started late), and text in lower case
  without punctuation (recognisers that write no question marks);
- warnings: how many dev+test sessions warn with the true map (false alarms) and with the two
  speakers swapped;
- with ``--real FILE``: a labelled table of real sessions (figures only, never trained on).

Usage: python scripts/fit_speaker_roles.py --data data/ [--real FILE] [--write README.md]
       [--check]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from rupture_nlp.corpus import load_corpus
from rupture_nlp.readers import read_transcripts
from rupture_nlp.speakers import (
    SpeakerMap,
    SpeakerMapWarning,
    apply_speaker_roles,
    fit_role_model,
    render_diarised,
    role_accuracy,
    speaker_features,
)
from rupture_nlp.writers import fill_marked_block, markdown_table

SEED = 0
MODEL_PATH = Path(__file__).resolve().parent.parent / "rupture_nlp" / "speaker_roles.json"
START, END = "<!-- speaker-roles:start -->", "<!-- speaker-roles:end -->"


def starting_late(rendered: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """Each session again as a recording that starts at turn 2 to 6 (seeded): in the corpus
    the therapist nearly always speaks first, in recordings often not, so who speaks first
    must not decide alone."""
    rng = np.random.default_rng(seed)
    ids = rendered["session_id"].drop_duplicates()
    cut = dict(zip(ids, rng.integers(1, 6, size=len(ids)), strict=True))
    late = rendered[rendered.groupby("session_id").cumcount() >= rendered["session_id"].map(cut)]
    return late.assign(session_id=late["session_id"] + "~late")


def fit(rendered: pd.DataFrame) -> dict:
    rendered = pd.concat([rendered, starting_late(rendered)], ignore_index=True)
    feats = speaker_features(rendered)
    truth = rendered.groupby(["session_id", "speaker_name"], sort=False)["true_role"].first()
    is_t = truth.loc[list(zip(feats["session_id"], feats["speaker_name"], strict=True))]
    per_session = (
        rendered.drop_duplicates(["session_id", "speaker_name"])
        .groupby("session_id")["true_role"]
        .agg(lambda s: int((s == "therapist").sum()))
    )
    return fit_role_model(feats, (is_t == "therapist").to_numpy(), per_session.to_numpy())


def read_back(rendered: pd.DataFrame) -> dict:
    """Write each session as ``SPEAKER_00: ...`` lines, read the folder with auto roles."""
    with tempfile.TemporaryDirectory() as tmp:
        for sid, g in rendered.groupby("session_id", sort=False):
            lines = [
                f"{n}: {' '.join(t.split())}" for n, t in zip(g["speaker"], g["text"], strict=True)
            ]
            (Path(tmp) / f"{sid}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        back = read_transcripts([tmp], SpeakerMap(infer=True))
    truth = rendered.set_index(["session_id", "turn"])["true_role"]
    got = back.set_index(["session_id", "turn"])["speaker"]
    right = (got == "therapist") == (truth.loc[got.index] == "therapist")
    ok = right.groupby(level=0).all()
    return {
        "sessions": int(len(ok)),
        "sessions_correct": float(ok.mean()),
        "turns": int(len(right)),
        "turns_correct": float(right.mean()),
        "mean_confidence": float(back.groupby("session_id")["role_confidence"].min().mean()),
    }


def warning_rates(rendered: pd.DataFrame) -> dict:
    """Sessions that warn with the true map, and with therapist and client swapped (dyads)."""
    out = {}
    dyads = rendered.groupby("session_id")["true_role"].transform("nunique") == 2
    rendered = rendered[dyads]
    roles = rendered.drop_duplicates(["session_id", "speaker_name"])
    swap = {"therapist": "client", "client": "therapist"}
    for kind, how in (("true map", lambda r: r), ("swapped map", lambda r: swap[r])):
        per = {}
        for sid, g in roles.groupby("session_id"):
            per[sid] = {n: how(r) for n, r in zip(g["speaker_name"], g["true_role"], strict=True)}
        warned = 0
        for sid, g in rendered.groupby("session_id", sort=False):
            frame = g.drop(columns=["true_role"]).copy()
            frame["speaker"] = frame["speaker_name"].map(per[sid])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                apply_speaker_roles(frame, f"{sid}.txt", SpeakerMap(per_session={sid: per[sid]}))
            warned += any(issubclass(w.category, SpeakerMapWarning) for w in caught)
        out[kind] = {"sessions": int(rendered["session_id"].nunique()), "warned": warned}
    return out


def pooled(results: list[dict]) -> dict:
    """Figures of several held-out parts as one: weighted by sessions (or turns)."""
    n_s = sum(r["sessions"] for r in results)
    n_t = sum(r["turns"] for r in results)
    return {
        "sessions": n_s,
        "sessions_correct": sum(r["sessions_correct"] * r["sessions"] for r in results) / n_s,
        "turns": n_t,
        "turns_correct": sum(r["turns_correct"] * r["turns"] for r in results) / n_t,
        "mean_confidence": sum(r["mean_confidence"] * r["sessions"] for r in results) / n_s,
    }


def leave_one_writer_out(rendered: pd.DataFrame, only=None) -> dict:
    """Each writer's sessions (those in ``only`` when given) scored by a model fitted on the
    other writers' train sessions."""
    scored = rendered if only is None else rendered[only]
    per_writer = {}
    for writer in sorted(scored["writer"].unique()):
        train = rendered[(rendered["writer"] != writer) & (rendered["split"] == "train")]
        per_writer[writer] = role_accuracy(scored[scored["writer"] == writer], model=fit(train))
    worst = min(per_writer, key=lambda w: per_writer[w]["sessions_correct"])
    return {**pooled(list(per_writer.values())), "worst_writer": worst}


def first_turns(rendered: pd.DataFrame, n: int) -> pd.DataFrame:
    return rendered[rendered.groupby("session_id").cumcount() < n]


def bare(rendered: pd.DataFrame) -> pd.DataFrame:
    """Lower case without punctuation, as some recognisers write (no question marks)."""
    text = rendered["text"].str.lower().str.replace(r"[^\w\s']", " ", regex=True)
    return rendered.assign(text=text)


def excerpts(rendered: pd.DataFrame, n: int, seed: int = SEED) -> pd.DataFrame:
    """``n`` consecutive turns of each session from a seeded random start (a short clip)."""
    rng = np.random.default_rng(seed)
    position = rendered.groupby("session_id").cumcount()
    size = rendered.groupby("session_id")["turn"].transform("size")
    ids = rendered["session_id"].drop_duplicates()
    start = dict(zip(ids, rng.random(len(ids)), strict=True))
    first = (rendered["session_id"].map(start) * (size - n).clip(lower=0)).astype(int)
    return rendered[(position >= first) & (position < first + n)]


def readme_block(fig: dict) -> str:
    w = fig["warnings"]
    rows = [
        ("dev+test (read back through `--speaker-map auto`)", fig["dev+test"]),
        ("leave one writer out", fig["lowo"]),
        ("dev+test from turn 2 (the client speaks first)", fig["from turn 2"]),
        ("dev+test, first 20 turns only", fig["first 20 turns"]),
        ("dev+test, 6-turn excerpts", fig["6-turn excerpts"]),
        ("dev+test, no punctuation, first 20 turns", fig["no punctuation, first 20 turns"]),
        ("3+ speakers, leave one writer out", fig["3+ speakers"]),
    ]
    header = [
        "corpus sessions rendered as diarised files",
        "sessions",
        "all roles right",
        "turns right",
        "mean confidence",
    ]
    cells = [
        [
            title,
            r["sessions"],
            f"{r['sessions_correct']:.1%}",
            f"{r['turns_correct']:.2%}",
            f"{r['mean_confidence']:.3f}",
        ]
        for title, r in rows
    ]
    lines = [START, markdown_table(header, cells)]
    lines += [
        "",
        f"Warnings on dev+test dyads: the true map warns on {w['true map']['warned']} of "
        f"{w['true map']['sessions']} sessions, the swapped map on "
        f"{w['swapped map']['warned']} of {w['swapped map']['sessions']}.",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data")
    ap.add_argument("--real", help="a labelled table of real sessions (figures only)")
    ap.add_argument("--write", help="README to update between the speaker-roles markers")
    ap.add_argument("--out", help="also write the figures as JSON")
    ap.add_argument("--check", action="store_true", help="fail if the shipped JSON differs")
    args = ap.parse_args()

    corpus = load_corpus(args.data)
    rendered = render_diarised(corpus, seed=SEED)
    model = fit(rendered[rendered["split"] == "train"])
    text = json.dumps(model, indent=1) + "\n"
    if args.check:
        if MODEL_PATH.read_text(encoding="utf-8") != text:
            raise SystemExit(f"{MODEL_PATH} differs from a refit; run this script without --check")
    else:
        MODEL_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {MODEL_PATH}")

    held = rendered[rendered["split"].isin(["dev", "test"])]
    multi = rendered.groupby("session_id")["true_role"].transform("nunique") > 2
    fig = {
        "dev+test": read_back(held),
        "dev+test in memory": role_accuracy(held, model=model),
        "lowo": leave_one_writer_out(rendered),
        "writers": sorted(rendered["writer"].unique()),
        "first 20 turns": role_accuracy(first_turns(held, 20), model=model),
        "from turn 2": role_accuracy(held[held.groupby("session_id").cumcount() > 0], model),
        "6-turn excerpts": role_accuracy(excerpts(held, 6), model=model),
        "no punctuation, first 20 turns": role_accuracy(first_turns(bare(held), 20), model),
        "3+ speakers": leave_one_writer_out(rendered, only=multi),
        "warnings": warning_rates(held),
    }
    if args.real:
        real = render_diarised(read_transcripts([args.real]), seed=SEED)
        fig["real"] = role_accuracy(real, model=model)
        fig["real first 20 turns"] = role_accuracy(first_turns(real, 20), model=model)
        fig["real 6-turn excerpts"] = role_accuracy(excerpts(real, 6), model=model)
        fig["real from turn 2"] = role_accuracy(
            real[real.groupby("session_id").cumcount() > 0], model
        )
        fig["real warnings"] = warning_rates(real)
    print(json.dumps(fig, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(fig, indent=2) + "\n", encoding="utf-8")
    if args.write:
        readme = Path(args.write)
        try:
            fill_marked_block(readme, START, END, readme_block(fig))
        except ValueError as e:
            raise SystemExit(str(e)) from None
        print(f"updated {readme}")


if __name__ == "__main__":
    main()
