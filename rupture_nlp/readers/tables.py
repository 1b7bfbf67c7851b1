"""Tables of turns: CSV (any common delimiter), TSV, JSONL, Parquet and Excel, read in pieces.

Each reader yields ``(frame, lines)`` pieces of about ``chunk`` rows, so memory stays flat
however long the table is; ``lines[i]`` is the file line (or spreadsheet row) of row ``i``.
:func:`canonical_pieces` then applies a column map, numbers turns by row order where a table has
no ``turn`` column, and refuses a table with a header and no rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import Problem, TranscriptError
from .options import split_pairs
from .textfile import locate_bad_bytes, open_text

__all__ = [
    "COLUMNS",
    "canonical_pieces",
    "iter_csv",
    "iter_jsonl",
    "iter_parquet",
    "iter_tsv",
    "iter_xlsx",
    "parse_column_map",
    "sniff_delimiter",
]

#: Columns a column map may name: the canonical columns of ``docs/codebook.md``.
COLUMNS = ("session_id", "turn", "speaker", "speaker_name", "text", "label", "subtype")
COLUMNS += ("start", "end")
_SNIFF_BYTES = 64 * 1024

Pieces = Iterator[tuple[pd.DataFrame, np.ndarray]]


def parse_column_map(spec: str | dict | None) -> dict[str, str]:
    """Parse ``"Utterance=text,Speaker=speaker"`` (a table's column = canonical column).

    >>> parse_column_map("Utterance=text, Turn #=turn;Session=session_id")
    {'Utterance': 'text', 'Turn #': 'turn', 'Session': 'session_id'}
    """
    if isinstance(spec, dict):
        pairs = list(spec.items())
    else:
        pairs = split_pairs(spec or "", "column map", "COLUMN=FIELD", "Utterance=text")
    mapping: dict[str, str] = {}
    for source, target in pairs:
        if target not in COLUMNS:
            raise TranscriptError(
                f"column map entry '{source}={target}': {target!r} is not a column the readers "
                f"know ({', '.join(COLUMNS)})"
            )
        if target in mapping.values():
            raise TranscriptError(f"column map: two columns map to {target!r}; map one")
        mapping[source] = target
    return mapping


def _frame(rows: list[dict], lines: list[int]) -> tuple[pd.DataFrame, np.ndarray]:
    df = pd.DataFrame(rows) if rows else pd.DataFrame()
    return df, np.asarray(lines, dtype=np.int64)


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV: the one of ``, ; tab |`` its header uses, or csv.Sniffer's choice
    when the header holds several (Excel in many locales writes semicolons).

    >>> sniff_delimiter("Session;Turn;Speaker;Utterance\\nS1;1;T;Hello, again\\n")
    ';'
    >>> sniff_delimiter('session_id,turn,speaker,text\\ns,1,client,"Yes; no"\\n')
    ','
    """
    lines = [line for line in sample.splitlines() if line.strip()]
    found = [d for d in ",;\t|" if lines and d in lines[0]]
    if len(found) <= 1:
        return found[0] if found else ","
    try:
        return csv.Sniffer().sniff("\n".join(lines[:50]), delimiters="".join(found)).delimiter
    except csv.Error:
        return max(found, key=lines[0].count)


def _batches(records, chunk: int, header: list[str] | None) -> Pieces:
    """Group ``(line, row)`` records into pieces of ``chunk`` rows. A table with a ``header``
    and no rows still yields one empty piece: the columns tell what the table is."""
    rows, lines, yielded = [], [], False
    for line, row in records:
        rows.append(row)
        lines.append(line)
        if len(rows) >= chunk:
            yield _frame(rows, lines)
            rows, lines, yielded = [], [], True
    if rows:
        yield _frame(rows, lines)
    elif not yielded and header is not None:
        yield pd.DataFrame(columns=header), np.array([], dtype=np.int64)


def _iter_delimited(
    path: Path, stream: io.TextIOBase, delimiter: str, chunk: int, quoting: int
) -> Pieces:
    reader = csv.reader(stream, delimiter=delimiter, quoting=quoting)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise TranscriptError(Problem(str(path), 1, "empty file (no header row)")) from None

    def records():
        prev_end = reader.line_num
        for record in reader:
            start_line = prev_end + 1
            prev_end = reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if len(record) != len(header):
                raise TranscriptError(
                    Problem(
                        str(path),
                        start_line,
                        f"has {len(record)} fields but the header has {len(header)} "
                        "(an unquoted delimiter or quote inside the text?)",
                    )
                )
            yield start_line, dict(zip(header, record, strict=True))

    return _batches(records(), chunk, header)


def _text_table(path: Path, read) -> Pieces:
    """Run a reader of a text table, turning bad bytes and broken quoting into located problems."""
    try:
        with open_text(path) as stream:
            yield from read(stream)
    except UnicodeDecodeError:
        raise TranscriptError(locate_bad_bytes(path)) from None
    except csv.Error as exc:
        raise TranscriptError(Problem(str(path), None, f"malformed CSV ({exc})")) from None


def iter_csv(path: Path, chunk: int) -> Pieces:
    """A CSV with its delimiter sniffed from the header (comma, semicolon, tab or bar)."""
    try:
        with open(path, "rb") as f:
            sample = f.read(_SNIFF_BYTES).decode("utf-8-sig", errors="ignore")
    except OSError:
        sample = ""  # the read below reports it
    return _delimited(path, sniff_delimiter(sample), chunk, csv.QUOTE_MINIMAL)


def iter_tsv(path: Path, chunk: int) -> Pieces:
    """TSV has no quoting (IANA): a lone " in a turn is text, not the start of a quoted field."""
    return _delimited(path, "\t", chunk, csv.QUOTE_NONE)


def _delimited(path: Path, delimiter: str, chunk: int, quoting: int) -> Pieces:
    """pyarrow's CSV reader where it gives what the csv module gives, the csv module otherwise.

    pyarrow parses in C++ and builds columns without a Python object per field (several times
    faster, a fraction of the memory), but knows no line numbers. They are derived from the
    line breaks inside fields, which holds when the file has no blank lines between rows. A
    file with blank lines, and any row pyarrow refuses (a wrong field count, bad bytes), is read
    by the csv module from the first row not yet yielded, which reports the problem with its
    file and line exactly as before.
    """
    done = 0
    try:
        for df, lines in _arrow_delimited(path, delimiter, chunk, quoting):
            done += len(df)
            yield df, lines
        return
    except _NotArrow:
        pass
    slow = _text_table(path, lambda s: _iter_delimited(path, s, delimiter, chunk, quoting))
    yield from _skip_rows(slow, done)


class _NotArrow(Exception):
    """pyarrow cannot read this file as the csv module would: the csv module reads it."""


def _skip_rows(pieces: Pieces, n: int) -> Pieces:
    """``pieces`` without their first ``n`` rows (those the pyarrow reader already gave)."""
    for df, lines in pieces:
        if n and n >= len(df):
            n -= len(df)
            continue
        if n:
            df, lines, n = df.iloc[n:].reset_index(drop=True), lines[n:], 0
        yield df, lines


#: Bytes pyarrow parses at a time; pieces of ``chunk`` rows are cut from its blocks.
_ARROW_BLOCK = 256 << 10
_BLANK = (b"\n\n", b"\r\r", b"\n\r\n", b"\r\n\r")


def _has_blank_lines(path: Path) -> bool:
    """Whether an empty line (which the csv module skips, and counts) comes before the header or
    between rows; blank lines at the very end are harmless."""
    with open(path, "rb") as f:
        read = lambda: f.read(1 << 22)  # noqa: E731
        block = read()
        tail = b"\n"  # a file that starts with a line break has a blank line first
        if block.startswith(b"\xef\xbb\xbf"):
            block = block[3:]
        while block:
            data = tail + block
            found = [data.find(b"\n\n")]
            if b"\r" in data:
                found += map(data.find, (b"\r\r", b"\n\r\n", b"\r\n\r"))
            at = min((i for i in found if i >= 0), default=-1)
            if at >= 0:
                return bool(data[at:].strip()) or any(rest.strip() for rest in iter(read, b""))
            tail, block = data[-3:], read()
    return False


def _string_buffers(column):
    """``(offsets, data)`` of each chunk of a pyarrow string column, as numpy arrays."""
    import pyarrow as pa

    for arr in getattr(column, "chunks", [column]):
        _, offsets, data = arr.buffers()
        width = np.int64 if arr.type == pa.large_string() else np.int32
        offsets = np.frombuffer(offsets, width)[arr.offset : arr.offset + len(arr) + 1]
        yield offsets, np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)


