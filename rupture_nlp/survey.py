"""A cheap look at the inputs before they are streamed: which columns they give, how many rows.

A streamed output table writes its header before the second input is read, so the header must
be decided from every input first: the canonical columns always, the coders' columns and any
other column of any input after them. Counting rows at the same time gives a progress bar its
total. Nothing is parsed for this: a table gives its header or schema and a count of lines; a
text, WebVTT or SRT transcript always gives the canonical columns, and its turns are estimated
from how often the speaker label changes. Other formats are read whole.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .readers import _iter_table, expand_paths, parse_column_map, read_file
from .readers.formats import format_of
from .readers.tables import sniff_delimiter
from .readers.textfile import open_text

__all__ = [
    "CANONICAL_COLUMNS",
    "CODE_COLUMNS",
    "InputSurvey",
    "conform_columns",
    "count_turns",
    "output_columns",
    "survey_inputs",
]

#: Every tagged or scanned table has these, empty where a source lacks them.
CANONICAL_COLUMNS = ("session_id", "turn", "speaker", "speaker_name", "text", "start", "end")
#: The coders' columns, kept after the canonical ones when any input has them.
CODE_COLUMNS = ("label", "subtype")


@dataclass
class InputSurvey:
    """What :func:`survey_inputs` found: the files, each file's columns, and rows per file."""

    files: list[Path]
    columns: dict[Path, list[str]] = field(default_factory=dict)
    rows: dict[Path, int] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        """Turns to expect: exact for Parquet; the line count for CSV, TSV and JSONL (a line
        break inside a quoted CSV field counts one more); the speaker changes of a transcript."""
        return sum(self.rows.values())

    def output_columns(self) -> list[str]:
        return output_columns(self.columns[f] for f in self.files)


def output_columns(column_lists: Iterable[Iterable[str]]) -> list[str]:
    """One table's columns for inputs with these columns, whatever their order.

    >>> output_columns([["session_id", "turn", "speaker", "text", "Coder notes"],
    ...                 ["session_id", "turn", "speaker", "speaker_name", "text", "start", "end"]])
    ['session_id', 'turn', 'speaker', 'speaker_name', 'text', 'start', 'end', 'Coder notes']
    """
    seen: list[str] = []
    for columns in column_lists:
        seen += [c for c in columns if c not in seen]
    codes = [c for c in CODE_COLUMNS if c in seen]
    known = set(CANONICAL_COLUMNS) | set(CODE_COLUMNS)
    return [*CANONICAL_COLUMNS, *codes, *(c for c in seen if c not in known)]


