"""Saving and loading model files, treating them as the code they are.

A joblib file runs code when it is loaded. So every model is saved with a metadata file beside
it (``model.joblib`` -> ``model.json``): format version, the versions of Python and the
libraries that made it, the model file's sha256, a hash of the training data, label counts,
parameters, seed and cross-validated metrics. :func:`load_model` reads the metadata first and
refuses to unpickle a file whose hash or versions do not match, with a message saying what to do.

The default model is found by :func:`default_model_path`: ``$RUPTURE_MODEL``, a checkout's
``models/`` folder, or else a user cache, where :func:`resolve_model` builds it on first use from
the corpus that ships with the package (deterministically, in one process: the same file as
``rupture train data/ --jobs 1`` and the same model as ``make model``, given the same library
versions).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path

import pandas as pd

from .errors import ModelError
from .writers import atomic_path

__all__ = [
    "DEFAULT_MODEL_NAME",
    "FORMAT_VERSION",
    "build_default_model",
    "cached_model_path",
    "data_hash",
    "default_model_path",
    "file_sha256",
    "library_versions",
    "load_model",
    "metadata_path",
    "read_metadata",
    "resolve_model",
    "save_model",
]

DEFAULT_MODEL_NAME = "rupture-default.joblib"
#: The repository around the package, when it runs from a checkout (``make model`` writes there)
_CHECKOUT = Path(__file__).resolve().parent.parent

#: Bumped whenever the meaning of a fitted model's state changes; older files are refused.
FORMAT_VERSION = 7
#: Packages that must be the same version that wrote a model: pickles of their objects, and
#: the features they compute (rupture-nlp itself, the lemma tables), are only stable within one.
_EXACT = ("rupture-nlp", "scikit-learn", "numpy", "scipy", "spacy-lookups-data")


def library_versions() -> dict[str, str]:
    """Versions that decide whether a pickled model can be trusted to load and behave the same."""
    from importlib.metadata import version

    import numpy
    import scipy
    import sklearn
    import spacy

    from . import __version__

    return {
        "rupture-nlp": __version__,
        "python": platform.python_version(),
        "spacy": spacy.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "spacy-lookups-data": version("spacy-lookups-data"),
    }


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_hash(df: pd.DataFrame) -> str:
    """sha256 of the canonical columns of a turns table, independent of file format and order.

    >>> import pandas as pd
    >>> a = pd.DataFrame({"session_id": ["s"], "turn": [1], "speaker": ["client"], "text": ["x"]})
    >>> data_hash(a) == data_hash(a.copy())
    True
    """
    cols = [c for c in ("session_id", "turn", "speaker", "text", "label", "subtype") if c in df]
    canon = df[cols].astype(str).sort_values(["session_id", "turn"], kind="stable")
    payload = canon.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


def metadata_path(model_path: str | Path) -> Path:
    return Path(model_path).with_suffix(".json")


def save_model(model, path: str | Path, metadata: dict) -> dict:
    """Write ``model`` with joblib and its metadata JSON beside it; return the metadata written.

    Both files are written to temporary names and renamed only when both are complete. A crash
    between the two renames can leave a new file beside old metadata; their sha256 then
    disagree and :func:`load_model` refuses the pair, so a mismatched pair is never loaded.
    """
    import joblib

    path = Path(path)
    if path.suffix.lower() == ".json":
        raise ModelError(f"{path}: a model file cannot end in .json (its metadata goes there)")
    # a loaded model carries its file's metadata; the new file gets its own
    loaded_meta = getattr(model, "__dict__", {}).pop("metadata_", None)
    try:
        with atomic_path(path) as tmp_model, atomic_path(metadata_path(path)) as tmp_meta:
            joblib.dump(model, tmp_model, compress=3)
            meta = {
                "format_version": FORMAT_VERSION,
                "model_file": path.name,
                "sha256": file_sha256(tmp_model),
                "versions": library_versions(),
                **metadata,
            }
            with open(tmp_meta, "w", encoding="utf-8") as f:
                f.write(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n")
    finally:
        if loaded_meta is not None:
            model.metadata_ = loaded_meta
    return meta


def read_metadata(path: str | Path) -> dict:
    """The metadata of a model file, checked for presence and format only."""
    meta_file = metadata_path(path)
    if not Path(path).is_file():
        raise ModelError(
            f"model file {path} does not exist; build the default model with "
            "'make model' or train one with 'rupture train data/ -o MODEL'"
        )
    if not meta_file.is_file():
        raise ModelError(
            f"{path} has no metadata file {meta_file.name} beside it; refusing to "
            "load a model of unknown origin (a joblib file runs code when loaded)"
        )
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{meta_file} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ModelError(f"{meta_file} is not a model metadata file (expected a JSON object)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{path} has model format {meta.get('format_version')!r}; this version of "
            f"rupture-nlp reads format {FORMAT_VERSION}; retrain it with 'rupture train'"
        )
    return meta


def load_model(path: str | Path | None = None, check_versions: bool = True, notice=None):
    """Load a model after checking its sha256 and the library versions that made it.

    Returns the fitted model, which :func:`~rupture_nlp.model.predict` takes as it is; its
    metadata (seed, versions, sha256, cross-validated metrics) is the ``metadata_`` attribute.
    Raises :class:`ModelError` on any mismatch *before* the file is unpickled. Without ``path``,
    the default model (:func:`default_model_path`), built on first use when there is none;
    ``notice`` is told before that minute of training.
    """
    import joblib

    if path is None:
        path = default_model_path()
        if not path.exists():
            if os.environ.get("RUPTURE_MODEL"):
                raise ModelError(
                    f"no default model at {path} ($RUPTURE_MODEL); build it with 'make model' "
                    "in a checkout, or unset RUPTURE_MODEL to have it built on first use"
                )
            build_default_model(path, notice)
    meta = read_metadata(path)
    actual = file_sha256(path)
    if actual != meta.get("sha256"):
        raise ModelError(
            f"{path} does not match the sha256 in {metadata_path(path).name} "
            f"(expected {str(meta.get('sha256'))[:12]}..., found {actual[:12]}...); "
            "the file was changed after it was saved - refusing to load it"
        )
    if check_versions:
        now, then = library_versions(), meta.get("versions", {})
        wrong = [
            f"{lib} {then.get(lib)} (installed: {now[lib]})"
            for lib in _EXACT
            if then.get(lib) != now[lib]
        ]
        if then.get("spacy", "").split(".")[:2] != now["spacy"].split(".")[:2]:
            wrong.append(f"spacy {then.get('spacy')} (installed: {now['spacy']})")
        if wrong:
            raise ModelError(
                f"{path} was made with {', '.join(wrong)}; install those versions "
                "(make install uses constraints.txt) or retrain the model"
            )
    model = joblib.load(path)
    model.metadata_ = meta
    return model


def cached_model_path() -> Path:
    """Where the default model is built when neither ``$RUPTURE_MODEL`` nor a checkout has one.

    One folder per rupture-nlp version and set of library versions, because a model is only
    loaded by the versions that made it, and per packaged corpus, model format and default
    parameters, because a checkout updated between releases trains another model from them;
    ``$XDG_CACHE_HOME`` (or the platform's cache folder) decides where.
    """
    import platformdirs

    from .corpus import CORPUS_FILE, SPLITS_FILE, corpus_dir
    from .model import DEFAULT_PARAMS

    made_of = {"versions": library_versions(), "format": FORMAT_VERSION, "params": DEFAULT_PARAMS}
    parts = [json.dumps(made_of, sort_keys=True)]
    data = corpus_dir("data")
    for name in (CORPUS_FILE, SPLITS_FILE):
        if (data / name).is_file():
            parts.append(file_sha256(data / name))  # streamed: every run without a checkout model
    key = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:12]
    cache = Path(platformdirs.user_cache_dir("rupture-nlp", appauthor=False))
    return cache / key / DEFAULT_MODEL_NAME


def default_model_path() -> Path:
    """Where the default model lives.

    ``$RUPTURE_MODEL``; else ``models/`` of the current folder or of the checkout the package
    runs from (``make model`` writes it there); else :func:`cached_model_path`.
    """
    env = os.environ.get("RUPTURE_MODEL")
    if env:
        return Path(env)
    for root in (Path.cwd(), _CHECKOUT):
        candidate = root / "models" / DEFAULT_MODEL_NAME
        if candidate.exists():
            return candidate
    return cached_model_path()


def build_default_model(path: str | Path | None = None, notice=None) -> Path:
    """Train the default model from the packaged corpus's train split into ``path``.

    Seed 0 and the default parameters, as ``make model``; cross-validation is skipped, since it
    changes only the metrics recorded in the metadata, not the model file. ``notice`` is called
    once with a short message before the minute or so of training starts.
    """
    from .corpus import load_corpus
    from .training import train_and_save

    path = Path(path) if path is not None else cached_model_path()
    if notice:
        notice(
            f"building the default model into {path} from the corpus that ships with "
            "rupture-nlp (once; about a minute on two cores)"
        )
    train_and_save(load_corpus("data", "train"), path, seed=0, cv=0)
    return path


def resolve_model(model=None, n_process: int | None = None, notice=None):
    """The fitted model to use: ``model`` itself if fitted, loaded if a path, else the default.

    The default model (``model=None``) is built into the user cache on first use when there is
    none (see :func:`default_model_path`); ``notice`` hears about it. ``n_process`` sets the
    spaCy processes of the model's encoder (it changes speed, never predictions). A legacy
    ``(model, metadata)`` pair is accepted too. The metadata is the model's ``metadata_``
    (``{}`` for a model fitted in memory).
    """
    if isinstance(model, tuple) and len(model) == 2 and isinstance(model[1], dict):
        model = model[0]
    if model is not None and not isinstance(model, (str, Path)):
        fitted = model
    else:
        fitted = load_model(model, notice=notice)
    if n_process is not None:
        # the fitted first stage, not the unfitted template the model was built from
        fitted.first_.set_params(encode__n_process=n_process)
    return fitted
