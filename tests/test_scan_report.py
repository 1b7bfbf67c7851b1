from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from rupture_nlp.cli import cli
from rupture_nlp.readers import read_transcripts
from rupture_nlp.report import format_clock, render_report
from rupture_nlp.scanning import scan
from rupture_nlp.writers import write_table


def coded_sessions(tmp_path):
    """Two coded sessions: one with a missed withdrawal, one whose confrontation is repaired."""
    rows = [
        ("quiet", "therapist", "I wonder if you felt dismissed by me last week.", "none"),
        ("quiet", "client", "Fine. Whatever.", "withdrawal"),
        ("quiet", "therapist", "Okay, let's look at the diary then.", "none"),
        ("quiet", "client", "Sure.", "withdrawal"),
        ("quiet", "therapist", "Monday first.", "none"),
        ("quiet", "client", "Monday I worked.", "none"),
        ("quiet", "therapist", "And Tuesday?", "none"),
        ("heated", "therapist", "We have five minutes left.", "none"),
        ("heated", "client", "You always cut me off <right> when it matters.", "confrontation"),
        ("heated", "therapist", "You're right, I did glance at the clock. I'm sorry.", "repair"),
        ("heated", "client", "Thanks.", "none"),
    ]
    df = pd.DataFrame(rows, columns=["session_id", "speaker", "text", "label"])
    df["turn"] = df.groupby("session_id").cumcount() + 1
    df["start"] = [0, 65.5, 70, 75, 80, 85, 90, 0, 3725.0, 3730, 3740]
    df["end"] = df["start"] + 4
    path = tmp_path / "coded.csv"
    write_table(df, path)
    return path


def test_scan_on_gold_labels_orders_missed_sessions_first(tmp_path):
    result = scan([coded_sessions(tmp_path)], use_gold=True)
    eps = result.episodes
    assert eps[["session_id", "start_turn", "end_turn", "marker", "repaired"]].values.tolist() == [
        ["quiet", 2, 4, "withdrawal", False],
        ["heated", 2, 2, "confrontation", True],
    ]
    assert [s.session_id for s in result.ordered_sessions()] == ["quiet", "heated"]
    assert result.sessions[1].repair_rate == 1.0 and result.sessions[0].repair_rate == 0.0


def test_report_is_self_contained_and_shows_the_moments(tmp_path):
    html = render_report(scan([coded_sessions(tmp_path)], use_gold=True))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "external resource"
    assert html.lower().count("<script") == 1  # the inline one that sorts the session table
    assert html.index('id="s-quiet"') < html.index('id="s-heated"')
    assert "1:05–1:19" in html  # episode time from the recording, m:ss
    assert "1:02:05" in html  # hour-long recordings get h:mm:ss
    assert "You always cut me off &lt;right&gt; when it matters." in html  # escaped, not markup
    assert "unrepaired episode, turns 2-4" in html  # the timeline marks the missed episode
    assert "repair rate 100%" in html and "repair rate 0%" in html


def test_no_text_leaves_every_excerpt_out(tmp_path):
    source = coded_sessions(tmp_path)
    html = render_report(scan([source], use_gold=True, text=False))
    texts = read_transcripts(source)["text"]
    assert not any(t in html for t in texts)
    assert "excerpt" not in html


def test_times_from_vtt_and_srt(files):
    mapping = {"Dr Lee": "therapist", "Sam": "client"}
    for name in ("lee_sam.vtt", "lee_sam.srt"):
        df = read_transcripts(files / name, mapping)
        df["label"] = ["none", "withdrawal", "repair", "none"]
        path = files / f"coded_{name}.jsonl"
        write_table(df, path)
        result = scan([path], use_gold=True)
        ep = result.episodes.iloc[0]
        assert (ep.start_turn, ep.repair_turn) == (2, 3)
        assert format_clock(ep.start) == "0:07" and format_clock(ep.end) == "0:07"
        assert "0:07–0:07" in render_report(result)


def test_cli_scan_writes_episodes_and_report(tmp_path, mini_model, mini_csv):
    runner = CliRunner()
    out, report = tmp_path / "ep.jsonl", tmp_path / "r.html"
    result = runner.invoke(
        cli,
        [
            "scan",
            mini_csv,
            "--model",
            str(mini_model),
            "-o",
            str(out),
            "--report",
            str(report),
            "--no-text",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    eps = pd.read_json(out, lines=True)
    assert list(eps.columns) == [
        "session_id",
        "start_turn",
        "end_turn",
        "marker",
        "n_markers",
        "repaired",
        "repair_turn",
        "ends_session",
        "start",
        "end",
    ]
    assert report.read_text().startswith("<!DOCTYPE html>")
    gold = runner.invoke(cli, ["scan", mini_csv, "--gold", "-o", "-"], catch_exceptions=False)
    assert gold.stdout.splitlines()[0].startswith("session_id,start_turn")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")
def test_report_renders_in_headless_chromium(tmp_path):
    """The report as a person sees it: Chromium renders it to a non-blank picture, offline."""
    report = tmp_path / "r.html"
    report.write_text(render_report(scan([coded_sessions(tmp_path)], use_gold=True)))
    shot = tmp_path / "shot.png"
    script = Path(__file__).resolve().parent.parent / "scripts" / "screenshot_report.sh"
    subprocess.run(
        ["bash", str(script), str(report), str(shot), "900x700"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000  # a page with content, not blank