def conform_columns(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``df`` with exactly ``columns``: missing times are NaN, other missing columns empty.

    Missing text columns are ``None`` rather than NaN, so that a Parquet column first seen empty
    takes the type of the first input that has it instead of becoming a float column.
    """
    if list(df.columns) == list(columns):
        return df
    df = df.copy()
    for col in columns:
        if col not in df.columns:
            df[col] = (
                np.nan
                if col in ("start", "end")
                else pd.Series([None] * len(df), index=df.index, dtype=object)
            )
    return df[list(columns)]


def _count_lines(path: Path) -> int:
    n, last = 0, b"\n"
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")


# a speaker label at the start of a line: '<v Dr Lee>', 'Dr Lee:', '[SPEAKER_00]:', after an
# optional '[00:01:02]' stamp; a cue timing line ('00:00:01.000 --> ...') has no ': ' and no '<v'
_LABEL = re.compile(
    r"^\s*(?:\[[\d:.,]+\]\s*)?(?:<v(?:\.[^\s>]*)?\s+([^>]+)>|([^:\n<>]{1,80}?)\s*(?:\[[\d:.,]+\])?\s*:\s)",
    re.M,
)


def _estimate_turns(path: Path) -> int:
    """Turns of a transcript, counted as changes of speaker label (a speaker's consecutive cues
    or lines are one turn); cues or lines without labels count one turn each."""
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    labels = [(a or b).strip() for a, b in _LABEL.findall(text)]
    if labels:
        return 1 + sum(x != y for x, y in zip(labels, labels[1:], strict=False))
    if format_of(path).timed:  # subtitles: one cue a turn
        return text.count("-->")
    return sum(1 for line in text.splitlines() if line.strip())


def _table(path: Path) -> tuple[list[str], int]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
        return list(meta.schema.to_arrow_schema().names), meta.num_rows
    if suffix == ".jsonl":
        keys: dict[str, None] = {}
        n = 0
        with open(path, encoding="utf-8-sig") as f:
            for line in f:
                if line.strip():
                    n += 1
                    keys.update(dict.fromkeys(json.loads(line)))
        return list(keys), n
    if suffix in (".csv", ".tsv"):
        columns = _delimited_header(path, suffix)
    else:
        first = next(_iter_table(path, 1), None)
        columns = [] if first is None else [str(c) for c in first[0].columns]
    return columns, max(_count_lines(path) - 1, 0)


def _delimited_header(path: Path, suffix: str) -> list[str]:
    """The columns the CSV or TSV reader gives, from the header row alone (its names stripped,
    a repeated name once)."""
    with open_text(path) as stream:
        sample = stream.read(64 * 1024)
        stream.seek(0)
        delimiter = "\t" if suffix == ".tsv" else sniff_delimiter(sample)
        quoting = csv.QUOTE_NONE if suffix == ".tsv" else csv.QUOTE_MINIMAL
        header = next(csv.reader(stream, delimiter=delimiter, quoting=quoting), [])
    return list(dict.fromkeys(h.strip() for h in header))


def count_turns(paths, exclude: Iterable[str | Path] = ()) -> int | None:
    """The turns to expect in ``paths``, as :attr:`InputSurvey.n_rows` counts them, from what
    is cheap to count: a Parquet file's metadata, lines of CSV, TSV and JSONL, speaker changes
    of a transcript. None when an input would have to be read whole to count it (Excel,
    recogniser JSON): a progress bar then shows the turns done without a total, and nothing is
    read twice.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    n = 0
    for path in expand_paths(paths, exclude):
        suffix = path.suffix.lower()
        try:
            if suffix == ".parquet":
                import pyarrow.parquet as pq

                n += pq.ParquetFile(path).metadata.num_rows
            elif suffix == ".jsonl":
                n += _count_nonblank_lines(path)
            elif suffix in (".csv", ".tsv"):
                n += max(_count_lines(path) - 1, 0)
            elif suffix in (".txt", ".vtt", ".srt"):
                n += _estimate_turns(path)
            else:
                return None
        except Exception:  # noqa: BLE001 - reading the file reports it, with its file and line
            pass
    return n


def _count_nonblank_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def survey_inputs(
    paths, speaker_map=None, exclude: Iterable[str | Path] = (), columns=None
) -> InputSurvey:
    """The files ``paths`` expand to, with the columns and the number of rows of each
    (a table's columns renamed by the ``columns`` map, as the readers rename them).

    A file that cannot be surveyed (damaged, not UTF-8, not a table) counts no rows and no
    columns here; reading it reports what is wrong with its file and line.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    rename = parse_column_map(columns)
    survey = InputSurvey(files=expand_paths(paths, exclude))
    for path in survey.files:
        found, n = [], 0
        try:
            fmt = format_of(path)
            if fmt.streams and path.suffix.lower() != ".xlsx":
                found, n = _table(path)
                found = [rename.get(c, c) for c in found]
            elif path.suffix.lower() in (".txt", ".vtt", ".srt"):  # their readers' columns
                found, n = list(CANONICAL_COLUMNS), _estimate_turns(path)
            else:
                df, _problems = read_file(path, speaker_map, columns=rename)
                found, n = list(df.columns), len(df)
        except Exception:  # noqa: BLE001 - reading the file reports it, with its file and line
            pass
        survey.columns[path], survey.rows[path] = found, n
    return survey
