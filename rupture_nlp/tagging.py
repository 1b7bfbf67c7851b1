"""Tag transcripts with a model, streaming so that memory stays flat on large archives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from .errors import TranscriptError
from .model import PROBA_COLUMNS, predict
from .modelio import resolve_model
from .readers import DEFAULT_CHUNK_TURNS, iter_transcript_chunks
from .survey import conform_columns, survey_inputs
from .workers import in_workers
from .writers import TableWriter, check_output

__all__ = ["PREDICTION_COLUMNS", "iter_tagged", "tag_files"]

#: What tagging adds to every turn; a table with all of them is a previous tagging's output.
PREDICTION_COLUMNS = ("predicted_label", *PROBA_COLUMNS)
#: Turns that go through the model at once, within a chunk: the sparse features of a 20,000-turn
#: chunk take about 125 MiB at their peak, those of 10,000 under half. Default chunks
#: (``DEFAULT_CHUNK_TURNS``) are smaller and go through whole; this caps a larger ``chunk_turns``.
MODEL_TURNS = 10_000


def iter_tagged(
    paths,
    model=None,
    speaker_map=None,
    chunk_turns: int = DEFAULT_CHUNK_TURNS,
    n_process: int | None = None,
    n_jobs: int = 1,
    columns=None,
    explain: bool = False,
    exclude=(),
    notice=None,
) -> Iterator[pd.DataFrame]:
    """Yield tagged chunks of whole sessions, in input order: input columns plus predictions.

    ``explain=True`` adds the ``why`` column of :func:`rupture_nlp.explain.why` (the top
    reasons of each flagged turn), computed chunk by chunk with the predictions.

    ``n_jobs > 1`` tags chunks in worker processes (joblib's loky executor). Unlike spaCy's
    ``n_process``, which ships every Doc between processes, a worker receives a chunk's rows
    and returns its predictions, so the overhead is small. At most ``2 * n_jobs`` chunks are
    submitted and not yet written, so memory stays bounded however fast the workers are.
    ``columns`` maps a table's column names to the canonical ones (``"Utterance=text"``). Files
    in ``exclude`` are left out of the inputs; ``notice`` hears when the default model is built
    on first use (:func:`~rupture_nlp.modelio.resolve_model`).
    """
    if n_jobs > 1 and (n_process or 1) > 1:
        raise TranscriptError("use either several jobs or several spaCy processes, not both")
    fitted = resolve_model(model, n_process, notice)
    chunks = iter_transcript_chunks(paths, speaker_map, chunk_turns, columns, exclude)
    yield from in_workers(_tag_chunk, ((fitted, chunk, explain) for chunk in chunks), n_jobs)


def _tag_chunk(fitted, chunk: pd.DataFrame, explain: bool) -> pd.DataFrame:
    if explain:
        from .explain import predict_with_reasons

        return predict_with_reasons(fitted, chunk)
    return predict(fitted, chunk, chunk_turns=MODEL_TURNS)


def tag_files(
    paths,
    out,
    model=None,
    speaker_map=None,
    chunk_turns: int = DEFAULT_CHUNK_TURNS,
    progress=None,
    n_process: int | None = None,
    n_jobs: int = 1,
    columns=None,
    explain: bool = False,
    notice=None,
) -> int:
    """Tag every turn of ``paths`` and write the result to ``out``; return the turn count.

    The output has the canonical columns, then the coders' and any other input column, then the
    predictions (:func:`~rupture_nlp.survey.output_columns`) and, with ``explain=True``, the
    ``why`` column (see :func:`iter_tagged`), decided from every input's header before the first
    chunk is written, so a folder mixing tables, text transcripts and subtitles gives one table.
    ``columns`` maps a table's column names to the canonical ones. A previous run's output
    found among the inputs is left out (``notice`` is told once). Nothing is written unless
    every chunk is tagged: the output is renamed into place at the end.

    ``progress`` is a tqdm-like bar: its ``total`` is set to the expected number of turns, then
    ``update(n)`` is called after each chunk (see :func:`rupture_nlp.progress.progress_bar`); a
    plain callable is called with each chunk's turn count.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    exclude = check_output(out, paths, own_columns=PREDICTION_COLUMNS)
    if notice and any(Path(p).resolve() == Path(out).resolve() for p in exclude):
        notice(f"leaving out {out}: it is this command's output from an earlier run")
    survey = survey_inputs(paths, speaker_map, exclude, columns)
    added = list(PREDICTION_COLUMNS)
    if explain:
        from .explain import WHY_COLUMN  # explain is imported only for --explain

        added.append(WHY_COLUMN)
    out_columns = [c for c in survey.output_columns() if c not in added]
    if getattr(speaker_map, "infer", False):  # --speaker-map auto says where roles came from
        out_columns += [c for c in ("role_source", "role_confidence") if c not in out_columns]
    out_columns += added
    bar = progress if hasattr(progress, "update") else None
    if bar is not None:
        bar.total = survey.n_rows
    n = 0
    with TableWriter(out, out_columns) as writer:
        tagged_chunks = iter_tagged(
            paths,
            model,
            speaker_map,
            chunk_turns,
            n_process,
            n_jobs,
            columns=columns,
            explain=explain,
            exclude=exclude,
            notice=notice,
        )
        for tagged in tagged_chunks:
            writer.write(conform_columns(tagged, out_columns))
            n += len(tagged)
            if bar is not None:
                bar.update(len(tagged))
            elif progress is not None:  # a plain callable, as before bars
                progress(len(tagged))
    if bar is not None and bar.total != n:  # the count was an estimate: end the bar at 100%
        bar.total = n
    return n
