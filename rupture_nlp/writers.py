"""Write tables by extension (CSV, TSV, JSONL, Parquet, ``-`` for CSV on stdout), atomically.

Output goes to a temporary file in the target's folder and is renamed into place only when it
is complete, so a failure never leaves half a file; an output path that is also an input is
refused before anything is written.
"""

from __future__ import annotations

import csv
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import TranscriptError

__all__ = [
    "OUTPUT_SUFFIXES",
    "TableWriter",
    "atomic_path",
    "check_output",
    "fill_marked_block",
    "markdown_table",
    "marked_block",
    "write_table",
    "write_text",
]

OUTPUT_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet")


def check_output(
    out: str | Path,
    inputs: Iterable[str | Path] = (),
    suffixes: tuple[str, ...] = OUTPUT_SUFFIXES,
    own_columns: Iterable[str] = (),
) -> list[Path]:
    """Refuse an unknown output type, or an output that would overwrite an input.

    Inputs are expanded (folders, quoted globs) the way the readers expand them, so
    ``rupture tag 'g/*.csv' -o g/x.csv`` cannot replace ``g/x.csv``. An output that exists among
    the inputs and has every one of ``own_columns`` is this command's previous output
    (``rupture tag inf/ -o inf/tagged.csv`` run twice): it is not refused but returned, for the
    caller to leave out of the inputs. Returns the files to leave out (usually none).
    """
    from .readers import expand_paths

    if str(out) == "-":
        return []
    out = Path(out)
    if out.suffix.lower() not in suffixes:
        raise TranscriptError(
            f"{out}: unknown output type {out.suffix or '(none)'}; use one of "
            f"{', '.join(suffixes)}" + (" or '-' for CSV on stdout" if ".csv" in suffixes else "")
        )
    resolved = out.resolve()
    inputs = [Path(p) for p in inputs]
    try:
        files = expand_paths(inputs) if inputs else []
    except TranscriptError:
        files = []  # the read itself reports missing inputs, with the right message
    leave_out = [
        f for f in files if f.parent.resolve() == resolved.parent and _is_temporary(f, out)
    ]
    if any(f.resolve() == resolved for f in [*files, *inputs]):
        own = set(own_columns)
        if not own or not own <= set(_header(out)):
            raise TranscriptError(
                f"{out}: output would overwrite an input file; choose another name"
            )
        leave_out.append(out)
    return leave_out


def _is_temporary(path: Path, out: Path) -> bool:
    """A temporary file of :func:`atomic_path` for ``out`` (left by a killed run)."""
    return path.name.startswith(f".{out.name}.") and path.name.endswith(".tmp")


def _header(path: Path) -> list[str]:
    """The columns of an existing table, or none when it cannot be read as one."""
    from .readers import _iter_table

    try:
        first = next(_iter_table(path, 1), None)
    except Exception:  # noqa: BLE001 - not a readable table: not one of our outputs
        return []
    return [] if first is None else [str(c) for c in first[0].columns]


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; rename it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs should look like any new file
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _quoting(df: pd.DataFrame) -> int:
    """Quote every text field when one holds a carriage return.

    The csv module quotes only the characters of its line terminator; a lone ``\r`` in an
    unquoted field would read back as a line break.
    """
    for col in df.columns:
        textual = df[col].dtype == object or pd.api.types.is_string_dtype(df[col])
        if textual and df[col].astype(str).str.contains("\r", regex=False).any():
            return csv.QUOTE_NONNUMERIC
    return csv.QUOTE_MINIMAL


def _check_tsv(df: pd.DataFrame, out: str) -> None:
    """TSV has no quoting: a tab or line break inside a field cannot be written faithfully."""
    for col in df.columns:
        values = df[col]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            bad = values.astype(str).str.contains(r"[\t\n\r]", regex=True)
            if bad.any():
                raise TranscriptError(
                    f"{out}: column {col!r} row {int(bad.to_numpy().argmax()) + 1} has a tab or "
                    "line break, which TSV cannot hold; write .csv or .jsonl instead"
                )


