"""Across sessions: repair rate and unrepaired episodes per therapist, per client and over time.

A supervisor with a caseload asks whose sessions leave ruptures unrepaired and whether that is
changing. Where the scanned transcripts carry ``therapist_id``, ``client_id`` or ``date``
columns, :func:`caseload_summary` pools each group's sessions: the repair rate of a group is
its repaired episodes over all its episodes (so a session with many episodes weighs more than
one with a single episode), and ``unrepaired_per_session`` is its unrepaired episodes over its
sessions. :func:`caseload_figures` draws the same figures as SVG pictures for the report.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from .episodes import count_unrepaired

__all__ = ["CASELOAD_COLUMNS", "caseload_figures", "caseload_summary", "session_table"]

#: Figures of each group in :func:`caseload_summary`, in order.
CASELOAD_COLUMNS = [
    "sessions",
    "turns",
    "episodes",
    "unrepaired",
    "repair_rate",
    "unrepaired_per_session",
]
_MAX_BARS = 30  # therapists drawn in the picture; the table lists every one


def session_table(result) -> pd.DataFrame:
    """One row per scanned session: its ids and date (where known) and its figures.

    ``result`` is a :class:`~rupture_nlp.scanning.ScanResult`. The report's session index is
    this table; a notebook user can sort or filter it with pandas.
    """
    rows = []
    for s in result.sessions:
        rows.append(
            {
                "session_id": s.session_id,
                "therapist_id": s.meta.get("therapist_id"),
                "client_id": s.meta.get("client_id"),
                "date": s.meta.get("date"),
                "turns": len(s.labels),
                "marker_turns": s.n_marker_turns,
                "markers_per_100": round(s.markers_per_100, 2),
                "episodes": len(s.episodes),
                "unrepaired": count_unrepaired(s.episodes),
                "repair_rate": np.nan if s.repair_rate is None else s.repair_rate,
            }
        )
    table = pd.DataFrame(rows)
    for col in ("therapist_id", "client_id", "date"):
        if col in table.columns and table[col].isna().all():
            table = table.drop(columns=col)
    return table


def _pool(groups) -> pd.DataFrame:
    out = groups.agg(
        sessions=("session_id", "size"),
        turns=("turns", "sum"),
        episodes=("episodes", "sum"),
        unrepaired=("unrepaired", "sum"),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = (out["episodes"] - out["unrepaired"]) / out["episodes"].where(out["episodes"] > 0)
    out["repair_rate"] = rate.round(4)
    out["unrepaired_per_session"] = (out["unrepaired"] / out["sessions"]).round(4)
    return out[CASELOAD_COLUMNS]


def _period(dates: pd.Series) -> tuple[pd.Series, str]:
    """Months when the dates span more than about three months, ISO weeks (their Monday) else."""
    span = dates.max() - dates.min()
    if span > pd.Timedelta(days=92):
        return dates.dt.strftime("%Y-%m"), "month"
    monday = dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")
    return monday.dt.strftime("%Y-%m-%d"), "week"


def caseload_summary(result) -> dict[str, pd.DataFrame]:
    """Pooled figures per therapist, per client and per period, for the columns the input has.

    Returns a dict with any of ``"therapist_id"``, ``"client_id"`` and ``"month"`` or
    ``"week"`` (the period of ``date``: months when the dates span more than three months,
    else weeks named by their Monday), each a DataFrame indexed by the group with
    :data:`CASELOAD_COLUMNS`. Sessions without a value (or with a date that does not parse)
    are left out of that table; ``"undated"`` counts them in ``attrs`` of the period table.
    Empty when the input had none of the columns.
    """
    table = session_table(result)
    out: dict[str, pd.DataFrame] = {}
    for col in ("therapist_id", "client_id"):
        if col in table.columns:
            known = table.dropna(subset=[col])
            out[col] = _pool(known.groupby(col, sort=True))
    if "date" in table.columns:
        dates = pd.to_datetime(table["date"], errors="coerce", format="mixed")
        dated = table[dates.notna()].copy()
        if len(dated):
            dated["period"], kind = _period(dates[dates.notna()])
            pooled = _pool(dated.groupby("period", sort=True))
            pooled.index.name = kind
            pooled.attrs["undated"] = int(dates.isna().sum())
            out[kind] = pooled
    return out


def _percent(value: float) -> str:
    return "no episodes" if np.isnan(value) else f"{value:.0f}%"


def caseload_figures(summary: dict[str, pd.DataFrame]) -> list[tuple[str, str]]:
    """The caseload as pictures: ``(description, SVG document)`` pairs, none without data.

    Per therapist: repair rate and unrepaired episodes per session side by side, therapists
    with the most unrepaired episodes per session first (the first 30 when there are more).
    Over time: the same two figures per period, one above the other. Each picture is about
    half a page wide, so a report lays them side by side on a screen and stacked on a phone.
    Text is drawn as paths, so a picture needs no font.
    """
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    out = []
    style = {"svg.fonttype": "path", "svg.hashsalt": "rupture-nlp", "font.size": 10}
    for key, df in summary.items():
        if key not in ("therapist_id", "month", "week") or not len(df):
            continue
        with rc_context(style):
            if key == "therapist_id":
                shown = df.sort_values(
                    ["unrepaired_per_session", "sessions"], ascending=False
                ).head(_MAX_BARS)
                shown = shown.iloc[::-1]  # barh draws bottom-up: the most unrepaired on top
                fig = Figure(figsize=(5.2, 0.28 * len(shown) + 1.1), layout="constrained")
                left, right = fig.subplots(1, 2, sharey=True)
                names = [str(i) for i in shown.index]
                rates = shown["repair_rate"] * 100
                bars = left.barh(names, rates.fillna(0), color="#009E73", height=0.6)
                left.bar_label(bars, [_percent(r) for r in rates], padding=2)
                left.set_xlim(0, 125)
                left.set_xticks([0, 50, 100])
                bars = right.barh(
                    names, shown["unrepaired_per_session"], color="#B00020", height=0.6
                )
                right.bar_label(bars, fmt="%.2f", padding=2)
                right.margins(x=0.25)
                more = f", first {_MAX_BARS} of {len(df)}" if len(df) > _MAX_BARS else ""
                left.set_title("repair rate %", loc="left")
                right.set_title("not repaired per session", loc="left")
                fig.suptitle(f"Per therapist{more}", x=0.02, ha="left", fontweight="bold")
                what = "repair rate and unrepaired episodes per session, per therapist"
            else:
                fig = Figure(figsize=(5.2, 4.2), layout="constrained")
                top, bottom = fig.subplots(2, 1, sharex=True)
                x = np.arange(len(df))
                top.plot(x, df["repair_rate"] * 100, marker="o", color="#009E73")
                bottom.plot(x, df["unrepaired_per_session"], marker="o", color="#B00020")
                top.set_ylim(0, 100)
                bottom.set_ylim(bottom=0)
                top.set_title("repair rate %", loc="left")
                bottom.set_title("not repaired per session", loc="left")
                every = max(1, int(np.ceil(len(df) / 8)))
                bottom.set_xticks(x[::every], [str(i) for i in df.index[::every]], rotation=30)
                fig.suptitle(f"Per {key}", x=0.02, ha="left", fontweight="bold")
                what = f"repair rate and unrepaired episodes per session, per {key}"
            for ax in fig.axes:
                ax.spines[["top", "right"]].set_visible(False)
            buf = io.StringIO()
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        out.append((what, buf.getvalue()))
    return out
