"""Import hand-annotated session files into the corpus folder (data/).

Writers annotate one session per file, the format coders find quickest to write and review::

    # modality: CBT
    # setting: university counselling, in person
    # english: US
    # client: 20-year-old student, panic attacks
    # summary: homework not done; withdrawal; repair succeeds
    # density: natural
    therapist|none||So, last week we said we'd look at the panic diary first.
    client|withdrawal|W2|Fine.

This script turns a folder of writers' folders (``RAW/<writer>/<session_id>.txt``) into
``data/corpus.csv``, ``data/sessions.json`` (metadata of each session) and
``data/splits.json``. It is deterministic: the same files give byte-identical outputs.

Splits are by session, stratified by writer (each writer's sessions are shuffled with a fixed
seed; ``--held-out N`` go to dev and N to test, 2 by default), so every split has every style.

``density`` says how the session was written: ``natural`` (markers as rare as in real sessions)
or ``dense`` (written to be rich in ruptures; the first seven writers' sessions, which predate the
header). ``--append`` adds new writers' folders to an existing corpus without touching its
sessions, labels or splits.

Timestamps: a share of sessions (every third session of each writer) get ``start``/``end``
estimated from word counts (2.5 words a second, pauses for silence marks), so that readers and
reports that use recording times have realistic examples. They are estimates, not recordings.

Usage: python scripts/import_sessions.py RAW_DIR --data data/ [--append --held-out 3]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

import pandas as pd

from rupture_nlp.corpus import load_sessions
from rupture_nlp.readers import read_transcripts
from rupture_nlp.writers import write_table

HEADER_KEYS = ("modality", "setting", "english", "client", "summary", "density")
COLUMNS = ["session_id", "turn", "speaker", "text", "label", "subtype", "start", "end"]
WORDS_PER_SECOND = 2.5
SILENCE = re.compile(
    r"\[(?:long )?(?:pause|silence)[^\]]*\]|\((?:long )?(?:pause|silence)[^)]*\)", re.I
)


def parse_session(path: Path) -> tuple[dict, list[dict]]:
    meta: dict[str, str] = {}
    turns: list[dict] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            meta[key.strip()] = value.strip()
            continue
        parts = line.split("|", 3)
        if len(parts) != 4:
            sys.exit(f"{path}:{number}: expected SPEAKER|LABEL|SUBTYPE|TEXT")
        speaker, label, subtype, text = (p.strip() for p in parts)
        if "|" in text:
            sys.exit(f"{path}:{number}: '|' in the text (a field too many?)")
        turns.append(
            {"speaker": speaker, "label": label, "subtype": subtype, "text": text, "line": number}
        )
    return meta, turns


def add_times(turns: list[dict], rng: random.Random) -> None:
    """Estimated recording times: speech at a steady rate, a gap between turns, long silences."""
    clock = rng.uniform(2.0, 20.0)
    for t in turns:
        words = len(t["text"].split())
        silence = 8.0 * len(SILENCE.findall(t["text"]))
        duration = max(0.6, words / WORDS_PER_SECOND) + silence
        t["start"] = round(clock, 2)
        t["end"] = round(clock + duration, 2)
        clock = t["end"] + rng.uniform(0.3, 1.6)


def build(
    raw: Path, seed: int = 2026, held_out: int = 2
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    rows, sessions = [], []
    splits: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    for writer_dir in sorted(p for p in raw.iterdir() if p.is_dir()):
        files = sorted(writer_dir.glob("*.txt"))
        for k, path in enumerate(files):
            meta, turns = parse_session(path)
            sid = path.stem
            if k % 3 == 2:
                add_times(turns, random.Random(f"{seed}-{sid}"))
            for i, t in enumerate(turns, 1):
                rows.append({"session_id": sid, "turn": i, **t})
            sessions.append(
                {
                    "session_id": sid,
                    "writer": writer_dir.name,
                    **{key: meta.get(key, "") for key in HEADER_KEYS},
                    "density": meta.get("density") or "dense",
                }
            )
        ids = [p.stem for p in files]
        random.Random(f"{seed}-{writer_dir.name}").shuffle(ids)
        splits["dev"] += sorted(ids[:held_out])
        splits["test"] += sorted(ids[held_out : 2 * held_out])
        splits["train"] += sorted(ids[2 * held_out :])
    corpus = pd.DataFrame(rows, columns=COLUMNS)
    return corpus, pd.DataFrame(sessions), {k: sorted(v) for k, v in splits.items()}


def append(
    data: Path, corpus: pd.DataFrame, sessions: pd.DataFrame, splits: dict
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The existing corpus of ``data`` with new sessions after it; old rows stay as they are."""
    old = pd.read_csv(data / "corpus.csv", dtype=str, keep_default_na=False)
    old_sessions = load_sessions(data)
    if old_sessions is None:
        sys.exit(f"{data}: no sessions.json to append to")
    old_splits = json.loads((data / "splits.json").read_text(encoding="utf-8"))
    clash = set(old_sessions["session_id"]) & set(sessions["session_id"])
    if clash:
        sys.exit(f"sessions already in the corpus: {', '.join(sorted(clash)[:5])}")
    if "density" not in old_sessions:
        old_sessions["density"] = "dense"
    old_sessions["density"] = old_sessions["density"].fillna("dense")
    merged = {k: sorted(old_splits.get(k, []) + splits.get(k, [])) for k in splits}
    new = corpus.astype(object).where(corpus.notna(), "").astype(str)
    return (
        pd.concat([old[COLUMNS], new[COLUMNS]], ignore_index=True),
        pd.concat([old_sessions, sessions], ignore_index=True),
        merged,
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw", type=Path)
    ap.add_argument("--data", type=Path, default=Path("data"))
    ap.add_argument("--append", action="store_true", help="add to the corpus already in --data")
    ap.add_argument("--held-out", type=int, default=2, help="sessions per writer in dev and test")
    args = ap.parse_args(argv)
    corpus, sessions, splits = build(args.raw, held_out=args.held_out)
    if args.append:
        corpus, sessions, splits = append(args.data, corpus, sessions, splits)
    args.data.mkdir(parents=True, exist_ok=True)
    write_table(corpus, args.data / "corpus.csv")
    (args.data / "sessions.json").write_text(
        sessions.to_json(orient="records", indent=1, force_ascii=False) + "\n", encoding="utf-8"
    )
    (args.data / "splits.json").write_text(json.dumps(splits, indent=1) + "\n", encoding="utf-8")
    read_transcripts([args.data / "corpus.csv"])  # raises with every problem if anything is off
    print(f"{len(sessions)} sessions, {len(corpus)} turns -> {args.data}")


if __name__ == "__main__":
    main()