def _arrow_column(values: pd.Series, delimiter: str, quote: bool):
    """One column as pyarrow strings written as pandas' ``to_csv`` writes it, or None when this
    path cannot promise the same text (a carriage return, or values that are not text or
    numbers)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = values.dtype.kind
    if kind == "f":  # pandas writes floats through numpy's str(), NaN as empty
        return _float_text(values.to_numpy())
    if kind in "iu":
        return pc.cast(pa.array(values.to_numpy()), pa.string())
    if kind not in "OUT" and not pd.api.types.is_string_dtype(values):
        return None
    try:
        column = pa.array(values, pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None  # numbers or other objects among the text: pandas' own str() decides
    column = pc.fill_null(column, "")
    if pc.any(pc.match_substring(column, "\r")).as_py():
        return None
    if not quote:
        return column
    special = pc.match_substring_regex(column, f'[{re.escape(delimiter)}"\n]')
    if not pc.any(special).as_py():
        return column
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
    return pc.if_else(special, quoted, column)


def _float_text(raw: np.ndarray):
    """Floats as pyarrow strings, as numpy's ``str()`` writes them (NaN empty).

    numpy's shortest round-trip formatting costs about 2 microseconds a value, most of the
    writer's time for the probability columns. Those hold multiples of 1e-6 in [0, 1] (rounded
    to 6 decimals), whose shortest form is the 6-digit decimal without trailing zeros: that is
    built from the integers instead, by pyarrow; the few below 1e-4, which numpy writes in
    scientific notation, and every other float column, are left to numpy.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    missing = np.isnan(raw)
    if missing.all():
        return pa.repeat(pa.scalar("", pa.string()), len(raw))
    with np.errstate(invalid="ignore"):
        k = np.rint(raw * 1e6)
        micro = ((k / 1e6 == raw) & (k >= 0) & (k <= 1e6)) | missing
    if not micro.all() or raw.dtype != np.float64:
        text = raw.astype(str)
        text[missing] = ""
        return pa.array(text, pa.string())
    k = np.where(missing, 0, k).astype(np.int64)
    digits = pc.utf8_rtrim(pc.utf8_lpad(pc.cast(pa.array(k), pa.string()), 6, "0"), "0")
    text = pc.binary_join_element_wise("0.", digits, "")
    special = missing | (k < 100) | (k == 1_000_000)  # empty, scientific, 0.0 and 1.0
    if special.any():
        others = raw[special].astype(str)
        others[missing[special]] = ""
        text = pc.replace_with_mask(text, pa.array(special), pa.array(others, pa.string()))
    return text


def _fast_delimited(df: pd.DataFrame, delimiter: str, quote: bool) -> str | None:
    """The rows of ``df`` (no header) as ``to_csv`` writes them with minimal quoting (or none,
    for TSV), built column-wise by pyarrow: several times faster than pandas' writer for the
    same text. None when a column needs pandas' writer (see :func:`_arrow_column`)."""
    import pyarrow.compute as pc

    if not len(df) or len(df.columns) < 2:
        return None
    columns = []
    for name in df.columns:
        column = _arrow_column(df[name], delimiter, quote)
        if column is None:
            return None
        columns.append(column)
    rows = pc.binary_join_element_wise(*columns, "", delimiter)  # trailing "" holds the "\n"
    return _lines(rows)


#: Rows formatted at a time by the pyarrow path: its column copies stay a few MiB.
_FAST_ROWS = 5_000


def _fast_text(df: pd.DataFrame, suffix: str) -> list[str] | None:
    """:func:`_fast_delimited` over slices of ``df``; None when any slice needs pandas (which
    then writes the whole chunk, so that its quoting rule holds for the chunk)."""
    delimiter, quote = ("\t", False) if suffix == ".tsv" else (",", True)
    texts = []
    for begin in range(0, len(df), _FAST_ROWS):
        text = _fast_delimited(df.iloc[begin : begin + _FAST_ROWS], delimiter, quote)
        if text is None:
            return None
        texts.append(text)
    return texts or None


def _lines(rows) -> str:
    """The text of a pyarrow string array of rows that each end with the delimiter, with that
    last byte made a line break."""
    import pyarrow as pa

    arr = rows.combine_chunks() if isinstance(rows, pa.ChunkedArray) else rows
    _, offsets, data = arr.buffers()
    off = np.frombuffer(offsets, np.int32)[arr.offset : arr.offset + len(arr) + 1]
    body = memoryview(data)[off[0] : off[-1]]
    # every row ends with the delimiter that preceded the empty last field: make it "\n"
    out = np.frombuffer(body, np.uint8).copy()
    out[off[1:] - off[0] - 1] = ord("\n")
    return out.tobytes().decode("utf-8")


