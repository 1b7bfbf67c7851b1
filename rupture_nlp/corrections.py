"""Coders' corrections coming back: a filled review-queue sheet, or an annotation tool's export.

A queue (:mod:`rupture_nlp.review_queue`) goes out as a spreadsheet, Label Studio tasks or a
doccano import file; it comes back as one of

- the same sheet (CSV or XLSX) with ``label`` (and ``subtype``) filled in;
- a Label Studio export in its JSON format (tasks with ``annotations``; ``JSON_MIN`` too);
- a doccano export of a text-classification project (JSONL, one example a line, the labels a
  list; the session and turn come back as the example's metadata).

:func:`read_corrections` turns any of them into a label table (``session_id``, ``turn``,
``label``, ``subtype``), the shape :func:`rupture_nlp.readers.read_label_table` returns for
coders' sheets, and lists every problem with its file and row (or task): unknown labels, a
subtype of another label, two annotations of one turn that disagree. An empty label means the
turn was not coded. :func:`apply_labels` puts such labels on the transcripts, so training can use
partly coded sessions (``rupture train transcripts/ --labels coded.xlsx``).
"""

from __future__ import annotations

import csv
import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import Problem, TranscriptError
from .labels import LABELS, SUBTYPES

__all__ = ["apply_labels", "is_correction_file", "read_corrections"]

#: Columns that only a review-queue sheet has; they tell a sheet from a transcript table.
QUEUE_MARKER_COLUMNS = ("rank", "context_before", "context_after")
_MAX_PER_CHECK = 50


def _first_line(path: Path) -> str:
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        for line in f:
            if line.strip():
                return line
    return ""


def _xlsx_header(path: Path) -> list[str]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        row = next(book.worksheets[0].iter_rows(max_row=1, values_only=True), ())
    finally:
        book.close()
    return [str(v).strip() for v in row if v is not None]


def is_correction_file(path: str | Path) -> bool:
    """True for files :func:`read_corrections` reads rather than the transcript readers.

    Transcripts come as XLSX and JSON too, so the content decides: a JSON file is when it is a
    list (Label Studio exports tasks as a list; recognisers write an object with ``segments``);
    a JSONL file when its first record has a list of labels (doccano); a CSV, TSV or XLSX file
    when it has the queue sheet's own columns (``rank``, ``context_before``,
    ``context_after``).
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return False  # not readable here: the readers report it
    return _is_correction_file(path.resolve(), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=1024)
def _is_correction_file(path: Path, size: int, mtime_ns: int) -> bool:
    """:func:`is_correction_file` of one version of a file: a workbook is opened once to tell,
    however many commands of a session (validate, agree, tag) ask about it."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            with open(path, encoding="utf-8-sig", errors="replace") as f:
                return f.read(4096).lstrip().startswith("[")
        if suffix == ".xlsx":
            return set(QUEUE_MARKER_COLUMNS) <= set(_xlsx_header(path))
        first = _first_line(path)
    except (OSError, ValueError, KeyError):  # not readable here: the readers report it
        return False
    if suffix == ".jsonl":
        try:
            record = json.loads(first)
        except json.JSONDecodeError:
            return False
        return isinstance(record, dict) and isinstance(record.get("label"), list)
    if suffix in (".csv", ".tsv"):
        header = next(csv.reader([first], delimiter="\t" if suffix == ".tsv" else ","), [])
        return set(QUEUE_MARKER_COLUMNS) <= {h.strip() for h in header}
    return False


# --- sheets -----------------------------------------------------------------------------------


def _read_delimited(path: Path) -> tuple[list[dict], list[int]]:
    """Rows of a CSV/TSV sheet and the line each starts on (context cells hold line breaks)."""
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    rows, lines = [], []
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        prev = reader.line_num
        for row in reader:
            rows.append(row)
            lines.append(prev + 1 if prev else 2)
            prev = reader.line_num
    return rows, lines


