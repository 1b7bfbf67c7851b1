"""Compute the data card's figures from the corpus files and write them into data/README.md.

Everything between ``<!-- figures:start -->`` and ``<!-- figures:end -->`` in the data card is
produced here, so no figure is typed by hand; ``--check`` exits 1 when the card is out of date
(a test runs it). Figures: sessions and turns per split, labels per split, subtypes, writers and
modalities, timestamps, text variety, and inter-coder agreement from ``data/agreement/*.json``
(``rupture_nlp.agreement``: kappa, alpha and AC1 overall and per label, per-session ICC,
unrepaired episodes found by both coders).

Usage: python scripts/data_card.py --data data/ [--write data/README.md | --check data/README.md]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

import pandas as pd

from rupture_nlp.agreement import agreement
from rupture_nlp.corpus import load_corpus
from rupture_nlp.labels import LABELS, SUBTYPES
from rupture_nlp.writers import fill_marked_block, markdown_table

START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def table(df: pd.DataFrame) -> str:
    return markdown_table(df.columns, df.itertuples(index=False))


def variety(df: pd.DataFrame) -> tuple[float, float]:
    """Share of turns repeating another turn's exact text; share sharing an 8-word run with
    turns of three or more sessions (the measure of templated text)."""
    texts = df["text"].tolist()
    counts = collections.Counter(texts)
    repeated = sum(c for c in counts.values() if c > 1) / len(texts)
    words = [re.findall(r"[a-z']+", t.lower()) for t in texts]
    seen: dict[str, set] = collections.defaultdict(set)
    for w, sid in zip(words, df["session_id"], strict=True):
        for i in range(len(w) - 7):
            seen[" ".join(w[i : i + 8])].add(sid)
    shared = sum(
        any(len(seen[" ".join(w[i : i + 8])]) > 2 for i in range(len(w) - 7)) for w in words
    )
    return repeated, shared / len(texts)


PASSES_FILE = "passes.json"


def passes_path(data: Path) -> Path:
    return data / "agreement" / PASSES_FILE


def passes(data: Path) -> dict[str, dict]:
    """``data/agreement/passes.json``: for each coding pass (``NAME.json`` beside it), what it
    covers and, per batch of writers coded blind together (in the order they joined), which of
    their sessions were drawn. ``scripts/import_agreement.py --batch`` adds to it."""
    path = passes_path(data)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def covered(spec: dict) -> str:
    """A pass's sessions in words, from its batches: "natural-density sessions (one session of
    each writer, drawn at random: writers bn-bu, bv-cc; ...)"."""
    by_rule: dict[str, list[str]] = {}
    for batch, rule in spec.get("batches", {}).items():
        by_rule.setdefault(rule, []).append(batch)
    parts = [f"{rule}: writers {', '.join(batches)}" for rule, batches in by_rule.items()]
    covers = spec.get("covers", "sessions")
    return f"{covers} ({'; '.join(parts)})" if parts else covers


def batch_order(spec: dict[str, dict]) -> tuple[str, ...]:
    """Writers coded blind together in the natural-density pass of ``passes.json``: the
    by-batch table's rows, in the order they joined."""
    return tuple(spec.get("natural_pass", {}).get("batches", {}))


def batches(data: Path) -> tuple[str, ...]:
    return batch_order(passes(data))


def writer_key(code: str) -> tuple[int, str]:
    """Writers' codes in the order they were given out: a-z, then aa-az, ba-bz, ..."""
    return len(code), code


def batch_range(batch: str) -> tuple[tuple[int, str], tuple[int, str]] | None:
    """The first and last writer's keys of a batch ``FIRST-LAST``; ``None`` if it is not one."""
    lo, sep, hi = batch.partition("-")
    if not (sep and lo.isalpha() and hi.isalpha() and writer_key(lo) <= writer_key(hi)):
        return None
    return writer_key(lo), writer_key(hi)


def batch_of(writer: str, batches: tuple[str, ...]) -> str | None:
    """The batch (``FIRST-LAST``, a range of writers' codes) that ``writer`` is in, if any."""
    for batch in batches:
        lo, hi = batch_range(batch)
        if lo <= writer_key(writer) <= hi:
            return batch
    return None


