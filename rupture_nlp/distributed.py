"""Tag an archive on a Dask cluster: the single-process model, one partition of whole sessions
at a time.

A clinic's archive can hold millions of turns across thousands of recordings. These functions
let a Dask cluster (or a :class:`distributed.LocalCluster` on one machine) do what
``rupture tag`` does, partition by partition: :func:`read_turns` reads tables with Dask's own
readers and applies the checks every reader applies; :func:`whole_sessions` makes sure no
session is cut between partitions, since the model's context features need every turn of a
session together; :func:`tag_dataframe` and :func:`episodes_dataframe` call the same
:func:`~rupture_nlp.model.predict` and :func:`~rupture_nlp.episodes.find_episodes` on each
partition, so the rows are the ones the single process writes. :func:`tag_to_parquet` is all of
it, as ``rupture tag --engine dask`` runs it.

Dask and distributed are an optional extra: ``pip install 'rupture-nlp[dask]'``.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .episodes import DEFAULT_GAP, DEFAULT_WINDOW, EPISODE_COLUMNS, find_episodes
from .errors import ModelError, Problem, TranscriptError
from .model import predict
from .modelio import load_model, read_metadata, resolve_model
from .readers import DEFAULT_CHUNK_TURNS, READERS, expand_paths, read_file
from .readers.reading import _finish
from .readers.speakers import map_for
from .survey import conform_columns, output_columns
from .tagging import PREDICTION_COLUMNS

__all__ = [
    "EXTRA_HINT",
    "episodes_dataframe",
    "read_turns",
    "require_dask",
    "tag_dataframe",
    "tag_to_parquet",
    "whole_sessions",
]

EXTRA_HINT = "the Dask engine needs the optional extra: pip install 'rupture-nlp[dask]'"
_PATH = "_rupture_path"  # which file a row came from, while the rows are checked
_VALIDATE_HINT = "run 'rupture validate' on the file for the line of each problem"
_DASK_TABLES = {".csv": ",", ".tsv": "\t", ".parquet": None}
_EPISODE_DTYPES = {
    "session_id": "str",
    "start_turn": "int64",
    "end_turn": "int64",
    "marker": "str",
    "n_markers": "int64",
    "repaired": "bool",
    "repair_turn": "Int64",
    "ends_session": "bool",
    "start": "float64",
    "end": "float64",
    "excerpt": "str",
}


def require_dask():
    """``dask.dataframe``, or an ImportError that says which extra to install."""
    try:
        import dask.dataframe as dd
        import distributed  # noqa: F401
    except ImportError:
        raise ImportError(EXTRA_HINT) from None
    return dd


def _current_client():
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:  # no client: Dask's threaded scheduler runs the graph in this process
        return None


def _plain_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Dask reads text as ``string[pyarrow]`` (missing = NA); the readers give pandas' default
    ``str`` (missing = NaN). One kind, so partitions, meta and the single process agree."""
    nullable = [
        c for c, t in df.dtypes.items() if isinstance(t, pd.StringDtype) and t.na_value is pd.NA
    ]
    return df.astype(dict.fromkeys(nullable, "str")) if nullable else df


def _canonical(df: pd.DataFrame, speaker_map: dict, where: str) -> pd.DataFrame:
    """One partition as the readers return a table: roles mapped, columns typed and checked."""
    df = _plain_strings(df.rename(columns=lambda c: c.strip() if isinstance(c, str) else c))
    paths = df.pop(_PATH).astype(str) if _PATH in df.columns else None
    if paths is None or not len(df):
        groups = [(where, df)]
    else:
        groups = list(df.groupby(paths.to_numpy(), sort=False))
    parts, problems = [], []
    for path, part in groups:
        # Dask reads only tables here, whose times are checked like any table's
        part, probs, _ = _finish(part, Path(path), None, [], map_for(path, speaker_map), False)
        parts.append(part)
        problems += probs
    if problems:
        raise TranscriptError(problems + [Problem("", None, _VALIDATE_HINT)])
    return _plain_strings(parts[0] if len(parts) == 1 else pd.concat(parts))


def _read_whole_file(path: str, speaker_map: dict) -> pd.DataFrame:
    df, problems = read_file(path, speaker_map)
    if problems:
        raise TranscriptError(problems)
    return _plain_strings(df)


