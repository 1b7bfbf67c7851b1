"""Speaker roles for diarised transcripts: which of ``SPEAKER_00``, ``Speaker 1``, ``Maya Patel``
is the therapist?

Recognisers and meeting tools name speakers, the model needs roles. Therapists ask, reflect and
summarise; clients tell, answer and hedge. :func:`speaker_features` measures that per speaker of
a session, a logistic regression fitted on the project's corpus (``scripts/fit_speaker_roles.py``,
coefficients shipped in ``speaker_roles.json``) turns it into p(therapist), and
:func:`infer_roles` picks the most probable assignment of the whole session (one therapist
unless the evidence says otherwise), with how sure it is.

The readers call :func:`apply_speaker_roles` on every piece of a file: with a
:class:`SpeakerMap` whose ``infer`` is set (``--speaker-map auto``) unknown names get inferred
roles, recorded in ``role_source`` and ``role_confidence``; with a map the user gave, a map
that leaves no therapist or contradicts a confident inference gets a :class:`SpeakerMapWarning`.
"""

from __future__ import annotations

import itertools
import json
import re
import warnings
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import TranscriptError
from .labels import SPEAKER_ROLES, normalise_role
from .readers.speakers import SpeakerMap, parse_speaker_map, read_speaker_map

__all__ = [
    "CONTRADICTION",
    "ROLE_FEATURES",
    "SpeakerMap",
    "SpeakerMapWarning",
    "apply_speaker_roles",
    "describe_speakers",
    "fit_role_model",
    "format_speaker_map",
    "infer_roles",
    "load_role_model",
    "read_speaker_map",
    "render_diarised",
    "role_accuracy",
    "speaker_features",
    "speaker_map_from_option",
    "therapist_probability",
]

MODEL_FILE = "speaker_roles.json"

#: A given map is called contradictory when the inference puts at least this posterior
#: probability on an assignment with a different therapist.
CONTRADICTION = 0.95
#: ... and only in sessions of at least this many turns: a few turns say too little about who
#: is who for a warning to be more than noise.
CONTRADICTION_MIN_TURNS = 10

ROLE_FEATURES = (
    "turn_share",
    "word_share",
    "log_words_per_turn",
    "question",
    "question_start",
    "reflection",
    "summary",
    "backchannel_start",
    "short_turn",
    "you_rate",
    "i_rate",
    "we_rate",
    "hedge_rate",
    "speaks_first",
)

# Stage directions and recogniser tags ("(sits)", "[laughs]") say nothing about the role.
_ASIDE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_WORD = r"[a-z0-9']+"
_QUESTION_START = re.compile(
    r"^\W*(?:so,? )?(?:what|how|when|where|why|who|which|is there|are you|do you|did you|"
    r"does|have you|can you|could you|would you|will you|tell me)\b"
)
_REFLECTION = re.compile(
    r"\b(?:sounds like|it sounds|sounds as if|what i'?m hearing|i'?m hearing|so you'?re|"
    r"you'?re saying|you feel|you felt|you'?re feeling|it seems|you seem|i wonder|i notice|"
    r"i'?m noticing|if i understand|am i right|you mentioned|you said)\b"
)
_SUMMARY = re.compile(
    r"\b(?:so far|to sum|summar\w*|let me check|what we'?ve|today we|last week|last time|"
    r"next week|next time|homework|before we (?:stop|finish|end)|our time|this session|"
    r"we talked|we'?ve talked|we'?ve been)\b"
)
_BACKCHANNEL = re.compile(
    r"^\W*(?:yeah|yes|yep|yup|mm+|mhm|mm-hmm|uh-huh|okay|ok|right|sure|no|nah|um+|uh+|well|"
    r"i mean|i don'?t know|i guess)\b"
)
_YOU = re.compile(r"\byou(?:r|rs|rself|'re|'ve|'d|'ll)?\b")
_I = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|myself)\b")
_WE = re.compile(r"\b(?:we|we're|we've|we'll|let's|us|our|ours)\b")
_HEDGE = re.compile(r"\b(?:um+|uh+|like|i guess|i don'?t know|kind of|sort of|i mean)\b")


class SpeakerMapWarning(UserWarning):
    """A speaker map that runs but is probably wrong (no therapist, roles swapped)."""


# --- map files and the --speaker-map option ------------------------------------------------


#: An ``auto`` entry of an inline map, with the separator before it (or after it, first).
_AUTO_ENTRY = re.compile(r"(?:^|[,;])\s*auto\s*(?=[,;]|$)", re.IGNORECASE)