def agreement_by_batch(b: pd.DataFrame, writer: pd.Series, order: tuple[str, ...]) -> str:
    """Kappa and how the disputes were settled, per batch of writers: whether adjudication
    leans to the marker is a figure here, not a sentence kept by hand. ``writer`` maps each
    session to its writer."""
    b = b.assign(batch=b["session_id"].map(writer).map(lambda w: batch_of(w, order)))
    b = b.dropna(subset=["batch"])
    if b.empty:
        return ""
    rows = []
    for batch, g in b.groupby("batch", sort=False):
        first = g.assign(label=g["first_label"], subtype=g["first_subtype"])
        disputed = g[g["first_label"] != g["label"]]
        one_none = disputed[(disputed["first_label"] == "none") | (disputed["label"] == "none")]
        to_marker = one_none[one_none["adjudicated_label"] != "none"]
        rows.append(
            {
                "writers": batch,
                "sessions": g["session_id"].nunique(),
                "turns": len(g),
                "Cohen's kappa": f"{agreement([first, g])['kappa']:.3f}",
                "disputes": len(disputed),
                "marker or none, settled to the marker": f"{len(to_marker)} of {len(one_none)}",
                "of them repairs the writer left none": int(
                    (
                        (to_marker["first_label"] == "none")
                        & (to_marker["adjudicated_label"] == "repair")
                    ).sum()
                ),
            }
        )
    rows.sort(key=lambda r: order.index(r["writers"]))
    return (
        "\n\nBy batch of writers (the first label is the writer's; in a dispute between a marker and "
        "`none`, how often the adjudicator chose the marker):\n\n" + table(pd.DataFrame(rows))
    )


def coder_agreement(data: Path, writer: pd.Series) -> str:
    """Agreement of each blind second coding pass with the first-pass labels."""
    parts = []
    every = passes(data)
    order = batch_order(every)
    for name, spec in every.items():
        path = data / "agreement" / f"{name}.json"
        if path.exists():
            parts.append(pass_agreement(path, covered(spec), writer, order))
    return "\n\n".join(parts) if parts else "No second coding pass yet."


def pass_agreement(path: Path, covered: str, writer: pd.Series, order: tuple[str, ...]) -> str:
    b = pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))
    first = b.assign(label=b["first_label"], subtype=b["first_subtype"])
    result = agreement([first, b])  # the same function as `rupture agree`
    pair = result["pairs"][0]

    columns = {"Cohen's kappa": "kappa", "Krippendorff's alpha": "alpha", "Gwet's AC1": "ac1"}

    def figures_row(label: str, v: dict) -> dict:
        return {"label": label} | {
            name: "-" if v[key] is None else f"{v[key]:.3f}" for name, key in columns.items()
        }

    rows = [figures_row("all (4 labels)", result)]
    rows += [figures_row(lab, v) for lab, v in result["per_label"].items()]
    confusion = pd.DataFrame(pair["confusion"]["matrix"], index=list(LABELS), columns=list(LABELS))
    confusion.insert(0, "first \\ second", confusion.index)
    disagreements = int((b["first_label"] != b["label"]).sum())
    changed = int((b["adjudicated_label"] != b["first_label"]).sum())
    subtypes = pair["subtypes"].get("all")
    subtype = (
        f"Where both coders chose the same marker label, they chose the same subtype in "
        f"{subtypes['agreement']:.1%} of {subtypes['n_turns']} turns.\n\n"
        if subtypes
        else ""
    )
    icc = ", ".join(
        f"{lab} {'-' if v is None else f'{v:.2f}'}" for lab, v in result["session_icc"].items()
    )
    episodes = pair["episodes"]["unrepaired"]
    by_batch = agreement_by_batch(b, writer, order)
    return (
        f"#### `{path.name}`: {covered}\n\n"
        f"A second coder labelled {result['n_turns']} turns of {result['n_sessions']} sessions, "
        f"blind to the first labels. Raw agreement {result['agreement']:.1%}; overall and per "
        "label (each label against the rest):\n\n"
        + table(pd.DataFrame(rows))
        + "\n\n"
        + f"Per-session frequency ICC(2,1) of turns per 100 (the 3RS way): {icc}. Unrepaired "
        f"episodes (each coder's own, matched by overlapping turns): {episodes['both']} found by "
        f"both, {episodes['only_first']} by the first coder only, {episodes['only_second']} by "
        "the second only.\n\n"
        + subtype
        + table(confusion)
        + "\n\n"
        + f"An adjudicator, who saw both labels without knowing which coder gave which, decided "
        f"the {disagreements} disagreements; {changed} first-pass labels changed, and the corpus "
        f"carries the adjudicated labels (`data/agreement/{path.name}` keeps all three with "
        "the adjudicator's reasons)." + by_batch
    )


