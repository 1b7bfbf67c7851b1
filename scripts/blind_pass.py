"""Prepare a blind second coding pass over writers' session files, and its disputes.

A pass has three steps; this script does the two that are bookkeeping, so that which sessions
were double-coded is a seeded draw, not a choice made after reading them:

1. ``packet RAW OUT --per-writer N``: draws N sessions of each writer's folder
   (``RAW/<writer>/<session>.txt``, the format of ``scripts/import_sessions.py``) at random with
   ``--seed``, and writes each as ``OUT/<session>.txt`` without its labels (``TURN|SPEAKER|TEXT``)
   and ``OUT/selection.json`` (the seed, the rule and the sessions drawn). A second coder who has
   not seen the writer's labels codes each file as ``TURN|LABEL|SUBTYPE|NOTE`` lines into a
   folder of their own.
2. ``disputes RAW SECOND OUT``: pairs the writer's labels with the second coder's and writes the
   turns where they differ, with three turns of context before and one after, the two labels in
   a random order (the adjudicator is not told whose is whose), for an adjudicator who answers
   ``SESSION|TURN|LABEL|SUBTYPE|RATIONALE`` lines. It prints Cohen's kappa of the pair.
3. ``scripts/import_agreement.py SECOND ADJUDICATION --data data/ --name natural_pass --add``
   puts the pass into the corpus.

Usage: python scripts/blind_pass.py packet RAW OUT [--per-writer 2] [--seed 0] [--also S ...]
       python scripts/blind_pass.py disputes RAW SECOND OUT [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_agreement import check_codes, read_pipe  # noqa: E402
from import_sessions import parse_session  # noqa: E402

from rupture_nlp.agreement import agreement  # noqa: E402
from rupture_nlp.writers import write_text  # noqa: E402

#: what an adjudicator sees around a disputed turn: enough of the lead-up to see a strain
#: build, and the reply that shows whether it was taken as one
CONTEXT_BEFORE, CONTEXT_AFTER = 3, 1


def writer_files(raw: Path) -> dict[str, list[Path]]:
    """Each writer's session files (``RAW/<writer>/<session>.txt``), by writer."""
    return {d.name: sorted(d.glob("*.txt")) for d in sorted(raw.iterdir()) if d.is_dir()}


def session_files(raw: Path) -> dict[str, Path]:
    """Every session file under ``raw``, by session id."""
    return {p.stem: p for paths in writer_files(raw).values() for p in paths}


def draw(raw: Path, per_writer: int, seed: int, also: list[str] = ()) -> list[Path]:
    """``per_writer`` sessions of each writer at random, and the sessions named in ``also``.

    Each writer's draw is seeded by the writer's name, so adding a writer to ``RAW`` or drawing
    one writer alone does not change the others' draws.
    """
    known = session_files(raw)
    unknown = sorted(set(also) - set(known))
    if unknown:
        sys.exit(f"{raw}: no session {', '.join(unknown)} under it (--also)")
    chosen = [known[sid] for sid in also]
    for writer, paths in writer_files(raw).items():
        rng = random.Random(f"{seed}-{writer}")
        chosen += sorted(rng.sample(paths, min(per_writer, len(paths))))
    return sorted(set(chosen), key=lambda p: p.stem)


def write_packet(paths: list[Path], out: Path, rule: dict, raw: Path | None = None) -> None:
    """The sessions ``paths`` without their labels, and ``selection.json``, in ``out``.

    Refused before anything is written if ``out`` is inside ``raw`` (it would overwrite the
    writers' labelled files) or already holds files (a packet must list exactly what it holds).
    """
    if raw is not None and out.resolve().is_relative_to(raw.resolve()):
        sys.exit(f"{out}: inside {raw}; write the packet elsewhere")
    if out.exists() and any(out.iterdir()):
        sys.exit(f"{out}: not empty; a packet goes into a new folder")
    packets = {}
    for path in paths:  # every file is parsed before the first is written
        _, turns = parse_session(path)
        packets[path.stem] = [f"{i}|{t['speaker']}|{t['text']}" for i, t in enumerate(turns, 1)]
    out.mkdir(parents=True, exist_ok=True)
    for stem, lines in packets.items():
        write_text(out / f"{stem}.txt", "\n".join(lines) + "\n")
    rule = {**rule, "sessions": list(packets)}
    write_text(out / "selection.json", json.dumps(rule, indent=1) + "\n")


