"""Tag transcripts with a model, streaming so that memory stays flat on large archives."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from .errors import ModelError, TranscriptError
from .explain import predict_with_reasons
from .model import predict
from .modelio import load_model
from .readers import iter_transcript_chunks
from .writers import TableWriter, check_output

__all__ = ["DEFAULT_MODEL_NAME", "default_model_path", "iter_tagged", "resolve_model", "tag_files"]

DEFAULT_MODEL_NAME = "rupture-default.joblib"


def default_model_path() -> Path:
    """Where the default model lives: ``$RUPTURE_MODEL``, else ``models/`` of the checkout.

    The checkout is found from the current folder first, then from the package's own location
    (an editable install inside the repository).
    """
    env = os.environ.get("RUPTURE_MODEL")
    if env:
        return Path(env)
    here = Path.cwd() / "models" / DEFAULT_MODEL_NAME
    if here.exists():
        return here
    return Path(__file__).resolve().parent.parent / "models" / DEFAULT_MODEL_NAME


def resolve_model(model=None, n_process: int | None = None):
    """Load ``model`` (a path), or the default model; pass through an already fitted pipeline.

    Returns ``(model, metadata)``; metadata is ``{}`` for an in-memory model. ``n_process`` sets
    the spaCy processes of the model's encoder (it changes speed, never predictions).
    """
    if model is not None and not isinstance(model, (str, Path)):
        fitted, meta = model, {}
    else:
        fitted, meta = _load(model)
    if n_process is not None:
        # the fitted first stage, not the unfitted template the model was built from
        fitted.first_.set_params(encode__n_process=n_process)
    return fitted, meta


def _load(model):
    path = Path(model) if model is not None else default_model_path()
    if model is None and not path.exists():
        raise ModelError(
            f"no default model at {path}; build it with 'make model' (or pass "
            "--model MODEL, or set RUPTURE_MODEL)"
        )
    return load_model(path)


def iter_tagged(
    paths,
    model=None,
    speaker_map=None,
    chunk_turns: int = 20_000,
    n_process: int | None = None,
    n_jobs: int = 1,
    columns=None,
    explain: bool = False,
) -> Iterator[pd.DataFrame]:
    """Yield tagged chunks of whole sessions, in input order: input columns plus predictions.

    ``explain=True`` adds the ``why`` column of :func:`rupture_nlp.explain.why` (the top
    reasons of each flagged turn), computed chunk by chunk with the predictions.

    ``n_jobs > 1`` tags chunks in worker processes (joblib's loky executor). Unlike spaCy's
    ``n_process``, which ships every Doc between processes, a worker receives a chunk's rows
    and returns its predictions, so the overhead is small. At most ``2 * n_jobs`` chunks are
    submitted and not yet written, so memory stays bounded however fast the workers are.
    ``columns`` maps a table's column names to the canonical ones (``"Utterance=text"``).
    """
    if n_jobs > 1 and (n_process or 1) > 1:
        raise TranscriptError("use either several jobs or several spaCy processes, not both")
    fitted, _meta = resolve_model(model, n_process)
    chunks = iter_transcript_chunks(paths, speaker_map, chunk_turns, columns)
    if n_jobs == 1:
        for chunk in chunks:
            yield _tag_chunk(fitted, chunk, explain)
        return
    from collections import deque

    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=n_jobs)
    pending: deque = deque()
    for chunk in chunks:
        pending.append(executor.submit(_tag_chunk, fitted, chunk, explain))
        if len(pending) >= 2 * n_jobs:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _tag_chunk(fitted, chunk: pd.DataFrame, explain: bool) -> pd.DataFrame:
    return predict_with_reasons(fitted, chunk) if explain else predict(fitted, chunk)


def tag_files(
    paths,
    out,
    model=None,
    speaker_map=None,
    chunk_turns: int = 20_000,
    progress=None,
    n_process: int | None = None,
    n_jobs: int = 1,
    columns=None,
    explain: bool = False,
) -> int:
    """Tag every turn of ``paths`` and write the result to ``out``; return the turn count.

    ``explain=True`` adds the ``why`` column (see :func:`iter_tagged`).

    Nothing is written unless every chunk is tagged: the output is renamed into place at the end.
    """
    check_output(out, paths)
    n = 0
    with TableWriter(out) as writer:
        tagged_chunks = iter_tagged(
            paths,
            model,
            speaker_map,
            chunk_turns,
            n_process,
            n_jobs,
            columns=columns,
            explain=explain,
        )
        for tagged in tagged_chunks:
            writer.write(tagged)
            n += len(tagged)
            if progress:
                progress(len(tagged))
    return n