def figures(data: Path) -> str:
    df = load_corpus(data)
    out = []
    per_split = df.groupby("split").agg(sessions=("session_id", "nunique"), turns=("turn", "size"))
    labels = pd.crosstab(df["split"], df["label"]).reindex(columns=list(LABELS), fill_value=0)
    summary = per_split.join(labels).reindex(["train", "dev", "test"])
    summary.loc["all"] = summary.sum()
    summary.insert(0, "split", summary.index)
    out.append("### Splits and labels\n\n" + table(summary))
    if "density" in df:
        dens = df.groupby(["split", "density"]).agg(
            sessions=("session_id", "nunique"),
            turns=("turn", "size"),
            markers=("label", lambda s: int((s != "none").sum())),
        )
        dens["marker share"] = (dens["markers"] / dens["turns"]).map("{:.1%}".format)
        dens = dens.reset_index()
        out.append(
            "By density (`natural`: markers as rare as in real sessions; `dense`: written rich "
            "in ruptures):\n\n" + table(dens)
        )
    share = df["label"].value_counts(normalize=True).reindex(list(LABELS))
    out.append("Label shares: " + ", ".join(f"{k} {v:.1%}" for k, v in share.items()) + ".")
    subs = df[df["subtype"] != ""].groupby(["label", "subtype"]).size()
    rows = [
        {
            "label": SUBTYPES[code][0],
            "subtype": code,
            "meaning": SUBTYPES[code][1],
            "turns": int(subs.get((SUBTYPES[code][0], code), 0)),
        }
        for code in SUBTYPES
    ]
    out.append("### Subtypes\n\n" + table(pd.DataFrame(rows)))
    sess = df.groupby("session_id").agg(
        writer=("writer", "first"),
        turns=("turn", "size"),
        markers=("label", lambda s: int((s != "none").sum())),
    )
    by_writer = sess.groupby("writer").agg(
        sessions=("turns", "size"),
        turns=("turns", "sum"),
        no_rupture=("markers", lambda m: int((m == 0).sum())),
    )
    by_writer.insert(0, "writer", by_writer.index)
    out.append(
        "### Writers\n\nEach writer had a distinct style brief (see Provenance).\n\n"
        + table(by_writer)
    )
    lengths = sess["turns"]
    timed = df.groupby("session_id")["start"].apply(lambda s: s.notna().all())
    out.append(
        f"Session length: {lengths.min()} to {lengths.max()} turns (median "
        f"{int(lengths.median())}). Sessions with `start`/`end` times: {int(timed.sum())}. "
        f"Turn length: median {int(df['text'].str.split().str.len().median())} words, "
        f"longest {int(df['text'].str.split().str.len().max())}."
    )
    repeated, shared = variety(df)
    out.append(
        f"### Variety\n\n{repeated:.1%} of turns repeat another turn's exact text (almost "
        f'all backchannels such as "Mm-hmm." and "Yeah."); {shared:.1%} share an '
        "8-word run with turns of three or more sessions."
    )
    writer = df.drop_duplicates("session_id").set_index("session_id")["writer"]
    out.append("### Agreement\n\n" + coder_agreement(data, writer))
    return "\n\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("data"))
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--write", type=Path)
    group.add_argument("--check", type=Path)
    args = ap.parse_args(argv)
    block = f"{START}\n\n{figures(args.data)}\n\n{END}"
    target = args.write or args.check
    if target is None:
        print(block)
        return 0
    try:
        changed = fill_marked_block(target, START, END, block, write=not args.check)
    except ValueError as e:
        sys.exit(str(e))
    if args.check:
        if changed:
            print(f"{target} is out of date: run make datacard", file=sys.stderr)
            return 1
        return 0
    print(f"wrote figures into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