def _read_xlsx(path: Path) -> tuple[list[dict], list[int]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors
        raise TranscriptError(
            Problem(str(path), None, f"not a readable XLSX workbook ({type(exc).__name__})")
        ) from None
    try:
        ws = wb["queue"] if "queue" in wb.sheetnames else wb.worksheets[0]
        values = ws.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(values, ())]
        rows, lines = [], []
        for number, record in enumerate(values, 2):
            if record is None or all(v is None or str(v).strip() == "" for v in record):
                continue
            rows.append(dict(zip(header, record, strict=False)))
            lines.append(number)
    finally:
        wb.close()
    return rows, lines


def _text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a spreadsheet stores the turn 12 as 12.0
    return str(value).strip()


def _sheet(path: Path, column: str):
    rows, lines = _read_xlsx(path) if path.suffix.lower() == ".xlsx" else _read_delimited(path)
    if not rows:
        return pd.DataFrame(columns=["session_id", "turn", column, "subtype"]), [], []
    missing = [c for c in ("session_id", "turn", column) if c not in rows[0]]
    if missing:
        return None, [], [Problem(str(path), 1, f"missing column(s) {', '.join(missing)}")]
    keep = ["session_id", "turn", column] + (["subtype"] if "subtype" in rows[0] else [])
    df = pd.DataFrame([{c: _text(r.get(c)) for c in keep} for r in rows])
    return df, lines, []


# --- Label Studio -----------------------------------------------------------------------------


def _choices(result: list, control: str) -> list[str]:
    out = []
    for item in result or []:
        if isinstance(item, dict) and item.get("from_name") == control:
            out += [str(c).strip() for c in (item.get("value") or {}).get("choices") or []]
    return out


def _label_studio(path: Path, text: str):
    try:
        tasks = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(
            Problem(str(path), exc.lineno, f"not valid JSON ({exc.msg})")
        ) from None
    if not isinstance(tasks, list):
        raise TranscriptError(
            Problem(str(path), None, "a Label Studio export is a JSON list of tasks")
        )
    rows, where, problems = [], [], []
    for number, task in enumerate(tasks, 1):
        name = f"task {number}" + (
            f" (id {task['id']})" if isinstance(task, dict) and "id" in task else ""
        )
        if not isinstance(task, dict):
            problems.append(Problem(str(path), None, f"{name} is not a JSON object"))
            continue
        if "data" not in task:  # JSON_MIN: the data fields and each control's choice, flat
            rows.append(
                {
                    "session_id": _text(task.get("session_id")),
                    "turn": _text(task.get("turn")),
                    "label": _min_choice(task.get("label")),
                    "subtype": _min_choice(task.get("subtype")),
                }
            )
            where.append(name)
            continue
        data = task.get("data") or {}
        codes = set()
        for annotation in task.get("annotations") or []:
            if annotation.get("was_cancelled"):
                continue
            result = annotation.get("result") or []
            codes.add(
                (
                    "/".join(_choices(result, "label")),
                    "/".join(_choices(result, "subtype")),
                )
            )
        if len(codes) > 1:
            found = ", ".join(sorted(f"{lab or '(none)'} {sub}".strip() for lab, sub in codes))
            problems.append(
                Problem(
                    str(path),
                    None,
                    f"{name}: its annotations disagree ({found}); settle them in Label Studio, "
                    "or export one annotator's",
                )
            )
            continue
        label, subtype = codes.pop() if codes else ("", "")
        rows.append(
            {
                "session_id": _text(data.get("session_id")),
                "turn": _text(data.get("turn")),
                "label": label,
                "subtype": subtype,
            }
        )
        where.append(name)
    return pd.DataFrame(rows, columns=["session_id", "turn", "label", "subtype"]), where, problems


def _min_choice(value) -> str:
    if isinstance(value, dict):
        value = value.get("choices", [])
    if isinstance(value, list):
        return "/".join(str(v).strip() for v in value)
    return _text(value)


# --- doccano ----------------------------------------------------------------------------------


