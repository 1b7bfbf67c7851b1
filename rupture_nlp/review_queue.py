"""A review queue: the turns whose codes would teach the model most, ready for coders.

Coding every turn of a new archive costs more than a research team has; coding the turns the
model is least sure of is what active learning (uncertainty sampling) recommends, and the
experiment in ``scripts/active_learning.py`` measures what it saves on this corpus (README,
"The researcher's loop").

How uncertain a turn is comes from the model's calibrated probabilities (``p_<label>``, the
context stage's logistic regression fitted on held-out scores):

``margin`` (the default)
    one minus the gap between the two most probable labels. A coder's label teaches most where
    it settles which of two labels a turn is, and that is what the margin measures; it ignores
    how the rest of the probability is spread, which matters little here because a turn is
    nearly always torn between ``none`` and one marker (Settles 2009 reports margin ahead of
    entropy for multi-class uncertainty sampling).
``entropy``
    Shannon entropy of the four probabilities, divided by ``log 4`` so it runs from 0 to 1. It
    ranks first the rare turns that spread probability over three or four labels.

One long session of muddled talk would otherwise fill the queue with near-identical turns, so
at most ``per_session`` turns are taken from each session; the next most uncertain turns of
other sessions take their places. Ties are broken by session and turn, so a queue is the same
every time it is made.

Each queued turn carries its context (``before`` turns before it, ``after`` after, with speaker
and turn number), because a coder judges a turn in its exchange. The queue is written as a
spreadsheet (CSV or XLSX, by suffix) with empty ``label`` and ``subtype`` columns to fill in,
and as import files for Label Studio (JSON tasks with the model's label as a prediction) and
doccano (JSONL for a text-classification project); :mod:`rupture_nlp.corrections` reads the
coded sheet and the tools' exports back.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import TranscriptError
from .labels import LABELS, SUBTYPES
from .model import PROBA_COLUMNS
from .readers import DEFAULT_CHUNK_TURNS

__all__ = [
    "DEFAULT_AFTER",
    "DEFAULT_BEFORE",
    "QUEUE_METHODS",
    "SHEET_SUFFIXES",
    "build_queue",
    "doccano_records",
    "label_studio_config",
    "label_studio_tasks",
    "queue_turns",
    "select_uncertain",
    "uncertainty",
    "write_doccano",
    "write_label_studio",
    "write_sheet",
]

QUEUE_METHODS = ("margin", "entropy")
SHEET_SUFFIXES = (".csv", ".xlsx")
DEFAULT_BEFORE, DEFAULT_AFTER = 2, 1

#: The sheet's columns, in order; the coder fills ``label``, ``subtype`` and ``note``.
SHEET_COLUMNS = (
    "rank",
    "session_id",
    "turn",
    "speaker",
    "context_before",
    "text",
    "context_after",
    "label",
    "subtype",
    "note",
    "predicted_label",
    *PROBA_COLUMNS,
    "uncertainty",
)


def uncertainty(proba, method: str = "margin") -> np.ndarray:
    """How unsure the model is of each row of ``proba`` (rows sum to 1): 0 sure, 1 torn.

    >>> p = np.array([[0.9, 0.05, 0.03, 0.02], [0.45, 0.05, 0.05, 0.45], [0.25] * 4])
    >>> uncertainty(p).round(2).tolist()
    [0.15, 1.0, 1.0]
    >>> uncertainty(p, "entropy").round(2).tolist()
    [0.31, 0.73, 1.0]
    """
    proba = np.asarray(proba, dtype=np.float64)
    if method == "margin":
        top = np.sort(proba, axis=1)[:, ::-1]
        return 1.0 - (top[:, 0] - top[:, 1])
    if method == "entropy":
        p = np.clip(proba, 1e-12, 1.0)
        return -(p * np.log(p)).sum(axis=1) / np.log(proba.shape[1])
    raise TranscriptError(f"unknown uncertainty {method!r}; use one of {', '.join(QUEUE_METHODS)}")


def _uncoded(tagged: pd.DataFrame) -> np.ndarray:
    if "label" not in tagged.columns:
        return np.ones(len(tagged), dtype=bool)
    label = tagged["label"]
    return (label.isna() | (label.astype(str).str.strip() == "")).to_numpy()


def select_uncertain(
    tagged: pd.DataFrame,
    size: int,
    per_session: int | None = None,
    method: str = "margin",
) -> pd.DataFrame:
    """The ``size`` most uncertain uncoded turns, at most ``per_session`` from any session.

    ``tagged`` has ``session_id``, ``turn`` and the model's ``p_<label>`` columns (what
    :func:`rupture_nlp.model.predict` adds). Turns that already have a ``label`` are coded and
    never queued. Returns those rows in rank order with ``uncertainty`` and ``rank`` (1 = the
    most uncertain) added.

    >>> t = pd.DataFrame({"session_id": ["a", "a", "a", "b"], "turn": [1, 2, 3, 1],
    ...     "p_withdrawal": [0.5, 0.4, 0.1, 0.3], "p_confrontation": [0.0, 0.0, 0.0, 0.0],
    ...     "p_repair": [0.0, 0.0, 0.0, 0.0], "p_none": [0.5, 0.6, 0.9, 0.7]})
    >>> select_uncertain(t, 2, per_session=1)[["rank", "session_id", "turn"]].values.tolist()
    [[1, 'a', 1], [2, 'b', 1]]
    """
    if size < 1:
        raise TranscriptError("a queue needs a size of at least 1")
    if per_session is not None and per_session < 1:
        raise TranscriptError("per_session must be at least 1 (or None for no cap)")
    missing = [c for c in ("session_id", "turn", *PROBA_COLUMNS) if c not in tagged.columns]
    if missing:
        raise TranscriptError(
            f"ranking needs the model's probabilities; missing column(s) {', '.join(missing)} "
            "(tag the turns first)"
        )
    out = tagged.loc[_uncoded(tagged)].copy()
    out["uncertainty"] = uncertainty(out[list(PROBA_COLUMNS)].to_numpy(), method).round(6)
    out = out.sort_values(
        ["uncertainty", "session_id", "turn"], ascending=[False, True, True], kind="stable"
    )
    if per_session is not None:
        out = out[out.groupby("session_id", sort=False).cumcount().to_numpy() < per_session]
    out = out.head(size)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def _line(row) -> str:
    return f"[{row.turn}] {row.speaker}: {row.text}"


def _with_context(session: pd.DataFrame, picked: pd.DataFrame, before: int, after: int):
    """``context_before`` / ``context_after`` of the picked turns of one session's turns."""
    lines = [_line(r) for r in session[["turn", "speaker", "text"]].itertuples(index=False)]
    where = {t: i for i, t in enumerate(session["turn"].tolist())}
    before_text, after_text = [], []
    for turn in picked["turn"].tolist():
        i = where[turn]
        before_text.append("\n".join(lines[max(0, i - before) : i]))
        after_text.append("\n".join(lines[i + 1 : i + 1 + after]))
    return before_text, after_text