def read_turns(paths, speaker_map: dict | None = None, blocksize: str | int = "16MB"):
    """Read transcripts into a Dask DataFrame of canonical turns, checked partition by partition.

    CSV, TSV and Parquet go through Dask's own readers (``blocksize`` bytes a partition, so one
    large file is read by many workers); the other formats (JSONL, plain text, WebVTT, SRT) are
    read whole by the project's readers, one file a partition. Every partition passes the
    checks of ``rupture validate`` when it is computed; a problem raises
    :class:`~rupture_nlp.errors.TranscriptError` naming the file (``rupture validate`` gives the
    line). A session may still be cut between partitions here: :func:`tag_dataframe` mends that.

    Parameters
    ----------
    paths : str, Path or list of them
        Files, folders or globs, as ``rupture tag`` takes them. Paths with a scheme
        (``s3://...``) go to Dask unexpanded and are read as CSV, TSV or Parquet by suffix.
    speaker_map : dict, optional
        Names in the files to roles, as ``--speaker-map`` gives them.
    blocksize : str or int
        Bytes of CSV or TSV per partition.

    Examples
    --------
    >>> from rupture_nlp.datasets import fixture_path
    >>> turns = read_turns(fixture_path(), blocksize=2_000)
    >>> turns.npartitions > 1, len(turns.compute())
    (True, 62)
    """
    dd = require_dask()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    speaker_map = speaker_map or {}
    remote = [str(p) for p in paths if "://" in str(p)]
    files = [str(f) for f in expand_paths([p for p in paths if "://" not in str(p)])]
    by_kind: dict[str | None, list[str]] = {}
    for f in files + remote:
        suffix = Path(f).suffix.lower()
        if suffix not in READERS:
            raise TranscriptError(
                Problem(
                    f,
                    None,
                    f"unknown file type {suffix or '(none)'}; expected one of "
                    f"{', '.join(sorted(READERS))}",
                )
            )
        by_kind.setdefault(suffix if suffix in _DASK_TABLES else None, []).append(f)
    _same_columns([f for f in files if Path(f).suffix.lower() in _DASK_TABLES])
    frames = []
    for suffix, group in by_kind.items():
        where = group[0] if len(group) == 1 else f"{group[0]} (and {len(group) - 1} more)"
        if suffix is None:
            meta = _read_whole_file(group[0], speaker_map).iloc[:0]
            frames.append(dd.from_map(_read_whole_file, group, speaker_map=speaker_map, meta=meta))
            continue
        if suffix == ".parquet":
            raw = dd.read_parquet(group)
        else:
            raw = dd.read_csv(
                group,
                sep=_DASK_TABLES[suffix],
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                quoting=3 if suffix == ".tsv" else 0,  # csv.QUOTE_NONE: TSV has no quoting
                encoding="utf-8-sig",
                blocksize=blocksize,
                include_path_column=_PATH,
            )
        meta = _canonical(raw._meta, speaker_map, where)
        frames.append(raw.map_partitions(_canonical, speaker_map, where, meta=meta))
    columns = [list(f.columns) for f in frames]
    if any(c != columns[0] for c in columns[1:]):
        raise TranscriptError(
            "the inputs' files have different columns; tag files with different columns separately"
        )
    return frames[0] if len(frames) == 1 else dd.concat(frames, ignore_index=True)


def _columns_of(path: str) -> list[str]:
    if path.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        first = f.readline().rstrip("\r\n")
    return [c.strip() for c in first.split("\t" if path.lower().endswith(".tsv") else ",")]


def _same_columns(files: list[str]) -> None:
    """Refuse tables whose columns differ, as ``rupture tag`` does: Dask would fill the gaps."""
    if not files:
        return
    first = _columns_of(files[0])
    for f in files[1:]:
        cols = _columns_of(f)
        if cols != first:
            raise TranscriptError(
                Problem(
                    f,
                    1,
                    f"columns {', '.join(cols)} differ from those of {files[0]} "
                    f"({', '.join(first)}); tag files with different columns separately",
                )
            )


