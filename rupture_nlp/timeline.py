"""A session's timeline for the report: every turn coloured by its label, wrapped into rows.

A session of 864 turns drawn on one line is a barcode nobody can read, so the timeline is cut
into rows of equal length, each with its own axis: recording time when every turn has a start
time (rows of one to thirty minutes, so a row holds about a hundred turns), otherwise turn
numbers (:data:`TURNS_PER_ROW` turns a row). The bars are inline SVG stretched to the page
width; the axis labels are HTML text, so they stay readable on a phone, where an SVG's own
text would shrink with the drawing. Unrepaired episodes are red bands under the bars that link
to the episode's exchange.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable

import numpy as np

__all__ = ["COLOURS", "TURNS_PER_ROW", "format_clock", "render_timeline", "time_rows"]

#: Colour-blind-safe (Okabe-Ito) colours per label; `none` is a pale grey.
COLOURS = {
    "withdrawal": "#0072B2",
    "confrontation": "#D55E00",
    "repair": "#009E73",
    "none": "#D0D0D0",
}

#: Turns in one row of a timeline drawn on a turn axis.
TURNS_PER_ROW = 100
#: Row lengths (seconds) a time axis chooses from, each with its tick step.
_TIME_ROWS = ((60, 10), (120, 20), (300, 30), (600, 60), (900, 180), (1200, 120), (1800, 180))
_TURNS_PER_TIME_ROW = 120  # a time row is made short enough to hold about this many turns
_BAR_TOP, _BAR_BOTTOM, _BAND_TOP, _HEIGHT = 2, 24, 27, 33


def format_clock(seconds: float | None) -> str:
    """Recording time as ``m:ss`` (or ``h:mm:ss``); empty when unknown.

    >>> format_clock(75.4), format_clock(3725), format_clock(None)
    ('1:15', '1:02:05', '')
    """
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return ""
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def time_rows(starts: np.ndarray, ends: np.ndarray | None = None) -> tuple[int, int]:
    """Row length and tick step (seconds) for a session with these turn start times.

    The longest row that still holds at most about 120 turns at the session's pace, and no
    longer than the session needs: a 20-minute session of 220 turns gets 10-minute rows.

    >>> time_rows(np.arange(0, 1200, 5.45))
    (600, 60)
    >>> time_rows(np.array([0.0, 7, 30]))
    (60, 10)
    """
    last = float(np.nanmax(ends)) if ends is not None and np.isfinite(ends).any() else 0.0
    duration = max(float(np.nanmax(starts)), last) - float(np.nanmin(starts))
    rate = len(starts) / max(duration, 1.0)
    fitting = [row for row in _TIME_ROWS if row[0] * rate <= _TURNS_PER_TIME_ROW] or [_TIME_ROWS[0]]
    enough = [row for row in fitting if row[0] >= duration]
    return enough[0] if enough else fitting[-1]


def _row_html(bars: list[str], ticks: list[tuple[float, str]], label: str) -> str:
    tick_html = "".join(
        f'<span class="{"minor" if i % 2 else ""}" style="left:{x:.3f}%">{html.escape(t)}</span>'
        for i, (x, t) in enumerate(ticks)
    )
    return (
        '<div class="tl-row"><svg role="img" aria-label="'
        + html.escape(label)
        + f'" viewBox="0 0 1000 {_HEIGHT}" preserveAspectRatio="none" width="100%" '
        f'height="{_HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        + "".join(bars)
        + f'</svg><div class="ticks">{tick_html}</div></div>'
    )


def _bar(x: float, w: float, label: str, title: str) -> str:
    top = _BAR_TOP if label != "none" else _BAR_TOP + 8
    return (
        f'<rect x="{x:.2f}" y="{top}" width="{max(w, 1.6):.2f}" height="{_BAR_BOTTOM - top}" '
        f'fill="{COLOURS.get(label, "#999")}"><title>{html.escape(title)}</title></rect>'
    )


def _band(x: float, w: float, title: str, href: str | None) -> str:
    rect = (
        f'<rect x="{x:.2f}" y="{_BAND_TOP}" width="{max(w, 4):.2f}" '
        f'height="{_HEIGHT - _BAND_TOP}" fill="#B00020"><title>{html.escape(title)}</title></rect>'
    )
    return f'<a href="{html.escape(href)}">{rect}</a>' if href else rect


def render_timeline(session, link: Callable[[int], str | None] = lambda start_turn: None) -> str:
    """HTML for one session's timeline (a ``SessionSummary`` of :mod:`rupture_nlp.scanning`).

    ``link(start_turn)`` gives the address of an unrepaired episode's exchange, so its red band
    can be followed to the turns themselves.
    """
    turns, labels = np.asarray(session.turns), np.asarray(session.labels)
    n = len(turns)
    if not n:
        return ""
    starts = session.starts
    timed = starts is not None and bool(np.isfinite(starts).all())
    eps = session.episodes[~session.episodes["repaired"].astype(bool)]
    unrepaired = list(zip(eps["start_turn"].astype(int), eps["end_turn"].astype(int), strict=True))
    position = {int(t): i for i, t in enumerate(turns)}
    # every turn and band as an interval on the axis: seconds, or turn positions
    if timed:
        span, step = time_rows(starts, session.ends)
        ends = np.append(starts[1:], starts[-1] + 2.0)
        if session.ends is not None:
            given = np.asarray(session.ends, dtype=float)
            ends = np.where(np.isfinite(given) & (given > starts), given, ends)
        ends = np.maximum(ends, starts)
        origin = math.floor(float(starts.min()) / span) * span
        lo, hi = starts - origin, ends - origin
        axis = "recording time"
    else:
        span, step = TURNS_PER_ROW, 10
        origin = 0
        lo = np.arange(n, dtype=float)
        hi = lo + 1
        axis = "turn"
    n_rows = max(int(math.ceil(float(hi.max()) / span - 1e-9)), 1)
    bars: list[list[str]] = [[] for _ in range(n_rows)]

    def place(a: float, b: float, draw) -> None:
        """Draw the interval [a, b) in every row it crosses, scaled to the 1000-wide drawing."""
        row = min(int(a // span), n_rows - 1)
        while True:
            left, right = row * span, (row + 1) * span
            x0, x1 = max(a, left), min(max(b, a), right)
            bars[row].append(draw((x0 - left) * 1000 / span, (x1 - x0) * 1000 / span))
            if b <= right or row == n_rows - 1:
                return
            row += 1

    for i in range(n):
        when = f" at {format_clock(float(starts[i]))}" if timed else ""
        title = f"turn {turns[i]}{when}: {labels[i]}"
        place(lo[i], hi[i], lambda x, w, lab=labels[i], t=title: _bar(x, w, lab, t))
    for first, last in unrepaired:
        a, b = position[first], position[last]
        title = f"unrepaired episode, turns {first}-{last}"
        place(lo[a], hi[b], lambda x, w, t=title, f=first: _band(x, w, t, link(f)))
    rows = []
    for r in range(n_rows):
        ticks = []
        for k in range(0, span, step):
            value = origin + r * span + k
            if timed:
                text = format_clock(value)
            else:
                if value >= n:
                    break
                text = str(turns[value])
            ticks.append((100.0 * k / span, text))
        rows.append(_row_html(bars[r], ticks, f"{axis} row {r + 1} of {n_rows}"))
    unit = (
        f"rows of {span // 60} min of recording time (m:ss)"
        if timed
        else f"rows of {TURNS_PER_ROW} turns; axis: turn number"
    )
    return f'<div class="timeline">{"".join(rows)}<p class="tl-axis muted">{unit}</p></div>'
