"""The project's labelled corpus folder: ``corpus.csv`` plus ``splits.json``.

``rupture train data/`` must mean "train on the corpus's train split", while
``rupture train a.csv b.csv`` means "train on these files". :func:`load_training_data` makes
that one decision for every command.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .errors import TranscriptError
from .readers import read_transcripts

__all__ = ["SPLITS", "corpus_dir", "is_corpus_dir", "load_corpus", "load_training_data"]

SPLITS = ("train", "dev", "test")
CORPUS_FILE = "corpus.csv"
SPLITS_FILE = "splits.json"
SESSIONS_FILE = "sessions.json"


def is_corpus_dir(path: str | Path) -> bool:
    p = Path(path)
    return p.is_dir() and (p / CORPUS_FILE).is_file() and (p / SPLITS_FILE).is_file()


def corpus_dir(path: str | Path = "data") -> Path:
    """The corpus folder ``path`` names: as given when it exists, else the same relative path
    inside the package, so ``"data"`` is the corpus that ships with rupture-nlp from any folder.

    >>> is_corpus_dir(corpus_dir("data"))
    True
    """
    p = Path(path)
    if p.exists() or p.is_absolute():
        return p
    packaged = Path(__file__).resolve().parent / p  # rupture_nlp/data is the repository's data/
    return packaged if is_corpus_dir(packaged) else p


def load_corpus(path: str | Path = "data", split: str | None = None) -> pd.DataFrame:
    """Read the corpus table, with ``split`` (and session metadata columns such as ``writer``).

    ``path`` is a corpus folder; ``"data"`` (the default) is the project's corpus, found from any
    folder (:func:`corpus_dir`).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "corpus.csv").write_text(
    ...     "session_id,turn,speaker,text,label\\na,1,client,Hi.,none\\nb,1,client,Fine.,none\\n")
    >>> _ = (d / "splits.json").write_text('{"train": ["a"], "dev": [], "test": ["b"]}')
    >>> load_corpus(d, "test")["session_id"].tolist()
    ['b']
    """
    p = corpus_dir(path)
    if not is_corpus_dir(p):
        raise TranscriptError(f"{p} is not a corpus folder (needs {CORPUS_FILE} and {SPLITS_FILE})")
    df = read_transcripts([p / CORPUS_FILE])
    try:
        splits = json.loads((p / SPLITS_FILE).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"{p / SPLITS_FILE}: not valid JSON ({exc.msg})") from None
    owner = {}
    for name, ids in splits.items():
        for sid in ids:
            if sid in owner:
                raise TranscriptError(
                    f"{p / SPLITS_FILE}: session {sid!r} is in both {owner[sid]} and {name}"
                )
            owner[sid] = name
    df["split"] = df["session_id"].map(owner).fillna("")
    unassigned = sorted(set(df.loc[df["split"] == "", "session_id"]))
    if unassigned:
        raise TranscriptError(
            f"{p / SPLITS_FILE}: sessions without a split: {', '.join(unassigned[:5])}"
        )
    meta = load_sessions(p)
    if meta is not None:
        extra = [c for c in meta.columns if c != "session_id" and c not in df.columns]
        df = df.merge(meta[["session_id", *extra]], on="session_id", how="left")
    if split is not None:
        if split not in splits:
            raise TranscriptError(
                f"no split {split!r} in {p / SPLITS_FILE}; it has {', '.join(splits)}"
            )
        df = df[df["split"] == split].reset_index(drop=True)
    return df


def load_sessions(path: str | Path = "data") -> pd.DataFrame | None:
    """The corpus folder's session metadata (``sessions.json``: writer, modality, density...),
    one row per session; ``None`` for a folder without it."""
    f = corpus_dir(path) / SESSIONS_FILE
    return pd.DataFrame(json.loads(f.read_text(encoding="utf-8"))) if f.is_file() else None


def load_training_data(paths, split: str = "train", speaker_map=None, columns=None) -> pd.DataFrame:
    """A corpus folder gives its ``split``; anything else is read whole."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if len(paths) == 1 and is_corpus_dir(paths[0]):
        return load_corpus(paths[0], split)
    return read_transcripts(paths, speaker_map, columns)