def speaker_map_from_option(value: str | None) -> dict[str, str]:
    """What ``--speaker-map`` means: ``auto``, a map file, or ``NAME=ROLE,...`` (``auto`` may be
    one of the items: the listed names are fixed, the others inferred).

    >>> speaker_map_from_option("auto,Dr Lee=therapist")
    SpeakerMap({'Dr Lee': 'therapist'}, infer=True, per_session={})
    >>> dict(speaker_map_from_option("Dr. Maya Patel, PhD=therapist;auto"))
    {'Dr. Maya Patel, PhD': 'therapist'}
    """
    if not value or not value.strip():
        return {}
    if "=" not in value and value.strip().lower() != "auto" and not Path(value).is_file():
        raise TranscriptError(
            f"{value}: no such map file (or write the map inline: 'Dr Lee=therapist,Sam=client',"
            " or 'auto')"
        )
    # take the 'auto' entry out and leave the others as written: a name may hold commas
    rest, n_auto = _AUTO_ENTRY.subn("", value)
    if not n_auto:
        return parse_speaker_map(value)
    rest = rest.strip(" ,;")
    given = parse_speaker_map(rest) if rest else {}
    return SpeakerMap(given, infer=True, per_session=getattr(given, "per_session", None))


def format_speaker_map(summary: pd.DataFrame) -> str:
    """A map file (see :func:`rupture_nlp.readers.read_speaker_map`) from :func:`describe_speakers`'s table,
    one ``[session]`` section per session, for the user to check, edit and pass back.
    Speakers whose role came from the file itself are left out; they need no map.
    """
    lines = [
        "# Speaker roles suggested by 'rupture speakers'. Check them, edit if needed, then pass",
        "# this file with --speaker-map FILE. NAME=ROLE per line; [SESSION] starts one session's",
        "# names; roles: therapist, client, client2..client9.",
    ]
    for sid, group in summary.groupby("session_id", sort=False):
        group = group[group["role_source"] != "file"]
        if not len(group):
            continue
        lines += ["", f"[{sid}]"]
        for row in group.itertuples():
            sure = (
                f"  # inferred, confidence {row.confidence:.2f}"
                if row.role_source == "inferred"
                else ""
            )
            # the comment goes on its own line: a name may contain '#'
            if sure:
                lines.append(sure.strip())
            lines.append(f"{row.speaker_name}={row.role}")
    return "\n".join(lines) + "\n"


# --- features and the model ----------------------------------------------------------------


def _speakers(df: pd.DataFrame) -> list[tuple[str, str]]:
    """``(session_id, speaker_name)`` of every row: who a row's speaker is."""
    return list(zip(df["session_id"].astype(str), df["speaker_name"].astype(str), strict=True))


def _names(df: pd.DataFrame) -> pd.Series:
    return (df["speaker_name"] if "speaker_name" in df.columns else df["speaker"]).astype(str)


