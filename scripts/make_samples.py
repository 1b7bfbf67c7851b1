"""Write the sample transcripts in data/samples/ from test-split sessions of the corpus.

The samples are what ``make demo`` tags and scans, and real examples for every reader: a plain
text transcript with ``[hh:mm:ss]`` stamps and ``T:``/``C:`` prefixes, a WebVTT file with
``<v Name>`` voices split into recogniser-sized cues (names that need ``--speaker-map``
are avoided so the demo runs as is), and an SRT file with ``Name:`` prefixes. They come from the
test split, so the demo never shows the model sentences it was trained on. Labels are left out:
these are what a user's files look like.

Usage: python scripts/make_samples.py --data data/
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rupture_nlp.corpus import load_corpus
from rupture_nlp.writers import write_text

SAMPLES = {"a03": ".txt", "f09": ".vtt", "g09": ".srt"}
WORDS_PER_CUE = 14


def clock(seconds: float, sep: str = ".") -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def cues(turn) -> list[tuple[float, float, str]]:
    """Split a turn into cues of about WORDS_PER_CUE words, times shared out by word count."""
    words = turn.text.split()
    chunks = [words[i : i + WORDS_PER_CUE] for i in range(0, len(words), WORDS_PER_CUE)] or [[""]]
    span = (turn.end - turn.start) / max(len(words), 1)
    out, t = [], turn.start
    for chunk in chunks:
        end = t + span * len(chunk)
        out.append((t, end, " ".join(chunk)))
        t = end
    return out


def as_text(session) -> str:
    lines = []
    for t in session.itertuples():
        prefix = "T" if t.speaker == "therapist" else "C"
        lines.append(f"[{clock(t.start)[:8]}] {prefix}: {t.text}")
    return "\n".join(lines) + "\n"


def as_vtt(session) -> str:
    blocks = ["WEBVTT", "NOTE sample session from the rupture-nlp corpus (test split)"]
    for t in session.itertuples():
        for start, end, text in cues(t):
            blocks.append(f"{clock(start)} --> {clock(end)}\n<v {t.speaker.title()}>{text}")
    return "\n\n".join(blocks) + "\n"


def as_srt(session) -> str:
    blocks, k = [], 0
    for t in session.itertuples():
        for i, (start, end, text) in enumerate(cues(t)):
            k += 1
            body = f"{t.speaker.title()}: {text}" if i == 0 else text
            blocks.append(f"{k}\n{clock(start, ',')} --> {clock(end, ',')}\n{body}")
    return "\n\n".join(blocks) + "\n"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("data"))
    args = ap.parse_args(argv)
    corpus = load_corpus(args.data, "test")
    out = args.data / "samples"
    writers = {".txt": as_text, ".vtt": as_vtt, ".srt": as_srt}
    for sid, suffix in SAMPLES.items():
        session = corpus[corpus["session_id"] == sid]
        write_text(out / f"sample-{sid}{suffix}", writers[suffix](session))
    print(f"wrote {len(SAMPLES)} samples to {out}")


if __name__ == "__main__":
    main()