def _longest(column) -> int:
    """Bytes in the longest value of a string column."""
    return max((int(np.diff(o).max(initial=0)) for o, _ in _string_buffers(column)), default=0)


def _breaks(column) -> np.ndarray | None:
    """Line breaks inside each value of a string column, counted as the csv module counts lines
    (``\\r\\n``, ``\\n`` and a lone ``\\r`` are one each); None when there are none."""
    import pyarrow.compute as pc

    bytes_ = [d for _, d in _string_buffers(column)]
    has_cr = any((d == 13).any() for d in bytes_)
    if not has_cr and not any((d == 10).any() for d in bytes_):
        return None  # the common case, found without looking at each value
    count = lambda s: pc.count_substring(column, s).to_numpy(zero_copy_only=False)  # noqa: E731
    n = count("\n").astype(np.int64)
    if has_cr:
        n += count("\r") - count("\r\n")
    return n


def _arrow_delimited(path: Path, delimiter: str, chunk: int, quoting: int) -> Pieces:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    quote = '"' if quoting == csv.QUOTE_MINIMAL else False
    parse = pcsv.ParseOptions(delimiter=delimiter, quote_char=quote, newlines_in_values=bool(quote))
    try:
        if _has_blank_lines(path):
            raise _NotArrow
        with pcsv.open_csv(path, parse_options=parse) as probe:
            raw = probe.schema.names
        header = [h.strip() for h in raw]
        if len(header) < 2 or len(set(header)) < len(header):
            raise _NotArrow  # one column, or names that the csv module's row dicts merge
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(block_size=_ARROW_BLOCK),
            parse_options=parse,
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(raw, pa.large_string()), strings_can_be_null=False
            ),
        )
    except (pa.ArrowException, OSError, UnicodeDecodeError):
        raise _NotArrow from None
    limit = csv.field_size_limit()
    in_header = _breaks(pa.array(raw))
    line = 2 + (0 if in_header is None else int(in_header.sum()))  # the first row's line

    def piece(batches):
        nonlocal line
        table = pa.Table.from_batches(batches).rename_columns(header)
        breaks = np.zeros(table.num_rows, dtype=np.int64)
        for column in table.columns:
            if _longest(column) > limit:
                raise _NotArrow  # the csv module refuses a field this long: let it say so
            found = _breaks(column)
            if found is not None:
                breaks += found
        lines = line + np.arange(table.num_rows, dtype=np.int64)
        lines[1:] += np.cumsum(breaks[:-1])
        line = int(lines[-1] + breaks[-1] + 1)
        return table.to_pandas(), lines

    batches, rows, yielded = [], 0, False
    with reader:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowException, UnicodeDecodeError):
                raise _NotArrow from None
            batches.append(batch)
            rows += batch.num_rows
            while rows >= chunk:
                table = pa.Table.from_batches(batches)
                batches, rows = table.slice(chunk).to_batches(), rows - chunk
                yield piece(table.slice(0, chunk).to_batches())
                yielded = True
    if rows:
        yield piece(batches)
    elif not yielded:
        yield pd.DataFrame(columns=header), np.array([], dtype=np.int64)