def queue_turns(
    tagged: pd.DataFrame,
    size: int,
    per_session: int | None = 5,
    method: str = "margin",
    before: int = DEFAULT_BEFORE,
    after: int = DEFAULT_AFTER,
) -> pd.DataFrame:
    """:func:`select_uncertain`, with each turn's context and the sheet's columns.

    ``tagged`` holds whole sessions (the context turns come from it). The result has the columns
    of :data:`SHEET_COLUMNS` (plus ``start`` when the input has times), one row per queued turn
    in rank order; ``label``, ``subtype`` and ``note`` are empty for the coder.
    """
    picked = select_uncertain(tagged, size, per_session, method)
    if "speaker" not in tagged.columns or "text" not in tagged.columns:
        raise TranscriptError("a queue needs the turns' speaker and text for context")
    before_col = pd.Series("", index=picked.index, dtype=object)
    after_col = pd.Series("", index=picked.index, dtype=object)
    for sid, rows in picked.groupby("session_id", sort=False):
        session = tagged[tagged["session_id"] == sid].sort_values("turn", kind="stable")
        b, a = _with_context(session, rows, before, after)
        before_col.loc[rows.index] = b
        after_col.loc[rows.index] = a
    picked["context_before"] = before_col
    picked["context_after"] = after_col
    for col in ("label", "subtype", "note"):
        picked[col] = ""
    columns = list(SHEET_COLUMNS)
    if "start" in picked.columns:
        columns.insert(columns.index("speaker") + 1, "start")
    return picked[columns].reset_index(drop=True)


