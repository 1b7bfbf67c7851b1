"""What validate accepts, tag and scan accept, and the reverse: a property over mixed folders."""

from __future__ import annotations

import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rupture_nlp.cli import cli

THERAPIST = [
    "How has the week been since we last met?",
    "It sounds like that landed hard.",
    "Can we slow down and stay with that for a moment?",
    "I may have pushed too fast just then.",
]
CLIENT = [
    "Fine. Nothing much happened.",
    "I don't really see the point of this.",
    "Work was a lot, and my mum is unwell again.",
    "I guess. Whatever you think.",
]

# each kind of file, as a valid file or with one defect that validate must catch
DEFECTS = {
    ".csv": ["ok", "unknown speaker", "turn not integer", "empty text", "turns descend", "header"],
    ".txt": ["ok", "text before speaker"],
    ".vtt": ["ok", "cue times out of order", "first cue without speaker"],
    ".srt": ["ok", "end before start"],
}


def _turns(n: int):
    return [
        ("therapist", THERAPIST[k % 4]) if k % 2 == 0 else ("client", CLIENT[k % 4])
        for k in range(n)
    ]


def _stamp(seconds: float, comma: bool = False) -> str:
    whole = int(seconds)
    text = f"00:{whole // 60:02d}:{whole % 60:02d}.{int(seconds * 1000) % 1000:03d}"
    return text.replace(".", ",") if comma else text


def _render(suffix: str, defect: str, session: str, n: int) -> str:
    turns = _turns(n)
    if suffix == ".csv":
        rows = [f'{session},{k + 1},{who},"{text}"' for k, (who, text) in enumerate(turns)]
        if defect == "unknown speaker":
            rows[-1] = rows[-1].replace(",client,", ",Maya Patel,").replace(",therapist,", ",Maya,")
        elif defect == "turn not integer":
            rows[0] = rows[0].replace(f"{session},1,", f"{session},one,", 1)
        elif defect == "empty text":
            rows[-1] = rows[-1].rsplit(",", 1)[0] + ',""'
        elif defect == "turns descend" and n > 1:
            rows[0], rows[1] = rows[1], rows[0]
        elif defect == "header":
            rows = []
        return "session_id,turn,speaker,text\n" + "".join(r + "\n" for r in rows)
    if suffix == ".txt":
        lines = [
            f"{'Therapist' if who == 'therapist' else 'Client'}: {text}" for who, text in turns
        ]
        if defect == "text before speaker":
            lines.insert(0, "Recorded at the community clinic, room 2.")
        return "\n".join(lines) + "\n"
    cues = []
    for k, (who, text) in enumerate(turns):
        start, end = 2.0 * k + 1, 2.0 * k + 2.5
        if defect == "cue times out of order" and k == n - 1 and n > 1:
            start, end = 0.2, 0.8
        if defect == "end before start" and k == 0:
            end = 0.5
        name = "Therapist" if who == "therapist" else "Client"
        if suffix == ".vtt":
            body = text if defect == "first cue without speaker" and k == 0 else f"<v {name}>{text}"
            cues.append(f"{_stamp(start)} --> {_stamp(end)}\n{body}\n")
        else:
            times = f"{_stamp(start, True)} --> {_stamp(end, True)}"
            cues.append(f"{k + 1}\n{times}\n{name}: {text}\n")
    return ("WEBVTT\n\n" if suffix == ".vtt" else "") + "\n".join(cues)


@st.composite
def folders(draw):
    files = []
    for _ in range(draw(st.integers(1, 4))):
        suffix = draw(st.sampled_from(sorted(DEFECTS)))
        defect = draw(st.sampled_from(DEFECTS[suffix]))
        # names from a small pool, so that two files can give one session id
        stem = draw(st.sampled_from(["jordan_s1", "jordan_s2", "aisha_s1"]))
        files.append((f"{stem}{suffix}", defect, draw(st.integers(1, 5))))
    return files


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(folders())
def test_validate_accepts_exactly_what_tag_and_scan_accept(mini_model, files):
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for name, defect, n in files:
            suffix = Path(name).suffix
            session = Path(name).stem  # a table's own session id, like its file name
            (folder / name).write_text(_render(suffix, defect, session, n), encoding="utf-8")
        checked = runner.invoke(cli, ["validate", str(folder)])
        model = ["--model", str(mini_model)]
        tagged = runner.invoke(cli, ["tag", str(folder), *model, "-o", f"{tmp}/t.csv"])
        scanned = runner.invoke(cli, ["scan", str(folder), *model, "-o", f"{tmp}/e.csv"])
        for result in (checked, tagged, scanned):  # a clean refusal, never a crash
            assert result.exception is None or isinstance(result.exception, SystemExit)
        verdicts = (checked.exit_code == 0, tagged.exit_code == 0, scanned.exit_code == 0)
        assert verdicts in ((True, True, True), (False, False, False)), (
            checked.output,
            tagged.output,
            scanned.output,
        )
