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
  the openings earlier writers shared ("Can I stop / pause / jump in", a silence mark such as
  "[pause]"). The briefs' other rules ("sorry" in one repair of six, no progress complaint that
  counts the sessions) are for the writer to keep; the check does not count them.

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
from import_sessions import HEADER_KEYS, SILENCE, parse_session  # noqa: E402

from rupture_nlp.validation import check_frame, format_problems  # noqa: E402

#: "um", "uh", "er", "erm", in any case but not "ER" (the emergency room) or "uh-huh"
FILLER = re.compile(r"\b(?:[Uu]m+|[Uu]h+|[Ee]r+m?)\b(?!-(?:huh|uh)\b)")
#: discourse "you know", not a question's "do you know" or "if you know"
YOU_KNOW = re.compile(r"(?<!\bdo )(?<!\bdid )(?<!\bif )(?<!\bdon't )\byou know\b", re.I)
#: a word said again at once ("I-I", "it's, it's", "the- the", "the the"), not a prefix
#: ("re-read", "co-codamol") or a word that is a double itself (below)
FALSE_START = re.compile(
    r"\b(?!(?:re|co|pre|de|non|on)-)([\w'\u2019]+)-\s?\1"  # "I-I'd", "th-the", "it's-it's"
    r"|\b([\w'\u2019]+),? \2(?![\w'\u2019])",  # "it's, it's", "the the"
    re.I,
)
LEXICAL_DOUBLES = {"bye", "so", "that", "had", "is", "twenty", "fifty", "win", "knock", "tut"}
#: example phrasings of the codebook and of earlier briefs, fine in ordinary turns only
KEPT_OUT = re.compile(
    r"with respect\b(?! to)|whatever you (?:think|say|reckon)|it is what it is|it's fine\.?$"
    r"|i hear you,? but",
    re.I,
)
#: openings earlier writers shared in repairs and client markers (data card, Known limits):
#: "Can I stop / pause / jump in" and a silence mark in any of the forms the import times
SHARED_FRAMES = re.compile(
    rf"^(?:(?:can|could|may) i (?:just )?(?:stop|pause|jump in)|(?:{SILENCE.pattern}))", re.I
)


def false_start(text: str) -> bool:
    return any(
        (m.group(1) or m.group(2)).lower() not in LEXICAL_DOUBLES
        for m in FALSE_START.finditer(text)
    )


def words(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9']+", text))


def session_table(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The turns of one file as a table, and what is wrong with it: the header, and everything
    the corpus readers refuse (``check_frame``, as for any transcript), with the file line."""
    try:
        meta, turns = parse_session(path)
    except SystemExit as e:  # parse_session exits with FILE:LINE: message, as the import does
        return pd.DataFrame(), [str(e)]
    problems = [f"{path}: header '# {k}:' missing or empty" for k in HEADER_KEYS if not meta.get(k)]
    df = pd.DataFrame(turns)
    if df.empty:
        return df, problems + [f"{path}: no turns"]
    df.insert(0, "session_id", path.stem)
    df.insert(1, "turn", range(1, len(df) + 1))
    _, found = check_frame(df.drop(columns="line"), str(path), lines=df["line"].tolist())
    return df.assign(path=str(path)), problems + format_problems(found, every=True)


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
        false_start=df["text"].map(false_start),
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
        if not path.is_file():
            problems.append(f"{path}: no such file")
            continue
        df, found = session_table(path)
        problems += found
        if not df.empty:
            tables.append(df)
    if not tables:
        return pd.DataFrame(), problems
    t = texture(pd.concat(tables, ignore_index=True))
    for _, row in t[t["marker"] & (t["kept_out"] | t["frame"])].iterrows():
        problems.append(
            f"{row['path']}:{row['line']}: a {row['label']} turn holds a kept-out phrase or "
            f"shared frame: {row['text'][:70]!r}"
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
