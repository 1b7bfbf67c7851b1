"""The supervisor's report: one self-contained HTML file.

No scripts, fonts, images or styles are fetched from anywhere: the timelines are inline SVG and
the styles are inline, because the report describes clinical sessions and may be opened on a
machine without network access, or shared only inside the clinic. ``text=False`` at scan time
leaves every excerpt out, for a report that goes outside.
"""

from __future__ import annotations

import html
import math

import numpy as np

from . import __version__
from .labels import LABELS
from .scanning import ScanResult, SessionSummary

__all__ = ["COLOURS", "format_clock", "render_report"]

#: Colour-blind-safe (Okabe-Ito) colours per label; `none` is a pale grey.
COLOURS = {
    "withdrawal": "#0072B2",
    "confrontation": "#D55E00",
    "repair": "#009E73",
    "none": "#E4E4E4",
}

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin:2rem 0 .3rem}
.muted{color:#666}.summary td,.summary th{padding:.15rem .8rem .15rem 0;text-align:left}
table.ep{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
table.ep th,table.ep td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;
vertical-align:top}
table.ep td:nth-child(-n+2){white-space:nowrap}
.missed{color:#B00020;font-weight:600}.ok{color:#00704A}
.session{border-top:2px solid #333;padding-top:.2rem}
.legend span{display:inline-block;margin-right:1rem}
.legend i{display:inline-block;width:.9rem;height:.9rem;margin-right:.3rem;vertical-align:-2px}
.counts span{margin-right:1rem}
"""


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


def _timeline(session: SessionSummary, width: int = 1000, height: int = 34) -> str:
    """Inline SVG: one bar per turn coloured by label; unrepaired episodes bracketed in red."""
    n = max(len(session.labels), 1)
    step = width / n
    parts = [
        f'<svg role="img" aria-label="timeline of {html.escape(session.session_id)}" '
        f'viewBox="0 0 {width} {height + 14}" width="100%" preserveAspectRatio="none" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (turn, label) in enumerate(zip(session.turns, session.labels, strict=True)):
        colour = COLOURS.get(label, "#999")
        y, h = (8, height - 8) if label == "none" else (2, height - 2)
        parts.append(
            f'<rect x="{i * step:.2f}" y="{y}" width="{max(step - 0.4, 0.6):.2f}" '
            f'height="{h}" fill="{colour}"><title>turn {turn}: {label}</title></rect>'
        )
    index = {int(t): i for i, t in enumerate(session.turns)}
    for ep in session.episodes.itertuples():
        if ep.repaired:
            continue
        a, b = index[int(ep.start_turn)], index[int(ep.end_turn)]
        x, w = a * step, (b - a + 1) * step
        parts.append(
            f'<rect x="{x:.2f}" y="{height + 3}" width="{max(w, 3):.2f}" height="7" '
            f'fill="#B00020"><title>unrepaired episode, turns {ep.start_turn}-'
            f"{ep.end_turn}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _episode_rows(session: SessionSummary, with_text: bool) -> str:
    rows = []
    for ep in session.episodes.itertuples():
        status = (
            ('<span class="ok">repaired</span> at turn ' + str(ep.repair_turn))
            if ep.repaired
            else '<span class="missed">not repaired</span>'
            + (" (session ended)" if getattr(ep, "ends_session", False) else "")
        )
        times = format_clock(ep.start)
        if times and not math.isnan(ep.end):
            times += f"–{format_clock(ep.end)}"
        cells = [
            f"{ep.start_turn}–{ep.end_turn}"
            if ep.end_turn != ep.start_turn
            else str(ep.start_turn),
            times,
            html.escape(ep.marker),
            status,
        ]
        if with_text:
            cells.append(html.escape(getattr(ep, "excerpt", "") or ""))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = ["turns", "time", "marker", "outcome"] + (
        ["excerpt (first marker turn)"] if with_text else []
    )
    return (
        '<table class="ep"><thead><tr>'
        + "".join(f"<th>{h}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def render_report(result: ScanResult, title: str = "Rupture scan") -> str:
    """Render a scan as one self-contained HTML page (a string)."""
    s = result.settings
    with_text = bool(s.get("excerpts", True))
    sessions = result.ordered_sessions()
    eps = result.episodes
    n_unrep = int((~eps["repaired"].astype(bool)).sum()) if len(eps) else 0
    legend = "".join(
        f'<span><i style="background:{COLOURS[lab]}"></i>{lab}</span>' for lab in LABELS
    )
    legend += '<span><i style="background:#B00020;height:.4rem"></i>unrepaired episode</span>'
    out = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="muted">{len(sessions)} sessions, {len(eps)} rupture episodes, '
        f'<span class="missed">{n_unrep} not repaired</span>. Labels from {html.escape(str(s.get("labels")))}'
        + (
            f" ({html.escape(str(s.get('model_file')))}, sha256 {str(s.get('model_sha256'))[:12]}…)"
            if s.get("model_file")
            else ""
        )
        + f"; episode gap {s.get('gap')}, repair window {s.get('window')} turns"
        + (f", min probability {s.get('min_prob')}" if s.get("min_prob") is not None else "")
        + f". rupture-nlp {__version__}. Sessions with unrepaired episodes come first.</p>",
        f'<p class="legend">{legend}</p>',
        '<table class="summary"><thead><tr><th>session</th><th>turns</th><th>episodes</th>'
        "<th>not repaired</th><th>repair rate</th></tr></thead><tbody>",
    ]
    for ss in sessions:
        rate = "–" if ss.repair_rate is None else f"{ss.repair_rate:.0%}"
        out.append(
            f'<tr><td><a href="#s-{html.escape(ss.session_id)}">{html.escape(ss.session_id)}'
            f"</a></td><td>{len(ss.labels)}</td><td>{len(ss.episodes)}</td>"
            f'<td class="{"missed" if ss.n_unrepaired else ""}">{ss.n_unrepaired}</td>'
            f"<td>{rate}</td></tr>"
        )
    out.append("</tbody></table>")
    for ss in sessions:
        counts = "".join(f"<span>{lab}: {ss.counts.get(lab, 0)}</span>" for lab in LABELS)
        rate = "no episodes" if ss.repair_rate is None else f"repair rate {ss.repair_rate:.0%}"
        duration = ""
        if ss.starts is not None:
            duration = f", {format_clock(float(np.nanmax(ss.starts)))} recorded"
        out.append(
            f'<section class="session" id="s-{html.escape(ss.session_id)}">'
            f"<h2>{html.escape(ss.session_id)}</h2>"
            f'<p class="muted">{len(ss.labels)} turns{duration}; {rate}; '
            f'<span class="{"missed" if ss.n_unrepaired else ""}">{ss.n_unrepaired} '
            "not repaired</span></p>"
            f'{_timeline(ss)}<p class="counts">{counts}</p>'
        )
        if len(ss.episodes):
            out.append(_episode_rows(ss, with_text))
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)