def speaker_features(df: pd.DataFrame, names: pd.Series | None = None) -> pd.DataFrame:
    """One row per speaker of each session: counts and the role features of :data:`ROLE_FEATURES`.

    ``names`` (default: ``speaker_name``, else ``speaker``) says who spoke each turn. Shares are
    relative to an even split (1.0 means as much as the average speaker of the session), so a
    couple's session and a dyad read alike; rates are per word, the rest per turn.

    >>> df = pd.DataFrame({"session_id": "s", "speaker": ["A", "B", "A", "B"],
    ...     "text": ["How are you?", "Um, fine I guess.", "It sounds like a long week.", "Yeah."]})
    >>> f = speaker_features(df)
    >>> f[["speaker_name", "n_turns", "question", "reflection", "speaks_first"]].values.tolist()
    [['A', 2, 0.5, 0.5, 1.0], ['B', 2, 0.0, 0.0, 0.0]]
    """
    names = _names(df) if names is None else names.astype(str)
    text = df["text"].astype(str).str.replace(_ASIDE, " ", regex=True)
    low = text.str.lower()
    words = low.str.count(_WORD)
    turns = pd.DataFrame(
        {
            "session_id": df["session_id"].astype(str).to_numpy(),
            "speaker_name": names.to_numpy(),
            "n_turns": 1,
            "n_words": words.to_numpy(),
            "question": text.str.contains("?", regex=False).to_numpy(),
            "question_start": low.str.contains(_QUESTION_START).to_numpy(),
            "reflection": low.str.contains(_REFLECTION).to_numpy(),
            "summary": low.str.contains(_SUMMARY).to_numpy(),
            "backchannel_start": low.str.contains(_BACKCHANNEL).to_numpy(),
            "short_turn": (words <= 3).to_numpy(),
            "you_rate": low.str.count(_YOU).to_numpy(),
            "i_rate": low.str.count(_I).to_numpy(),
            "we_rate": low.str.count(_WE).to_numpy(),
            "hedge_rate": low.str.count(_HEDGE).to_numpy(),
        }
    )
    first = turns.groupby("session_id", sort=False)["speaker_name"].first()
    out = turns.groupby(["session_id", "speaker_name"], sort=False).sum().reset_index()
    n_speakers = out.groupby("session_id")["speaker_name"].transform("size")
    for col, total in (("turn_share", "n_turns"), ("word_share", "n_words")):
        whole = out.groupby("session_id")[total].transform("sum").clip(lower=1)
        out[col] = out[total] / whole * n_speakers
    out["log_words_per_turn"] = np.log1p(out["n_words"] / out["n_turns"])
    per_turn = ["question", "question_start", "reflection", "summary", "backchannel_start"]
    for col in [*per_turn, "short_turn"]:
        out[col] = out[col] / out["n_turns"]
    for col in ("you_rate", "i_rate", "we_rate", "hedge_rate"):
        out[col] = out[col] / out["n_words"].clip(lower=1)
    out["speaks_first"] = (out["speaker_name"] == out["session_id"].map(first)).astype(float)
    return out[["session_id", "speaker_name", "n_turns", "n_words", *ROLE_FEATURES]]