def build_queue(
    paths,
    model=None,
    size: int = 200,
    per_session: int | None = 5,
    method: str = "margin",
    before: int = DEFAULT_BEFORE,
    after: int = DEFAULT_AFTER,
    speaker_map=None,
    chunk_turns: int = DEFAULT_CHUNK_TURNS,
) -> pd.DataFrame:
    """Tag transcripts with a model and queue their most uncertain turns (see :func:`queue_turns`).

    The files are tagged in chunks of whole sessions, so memory stays flat on a large archive:
    each chunk keeps only its own best ``size`` candidates (with their context), and the
    queue is the best ``size`` of those. Because the cap counts turns of one session and a
    session never spans chunks, the result is the same as ranking everything at once.
    """
    from .tagging import iter_tagged

    if method not in QUEUE_METHODS:
        raise TranscriptError(
            f"unknown uncertainty {method!r}; use one of {', '.join(QUEUE_METHODS)}"
        )
    parts = []
    for chunk in iter_tagged(paths, model, speaker_map, chunk_turns):
        if _uncoded(chunk).any():
            parts.append(queue_turns(chunk, size, per_session, method, before, after))
    parts = [p for p in parts if len(p)]
    if not parts:
        raise TranscriptError("every turn already has a label; there is nothing to queue")
    queue = pd.concat(parts, ignore_index=True).sort_values(
        ["uncertainty", "session_id", "turn"], ascending=[False, True, True], kind="stable"
    )
    queue = queue.head(size).reset_index(drop=True)
    queue["rank"] = np.arange(1, len(queue) + 1)
    return queue


# --- writing ----------------------------------------------------------------------------------


def write_sheet(queue: pd.DataFrame, out: str | Path) -> None:
    """Write the queue as a spreadsheet: ``.csv`` (``-`` for stdout), or ``.xlsx`` (openpyxl).

    The XLSX sheet wraps the long text columns, freezes the header row and offers the labels and
    subtype codes as drop-down lists, so a coder cannot type a label the reader would refuse.
    """
    from .writers import atomic_path, write_table

    if str(out) == "-":
        write_table(queue, "-")  # CSV on stdout
        return
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in SHEET_SUFFIXES:
        raise TranscriptError(
            f"{out}: a queue sheet is {' or '.join(SHEET_SUFFIXES)}; got {suffix or '(none)'}"
        )
    if suffix == ".csv":
        write_table(queue, out)
        return
    with atomic_path(out) as tmp:
        _write_xlsx(queue, tmp)


