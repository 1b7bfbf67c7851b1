"""The formats the readers know: one :class:`Format` record per file suffix.

Adding a format is one parser module, one record here and one test (the shape of spaCy's
``cli/convert.py`` converters and sqlite-utils' ``Format``). Everything that needs to know which
suffixes exist (folder expansion, the unknown-type message, which formats check their own
times, which can be label sheets) reads :data:`FORMATS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem, TranscriptError
from . import plaintext, recogniser, subtitles, tables

__all__ = ["FORMATS", "Format", "format_of"]


def _always(path: Path) -> bool:
    return True


@dataclass(frozen=True)
class Format:
    """How to read one kind of file.

    Attributes
    ----------
    suffix : str
        File suffix, lower case, with the dot.
    name : str
        What messages and the README call it.
    parser : callable
        With ``streams``: ``parser(path, chunk)`` yields ``(frame, lines)`` pieces of raw rows.
        Otherwise ``parser(path, text, speaker_map)`` returns ``(frame, lines, problems)``.
    streams : bool
        Read piece by piece (tables); whole-file formats name their session after the file.
    timed : bool
        Cut into timed cues or segments whose times the parser checks one by one, so the
        table-wide order check of start times is skipped for its turns.
    label_sheet : bool
        Can hold coders' labels for ``rupture agree``.
    in_folders : callable
        Whether a file of this suffix found in a folder is a transcript (a ``.json`` beside
        the transcripts may be a model's metadata).
    """

    suffix: str
    name: str
    parser: Callable
    streams: bool
    timed: bool
    label_sheet: bool
    in_folders: Callable[[Path], bool] = _always


def _table(suffix: str, name: str, parser: Callable) -> Format:
    return Format(suffix, name, parser, streams=True, timed=False, label_sheet=True)


def _transcript(suffix: str, name: str, parser: Callable, timed: bool, **kw) -> Format:
    return Format(suffix, name, parser, streams=False, timed=timed, label_sheet=False, **kw)


FORMATS: dict[str, Format] = {
    f.suffix: f
    for f in (
        _table(".csv", "CSV", tables.iter_csv),
        _table(".tsv", "TSV", tables.iter_tsv),
        _table(".jsonl", "JSON lines", tables.iter_jsonl),
        _table(".parquet", "Parquet", tables.iter_parquet),
        _table(".xlsx", "Excel", tables.iter_xlsx),
        _transcript(".txt", "plain text transcript", plaintext.read_plain_text, timed=False),
        _transcript(".vtt", "WebVTT", subtitles.read_vtt, timed=True),
        _transcript(".srt", "SRT", subtitles.read_srt, timed=True),
        _transcript(
            ".json",
            "recogniser JSON (WhisperX)",
            recogniser.read_recogniser_json,
            timed=True,
            in_folders=recogniser.looks_like_recogniser_json,
        ),
    )
}


def format_of(path: str | Path) -> Format:
    """The format of a file by its suffix; an unknown suffix is a located error.

    >>> format_of("s.VTT").name
    'WebVTT'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise TranscriptError(
            Problem(
                str(path),
                None,
                f"unknown file type {suffix or '(none)'}; expected one of {', '.join(sorted(FORMATS))}",
            )
        )
    return FORMATS[suffix]
