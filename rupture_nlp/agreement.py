"""Inter-coder agreement the way rupture research reports it, for any number of coders.

A coder is a table of ``session_id``, ``turn`` and ``label`` (``subtype`` optional); a turn is
one unit, keyed by session and turn number, and a coder who left a turn blank (or had no row
for it) did not code it. The figures are computed on the turns that at least two coders coded.

- **Turn level.** Cohen's kappa for each pair of coders (scikit-learn), Krippendorff's alpha
  (nominal; the ``krippendorff`` package) and Gwet's AC1 for all coders at once, missing codes
  allowed; each overall and for each label against the rest.
- **Where codes differ.** A coder-by-coder confusion table, and agreement on the 3RS subtype
  where both coders chose the same label.
- **Episode level.** Each coder's episodes (:func:`rupture_nlp.episodes.find_episodes` on their
  own labels), matched by overlapping turns: unrepaired episodes found by both, by one only.
- **Session level.** The ICC(2,1) of each coder's markers per 100 turns per session, for
  withdrawal, confrontation and repair: how 3RS reliability studies report agreement
  (Eubanks et al. 2019: ICC .85-.98). ``rupture evaluate`` uses the same function between a
  model and the coders.

Kappa and alpha correct raw agreement for the agreement expected from each label's frequency.
When ``none`` covers 97 turns in 100 that expectation is already near 1, so a single missed
marker moves them a lot and two careful coders can score low (the kappa paradox). AC1 estimates
chance agreement differently and stays close to raw agreement there: report kappa or alpha
(the field's habit; alpha also handles several coders and gaps), and AC1 beside them when
``none`` dominates.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .episodes import DEFAULT_GAP, DEFAULT_WINDOW, find_episodes
from .errors import TranscriptError
from .labels import LABELS, MARKERS

__all__ = [
    "agreement",
    "agreement_of_files",
    "cohen_kappa",
    "format_agreement",
    "gwet_ac1",
    "icc_2_1",
    "krippendorff_alpha",
    "session_frequency_icc",
]

#: The labels whose per-session frequency 3RS studies compare between coders.
FREQUENCY_LABELS = (*MARKERS, "repair")


def _rounded(value: float | None) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 4)


def cohen_kappa(first, second) -> float | None:
    """Cohen's kappa of two coders' labels for the same turns; None where it is undefined
    (both coders used one and the same label throughout).

    >>> cohen_kappa(["none", "withdrawal", "repair", "none"], ["none", "withdrawal", "none", "none"])
    0.5556
    """
    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 0/0 when chance agreement is 1: reported as None
        return _rounded(cohen_kappa_score(np.asarray(first), np.asarray(second)))


def _category_counts(ratings, categories: Sequence) -> np.ndarray:
    """Units-by-categories counts of the raters who chose each category (missing: no count)."""
    values = pd.DataFrame(ratings).to_numpy(dtype=object)
    return np.stack([(values == c).sum(axis=1) for c in categories], axis=1).astype(float)


def gwet_ac1(ratings, categories: Sequence = LABELS) -> float | None:
    """Gwet's first-order agreement coefficient (AC1) of nominal codes, any number of raters.

    ``ratings`` is a units-by-raters table; a missing rating is NaN, None or any value not in
    ``categories``. With :math:`r_{ik}` the raters who put unit *i* in category *k*,
    :math:`r_i = \\sum_k r_{ik}` and *q* categories (Gwet 2008, "Computing inter-rater
    reliability and its variance in the presence of high agreement", *Br. J. Math. Stat.
    Psychol.* 61: 29-48; with missing ratings as in Gwet 2014, *Handbook of Inter-Rater
    Reliability*, 4th ed.):

    - observed agreement :math:`p_a`: over the units rated at least twice, the mean of
      :math:`\\sum_k r_{ik}(r_{ik}-1) / (r_i(r_i-1))`, the share of agreeing pairs of ratings;
    - chance agreement :math:`p_e = \\frac{1}{q-1}\\sum_k \\pi_k(1-\\pi_k)`, where
      :math:`\\pi_k` is the mean over units rated at least once of :math:`r_{ik}/r_i`;
    - :math:`AC_1 = (p_a - p_e) / (1 - p_e)`.

    Gwet's chance agreement is the chance that two ratings agree by guessing (1/q) times the
    share of ratings he estimates were guesses, :math:`\\sum_k \\pi_k(1-\\pi_k) / (1 - 1/q)`,
    which is small when nearly every rating is one category. Kappa's chance term is large
    there instead, so AC1 does not collapse when ``none`` is 97% of turns. ``categories`` must
    be the whole coding scheme, used or not: *q* counts them. None when no unit was rated twice.

    Nine turns both coders left ``none`` and one only the second called withdrawal: kappa is
    0 (chance agreement is 0.9 by kappa's reckoning), AC1 is near the raw agreement.

    >>> gwet_ac1([["none", "none"]] * 9 + [["none", "withdrawal"]])
    0.8967
    """
    counts = _category_counts(ratings, categories)
    per_unit = counts.sum(axis=1)
    paired = per_unit >= 2
    if not paired.any() or len(categories) < 2:
        return None
    agreeing = (counts * (counts - 1)).sum(axis=1)[paired] / (
        per_unit[paired] * (per_unit[paired] - 1)
    )
    p_a = agreeing.mean()
    rated = per_unit >= 1
    pi = (counts[rated] / per_unit[rated, None]).mean(axis=0)
    p_e = (pi * (1 - pi)).sum() / (len(categories) - 1)
    return _rounded((p_a - p_e) / (1 - p_e))


def krippendorff_alpha(ratings, categories: Sequence = LABELS) -> float | None:
    """Krippendorff's alpha (nominal) of a units-by-coders table with missing codes.

    Computed by the ``krippendorff`` package; units coded once carry no pair and do not count.
    None where it is undefined (fewer than two codes in any unit, or one value throughout).

    >>> krippendorff_alpha([["none", "none"], ["withdrawal", "withdrawal"], ["none", None]])
    1.0
    """
    import krippendorff

    counts = _category_counts(ratings, categories)
    pairable = counts[counts.sum(axis=1) >= 2]
    if not len(pairable) or (pairable.sum(axis=0) > 0).sum() < 2:
        return None
    return _rounded(krippendorff.alpha(value_counts=pairable, level_of_measurement="nominal"))


def icc_2_1(ratings: pd.DataFrame) -> float | None:
    """Shrout & Fleiss ICC(2,1) of a targets-by-raters table (any number of raters), or None.

    Two-way random effects, absolute agreement, single rater (pingouin's ``ICC(A,1)``).
    Targets missing any rating are left out; None with fewer than three targets or no
    variation at all.

    >>> sf = pd.DataFrame([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6],
    ...                    [10, 5, 6, 9], [6, 2, 4, 7]])  # Shrout & Fleiss (1979), Table 2
    >>> icc_2_1(sf)
    0.2898
    """
    import pingouin
    from pandas.errors import PandasDeprecationWarning

    ratings = ratings.dropna()
    if len(ratings) < 3 or not ratings.to_numpy(dtype=float).std():
        return None
    ratings = ratings.rename_axis(index="target", columns="rater")
    long = ratings.stack().rename("rating").reset_index()
    with warnings.catch_warnings():
        # pingouin's own use of a pandas API that pandas has deprecated; not ours to fix
        warnings.simplefilter("ignore", PandasDeprecationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        table = pingouin.intraclass_corr(long, "target", "rater", "rating")
    icc = float(table.set_index("Type").loc["ICC(A,1)", "ICC"])
    return _rounded(icc)


def session_rates(df: pd.DataFrame, columns: Sequence[str], label: str) -> pd.DataFrame:
    """Sessions-by-codings table of turns per 100 given ``label``, each over the turns that
    coding labelled (a blank or missing label is not a turn it coded)."""
    coded = df[list(columns)]
    hits = coded.eq(label).where(coded.notna() & coded.ne(""))
    return hits.astype(float).groupby(df["session_id"], sort=True).mean().mul(100)


def session_frequency_icc(df: pd.DataFrame, *columns: str) -> dict[str, float | None]:
    """ICC(2,1) of per-session marker frequencies between codings, for each marker label.

    3RS reliability is reported this way (Eubanks et al. 2019: ICC .85-.98): per session, how
    many turns per 100 each coder gave the label (:func:`session_rates`); then the intraclass
    correlation of those rates, two-way random effects, absolute agreement, single rater
    (:func:`icc_2_1`). A coder (or model) that finds markers in the right sessions at the
    right rate scores high even where the exact turns differ. ``columns`` are the codings
    (default ``label`` and ``predicted_label``: coders against a model), any number of them.
    ``None`` where it is undefined (fewer than three sessions, or no variation at all).

    >>> df = pd.DataFrame({"session_id": list("aabbcc"),
    ...                    "label": ["withdrawal", "none", "none", "none", "withdrawal", "withdrawal"],
    ...                    "predicted_label": ["withdrawal", "none", "none", "none", "withdrawal", "none"]})
    >>> session_frequency_icc(df)["withdrawal"]
    0.75
    """
    columns = columns or ("label", "predicted_label")
    return {label: icc_2_1(session_rates(df, columns, label)) for label in FREQUENCY_LABELS}


def _clean(values: pd.Series) -> pd.Series:
    return values.where(values.notna(), "").astype(str).str.strip()


def _coded_turns(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """One coder's coded turns indexed by (session_id, turn), with ``label`` and ``subtype``."""
    missing = {"session_id", "turn", "label"} - set(df.columns)
    if missing:
        raise TranscriptError(f"{name}: no {', '.join(sorted(missing))} column")
    turn = pd.to_numeric(df["turn"], errors="coerce")
    bad = turn.isna() | (turn != turn.round())
    if bad.any():
        raise TranscriptError(f"{name}: turn {df['turn'][bad].iloc[0]!r} is not an integer")
    out = pd.DataFrame(
        {
            "session_id": _clean(df["session_id"]),
            "turn": turn.astype(np.int64),
            "label": _clean(df["label"]),
            "subtype": _clean(df["subtype"]) if "subtype" in df.columns else "",
        }
    )
    out = out[out["label"] != ""]
    unknown = sorted(set(out["label"]) - set(LABELS))
    if unknown:
        raise TranscriptError(
            f"{name}: unknown label(s) {', '.join(map(repr, unknown))}; expected "
            f"{', '.join(LABELS)}"
        )
    twice = out.duplicated(["session_id", "turn"], keep=False)
    if twice.any():
        row = out[twice].iloc[0]
        raise TranscriptError(
            f"{name}: turn {row['turn']} of session {row['session_id']!r} is labelled "
            f"{int(twice.sum())} times in all; a coder gives each turn one label"
        )
    return out.set_index(["session_id", "turn"])


def _match_count(first: pd.DataFrame, second: pd.DataFrame, slack: int) -> int:
    """Episodes paired one to one where their turn spans overlap (widened by ``slack``).

    Within a session one coder's episodes are disjoint and in order, so pairing the earliest
    overlapping ones first pairs as many as any one-to-one matching could.
    """
    pairs = 0
    for sid, mine in first.groupby("session_id", sort=False):
        a = mine.sort_values("start_turn")[["start_turn", "end_turn"]].to_numpy()
        b = second[second["session_id"] == sid].sort_values("start_turn")
        b = b[["start_turn", "end_turn"]].to_numpy()
        i = j = 0
        while i < len(a) and j < len(b):
            if a[i, 0] - slack <= b[j, 1] and b[j, 0] - slack <= a[i, 1]:
                pairs, i, j = pairs + 1, i + 1, j + 1
            elif a[i, 1] < b[j, 1]:
                i += 1
            else:
                j += 1
    return pairs


def _episode_agreement(both: pd.DataFrame, gap: int, window: int, slack: int = 1) -> dict:
    """Unrepaired (and all) episodes of two codings of the same turns, found by both or one."""
    turns = both.reset_index()
    found = [
        find_episodes(
            turns[["session_id", "turn", col]].rename(columns={col: "label"}),
            "label",
            gap,
            window,
            text=False,
        )
        for col in both.columns
    ]
    out = {}
    for kind in ("unrepaired", "all"):
        a, b = (e if kind == "all" else e[~e["repaired"].astype(bool)] for e in found)
        n_both = _match_count(a, b, slack)
        out[kind] = {
            "first": len(a),
            "second": len(b),
            "both": n_both,
            "only_first": len(a) - n_both,
            "only_second": len(b) - n_both,
        }
    return {**out, "gap": gap, "window": window, "slack": slack}


def _subtype_agreement(both: pd.DataFrame, subtypes: pd.DataFrame) -> dict:
    """Per label, among turns both coders gave that label and a subtype: how often the same."""
    x, y = both.iloc[:, 0], both.iloc[:, 1]
    sx, sy = subtypes.iloc[:, 0].fillna(""), subtypes.iloc[:, 1].fillna("")
    with_codes = x.eq(y) & x.isin(FREQUENCY_LABELS) & (sx != "") & (sy != "")
    out: dict = {}
    for label in [*FREQUENCY_LABELS, "all"]:
        compared = with_codes & (x == label) if label != "all" else with_codes
        if compared.any():
            out[label] = {
                "n_turns": int(compared.sum()),
                "agreement": _rounded((sx[compared] == sy[compared]).mean()),
                "kappa": cohen_kappa(sx[compared], sy[compared]),
            }
    return out


def _binary(ratings: pd.DataFrame, label: str) -> pd.DataFrame:
    """``label`` against the rest: True, False, or NaN where the coder did not code the turn."""
    return ratings.eq(label).astype(object).where(ratings.notna())


def _turn_figures(ratings: pd.DataFrame) -> dict:
    """Alpha and AC1 of a units-by-coders table of labels, overall and per label."""
    out = {"alpha": krippendorff_alpha(ratings), "ac1": gwet_ac1(ratings), "per_label": {}}
    for label in LABELS:
        binary = _binary(ratings, label)
        out["per_label"][label] = {
            "alpha": krippendorff_alpha(binary, (True, False)),
            "ac1": gwet_ac1(binary, (True, False)),
        }
    return out


def _pair_figures(
    labels: pd.DataFrame, subtypes: pd.DataFrame, a: str, b: str, gap: int, window: int
) -> dict:
    from sklearn.metrics import confusion_matrix

    both = labels[[a, b]].dropna()
    x, y = both[a], both[b]
    out = {
        "first": a,
        "second": b,
        "n_turns": int(len(both)),
        "n_sessions": int(both.index.get_level_values("session_id").nunique()),
    }
    if not len(both):
        return out
    turn = _turn_figures(both)
    out.update(
        {
            "agreement": _rounded((x == y).mean()),
            "kappa": cohen_kappa(x, y),
            "alpha": turn["alpha"],
            "ac1": turn["ac1"],
            "per_label": {
                label: {"kappa": cohen_kappa(x == label, y == label), **turn["per_label"][label]}
                for label in LABELS
            },
            "confusion": {
                "labels": list(LABELS),
                "matrix": confusion_matrix(x, y, labels=list(LABELS)).tolist(),
            },
            "subtypes": _subtype_agreement(both, subtypes.loc[both.index, [a, b]]),
            "episodes": _episode_agreement(both, gap, window),
            "session_icc": session_frequency_icc(both.reset_index(), a, b),
            "icc_sessions": out["n_sessions"],
        }
    )
    return out


def agreement(
    coders: Mapping[str, pd.DataFrame] | Sequence[pd.DataFrame],
    gap: int = DEFAULT_GAP,
    window: int = DEFAULT_WINDOW,
) -> dict:
    """Agreement among coders' labels of the same turns: every figure of the module docstring.

    Parameters
    ----------
    coders : mapping of name to table, or a sequence of tables (named ``coder 1``, ...)
        Each with ``session_id``, ``turn``, ``label`` and optionally ``subtype``; blank labels
        are turns that coder did not code. A model's tags can be one coder (rename
        ``predicted_label`` to ``label`` and leave its subtypes out).
    gap, window : int
        The episode rule (:func:`rupture_nlp.episodes.find_episodes`) for episode agreement.

    Returns
    -------
    dict
        ``coders``; ``n_turns`` and ``n_sessions`` (coded by at least two coders) and each
        coder's ``coded_turns`` among them; ``agreement`` (share of agreeing pairs of codes);
        ``kappa`` (Cohen's for two coders, the mean over pairs, Light's kappa, for more),
        ``alpha``, ``ac1``; ``per_label`` (each label against the rest); ``session_icc`` over
        all coders and the ``icc_sessions`` it used; ``pairs``: for each pair of coders its
        own kappa, alpha, AC1, ``confusion`` (rows the first), ``subtypes``, ``episodes`` and
        ``session_icc``. Figures are rounded to four places; None where undefined.

    Examples
    --------
    >>> a = pd.DataFrame({"session_id": ["s"] * 4, "turn": [1, 2, 3, 4],
    ...                   "label": ["none", "withdrawal", "repair", "none"]})
    >>> b = a.assign(label=["none", "withdrawal", "none", "none"])
    >>> result = agreement({"a": a, "b": b})
    >>> result["kappa"], result["alpha"], result["ac1"]
    (0.5556, 0.5882, 0.6962)
    """
    if not isinstance(coders, Mapping):
        coders = {f"coder {i + 1}": df for i, df in enumerate(coders)}
    if len(coders) < 2:
        raise TranscriptError("agreement needs at least two coders")
    names = list(coders)
    coded = {name: _coded_turns(df, name) for name, df in coders.items()}
    # columns by position: coder names are file names and may clash with anything
    keys = [f"c{i}" for i in range(len(names))]
    labels = pd.concat({k: coded[n]["label"] for k, n in zip(keys, names, strict=True)}, axis=1)
    subtypes = pd.concat({k: coded[n]["subtype"] for k, n in zip(keys, names, strict=True)}, axis=1)
    shared = labels.notna().sum(axis=1) >= 2
    labels, subtypes = labels[shared].sort_index(), subtypes[shared].sort_index()
    if not len(labels):
        raise TranscriptError(
            "the coders share no labelled turns (turns are matched by session_id and turn)"
        )
    turn = _turn_figures(labels)
    pairs = [
        _pair_figures(labels, subtypes, a, b, gap, window)
        for a, b in itertools.combinations(keys, 2)
    ]
    name_of = dict(zip(keys, names, strict=True))
    for pair in pairs:
        pair["first"], pair["second"] = name_of[pair["first"]], name_of[pair["second"]]

    def mean_kappa(get) -> float | None:
        values = [v for v in (get(p) for p in pairs if p["n_turns"]) if v is not None]
        return _rounded(np.mean(values)) if values else None

    counts = _category_counts(labels, LABELS)
    per_unit = counts.sum(axis=1)
    by_session = labels.reset_index()
    rated_everywhere = by_session.groupby("session_id")[keys].count().gt(0).all(axis=1)
    return {
        "coders": names,
        "n_turns": int(len(labels)),
        "n_sessions": int(by_session["session_id"].nunique()),
        "coded_turns": {name_of[k]: int(labels[k].notna().sum()) for k in keys},
        "agreement": _rounded(
            ((counts * (counts - 1)).sum(axis=1) / (per_unit * (per_unit - 1))).mean()
        ),
        "kappa": mean_kappa(lambda p: p["kappa"]),
        "kappa_kind": "Cohen" if len(names) == 2 else "Light (mean of pairwise Cohen)",
        "alpha": turn["alpha"],
        "ac1": turn["ac1"],
        "per_label": {
            label: {"kappa": mean_kappa(lambda p, x=label: p["per_label"][x]["kappa"]), **v}
            for label, v in turn["per_label"].items()
        },
        "session_icc": session_frequency_icc(by_session, *keys),
        "icc_sessions": int(rated_everywhere.sum()),
        "pairs": pairs,
    }


def coder_names(paths: Sequence[str | Path]) -> list[str]:
    """A name per coder: the file or folder name, the path where names repeat, and a number
    after it where a path is given twice."""
    for names in ([Path(p).name or str(p) for p in paths], [str(p) for p in paths]):
        if len(set(names)) == len(names):
            return names
    return [f"{p} ({i + 1})" for i, p in enumerate(paths)]  # one file given twice


def agreement_of_files(
    paths: Sequence[str | Path],
    column: str = "label",
    gap: int = DEFAULT_GAP,
    window: int = DEFAULT_WINDOW,
) -> dict:
    """:func:`agreement` of coders' label sheets, one coder per path (a file or a folder).

    Labels are read from ``label``, the last coder's from ``column``: ``predicted_label``
    makes a tagged file the last coder, beside the people. Subtypes are compared only between
    coders' own labels, never beside a model's tags.
    """
    from .readers import read_label_table

    coders = {}
    for i, (path, name) in enumerate(zip(paths, coder_names(paths), strict=True)):
        col = column if i == len(paths) - 1 else "label"
        df = read_label_table([path], col)
        if col != "label":
            df = df.drop(columns=["label", "subtype"], errors="ignore").rename(
                columns={col: "label"}
            )
        coders[name] = df
    return agreement(coders, gap=gap, window=window)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{round(value, digits) + 0.0:.{digits}f}"  # no "-0.00"


def _pair_lines(pair: dict, indent: str = "") -> list[str]:
    a, b = pair["first"], pair["second"]
    lines = [f"{indent}confusion (rows {a}, columns {b}):"]
    lines.append(f"{indent}  {'':<14}" + "".join(f"{lab:>14}" for lab in LABELS))
    for lab, row in zip(LABELS, pair["confusion"]["matrix"], strict=True):
        lines.append(f"{indent}  {lab:<14}" + "".join(f"{v:>14}" for v in row))
    sub = {k: v for k, v in pair["subtypes"].items() if k != "all"}
    if sub:
        lines.append(f"{indent}same subtype where both chose the label:")
        for lab, v in sub.items():
            turns = "turn" if v["n_turns"] == 1 else "turns"
            lines.append(
                f"{indent}  {lab:<14}{v['agreement']:>7.1%} of {v['n_turns']} {turns}, "
                f"kappa {_fmt(v['kappa'], 2)}"
            )
    for kind in ("unrepaired", "all"):
        e = pair["episodes"][kind]
        lines.append(
            f"{indent}{'unrepaired episodes' if kind == 'unrepaired' else 'all episodes'}: "
            f"{e['both']} found by both, {e['only_first']} only by {a}, "
            f"{e['only_second']} only by {b}"
        )
    return lines


def _icc_line(icc: dict, n_sessions: int, indent: str = "") -> str:
    return f"{indent}per-session marker frequency ICC(2,1), {n_sessions} sessions: " + ", ".join(
        f"{lab} {_fmt(v, 2)}" for lab, v in icc.items()
    )


def format_agreement(result: dict) -> str:
    """A plain-text summary of :func:`agreement` for the terminal."""
    names = result["coders"]
    two = len(names) == 2
    lines = []
    raw = f"raw agreement {result['agreement']:.1%}"
    if two:
        lines.append(
            f"{names[0]} and {names[1]}: {result['n_turns']} turns in {result['n_sessions']} "
            f"sessions coded by both, {raw}"
        )
    else:
        lines.append(
            f"{len(names)} coders: {result['n_turns']} turns in {result['n_sessions']} sessions "
            f"coded by at least two, {raw}"
        )
        lines.append(
            "turns coded: " + ", ".join(f"{n} {c}" for n, c in result["coded_turns"].items())
        )
    lines.append(f"{'':<22}{'all labels':>12}" + "".join(f"{lab:>14}" for lab in LABELS))
    rows = [
        ("Cohen's kappa" if two else "kappa (mean of pairs)", "kappa"),
        ("Krippendorff's alpha", "alpha"),
        ("Gwet's AC1", "ac1"),
    ]
    for title, key in rows:
        lines.append(
            f"{title:<22}{_fmt(result[key]):>12}"
            + "".join(f"{_fmt(result['per_label'][lab][key]):>14}" for lab in LABELS)
        )
    lines.append(_icc_line(result["session_icc"], result["icc_sessions"]))
    for pair in result["pairs"]:
        if two:
            lines += _pair_lines(pair)
            continue
        lines.append(f"{pair['first']} and {pair['second']}: {pair['n_turns']} turns in common")
        if pair["n_turns"]:
            lines[-1] += (
                f", kappa {_fmt(pair['kappa'])}, alpha {_fmt(pair['alpha'])}, "
                f"AC1 {_fmt(pair['ac1'])}, agreement {pair['agreement']:.1%}"
            )
            lines += _pair_lines(pair, "  ")
            lines.append(_icc_line(pair["session_icc"], pair["icc_sessions"], "  "))
    return "\n".join(lines)