def _doccano(path: Path, text: str):
    rows, where, problems = [], [], []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(str(path), number, f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(record, dict):
            problems.append(Problem(str(path), number, "each line must be a JSON object"))
            continue
        meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
        fields = {**meta, **record}  # metadata is flat in doccano 1.6+, under "meta" before
        chosen = fields.get("label", fields.get("labels", []))
        chosen = [str(c).strip() for c in chosen] if isinstance(chosen, list) else [_text(chosen)]
        labels = [c.lower() for c in chosen if c.lower() in LABELS]
        subtypes = [c.upper() for c in chosen if c.upper() in SUBTYPES]
        other = [c for c in chosen if c.lower() not in LABELS and c.upper() not in SUBTYPES]
        rows.append(
            {
                "session_id": _text(fields.get("session_id")),
                "turn": _text(fields.get("turn")),
                "label": "/".join(labels + other),
                "subtype": "/".join(subtypes),
            }
        )
        where.append(number)
    return pd.DataFrame(rows, columns=["session_id", "turn", "label", "subtype"]), where, problems


# --- checks -----------------------------------------------------------------------------------


def _check(df: pd.DataFrame, path: Path, where: list, column: str) -> list[Problem]:
    """The rules every label table follows, each problem at its row, line or task."""
    problems: list[Problem] = []

    def add(mask, message):
        for i in np.flatnonzero(np.asarray(mask))[:_MAX_PER_CHECK]:
            at = where[i]
            line, prefix = (at, "") if isinstance(at, int) else (None, f"{at}: ")
            problems.append(Problem(str(path), line, prefix + message(i)))

    sid, turn, label = df["session_id"], df["turn"], df[column]
    add(sid == "", lambda i: "no session_id")
    number = pd.to_numeric(turn, errors="coerce")
    add(
        number.isna() | (number != number.round()),
        lambda i: f"turn {turn.iloc[i]!r} is not an integer",
    )
    add(
        ~label.isin(LABELS + ("",)),
        lambda i: (
            f"two labels {label.iloc[i]!r}; choose one"
            if "/" in label.iloc[i]
            else f"unknown label {label.iloc[i]!r}; expected one of {', '.join(LABELS)}"
        ),
    )
    if "subtype" in df.columns:
        sub = df["subtype"]
        known = sub.isin(tuple(SUBTYPES) + ("",))
        add(~known, lambda i: f"unknown subtype {sub.iloc[i]!r}; expected a 3RS code such as W2")
        owner = sub.map(lambda s: SUBTYPES[s][0] if s in SUBTYPES else "")
        if column == "label":
            add(
                known & (sub != "") & (owner != label),
                lambda i: (
                    f"subtype {sub.iloc[i]} belongs to {owner.iloc[i]}, not to label "
                    f"{label.iloc[i]!r}"
                ),
            )
    coded = df[label != ""]
    key = coded["session_id"] + "\x00" + coded["turn"]
    clash = coded.groupby(key.to_numpy())[column].transform("nunique") > 1
    first = clash & ~key.duplicated()
    add(
        df.index.isin(coded.index[first.to_numpy()]),
        lambda i: (
            f"session {sid.iloc[i]!r} turn {turn.iloc[i]} is coded twice with different labels"
        ),
    )
    return problems


def read_corrections(path: str | Path, column: str = "label") -> tuple[pd.DataFrame, list[Problem]]:
    """Read a filled queue sheet or a Label Studio / doccano export into a label table.

    Returns ``(table, problems)``: ``table`` has ``session_id``, ``turn`` (an integer; -1 where
    it is not one), ``column`` and ``subtype``, one row per turn of the file, an empty label
    where the turn was not coded; ``problems`` is empty when every row is usable. ``column``
    other than ``label`` reads another column of a sheet (``predicted_label`` compares a coder
    with the model).

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "export.json"
    >>> _ = p.write_text(json.dumps([{"id": 7, "data": {"session_id": "s1", "turn": 4},
    ...     "annotations": [{"result": [{"from_name": "label", "to_name": "text",
    ...     "type": "choices", "value": {"choices": ["withdrawal"]}}]}]}]))
    >>> table, problems = read_corrections(p)
    >>> table.values.tolist(), problems
    ([['s1', 4, 'withdrawal', '']], [])
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".json", ".jsonl"):
            if column != "label":
                return pd.DataFrame(), [
                    Problem(str(path), None, f"an annotation tool's export has no {column!r}")
                ]
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                line = raw.count(b"\n", 0, exc.start) + 1
                return pd.DataFrame(), [Problem(str(path), line, "not UTF-8 text; save as UTF-8")]
            reader = _label_studio if suffix == ".json" else _doccano
            df, where, problems = reader(path, text)
        else:
            df, where, problems = _sheet(path, column)
            if df is None:
                return pd.DataFrame(), problems
    except TranscriptError as exc:
        return pd.DataFrame(), exc.problems
    except UnicodeDecodeError:
        return pd.DataFrame(), [Problem(str(path), None, "not UTF-8 text; save as UTF-8")]
    except OSError as exc:
        return pd.DataFrame(), [Problem(str(path), None, f"cannot read file ({exc.strerror})")]
    problems += _check(df, path, where, column)
    turn = pd.to_numeric(df["turn"], errors="coerce")
    df["turn"] = turn.where(turn == turn.round(), -1).fillna(-1).astype(np.int64)
    return df.reset_index(drop=True), problems


def apply_labels(turns: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``turns`` with the coded rows of ``labels`` as their ``label`` (and subtype).

    Matched by ``session_id`` and ``turn``. A code in ``labels`` replaces the turn's own label;
    turns it does not code keep theirs, or an empty label (not coded: context only when
    training). A code for a turn the transcripts do not have, or two different codes for one
    turn, is an error: either means the labels belong to other transcripts.

    >>> turns = pd.DataFrame({"session_id": ["s", "s"], "turn": [1, 2],
    ...                       "speaker": ["therapist", "client"], "text": ["How so?", "Fine."]})
    >>> coded = pd.DataFrame({"session_id": ["s"], "turn": [2], "label": ["withdrawal"]})
    >>> apply_labels(turns, coded)["label"].tolist()
    ['', 'withdrawal']
    """
    coded = labels[labels["label"].astype(str).str.strip() != ""].copy()
    coded["session_id"] = coded["session_id"].astype(str)
    coded["turn"] = coded["turn"].astype(np.int64)
    key = ["session_id", "turn"]
    clash = coded.groupby(key)["label"].nunique()
    clash = clash[clash > 1]
    if len(clash):
        sid, turn = clash.index[0]
        raise TranscriptError(
            f"session {sid!r} turn {turn} has different labels in the label files "
            f"({len(clash)} turn(s) like this); keep one coder's code per turn"
        )
    coded = coded.drop_duplicates(key)
    out = turns.copy()
    if "label" not in out.columns:
        out["label"] = ""
    has_subtype = "subtype" in coded.columns
    if has_subtype and "subtype" not in out.columns:
        out["subtype"] = ""
    index = pd.MultiIndex.from_arrays([out["session_id"].astype(str), out["turn"].astype(np.int64)])
    at = index.get_indexer(pd.MultiIndex.from_frame(coded[key]))
    if (at < 0).any():
        row = coded.iloc[int(np.flatnonzero(at < 0)[0])]
        raise TranscriptError(
            f"session {row['session_id']!r} turn {row['turn']} is coded in the labels but not in "
            f"the transcripts ({int((at < 0).sum())} coded turn(s) not found); label files must "
            "come from a queue of these transcripts"
        )
    label = out["label"].where(out["label"].notna(), "").astype(str).to_numpy(copy=True)
    label[at] = coded["label"].to_numpy()
    out["label"] = label
    if has_subtype:
        sub = out["subtype"].where(out["subtype"].notna(), "").astype(str).to_numpy(copy=True)
        sub[at] = coded["subtype"].fillna("").astype(str).to_numpy()
        out["subtype"] = sub
    return out