def _write_xlsx(queue: pd.DataFrame, path: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "queue"
    columns = list(queue.columns)
    ws.append(columns)
    for row in queue.itertuples(index=False):
        ws.append([None if isinstance(v, float) and np.isnan(v) else _cell(v) for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    wide = {"context_before": 50, "text": 50, "context_after": 40, "note": 30}
    n = len(queue) + 1
    for j, col in enumerate(columns, 1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = wide.get(col, max(10, len(col) + 2))
        if col in wide:
            for (cell,) in ws.iter_rows(min_row=2, max_row=n, min_col=j, max_col=j):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    lists = {"label": ",".join(LABELS), "subtype": ",".join(SUBTYPES)}
    for col, choices in lists.items():
        if col in columns and n > 1:
            letter = get_column_letter(columns.index(col) + 1)
            dv = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
            dv.error = f"choose one of: {choices}"
            dv.showErrorMessage = True
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{n}")
    wb.save(path)


def _cell(value):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str):  # control characters (a form feed from a PDF) are not XML
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def label_studio_config() -> str:
    """The Label Studio labeling configuration that matches :func:`label_studio_tasks`.

    Paste it into the project's Settings > Labeling Interface (Code). The coder sees the turns
    before, the turn to code, the turns after, and chooses one label and optionally a subtype.
    """
    labels = "\n".join(f'    <Choice value="{lab}"/>' for lab in LABELS)
    subtypes = "\n".join(
        f'    <Choice value="{code}" hint="{label}: {text}"/>'
        for code, (label, text) in SUBTYPES.items()
    )
    return (
        "<View>\n"
        '  <Header value="Session $session_id, turn $turn ($speaker)"/>\n'
        '  <Text name="before" value="$context_before"/>\n'
        '  <Text name="text" value="$text"/>\n'
        '  <Text name="after" value="$context_after"/>\n'
        '  <Choices name="label" toName="text" choice="single" required="true">\n'
        f"{labels}\n"
        "  </Choices>\n"
        '  <Choices name="subtype" toName="text" choice="single" showInline="true">\n'
        f"{subtypes}\n"
        "  </Choices>\n"
        "</View>\n"
    )


def _data_fields(row) -> dict:
    return {
        "session_id": str(row["session_id"]),
        "turn": int(row["turn"]),
        "speaker": str(row["speaker"]),
        "rank": int(row["rank"]),
        "context_before": str(row["context_before"]),
        "text": str(row["text"]),
        "context_after": str(row["context_after"]),
    }


def label_studio_tasks(queue: pd.DataFrame, model_version: str = "rupture-nlp") -> list[dict]:
    """Label Studio tasks (its JSON import format): ``data`` and one prediction per turn.

    The prediction is the model's label as a pre-annotation (a ``choices`` result for the
    ``label`` control of :func:`label_studio_config`); its ``score`` is the model's probability
    of that label, so sorting by prediction score in Label Studio also puts the least sure first.
    """
    tasks = []
    for _, row in queue.iterrows():
        predicted = str(row["predicted_label"])
        tasks.append(
            {
                "data": _data_fields(row),
                "predictions": [
                    {
                        "model_version": model_version,
                        "score": round(float(row[f"p_{predicted}"]), 4),
                        "result": [
                            {
                                "from_name": "label",
                                "to_name": "text",
                                "type": "choices",
                                "value": {"choices": [predicted]},
                            }
                        ],
                    }
                ],
            }
        )
    return tasks


def doccano_records(queue: pd.DataFrame) -> list[dict]:
    """doccano records (JSONL import of a text-classification project), one per queued turn.

    doccano shows one ``text`` per example, so the text is the exchange with the turn to code
    marked ``>>> ... <<<``; every other field is stored as the example's metadata and comes back
    in the export, which is how corrections find their session and turn. The model's label is
    metadata (``predicted_label``), not a ``label``: doccano would count an imported label as an
    annotation, and an unreviewed prediction must never come back as a coder's code.
    """
    records = []
    for _, row in queue.iterrows():
        fields = _data_fields(row)
        turn = f">>> [{fields['turn']}] {fields['speaker']}: {fields['text']} <<<"
        text = "\n".join(p for p in (fields["context_before"], turn, fields["context_after"]) if p)
        records.append(
            {
                "text": text,
                "session_id": fields["session_id"],
                "turn": fields["turn"],
                "speaker": fields["speaker"],
                "rank": fields["rank"],
                "predicted_label": str(row["predicted_label"]),
                **{c: round(float(row[c]), 4) for c in PROBA_COLUMNS},
            }
        )
    return records


def write_label_studio(queue: pd.DataFrame, out: str | Path, model_version: str = "rupture-nlp"):
    """Write Label Studio tasks (``.json``) and their labeling config beside them (``.xml``)."""
    from .writers import write_text

    out = Path(out)
    if out.suffix.lower() != ".json":
        raise TranscriptError(f"{out}: Label Studio tasks are a .json file")
    tasks = label_studio_tasks(queue, model_version)
    write_text(out, json.dumps(tasks, indent=1, ensure_ascii=False) + "\n")
    write_text(out.with_suffix(".xml"), label_studio_config())


def write_doccano(queue: pd.DataFrame, out: str | Path) -> None:
    """Write doccano's JSONL import file (see :func:`doccano_records`)."""
    from .writers import write_text

    out = Path(out)
    if out.suffix.lower() != ".jsonl":
        raise TranscriptError(f"{out}: a doccano import file is .jsonl")
    lines = [json.dumps(r, ensure_ascii=False) for r in doccano_records(queue)]
    write_text(out, "\n".join(lines) + "\n")