def iter_jsonl(path: Path, chunk: int) -> Pieces:
    def records(stream):
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TranscriptError(
                    Problem(str(path), number, f"not valid JSON ({exc.msg})")
                ) from None
            if not isinstance(obj, dict):
                raise TranscriptError(Problem(str(path), number, "each line must be a JSON object"))
            yield number, {k: "" if v is None else v for k, v in obj.items()}

    return _text_table(path, lambda s: _batches(records(s), chunk, None))


def iter_parquet(path: Path, chunk: int) -> Pieces:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise TranscriptError(
            Problem(str(path), None, f"unreadable Parquet file ({exc})")
        ) from None
    offset = 0
    for batch in pf.iter_batches(batch_size=chunk):
        df = batch.to_pandas()
        # rows are numbered from 1, as in a spreadsheet view of the table
        yield df, np.arange(offset + 1, offset + 1 + len(df))
        offset += len(df)
    if not offset:
        yield pf.schema_arrow.empty_table().to_pandas(), np.array([], dtype=np.int64)


def _cell(value):
    """A spreadsheet cell as the CSV reader would give it; clock times become seconds."""
    if value is None:
        return ""
    if isinstance(value, dt.time):
        return value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return value


def _sheet_records(path: Path, rows) -> tuple[list[str], Iterator]:
    """The header (first non-empty row) and the ``(row number, row)`` records after it."""
    numbered = (
        (number, values)
        for number, values in enumerate(rows, 1)
        if any(v is not None and str(v).strip() for v in values)
    )
    first = next(numbered, None)
    if first is None:
        raise TranscriptError(Problem(str(path), 1, "empty sheet (no header row)"))
    names = [("" if v is None else str(v)).strip() for v in first[1]]
    while names and not names[-1]:
        names.pop()
    header = [n or f"Unnamed: {i}" for i, n in enumerate(names)]

    def records():
        for number, values in numbered:
            if any(v is not None and str(v).strip() for v in values[len(header) :]):
                raise TranscriptError(
                    Problem(
                        str(path),
                        number,
                        f"has values beyond the header's {len(header)} columns "
                        "(give every column a header)",
                    )
                )
            cells = [_cell(v) for v in values[: len(header)]]
            yield number, dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=True))

    return header, records()