def fit_role_model(features: pd.DataFrame, is_therapist, n_therapists=None, C: float = 1.0):
    """Fit the role model; return it as the plain dict that ``speaker_roles.json`` holds.

    A standardised logistic regression (scikit-learn, deterministic lbfgs) on
    :data:`ROLE_FEATURES`. ``n_therapists`` (therapists per session in the training data) gives
    the prior on how many therapists a session has, by add-one smoothing of the counts of 0, 1
    and 2, so "exactly one therapist" is learned, not assumed.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))
    pipe.fit(features[list(ROLE_FEATURES)].to_numpy(dtype=float), np.asarray(is_therapist, int))
    scaler, lr = pipe[0], pipe[-1]
    counts = np.bincount(
        np.clip(np.asarray(n_therapists if n_therapists is not None else []), 0, 2), minlength=3
    )
    prior = (counts + 1) / (counts.sum() + 3)
    return {
        "format_version": 1,
        "features": list(ROLE_FEATURES),
        "mean": scaler.mean_.round(8).tolist(),
        "scale": scaler.scale_.round(8).tolist(),
        "coef": lr.coef_[0].round(8).tolist(),
        "intercept": round(float(lr.intercept_[0]), 8),
        "prior_n_therapists": prior.round(8).tolist(),
        "C": C,
    }


@lru_cache(maxsize=1)
def _packaged_model() -> str:
    return (resources.files("rupture_nlp") / MODEL_FILE).read_text(encoding="utf-8")


def load_role_model(path: str | Path | None = None) -> dict:
    """The role model: the packaged ``speaker_roles.json``, or another file of that form."""
    text = _packaged_model() if path is None else Path(path).read_text(encoding="utf-8")
    model = json.loads(text)
    if model.get("format_version") != 1 or model.get("features") != list(ROLE_FEATURES):
        raise TranscriptError(
            f"{path or MODEL_FILE}: not a role model of this version; refit it with "
            "scripts/fit_speaker_roles.py"
        )
    return model


def therapist_probability(features: pd.DataFrame, model: dict | None = None) -> np.ndarray:
    """p(this speaker is the therapist) for each row of :func:`speaker_features`."""
    model = model or load_role_model()
    x = features[model["features"]].to_numpy(dtype=float)
    z = (x - np.asarray(model["mean"])) / np.asarray(model["scale"])
    return 1.0 / (1.0 + np.exp(-(z @ np.asarray(model["coef"]) + model["intercept"])))


# --- assigning roles -----------------------------------------------------------------------


def _hypotheses(n: int, fixed: list[str | None], max_therapists: int):
    """Sets of therapists (tuples of indices) consistent with the roles already known."""
    must = {i for i, r in enumerate(fixed) if r == "therapist"}
    cannot = {i for i, r in enumerate(fixed) if r is not None and r != "therapist"}
    free = [i for i in range(n) if i not in must and i not in cannot]
    for k in range(0, max(max_therapists, len(must)) - len(must) + 1):
        for extra in itertools.combinations(free, k):
            yield tuple(sorted(must | set(extra)))


def _assign_session(p: np.ndarray, words: np.ndarray, fixed: list[str | None], prior):
    """The most probable roles of one session's speakers, their confidences, the map's."""
    n = len(p)
    p = np.clip(p, 1e-6, 1 - 1e-6)
    if n == 1:  # nobody to compare with: the speaker's own score, no prior on the session
        if fixed[0] is not None:
            return [fixed[0]], np.array([np.nan]), 1.0
        role = "therapist" if p[0] >= 0.5 else "client"
        sure = float(max(p[0], 1 - p[0]))
        return [role], np.array([sure]), sure
    hyps = list(_hypotheses(n, fixed, max_therapists=min(2, n - 1)))
    log_prior = np.log(np.asarray(prior, float))
    scores = []
    for t in hyps:
        mask = np.zeros(n, bool)
        mask[list(t)] = True
        lp = np.log(np.where(mask, p, 1 - p)).sum()
        scores.append(lp + log_prior[min(len(t), len(log_prior) - 1)])
    scores = np.asarray(scores)
    post = np.exp(scores - scores.max())
    post /= post.sum()
    best = hyps[int(np.argmax(post))]
    p_ther = np.array([sum(q for h, q in zip(hyps, post, strict=True) if i in h) for i in range(n)])
    roles: list[str] = [None] * n  # type: ignore[list-item]
    taken = {r for r in fixed if r}
    free_clients = iter(r for r in SPEAKER_ROLES[1:] if r not in taken)
    # clients numbered by how much they speak: the main client first
    for i in sorted(range(n), key=lambda i: -words[i]):
        if fixed[i] is not None:
            roles[i] = fixed[i]
        elif i in best:
            roles[i] = "therapist"
        else:
            roles[i] = next(free_clients, SPEAKER_ROLES[-1])
    conf = np.where([r == "therapist" for r in roles], p_ther, 1 - p_ther)
    conf = np.where([f is not None for f in fixed], np.nan, conf)
    return roles, conf, float(post.max())


def infer_roles(
    df: pd.DataFrame, fixed: dict | None = None, model: dict | None = None
) -> pd.DataFrame:
    """Infer every speaker's role, per session; one row per speaker.

    ``fixed`` maps ``(session_id, speaker_name)`` to a role already known (from the file or a
    map); those speakers keep it and constrain the others. Returns :func:`speaker_features`'s
    columns plus ``p_therapist`` (the speaker's own score), ``role``, ``confidence`` (posterior
    probability of that role, NaN for fixed roles) and ``map_confidence`` (posterior
    probability of the session's whole assignment).
    """
    model = model or load_role_model()
    fixed = fixed or {}
    feats = speaker_features(df)
    feats["p_therapist"] = therapist_probability(feats, model)
    parts = []
    for _sid, g in feats.groupby("session_id", sort=False):
        given = [fixed.get(k) for k in _speakers(g)]
        roles, conf, sure = _assign_session(
            g["p_therapist"].to_numpy(), g["n_words"].to_numpy(), given, model["prior_n_therapists"]
        )
        parts.append(g.assign(role=roles, confidence=conf, map_confidence=sure))
    return pd.concat(parts, ignore_index=True)


# --- the readers' hook ---------------------------------------------------------------------


def _key(name: str) -> str:
    return name.strip().lower()


def apply_speaker_roles(
    df: pd.DataFrame, path: str | Path, speaker_map: dict | None, checked: set | None = None
) -> pd.DataFrame:
    """Apply per-session map entries and inferred roles to a freshly read piece of a file, and
    warn about a suspicious map the user gave.

    Called by the readers after the plain ``name -> role`` map was applied, so ``speaker``
    holds a role where one is known and the name otherwise. With ``speaker_map.infer`` the
    names left get inferred roles and the frame gains ``role_source`` (``file``, ``map`` or
    ``inferred``) and ``role_confidence``; ``speaker_name`` keeps the names.

    Inference sees the piece it is given: a file read whole (``read_transcripts``, every
    transcript format) is inferred per session; a large table streamed by ``tag``/``scan`` in
    pieces of ``chunk_turns`` has a session cut by a piece boundary inferred once per piece.

    ``checked`` (the readers pass one set per file) collects the sessions whose given map was
    already checked: a map the user gave is checked once per session, not again on every
    piece. Without ``infer`` that check is all inference is for.
    """
    infer = bool(getattr(speaker_map, "infer", False))
    scoped = getattr(speaker_map, "per_session", None) or {}
    if not speaker_map or "speaker" not in df.columns or "text" not in df.columns:
        return df
    df = df.copy()
    names = _names(df)
    if "speaker_name" not in df.columns:
        df.insert(list(df.columns).index("speaker") + 1, "speaker_name", names)
    sids = df["session_id"].astype(str) if "session_id" in df.columns else pd.Series("", df.index)
    global_keys = {_key(k) for k in speaker_map}
    scoped_keys = {sid: {_key(k): v for k, v in m.items()} for sid, m in scoped.items()}
    pairs = pd.DataFrame({"sid": sids, "name": names}).drop_duplicates()
    source, role = {}, {}
    for sid, name in pairs.itertuples(index=False):
        here = scoped_keys.get(sid, {})
        if _key(name) in here:
            source[sid, name], role[sid, name] = "map", normalise_role(here[_key(name)])
        elif _key(name) in global_keys:
            source[sid, name] = "map"
        elif normalise_role(name) is not None:
            source[sid, name] = "file"
    keys = list(zip(sids, names, strict=True))
    if role:
        df["speaker"] = [role.get(k) or s for k, s in zip(keys, df["speaker"], strict=True)]
    speakers = df["speaker"].astype(str)
    known = {k: r for k, r in zip(keys, speakers, strict=True) if r in SPEAKER_ROLES}
    mapped = {sid for (sid, _), s in source.items() if s == "map"}
    if checked is not None and not infer:
        mapped -= checked
        checked |= mapped
    unsure = set(sids[~speakers.isin(SPEAKER_ROLES)]) if infer else set()
    ask = sids.isin(mapped | unsure).to_numpy()
    new = {}
    if ask.any():
        inferred = infer_roles(df[ask], fixed=known)
        if infer:
            new = {
                k: (r, c)
                for k, r, c in zip(
                    _speakers(inferred), inferred["role"], inferred["confidence"], strict=True
                )
                if k not in known
            }
        _warn_suspicious(path, inferred[inferred["session_id"].isin(mapped)], known)
    if infer:
        df["speaker"] = [new[k][0] if k in new else s for k, s in zip(keys, speakers, strict=True)]
        df["role_source"] = ["inferred" if k in new else source.get(k, "") for k in keys]
        df["role_confidence"] = [new[k][1] if k in new else np.nan for k in keys]
    return df


def _warn_suspicious(path, inferred: pd.DataFrame, known: dict) -> None:
    """Warn (not fail) about sessions whose given map leaves no therapist or no client, or
    names a therapist the text contradicts with posterior at least :data:`CONTRADICTION`."""
    found: dict[str, list[tuple[str, str]]] = {}
    stem = Path(path).stem
    prior = load_role_model()["prior_n_therapists"]
    for sid, g in inferred.groupby("session_id", sort=False):
        names = g["speaker_name"].tolist()
        if len(names) < 2:
            continue
        given = [known.get((sid, n)) for n in names]
        if None in given:
            continue  # a name without a role: validation reports it
        quoted = ", ".join(repr(n) for n in names)
        if "therapist" not in given:
            found.setdefault("no therapist", []).append(
                (sid, f"no therapist: {quoted} are all mapped to client roles")
            )
            continue
        if all(r == "therapist" for r in given):
            found.setdefault("no client", []).append(
                (sid, f"no client: {quoted} are all mapped to therapist")
            )
            continue
        free = [None] * len(names)
        roles, _conf, sure = _assign_session(
            g["p_therapist"].to_numpy(), g["n_words"].to_numpy(), free, prior
        )
        ours = {n for n, r in zip(names, roles, strict=True) if r == "therapist"}
        theirs = {n for n, r in zip(names, given, strict=True) if r == "therapist"}
        long_enough = g["n_turns"].sum() >= CONTRADICTION_MIN_TURNS
        if ours != theirs and sure >= CONTRADICTION and long_enough:
            found.setdefault("contradiction", []).append(
                (
                    sid,
                    f"the map makes {_join(theirs)} the therapist, but the turns say "
                    f"{_join(ours)} (inferred with confidence {sure:.2f}); check the map "
                    f"('rupture speakers {path}' shows the evidence)",
                )
            )
    for kind, hits in found.items():
        sid, detail = hits[0]
        where = str(path) if sid == stem else f"{path} (session {sid!r})"
        if len(hits) == 1:
            message = f"{where}: {detail}"
        else:
            first = ", ".join(repr(s) for s, _ in hits[:3])
            message = (
                f"{path}: {kind} in {len(hits)} sessions with the given speaker map "
                f"({first}{', ...' if len(hits) > 3 else ''}); first: {detail}"
            )
        warnings.warn(SpeakerMapWarning(message), stacklevel=2)


def _join(names) -> str:
    return " and ".join(repr(n) for n in sorted(names)) or "nobody"


# --- the `rupture speakers` summary --------------------------------------------------------


def describe_speakers(
    paths, speaker_map: dict | None = None, n_lines: int = 3, text: bool = True
) -> pd.DataFrame:
    """Per session and speaker: turns, share of words, share of turns with a question, the
    role (from the file, the map, or inferred) with its confidence, and the first lines.

    The roles are what ``--speaker-map auto`` (plus the entries of ``speaker_map``) applies.
    ``text=False`` leaves the ``first_lines`` column out.
    """
    from .readers import read_transcripts

    given = speaker_map or {}
    auto = SpeakerMap(given, infer=True, per_session=getattr(given, "per_session", None))
    df = read_transcripts(paths, auto)
    names = df["speaker_name"].astype(str)
    keys = _speakers(df)
    fixed = {
        k: r
        for k, r, s in zip(keys, df["speaker"], df["role_source"], strict=True)
        if s != "inferred"
    }
    source = dict(zip(keys, df["role_source"], strict=True))
    summary = infer_roles(df, fixed=fixed)
    summary["role_source"] = [source[k] for k in _speakers(summary)]
    summary["word_share"] = summary["n_words"] / summary.groupby("session_id")["n_words"].transform(
        "sum"
    ).clip(lower=1)
    summary = summary.rename(columns={"n_turns": "turns", "question": "question_share"})
    cols = ["session_id", "speaker_name", "turns", "word_share", "question_share", "role"]
    cols += ["confidence", "map_confidence", "role_source"]
    if text:
        by = df.assign(speaker_name=names).groupby(["session_id", "speaker_name"], sort=False)
        lines = by["text"].agg(lambda s: list(s.head(n_lines))).rename("first_lines")
        summary = summary.merge(lines.reset_index(), on=["session_id", "speaker_name"])
        cols.append("first_lines")
    return summary[cols]


# --- the corpus rendered as diarised files, and how well roles come back -------------------


def render_diarised(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The corpus as a recogniser would give it: each session's speakers renamed
    ``SPEAKER_00``, ``SPEAKER_01``... in a random order (seeded), every turn kept as it is.
    The true role stays in ``true_role``; ``speaker`` holds the names.
    """
    rng = np.random.default_rng(seed)
    out = df.copy()
    out["true_role"] = out["speaker"].astype(str)
    names = {}
    for sid, g in out.groupby("session_id", sort=False):
        roles = list(dict.fromkeys(g["true_role"]))
        order = rng.permutation(len(roles))
        for k, r in zip(order, roles, strict=True):
            names[sid, r] = f"SPEAKER_{k:02d}"
    out["speaker"] = [names[k] for k in zip(out["session_id"], out["true_role"], strict=True)]
    out["speaker_name"] = out["speaker"]
    return out


def role_accuracy(rendered: pd.DataFrame, model: dict | None = None) -> dict:
    """How often :func:`infer_roles` gives back the true roles of :func:`render_diarised`
    sessions: sessions with every speaker right, and turns whose speaker is right. Right means
    therapist for the therapist and a client role for a client (client numbering is not
    compared: it is by how much each client speaks, which the corpus does not follow).
    ``mean_confidence`` is the mean over sessions of the inferred map's probability: beside
    ``sessions_correct`` it shows whether the confidence can be taken at its word.
    """
    inferred = infer_roles(rendered, model=model)
    guess = dict(zip(_speakers(inferred), inferred["role"], strict=True))
    keys = _speakers(rendered)
    pred_t = np.array([guess[k] == "therapist" for k in keys])
    true_t = rendered["true_role"].to_numpy() == "therapist"
    ok = pd.Series(pred_t == true_t).groupby(rendered["session_id"].to_numpy()).all()
    return {
        "sessions": int(len(ok)),
        "sessions_correct": float(ok.mean()),
        "turns": int(len(true_t)),
        "turns_correct": float((pred_t == true_t).mean()),
        "mean_confidence": float(inferred.groupby("session_id")["map_confidence"].first().mean()),
    }