def paired(raw: Path, second: Path) -> tuple[pd.DataFrame, dict[str, list[dict]]]:
    """One row per turn the second coder coded (speaker, both labels and subtypes), and the
    writer's turns of each session coded (for the disputes' context)."""
    files = session_files(raw)
    rows, sessions = [], {}
    for coded in sorted(second.glob("*.txt")):
        if coded.stem not in files:
            sys.exit(f"{coded}: no writer's file {coded.stem}.txt under {raw}")
        _, turns = sessions[coded.stem] = parse_session(files[coded.stem])
        b = read_pipe(coded, ["session_id", "turn", "label", "subtype", "note"], coded.stem)
        check_codes(b, "label", "subtype", coded)  # a typo would pass for a dispute
        if b["turn"].duplicated().any():
            sys.exit(f"{coded}: a turn is coded twice")
        for r in b.itertuples(index=False):
            t = int(r.turn)
            if not 1 <= t <= len(turns):
                sys.exit(f"{coded}: turn {t} is not in the session ({len(turns)} turns)")
            first = turns[t - 1]
            rows.append(
                {
                    "session_id": coded.stem,
                    "turn": t,
                    "speaker": first["speaker"],
                    "first_label": first["label"],
                    "first_subtype": first["subtype"],
                    "label": r.label,
                    "subtype": r.subtype,
                }
            )
    return pd.DataFrame(rows), {sid: turns for sid, (_, turns) in sessions.items()}


def dispute_text(sessions: dict[str, list[dict]], pairs: pd.DataFrame, seed: int) -> str:
    """One block per disagreement: the turn in its context and the two labels as A and B in an
    order drawn by ``seed``, so the adjudicator cannot side with the writer by position."""
    rng = random.Random(seed)
    blocks = []
    for r in pairs[pairs["first_label"] != pairs["label"]].itertuples(index=False):
        turns = sessions[r.session_id]
        lo, hi = max(1, r.turn - CONTEXT_BEFORE), min(len(turns), r.turn + CONTEXT_AFTER)
        context = [
            f"{'>>' if i == r.turn else '  '} {i} {turns[i - 1]['speaker']}: {turns[i - 1]['text']}"
            for i in range(lo, hi + 1)
        ]
        options = [f"{r.first_label} {r.first_subtype}".strip(), f"{r.label} {r.subtype}".strip()]
        rng.shuffle(options)
        blocks.append(
            f"## {r.session_id} turn {r.turn}\n"
            + "\n".join(context)
            + f"\ncoders chose: A = {options[0]}; B = {options[1]}\n"
        )
    return "\n".join(blocks)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="step", required=True)
    pk = sub.add_parser("packet", help="draw sessions and write them without labels")
    pk.add_argument("raw", type=Path)
    pk.add_argument("out", type=Path)
    pk.add_argument("--per-writer", type=int, default=2)
    pk.add_argument("--seed", type=int, default=0)
    pk.add_argument("--also", nargs="*", default=[], help="sessions to add (a reviewer's flag)")
    dp = sub.add_parser("disputes", help="the turns the two coders labelled differently")
    dp.add_argument("raw", type=Path)
    dp.add_argument("second", type=Path)
    dp.add_argument("out", type=Path)
    dp.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.step == "packet":
        paths = draw(args.raw, args.per_writer, args.seed, args.also)
        rule = {"seed": args.seed, "per_writer": args.per_writer, "also": args.also}
        write_packet(paths, args.out, rule, args.raw)
        print(f"{len(paths)} sessions -> {args.out}")
        return 0
    pairs, sessions = paired(args.raw, args.second)
    if pairs.empty:
        sys.exit(f"{args.second}: no coded sessions")
    first = pairs.assign(label=pairs["first_label"], subtype=pairs["first_subtype"])
    kappa = agreement([first, pairs])["kappa"]  # None when one label is all either coder used
    text = dispute_text(sessions, pairs, args.seed)
    n = int((pairs["first_label"] != pairs["label"]).sum())
    write_text(args.out, text)
    shown = "-" if kappa is None else f"{kappa:.3f}"
    print(
        f"{pairs['session_id'].nunique()} sessions, {len(pairs)} turns, kappa {shown}, "
        f"{n} disputes -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