def iter_xlsx(path: Path, chunk: int) -> Pieces:
    """The first sheet of an Excel workbook; the first non-empty row is the header.

    Lines are the sheet's row numbers, as Excel shows them.
    """
    import openpyxl

    def unreadable(exc: Exception) -> TranscriptError:
        return TranscriptError(
            Problem(str(path), None, f"unreadable Excel file ({type(exc).__name__}: {exc})")
        )

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zip, XML and openpyxl's own errors for damaged files
        raise unreadable(exc) from None
    try:
        header, records = _sheet_records(path, wb.worksheets[0].iter_rows(values_only=True))
        yield from _batches(records, chunk, header)
    except TranscriptError:
        raise
    except Exception as exc:  # a damaged sheet fails only once its rows are read
        raise unreadable(exc) from None
    finally:
        wb.close()


def _rename(df: pd.DataFrame, path: Path, columns: dict[str, str]) -> pd.DataFrame:
    # a table that already has the target column needs no mapping (a folder mixes exports)
    columns = {s: t for s, t in columns.items() if s in df.columns or t not in df.columns}
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TranscriptError(
            Problem(
                str(path),
                1,
                f"no column {missing[0]!r} to map to {columns[missing[0]]} "
                f"(the table has: {', '.join(map(str, df.columns))})",
            )
        )
    for source, target in columns.items():
        if target in df.columns and target not in columns:
            raise TranscriptError(
                Problem(
                    str(path),
                    1,
                    f"both {source!r} and {target!r} would be the {target} column; "
                    f"map {target!r} to another name or leave {source!r} out of the map",
                )
            )
    return df.rename(columns=columns)


def canonical_pieces(path: Path, pieces: Pieces, columns: dict[str, str] | None = None) -> Pieces:
    """Apply the column map, number turns by row order when there is no ``turn`` column, and
    refuse a table with no rows (an export cut short must not pass as a clean, empty session).

    Turns are numbered from 1 in each session, in the table's row order.
    """
    counts: dict[str, int] = {}
    n_rows, named = 0, False
    for df, lines in pieces:
        named = named or len(df.columns) > 0
        if columns:
            df = _rename(df, path, columns)
        if "turn" not in df.columns and "session_id" in df.columns:
            sid = df["session_id"].astype(str)
            before = sid.map(counts).fillna(0).astype(np.int64)
            df = df.copy()
            turns = df.groupby(sid, sort=False).cumcount() + 1 + before
            df.insert(df.columns.get_loc("session_id") + 1, "turn", turns.to_numpy())
            for session, n in sid.value_counts().items():
                counts[session] = counts.get(session, 0) + int(n)
        n_rows += len(df)
        yield df, lines
    if not n_rows:
        line = None if path.suffix.lower() == ".parquet" else 1
        message = "has a header but no rows" if named else "empty file (no rows)"
        raise TranscriptError(Problem(str(path), line, message))
