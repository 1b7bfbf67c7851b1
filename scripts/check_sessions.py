"""Check a writer's session files before they join the corpus: format, density and texture.

Writers write one session per file (the format of ``scripts/import_sessions.py``) and run this
on their folder as they go. It refuses what the import would refuse (a line that is not
``SPEAKER|LABEL|SUBTYPE|TEXT``, a label or subtype outside the codebook, a header key missing)
and prints, per session and for the folder, the figures a recorded session is written against:

- turns, and markers per speaker (share of client and of therapist turns that are markers);
- per speaker, the share of one-to-three-word turns, of turns with "um" / "uh" / "er", with
  "you know", with a false start or repeated word ("I-I", "it's, it's", "the the");
- fluency of markers against ordinary turns of the same speaker and length (turns of eight words
  or more): a corpus whose markers are tidier, or messier, than its ordinary turns teaches a
  model that fluency is a marker;
- phrases kept out of marker turns: the codebook's and earlier briefs' example phrasings, and
  the frames earlier writers shared ("Can I stop / pause / jump in" opening a repair, "[pause]"
  opening a client turn).

With ``--strict`` it exits 1 when a file breaks the format, or when a marker turn holds a kept-out
phrase; the figures are for the writer to read against the brief, not pass or fail.

Usage: python scripts/check_sessions.py FOLDER_OR_FILES... [--strict]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_sessions import HEADER_KEYS, parse_session  # noqa: E402

from rupture_nlp.labels import LABELS, SUBTYPES  # noqa: E402

FILLER = re.compile(r"\b(?:um+|uh+|er+m?|erm)\b", re.I)
YOU_KNOW = re.compile(r"\byou know\b", re.I)
FALSE_START = re.compile(r"\b(\w+)-\s?\1\w*|\b(\w+'?\w*),? \2\b", re.I)
#: example phrasings of the codebook and of earlier briefs, fine in ordinary turns only
KEPT_OUT = re.compile(
    r"with respect\b(?! to)|whatever you (?:think|say|reckon)|it is what it is|it's fine\.?$"
    r"|i hear you,? but",
    re.I,
)
#: openings earlier writers shared across repairs and client turns (data card, Known limits)
SHARED_FRAMES = re.compile(
    r"^(?:can|could|may) i (?:just )?(?:stop|pause|jump in)|^\[pause\]", re.I
)


def words(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9']+", text))


def session_table(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The turns of one file as a table, and what is wrong with it."""
    problems: list[str] = []
    try:
        meta, turns = parse_session(path)
    except SystemExit as e:  # parse_session exits with FILE:LINE: message
        return pd.DataFrame(), [str(e)]
    for key in HEADER_KEYS:
        if not meta.get(key):
            problems.append(f"{path}: header '# {key}:' missing or empty")
    for i, t in enumerate(turns, 1):
        if t["label"] not in LABELS:
            problems.append(f"{path}: turn {i}: label {t['label']!r} is not one of {LABELS}")
        elif t["subtype"] and SUBTYPES.get(t["subtype"], ("",))[0] != t["label"]:
            problems.append(
                f"{path}: turn {i}: subtype {t['subtype']!r} is not a {t['label']} code"
            )
        if t["speaker"] not in ("therapist", "client") and not t["speaker"].startswith("client"):
            problems.append(f"{path}: turn {i}: speaker {t['speaker']!r}")
        if not t["text"]:
            problems.append(f"{path}: turn {i}: empty text")
    df = pd.DataFrame(turns)
    if df.empty:
        return df, problems + [f"{path}: no turns"]
    df.insert(0, "session_id", path.stem)
    return df, problems


def texture(df: pd.DataFrame) -> pd.DataFrame:
    """Per-turn measures used by the figures."""
    n = df["text"].map(words)
    return df.assign(
        client=df["speaker"].str.startswith("client"),
        marker=df["label"] != "none",
        words=n,
        short=n.between(1, 3),
        filler=df["text"].str.contains(FILLER),
        you_know=df["text"].str.contains(YOU_KNOW),
        false_start=df["text"].map(lambda s: bool(FALSE_START.search(s))),
        kept_out=df["text"].str.contains(KEPT_OUT),
        frame=df["text"].str.contains(SHARED_FRAMES),
    )


def figures(t: pd.DataFrame) -> dict:
    """The figures of a set of turns (one session or a folder)."""
    out = {"turns": len(t), "markers": int(t["marker"].sum())}
    for role, part in (("client", t[t["client"]]), ("therapist", t[~t["client"]])):
        if not len(part):
            continue
        out[f"{role} markers %"] = round(100 * float(part["marker"].mean()), 1)
        for col in ("short", "filler", "you_know", "false_start"):
            out[f"{role} {col} %"] = round(100 * float(part[col].mean()), 1)
    return out


def fluency(t: pd.DataFrame) -> pd.DataFrame:
    """Share of turns of eight words or more with a filler or a false start, markers against
    ordinary turns, per speaker."""
    long = t[t["words"] >= 8].assign(disfluent=lambda d: d["filler"] | d["false_start"])
    return (
        long.groupby(["client", "marker"])["disfluent"].agg(["mean", "size"]).round(3).reset_index()
    )


def check(paths: list[Path]) -> tuple[pd.DataFrame, list[str]]:
    tables, problems = [], []
    for path in paths:
        df, found = session_table(path)
        problems += found
        if not df.empty:
            tables.append(df)
    if not tables:
        return pd.DataFrame(), problems
    t = texture(pd.concat(tables, ignore_index=True))
    for _, row in t[t["marker"] & (t["kept_out"] | t["frame"])].iterrows():
        problems.append(
            f"{row['session_id']}: a {row['label']} turn holds a kept-out phrase or shared frame: "
            f"{row['text'][:70]!r}"
        )
    return t, problems


def files_of(args: list[str]) -> list[Path]:
    paths: list[Path] = []
    for a in args:
        p = Path(a)
        paths += sorted(p.glob("*.txt")) if p.is_dir() else [p]
    return paths


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", help="session files or folders of them")
    ap.add_argument("--strict", action="store_true", help="exit 1 on any problem")
    args = ap.parse_args(argv)
    paths = files_of(args.paths)
    if not paths:
        print("no .txt session files found", file=sys.stderr)
        return 1
    t, problems = check(paths)
    if not t.empty:
        pd.set_option("display.width", 200)
        per_session = pd.DataFrame(
            {sid: figures(g) for sid, g in t.groupby("session_id", sort=True)}
        ).T
        print(per_session.to_string(), "\n")
        print("all:", figures(t))
        print(f"sessions without a marker: {int((per_session['markers'] == 0).sum())}")
        print(
            "median words, therapist / client:",
            t[~t["client"]]["words"].median(),
            t[t["client"]]["words"].median(),
        )
        print("\nfluency of turns of 8+ words (share with a filler or false start):")
        print(fluency(t).to_string(index=False))
    for p in problems:
        print("PROBLEM", p)
    return 1 if problems and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
