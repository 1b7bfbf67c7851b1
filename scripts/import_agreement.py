"""Import a blind second coding pass and its adjudication into the corpus.

Inputs (outside the repository, as the coders delivered them):

- ``SECOND_DIR/<session_id>.txt``: the second coder's labels of whole sessions, one line per
  turn, ``TURN|LABEL|SUBTYPE|NOTE``; or ``SECOND_FILE``, one file of single turns from anywhere
  in the corpus, ``SESSION|TURN|LABEL|SUBTYPE|NOTE`` (a blind recoding of the turns a reviewer
  flagged, such as ``review_pass``);
- ``ADJUDICATION``: one line per disagreement, ``SESSION|TURN|LABEL|SUBTYPE|RATIONALE``.

Outputs: ``data/agreement/NAME.json`` (``--name``, default ``second_pass``; one record per
double-coded turn: its
``session_id`` and ``turn``, the second coder's ``label``, ``subtype`` and ``note``, with
``first_label``, ``first_subtype``, ``adjudicated_label``, ``adjudicated_subtype`` and the
adjudicator's note; the text stays in the corpus, once), and ``corpus.csv``
with the adjudicated labels of the disputed turns. Run once per coding pass; the first-pass
labels stay in the pass's JSON file, so the kappa in the data card is computed against them.
Passes: ``second_pass`` (the rupture-dense sessions of the first seven writers),
``natural_pass`` (natural-density sessions of the later writers) and ``review_pass`` (single
turns a reviewer flagged, coded again blind).

Usage: python scripts/import_agreement.py SECOND_DIR|SECOND_FILE ADJUDICATION --data data/
       [--name NAME] [--add]   (turns not yet in the pass, added to it)
       [--batch FIRST-LAST --drawn "two sessions of each writer, drawn at random"]
       (recorded in ``data/agreement/passes.json``, which the data card reads)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data_card import batch_of, batch_range, passes, passes_path  # noqa: E402

from rupture_nlp.corpus import load_sessions  # noqa: E402
from rupture_nlp.labels import LABELS, SUBTYPES  # noqa: E402
from rupture_nlp.readers import read_transcripts  # noqa: E402
from rupture_nlp.validation import check_frame, format_problems  # noqa: E402
from rupture_nlp.writers import write_table, write_text  # noqa: E402


def read_pipe(path: Path, names: list[str], sid: str | None = None) -> pd.DataFrame:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|", len(names) - (1 if sid is None else 2))]
        if sid is not None:
            parts = [sid, *parts]
        parts += [""] * (len(names) - len(parts))
        if not parts[1].isdigit():
            sys.exit(f"{path}:{number}: turn {parts[1]!r} is not a number")
        rows.append(dict(zip(names, parts, strict=True)))
    df = pd.DataFrame(rows, columns=names)
    df["turn"] = df["turn"].astype(int)
    return df


def check_codes(df: pd.DataFrame, label: str, subtype: str, source: Path) -> None:
    """Refuse a pass with a label or subtype the codebook does not have, before anything is
    written: the corpus is rewritten in place."""
    for row in df.itertuples(index=False):
        lab, sub = getattr(row, label), getattr(row, subtype)
        if lab not in LABELS:
            sys.exit(
                f"{source}: {row.session_id} turn {row.turn}: label {lab!r} is not one of {LABELS}"
            )
        if sub and SUBTYPES.get(sub, ("",))[0] != lab:
            sys.exit(
                f"{source}: {row.session_id} turn {row.turn}: subtype {sub!r} is not a {lab} code"
            )


def with_batch(data: Path, name: str, batch: str, drawn: str) -> dict:
    """``data/agreement/passes.json`` saying which sessions of ``batch`` the pass ``name``
    covers, after the batches before it (the data card's words and by-batch table come from
    it); refused before anything is written if the batch is there already."""
    path = passes_path(data)
    spec = passes(data)
    entry = spec.setdefault(name, {"covers": "sessions", "batches": {}})
    span = batch_range(batch)
    if span is None:
        sys.exit(f"--batch {batch!r}: give the first and last writer of the batch, as dp-dw")
    if batch in entry["batches"]:
        sys.exit(f"{path}: batch {batch} is already in {name}")
    for other in entry["batches"]:
        o_lo, o_hi = batch_range(other)
        if span[0] <= o_hi and o_lo <= span[1]:
            sys.exit(f"{path}: batch {batch} overlaps {other} in {name}")
    entry["batches"][batch] = drawn
    return spec


def check_batch_writers(data: Path, batch: str, sessions: pd.Series) -> None:
    """Refuse a pass whose sessions were written by writers outside ``batch`` (a typo in the
    range would file their agreement under the wrong batch, or under none)."""
    meta = load_sessions(data)
    if meta is None or "writer" not in meta:
        return
    writer = dict(zip(meta["session_id"], meta["writer"].fillna(""), strict=True))
    outside = sorted({s for s in sessions if batch_of(writer.get(s, ""), (batch,)) is None})
    if outside:
        sys.exit(f"--batch {batch}: sessions not written by its writers: {', '.join(outside[:5])}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("second", type=Path)
    ap.add_argument("adjudication", type=Path)
    ap.add_argument("--data", type=Path, default=Path("data"))
    ap.add_argument("--name", default="second_pass", help="name of the coding pass")
    ap.add_argument("--add", action="store_true", help="add new sessions to an existing pass")
    ap.add_argument("--batch", help="writers coded blind together, as FIRST-LAST (passes.json)")
    ap.add_argument("--drawn", help="which of the batch's sessions were coded, in words")
    args = ap.parse_args(argv)
    if bool(args.batch) != bool(args.drawn):
        ap.error("--batch and --drawn go together")
    spec = with_batch(args.data, args.name, args.batch, args.drawn) if args.batch else None
    corpus_path = args.data / "corpus.csv"
    out = args.data / "agreement" / f"{args.name}.json"
    earlier = None
    if out.exists():
        if not args.add:
            sys.exit(
                f"{out} exists: the first-pass labels are already replaced; use --add for "
                "sessions the pass does not cover yet"
            )
        earlier = pd.DataFrame(json.loads(out.read_text(encoding="utf-8")))
    corpus = read_transcripts([corpus_path])
    names = ["session_id", "turn", "label", "subtype", "note"]
    if args.second.is_file():
        second = read_pipe(args.second, names)
    else:
        second = pd.concat(
            [read_pipe(p, names, p.stem) for p in sorted(args.second.glob("*.txt"))],
            ignore_index=True,
        )
    if second.duplicated(["session_id", "turn"]).any():
        sys.exit("a turn is coded twice in the second pass")
    if spec is not None:
        check_batch_writers(args.data, args.batch, second["session_id"])
    adj = read_pipe(
        args.adjudication,
        ["session_id", "turn", "adjudicated_label", "adjudicated_subtype", "adjudication_note"],
    )
    check_codes(second, "label", "subtype", args.second)
    check_codes(adj, "adjudicated_label", "adjudicated_subtype", args.adjudication)
    first = corpus[["session_id", "turn", "speaker", "text", "label", "subtype"]].rename(
        columns={"label": "first_label", "subtype": "first_subtype"}
    )
    merged = first.merge(second, on=["session_id", "turn"], how="inner", validate="1:1")
    if len(merged) != len(second):
        sys.exit("second-pass turns missing from the corpus")
    merged = merged.merge(adj, on=["session_id", "turn"], how="left", validate="1:1")
    disputed = merged["first_label"] != merged["label"]
    if set(map(tuple, merged.loc[disputed, ["session_id", "turn"]].values)) != set(
        map(tuple, adj[["session_id", "turn"]].values)
    ):
        sys.exit("the adjudication must cover exactly the turns where the coders disagree")
    for col, src in (
        ("adjudicated_label", "first_label"),
        ("adjudicated_subtype", "first_subtype"),
    ):
        merged[col] = merged[col].where(disputed, merged[src])
    merged["adjudication_note"] = merged["adjudication_note"].fillna("")
    cols = [
        "session_id",
        "turn",
        "label",
        "subtype",
        "note",
        "first_label",
        "first_subtype",
        "adjudicated_label",
        "adjudicated_subtype",
        "adjudication_note",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    records_df = merged[cols]
    if earlier is not None:
        turn_keys = ["session_id", "turn"]
        again = earlier[turn_keys].merge(records_df[turn_keys], on=turn_keys)
        if len(again):
            listed = ", ".join(f"{s} turn {t}" for s, t in again.head(5).itertuples(index=False))
            sys.exit(f"turns already in {out}: {listed}")
        records_df = pd.concat([earlier[cols], records_df], ignore_index=True)
    records = records_df.to_json(orient="records", indent=1, force_ascii=False)

    key = corpus.set_index(["session_id", "turn"]).index
    final = merged.set_index(["session_id", "turn"])
    pos = key.get_indexer(final.index)
    corpus.loc[pos, "label"] = final["adjudicated_label"].to_numpy()
    corpus.loc[pos, "subtype"] = final["adjudicated_subtype"].to_numpy()
    # the checks every reader applies, before either file is written
    _, problems = check_frame(corpus, str(corpus_path))
    if problems:
        sys.exit("\n".join(format_problems(problems)))
    write_text(out, records + "\n")
    write_table(corpus, corpus_path)
    if spec is not None:
        text = json.dumps(spec, indent=1, ensure_ascii=False) + "\n"
        write_text(passes_path(args.data), text)
    changed = int((merged["adjudicated_label"] != merged["first_label"]).sum())
    print(
        f"{len(merged)} turns double-coded, {int(disputed.sum())} disputed, {changed} corpus "
        f"labels changed"
    )


if __name__ == "__main__":
    main()
