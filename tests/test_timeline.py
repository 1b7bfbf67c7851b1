from __future__ import annotations

import re

import numpy as np
import pandas as pd

from rupture_nlp.episodes import EPISODE_COLUMNS
from rupture_nlp.scanning import SessionSummary
from rupture_nlp.timeline import TURNS_PER_ROW, render_timeline, time_rows


def summary(labels, starts=None, ends=None, episodes=()):
    eps = pd.DataFrame(
        [
            {"session_id": "s", "start_turn": a, "end_turn": b, "repaired": repaired}
            for a, b, repaired in episodes
        ],
        columns=EPISODE_COLUMNS,
    )
    return SessionSummary(
        session_id="s",
        turns=np.arange(1, len(labels) + 1),
        labels=np.asarray(labels),
        starts=None if starts is None else np.asarray(starts, dtype=float),
        ends=None if ends is None else np.asarray(ends, dtype=float),
        counts={},
        episodes=eps,
    )


def ticks(row_html):
    return re.findall(r'style="left:[0-9.]+%">([^<]+)</span>', row_html)


def rows(page):
    return re.findall(r'<div class="tl-row">.*?</div></div>', page)


def test_864_turns_without_times_wrap_into_rows_of_100_on_a_turn_axis():
    labels = ["none"] * 864
    labels[500:503] = ["withdrawal", "none", "withdrawal"]
    page = render_timeline(
        summary(labels, episodes=[(501, 503, False), (700, 700, True)]),
        link=lambda start: f"#e-s-{start}",
    )
    found = rows(page)
    assert len(found) == 9 == -(-864 // TURNS_PER_ROW)
    assert ticks(found[0]) == [str(n) for n in range(1, 100, 10)]
    assert ticks(found[8]) == ["801", "811", "821", "831", "841", "851", "861"]
    assert page.count("<rect") == 864 + 1  # one bar a turn, one band for the unrepaired episode
    # the band sits under turns 501-503, the first three slots of row 6, and links to them
    assert re.search(
        r'<a href="#e-s-501"><rect x="0.00" y="27" width="30.00" height="6" fill="#B00020">'
        r"<title>unrepaired episode, turns 501-503</title>",
        found[5],
    )
    assert "rows of 100 turns; axis: turn number" in page


def test_a_time_axis_when_every_turn_has_a_start():
    # 40 minutes, a turn every 10 s: 240 turns; rows of 5 minutes hold 30 turns
    starts = np.arange(0, 2400, 10.0)
    assert time_rows(starts) == (900, 180)
    page = render_timeline(summary(["none"] * 240, starts, starts + 8))
    found = rows(page)
    assert len(found) == 3
    assert ticks(found[0]) == ["0:00", "3:00", "6:00", "9:00", "12:00"]
    assert ticks(found[2]) == ["30:00", "33:00", "36:00", "39:00", "42:00"]
    assert '<rect x="0.00" y="10" width="8.89" height="14"' in found[0]  # 8 s of 900 s
    assert "rows of 15 min of recording time (m:ss)" in page


def test_a_turn_across_a_row_boundary_is_drawn_in_both_rows():
    starts = np.arange(0, 2400, 10.0)
    ends = starts + 8
    ends[89] = 910.0  # turn 90 runs from 14:50 into the second 15-minute row
    labels = ["none"] * 240
    labels[89] = "withdrawal"
    found = rows(render_timeline(summary(labels, starts, ends)))
    first, second = (re.findall(r"turn 90 at 14:50: withdrawal", r) for r in found[:2])
    assert len(first) == len(second) == 1
    assert '<rect x="988.89" y="2" width="11.11"' in found[0]  # 890-900 s of the first row
    assert '<rect x="0.00" y="2" width="11.11"' in found[1]  # 900-910 s of the second


def test_missing_times_fall_back_to_the_turn_axis():
    page = render_timeline(summary(["none"] * 3, [0.0, np.nan, 9.0]))
    assert "axis: turn number" in page and ticks(rows(page)[0]) == ["1"]
