"""Read transcripts from every format users have into one canonical table.

Whatever the source (CSV, TSV, JSONL, Parquet or Excel tables, plain-text transcripts including
Otter.ai and Rev exports, WebVTT or SRT subtitles, WhisperX JSON), the result is a pandas
DataFrame with the columns of ``docs/codebook.md``: ``session_id``, ``turn``, ``speaker`` (a
canonical role), ``text`` and, where the file has them, ``label``, ``subtype``, ``start`` and
``end``. Other columns of a table are kept unchanged. When a speaker was mapped from a name, the
name stays in ``speaker_name``.

One module per family of formats (:mod:`.tables`, :mod:`.plaintext`, :mod:`.subtitles`,
:mod:`.recogniser`), speakers' names and maps in :mod:`.speakers`, and one
:class:`~.formats.Format` record per suffix in :data:`~.formats.FORMATS`.
"""

from __future__ import annotations

from ..validation import SessionContinuity
from .formats import FORMATS, Format, format_of
from .paths import expand_paths, find_transcripts, session_ids
from .plaintext import read_plain_text
from .reading import (
    DEFAULT_CHUNK_TURNS,
    _iter_table,  # noqa: F401  (kept for callers of the single-module readers)
    iter_transcript_chunks,
    read_file,
    read_label_table,
    read_transcripts,
)
from .speakers import SpeakerMap, parse_speaker_map, read_speaker_map
from .tables import parse_column_map
from .textfile import parse_time

#: Suffix -> what the format is called (derived from :data:`FORMATS`).
READERS = {suffix: f.name for suffix, f in FORMATS.items()}

__all__ = [
    "DEFAULT_CHUNK_TURNS",
    "FORMATS",
    "READERS",
    "Format",
    "SessionContinuity",
    "expand_paths",
    "find_transcripts",
    "format_of",
    "iter_transcript_chunks",
    "parse_column_map",
    "parse_speaker_map",
    "parse_time",
    "read_file",
    "read_label_table",
    "read_plain_text",
    "read_speaker_map",
    "SpeakerMap",
    "read_transcripts",
    "session_ids",
]