class TableWriter:
    """Append DataFrame chunks to one output table, committed when the block ends.

    Used as a context manager; if the block raises, the temporary file is removed and the
    target is left as it was. ``columns`` fixes the header up front (chunks are put in that
    order, missing columns empty); without it the first chunk's columns are the header.
    """

    def __init__(self, out: str | Path, columns: Iterable[str] | None = None):
        self.out = str(out)
        self._tmp = None
        self._ctx = None
        self._stream = None
        self._parquet = None
        self._header = True
        self._columns: list | None = None if columns is None else list(columns)
        self._planned = columns is not None

    def __enter__(self):
        if self.out != "-":
            self._ctx = atomic_path(self.out)
            self._tmp = self._ctx.__enter__()
        return self

    def _same_columns(self, df: pd.DataFrame) -> pd.DataFrame:
        """Every chunk in the first chunk's columns; a column the first chunk lacked is refused,
        because a table's header cannot change after it is written."""
        if self._columns is None:
            self._columns = list(df.columns)
            return df
        extra = [c for c in df.columns if c not in self._columns]
        if extra and self._planned:
            raise TranscriptError(
                f"{self.out}: a chunk has column(s) {', '.join(map(str, extra))} that the "
                "inputs' headers did not show; please report this as a bug"
            )
        if extra:
            raise TranscriptError(
                f"{self.out}: later input has column(s) {', '.join(map(str, extra))} that the "
                "first input did not; write files with different columns to separate outputs"
            )
        return df.reindex(columns=self._columns)

    def write(self, df: pd.DataFrame) -> None:
        df = self._same_columns(df)
        suffix = ".csv" if self.out == "-" else Path(self.out).suffix.lower()
        if suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(df, preserve_index=False)
            if self._parquet is None:
                schema = table.schema
                if any(pa.types.is_null(f.type) for f in schema):
                    # a column empty in the first chunk takes text, the type of extra columns
                    schema = pa.schema(
                        f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in schema
                    )
                self._parquet = pq.ParquetWriter(self._tmp, schema)
            try:
                table = table.cast(self._parquet.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                raise TranscriptError(
                    f"{self.out}: a later chunk's column types differ from the "
                    f"first's ({exc}); write CSV or JSONL instead"
                ) from None
            self._parquet.write_table(table)
            return
        if self._stream is None:
            self._stream = (
                sys.stdout
                if self.out == "-"
                else open(  # noqa: SIM115
                    self._tmp, "w", encoding="utf-8", newline=""
                )
            )
        if suffix == ".jsonl":
            text = df.to_json(orient="records", lines=True, force_ascii=False)
            self._stream.write(text if text.endswith("\n") or not text else text + "\n")
        else:
            if suffix == ".tsv":
                _check_tsv(df, self.out)
            fast = _fast_text(df, suffix)
            if suffix == ".tsv":
                options = {"sep": "\t", "quoting": csv.QUOTE_NONE, "quotechar": None}
            else:  # the fast path has no carriage returns, which alone change the quoting
                options = {
                    "sep": ",",
                    "quoting": _quoting(df) if fast is None else csv.QUOTE_MINIMAL,
                }
            if fast is None:
                df.to_csv(
                    self._stream, index=False, header=self._header, lineterminator="\n", **options
                )
            else:
                if self._header:
                    empty = pd.DataFrame(columns=df.columns)
                    self._stream.write(empty.to_csv(index=False, lineterminator="\n", **options))
                self._stream.writelines(fast)
        self._header = False

    def __exit__(self, exc_type, exc, tb):
        if self._parquet is not None:
            self._parquet.close()
        if self._stream is not None and self._stream is not sys.stdout:
            self._stream.close()
        if self._ctx is not None:
            self._ctx.__exit__(exc_type, exc, tb)
        return False


def write_table(df: pd.DataFrame, out: str | Path) -> None:
    """Write one DataFrame to ``out`` by its extension, atomically.

    >>> import tempfile, pathlib, pandas as pd
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.jsonl"
    >>> write_table(pd.DataFrame({"a": [1, 2]}), p)
    >>> p.read_text()
    '{"a":1}\\n{"a":2}\\n'
    """
    check_output(out)
    with TableWriter(out) as w:
        w.write(df)


def write_text(path: str | Path, text: str) -> None:
    """Write a text file (a report) atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)


def markdown_table(header, rows) -> str:
    """A markdown table: the ``header`` cells, then one line per row of cells (each as ``str``
    gives it). The README and data-card figures are written with it, so the scripts that fill
    their blocks write tables alike.

    >>> print(markdown_table(["turns", "F1"], [[10, "0.500"]]))
    | turns | F1 |
    |---|---|
    | 10 | 0.500 |
    """
    header = [str(h) for h in header]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def marked_block(path: str | Path, start: str, end: str) -> tuple[str, int, int]:
    """The text of ``path`` and the span of its block from the line ``start`` to ``end``
    (markers included): where the project's scripts write figures into a README or data card.

    Raises ValueError naming the file when it cannot be read, or when the markers are not there
    once each and in order (the file is then left as it is).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ValueError(f"{path}: cannot read it ({e.strerror})") from None
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise ValueError(
            f"{path}: no {start} ... {end} block to fill; put those two lines, once each, "
            "where the figures should go"
        )
    return text, text.index(start), text.index(end) + len(end)


def fill_marked_block(path: str | Path, start: str, end: str, block: str, write=True) -> bool:
    """Put ``block`` (markers included) in place of :func:`marked_block`'s block of ``path``,
    atomically; whether that changes the file. ``write=False`` only tells (a ``--check``)."""
    text, begin, stop = marked_block(path, start, end)
    new = text[:begin] + block + text[stop:]
    if write:
        write_text(path, new)
    return new != text