def _session_runs(df: pd.DataFrame, partition_info=None) -> pd.DataFrame:
    """The sessions of a partition in order, one row per run of consecutive rows."""
    sid = df["session_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]]) if len(sid) else np.array([], int)
    number = partition_info["number"] if partition_info else 0
    return pd.DataFrame(
        {"session_id": pd.Series(sid[starts], dtype="str"), "partition": number},
        columns=["session_id", "partition"],
    )


def _mend(part: pd.DataFrame, *following: pd.DataFrame, drop_head: bool) -> pd.DataFrame:
    """A partition with its cut sessions made whole: the head of a session that began in an
    earlier partition goes, the rest of its last session comes from the partitions after it.
    The mended session's turn order is checked only now that its turns are together."""
    from .validation import check_frame

    sid = part["session_id"].to_numpy()
    if drop_head:
        part = part.iloc[_run_length(sid) :]
        sid = sid[_run_length(sid) :]
    if not following or not len(part):
        return part
    pieces = [part]
    for nxt in following:
        other = nxt["session_id"].to_numpy()
        pieces.append(nxt.iloc[: _run_length(other)])
    whole = pd.concat(pieces, ignore_index=True)
    whole, problems = check_frame(whole, "", None)
    if problems:
        raise TranscriptError(problems)
    return _plain_strings(whole)


def _run_length(sid: np.ndarray) -> int:
    """How many leading rows belong to the first row's session."""
    other = np.flatnonzero(sid != sid[0]) if len(sid) else []
    return int(other[0]) if len(other) else len(sid)


def whole_sessions(turns):
    """``turns`` with every session inside one partition, in input order.

    One cheap pass lists each partition's sessions (a few bytes a session). When no session is
    cut, ``turns`` is returned as it is; otherwise each cut session is moved whole into the
    partition where it began, so only rows at partition edges move (a hash shuffle would move
    the whole table for a few cut sessions). Input order is kept. A session that comes back after other sessions
    (or whose id is in two files) is refused, as the single-process readers refuse it.

    Examples
    --------
    >>> from rupture_nlp.datasets import fixture_path
    >>> turns = whole_sessions(read_turns(fixture_path(), blocksize=2_000))
    >>> turns.map_partitions(lambda p: p["session_id"].drop_duplicates()).compute().is_unique
    True
    """
    import dask

    dd = require_dask()
    runs = turns.map_partitions(
        _session_runs, meta={"session_id": "str", "partition": "int64"}
    ).compute()
    sid = runs["session_id"].to_numpy()
    part = runs["partition"].to_numpy()
    joined = np.r_[False, sid[1:] == sid[:-1]]
    back = pd.Series(sid[~joined]).duplicated()
    if back.any():
        first = sid[~joined][back.to_numpy()][0]
        raise TranscriptError(
            f"session {first!r} appears again after other sessions; session ids must be unique "
            "across files and each session's turns together (run 'rupture validate' for the "
            "lines)"
        )
    cut = joined & np.r_[False, part[1:] != part[:-1]]
    if not cut.any():
        return turns
    # a session continued from an earlier partition is the first run of the partition it is in
    bounds = np.searchsorted(part, np.arange(turns.npartitions + 1))  # runs come in order
    sessions = [sid[bounds[i] : bounds[i + 1]] for i in range(turns.npartitions)]
    continued = set(part[cut].tolist())
    parts = turns.to_delayed()
    mended = []
    for i, runs_i in enumerate(sessions):
        if not len(runs_i) or (i in continued and len(runs_i) == 1):
            continue  # empty, or wholly the middle of a session an earlier partition takes
        following = []
        for k in range(i + 1, len(sessions)):
            if not len(sessions[k]):
                continue
            if k not in continued:
                break
            following.append(parts[k])
            if len(sessions[k]) > 1:
                break
        mended.append(dask.delayed(_mend)(parts[i], *following, drop_head=i in continued))
    return dd.from_delayed(mended, meta=turns._meta, verify_meta=False)


@functools.lru_cache(maxsize=4)
def _model_from_path(path: str, sha256: str):
    """A worker's copy of a model file, loaded once per process after the usual checks."""
    fitted = load_model(path)
    meta = fitted.metadata_
    if meta.get("sha256") != sha256:
        raise ModelError(
            f"{path} on this worker is not the model the client checked (sha256 "
            f"{str(meta.get('sha256'))[:12]}..., expected {sha256[:12]}...); give every "
            "machine the same file"
        )
    return fitted


def _predict_partition(df: pd.DataFrame, model, path_sha=None, chunk_turns=DEFAULT_CHUNK_TURNS):
    if path_sha is not None:
        model = _model_from_path(*path_sha)
    out = predict(model, df, chunk_turns)
    # the columns and order rupture tag writes: canonical ones always, then the input's others
    columns = [c for c in output_columns([df.columns]) if c not in PREDICTION_COLUMNS]
    out = conform_columns(out, columns + list(PREDICTION_COLUMNS))
    for col in set(columns) - set(df.columns) - {"start", "end"}:  # text, missing: not objects
        out[col] = pd.Series([None] * len(out), index=out.index, dtype="str")
    return _plain_strings(out)


def tag_dataframe(
    turns, model=None, load_on_workers: bool = False, chunk_turns: int = DEFAULT_CHUNK_TURNS
):
    """Tag a Dask DataFrame of turns; return one with the columns ``rupture tag`` writes.

    Each partition is tagged by :func:`~rupture_nlp.model.predict`, the function the single
    process calls, after :func:`whole_sessions` has put every session in one partition; the
    output keeps the input columns and adds ``predicted_label`` and ``p_<label>``. Nothing is
    computed until the result is (``.to_parquet(...)``, ``.compute()``).

    Parameters
    ----------
    turns : dask.dataframe.DataFrame
        Canonical turns, as :func:`read_turns` gives them.
    model : path or fitted model, optional
        A model file (checked against its sha256 and versions before it is unpickled), the
        default model, or a fitted pipeline.
    load_on_workers : bool
        With a model file, have each worker process load it from the same path (a shared
        disk), checked against the sha256 the client saw, instead of receiving it from the
        client. Otherwise the model is scattered once to every worker of the current
        ``distributed`` client (or handed to Dask's local scheduler when there is none).
    chunk_turns : int
        Turns per model call inside a partition (speed only, as in ``rupture tag``).

    Examples
    --------
    Without a ``distributed`` client, Dask's threads in this process do the work:

    >>> from rupture_nlp.datasets import fixture_path, load_fixture
    >>> from rupture_nlp.model import train
    >>> tagged = tag_dataframe(read_turns(fixture_path(), blocksize=2_000), train(load_fixture()))
    >>> list(tagged.columns[-5:])
    ['predicted_label', 'p_withdrawal', 'p_confrontation', 'p_repair', 'p_none']
    >>> len(tagged.compute())
    62
    """
    require_dask()
    if load_on_workers:
        if model is not None and not isinstance(model, (str, Path)):
            raise ModelError("load_on_workers needs a model file, not a fitted model")
        from .modelio import default_model_path

        path = str(Path(model if model is not None else default_model_path()).resolve())
        path_sha = (path, read_metadata(path)["sha256"])
        fitted = _model_from_path(*path_sha)  # checked here first: a bad file sends no work
        shipped = None
    else:
        fitted = resolve_model(model)
        path_sha = None
        client = _current_client()
        if client is not None:
            shipped = client.scatter(fitted, broadcast=True, hash=False)
        else:
            import dask

            shipped = dask.delayed(fitted, pure=False)
    turns = whole_sessions(turns)
    meta = _predict_partition(turns._meta, fitted, None, chunk_turns)
    return turns.map_partitions(
        _predict_partition, shipped, path_sha, chunk_turns, meta=meta, align_dataframes=False
    )


def _episodes_partition(df: pd.DataFrame, **kwargs) -> pd.DataFrame:
    out = find_episodes(df, **kwargs)
    return out.astype({c: t for c, t in _EPISODE_DTYPES.items() if c in out.columns})


def episodes_dataframe(
    tagged,
    column: str | None = None,
    gap: int = DEFAULT_GAP,
    window: int = DEFAULT_WINDOW,
    min_prob: float | None = None,
    text: bool = True,
    check_sessions: bool = False,
):
    """Rupture episodes of a Dask DataFrame of turns, one partition at a time.

    :func:`~rupture_nlp.episodes.find_episodes` runs on each partition, so the episodes are the
    ones ``rupture scan`` finds. Partitions must hold whole sessions, as the output of
    :func:`tag_dataframe` does; ``check_sessions=True`` makes sure of it with
    :func:`whole_sessions` (which computes ``tagged`` once more: persist it first).

    Examples
    --------
    >>> from rupture_nlp.datasets import fixture_path
    >>> turns = whole_sessions(read_turns(fixture_path(), blocksize=2_000))
    >>> episodes = episodes_dataframe(turns, column="label").compute()
    >>> len(episodes), int(episodes["repaired"].sum())
    (5, 3)
    """
    if check_sessions:
        tagged = whole_sessions(tagged)
    kwargs = {"column": column, "gap": gap, "window": window, "min_prob": min_prob, "text": text}
    cols = EPISODE_COLUMNS if text else [c for c in EPISODE_COLUMNS if c != "excerpt"]
    meta = pd.DataFrame({c: pd.Series(dtype=_EPISODE_DTYPES[c]) for c in cols})
    return tagged.map_partitions(_episodes_partition, meta=meta, **kwargs)


def _replace_dir(tmp: Path, out: Path) -> None:
    """Move a finished output folder into place, replacing an earlier one only at the end."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old."))
        os.replace(out, old / out.name)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _check_output_dir(out: Path, paths) -> None:
    if out.exists() and not out.is_dir():
        raise TranscriptError(
            f"{out}: the Dask engine writes a folder of Parquet files; {out} "
            "is a file: choose a folder name"
        )
    if out.is_dir() and any(p.suffix != ".parquet" and p.is_file() for p in out.iterdir()):
        raise TranscriptError(
            f"{out}: folder exists and holds other files than Parquet; "
            "choose a new folder, it is replaced when tagging is done"
        )
    resolved = out.resolve()
    for p in paths:
        if "://" in str(p):
            continue
        p = Path(p).resolve()
        if p == resolved or resolved in p.parents or (p.is_dir() and p in resolved.parents):
            raise TranscriptError(
                f"{out}: output folder overlaps the input {p}; choose a folder outside the inputs"
            )


def tag_to_parquet(
    paths,
    out,
    model=None,
    scheduler: str | None = None,
    speaker_map: dict | None = None,
    n_workers: int | None = None,
    blocksize: str | int = "16MB",
    chunk_turns: int = DEFAULT_CHUNK_TURNS,
) -> int:
    """Tag ``paths`` on a Dask cluster and write partitioned Parquet to the folder ``out``.

    ``scheduler`` is a cluster's address (``tcp://host:8786``); without one a
    :class:`distributed.LocalCluster` of ``n_workers`` processes (default: one per core) runs on
    this machine and is shut down at the end. The Parquet files are written to a temporary
    folder beside ``out`` and renamed into place only when every partition is written, so a
    failure leaves no half output; a remote cluster's workers must see that folder (a shared
    disk). Returns the number of turns tagged.
    """
    require_dask()
    import pyarrow.parquet as pq
    from distributed import Client, LocalCluster

    out = Path(out)
    _check_output_dir(out, paths)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes 0700; the output should look like any new folder
    cluster = None
    try:
        turns = read_turns(paths, speaker_map, blocksize)
        if scheduler is None:
            cluster = LocalCluster(
                host="127.0.0.1",  # nothing on this machine listens beyond it
                n_workers=n_workers or os.cpu_count() or 1,
                threads_per_worker=1,
                dashboard_address=None,
                silence_logs=logging.ERROR,  # the workers' start and stop notices
            )
        with Client(scheduler or cluster):
            tag_dataframe(turns, model, chunk_turns=chunk_turns).to_parquet(tmp, write_index=False)
        n = sum(pq.read_metadata(f).num_rows for f in tmp.glob("*.parquet"))
        _replace_dir(tmp, out)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        # what pandas' CSV parser stops at (a row with too many fields, bytes that are not
        # UTF-8); Dask puts its own line before the parser's
        reason = str(exc).splitlines()[-1].removeprefix("Original Message: ")
        where = ", ".join(map(str, paths))
        raise TranscriptError(f"{where}: unreadable table ({reason}); {_VALIDATE_HINT}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if cluster is not None:
            cluster.close()
    return n
