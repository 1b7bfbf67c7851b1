from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import CHROMIUM, layout_problems, run_in_pages
from click.testing import CliRunner

from rupture_nlp.cli import cli
from rupture_nlp.errors import TranscriptError
from rupture_nlp.readers import read_transcripts
from rupture_nlp.report import (
    check_report_output,
    render_report,
    report_layout,
    write_report,
)
from rupture_nlp.scanning import scan

EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//""")


class Tables(HTMLParser):
    """The rows of every table inside the element with a given id: (row class, cell texts)."""

    def __init__(self, element_id: str):
        super().__init__()
        self.element_id, self.depth, self.rows, self.cell = element_id, 0, [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.depth:
            self.depth += tag not in ("br", "img", "input")
        elif attrs.get("id") == self.element_id:
            self.depth = 1
        if self.depth and tag == "tr":
            self.rows.append((attrs.get("class", ""), []))
        if self.depth and tag in ("td", "th"):
            self.cell = []
        if self.depth and tag == "li" and self.cell is not None:
            self.cell.append(" | " if self.cell else "")

    def handle_endtag(self, tag):
        if self.depth and tag in ("td", "th"):
            self.rows[-1][1].append(" ".join("".join(self.cell).split()).strip(" |"))
            self.cell = None
        if self.depth and tag not in ("br", "img", "input"):
            self.depth -= 1

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def rows_of(page: str, element_id: str):
    parser = Tables(element_id)
    parser.feed(page)
    return parser.rows


@pytest.fixture
def supervised(supervision, known_model):
    return scan([supervision], model=known_model)


def test_exchange_shows_the_turns_around_an_unrepaired_episode(supervised):
    page = render_report(supervised)
    rows = rows_of(page, "e-ortiz-12-4")
    assert rows == [
        ("", ["turn", "time", "speaker", "label (p)", "text", "why (the model's top reasons)"]),
        ("", ["2", "0:10", "client", "none 0.62", "I didn't call her.", ""]),
        ("", ["3", "0:13", "therapist", "none 0.90", "What got in the way, do you think?", ""]),
        (
            "mk",
            [
                "4",
                "0:17",
                "client",
                "withdrawal 0.71",
                "I don't know. It doesn't matter.",
                "cue: short reply after a question +0.42 | word 'matter' +0.31 | "
                "previous turn: therapist question +0.12",
            ],
        ),
        (
            "ra",
            [
                "5",
                "0:21",
                "therapist",
                "repair 0.64repair attempt: did not end the strain",
                "It sounds like it might matter a bit. I'm sorry if I jumped on it too fast.",
                "word 'sorry' +0.55 | cue: therapist owns their part +0.40",
            ],
        ),
        (
            "mk",
            [
                "6",
                "0:28",
                "client",
                "confrontation 0.83",
                "You always do this. You go straight for the one thing I didn't do.",
                "word 'always' +0.48 | cue: second-person complaint +0.44",
            ],
        ),
        (
            "",
            [
                "7",
                "0:34",
                "therapist",
                "none 0.77",
                "Okay. Let's look at the thought record, then.",
                "",
            ],
        ),
        (
            "mk",
            [
                "8",
                "0:38",
                "client",
                "withdrawal 0.77",
                "Sure. Whatever you want.",
                "word 'whatever' +0.61 | cue: short reply +0.22",
            ],
        ),
        (
            "",
            [
                "9",
                "0:41",
                "therapist",
                "none 0.95",
                "Let's start with Monday. What was the situation?",
                "",
            ],
        ),
        ("", ["10", "0:46", "client", "none 0.81", "Monday was fine. Work, then home.", ""]),
        ("", ["11", "0:51", "therapist", "none 0.92", "And the thought that came up?", ""]),
    ]
    assert (
        "3 marker turns. Repair attempt at turn 5 did not end the strain: markers came after it. "
        "No repair began in the 3 turns after the last marker." in page
    )
    # the episode table links the unrepaired episode to its exchange; the repaired one has none
    assert '<a href="#e-ortiz-12-4">4–8</a>' in page
    assert 'id="e-ortiz-13-2"' not in page


def test_exchange_cut_short_by_the_end_of_the_session(supervised):
    page = render_report(supervised)
    assert [r[1][0] for r in rows_of(page, "e-adeyemi-04-4")[1:]] == ["2", "3", "4", "5", "6"]
    assert "2 marker turns. The session ended with the last marker." in page


def test_exchange_without_times_or_probabilities(supervision):
    """Coders' labels have no probabilities and ortiz-13 no times: neither column is shown. With
    no repair window its confrontation is unrepaired, and the exchange starts at turn 1."""
    page = render_report(scan([supervision], use_gold=True, window=0))
    assert rows_of(page, "s-ortiz-13")[:2] == [
        ("", ["turns", "marker", "outcome", "excerpt (first marker turn)"]),
        (
            "",
            [
                "2",
                "confrontation",
                "not repaired",
                "It was. I felt like you only cared about the homework.",
            ],
        ),
    ]
    assert rows_of(page, "e-ortiz-13-2") == [
        ("", ["turn", "speaker", "label", "text", "why (the model's top reasons)"]),
        (
            "",
            [
                "1",
                "therapist",
                "none",
                "Before we start, I wanted to check in about last week. It felt tense at the end.",
                "",
            ],
        ),
        (
            "mk",
            [
                "2",
                "client",
                "confrontation",
                "It was. I felt like you only cared about the homework.",
                "cue: complaint about the therapist +0.51 | word 'only' +0.35",
            ],
        ),
    ]


def test_no_text_leaves_every_word_of_the_transcripts_out(supervision, known_model, tmp_path):
    result = scan([supervision], model=known_model, text=False)
    turns = read_transcripts(supervision)
    written = write_report(result, tmp_path / "share", single_page_max=2)
    single = render_report(result)
    for page in [single] + [p.read_text() for p in written]:
        for text in turns["text"]:
            assert text not in page
            assert text.replace("'", "&#x27;") not in page  # nor escaped
        for why in turns["why"].dropna():
            for reason in filter(None, why.split("; ")):
                assert reason.replace("'", "&#x27;") not in page
    rows = rows_of(single, "e-ortiz-12-4")
    assert rows[0][1] == ["turn", "time", "speaker", "label (p)"]
    assert rows[3] == ("mk", ["4", "0:17", "client", "withdrawal 0.71"])
    assert "Transcript text left out (--no-text)." in single


def test_caseload_section_appears_with_the_columns(supervised):
    page = render_report(supervised)
    assert rows_of(page, "caseload")[:3] == [
        (
            "",
            [
                "therapist",
                "sessions",
                "episodes",
                "not repaired",
                "repair rate",
                "not repaired per session",
            ],
        ),
        ("", ["adeyemi", "2", "1", "1", "0%", "0.50"]),
        ("", ["ortiz", "2", "2", "1", "50%", "0.50"]),
    ]
    assert page.count('<img alt="repair rate and unrepaired episodes per session, per ') == 2
    assert page.count('src="data:image/svg+xml;base64,') == 2


def test_session_index_sorts_and_is_allowed_by_its_hash(supervised):
    page = render_report(supervised)
    rows = rows_of(page, "sessions")
    assert rows[0][1] == [
        "session",
        "therapist",
        "client",
        "date",
        "turns",
        "markers per 100 turns",
        "episodes",
        "not repaired",
        "repair rate",
    ]
    assert [r[1] for r in rows[1:]] == [
        ["adeyemi-04", "adeyemi", "c05", "2026-03-04", "6", "33.3", "1", "1", "0%"],
        ["ortiz-12", "ortiz", "c03", "2026-03-02", "13", "23.1", "1", "1", "0%"],
        ["ortiz-13", "ortiz", "c03", "2026-03-09", "6", "16.7", "1", "0", "100%"],
        ["adeyemi-05", "adeyemi", "c06", "2026-04-15", "4", "0.0", "0", "0", "–"],
    ]
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1 and "<script src" not in page
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page
    assert not EXTERNAL.search(page)


def test_large_scan_is_an_index_and_a_page_per_session(supervised, tmp_path):
    written = write_report(supervised, tmp_path / "team", single_page_max=3)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "team/index.html",
        "team/sessions/ortiz-12.html",
        "team/sessions/ortiz-13.html",
        "team/sessions/adeyemi-04.html",
        "team/sessions/adeyemi-05.html",
    ]
    index = written[0].read_text()
    links = re.findall(r'<td><a href="([^"]+)">', index)
    assert links == [
        "sessions/adeyemi-04.html",
        "sessions/ortiz-12.html",
        "sessions/ortiz-13.html",
        "sessions/adeyemi-05.html",
    ]
    assert all((written[0].parent / link).is_file() for link in links)
    assert 'class="exchange"' not in index and "<svg" not in index  # the index stays small
    page = (tmp_path / "team/sessions/ortiz-12.html").read_text()
    assert '<a href="../index.html">← all sessions</a>' in page
    assert 'id="e-ortiz-12-4"' in page and "ortiz-13" not in page
    for p in written:
        assert not EXTERNAL.search(p.read_text())
    # written again, the old pages are replaced, not mixed with the new
    (tmp_path / "team/sessions/ortiz-12.html").write_text("stale")
    write_report(supervised, tmp_path / "team", single_page_max=3)
    assert "stale" not in (tmp_path / "team/sessions/ortiz-12.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["team"]  # no temporary left
    # a later scan small enough for one page takes the old session pages away
    assert write_report(supervised, tmp_path / "team") == [tmp_path / "team/index.html"]
    assert sorted(p.name for p in (tmp_path / "team").iterdir()) == ["index.html"]


def test_report_file_of_a_large_scan_keeps_its_pages_beside_it(supervised, tmp_path):
    written = write_report(supervised, tmp_path / "r.html", single_page_max=3)
    assert written[0] == tmp_path / "r.html"
    assert re.findall(r'<td><a href="([^"]+)">', written[0].read_text())[0] == (
        "r-sessions/adeyemi-04.html"
    )
    assert '<a href="../r.html">' in (tmp_path / "r-sessions/adeyemi-04.html").read_text()
    assert report_layout(tmp_path / "r.html", 3, 3) == (tmp_path / "r.html", None)


def test_session_ids_become_safe_distinct_file_names(supervision, known_model, tmp_path):
    df = read_transcripts(supervision)
    df["session_id"] = df["session_id"].map(
        {"ortiz-12": "Ortiz 12/a", "ortiz-13": "ortiz 12/a", "adeyemi-04": "a", "adeyemi-05": "b"}
    )
    path = tmp_path / "renamed.csv"
    df.to_csv(path, index=False)
    written = write_report(scan([path], model=known_model), tmp_path / "out", single_page_max=1)
    assert sorted(p.name for p in written[1:]) == [
        "Ortiz_2012_2fa.html",
        "a.html",
        "b.html",
        "ortiz_2012_2fa-2.html",
    ]


def test_report_output_checks(tmp_path, supervision):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(TranscriptError) as err:
        check_report_output(tmp_path, [supervision])
    assert str(err.value) == (
        f"{tmp_path}: folder already holds files that are not a report (notes.txt); "
        "choose an empty or new folder"
    )
    with pytest.raises(TranscriptError) as err:
        check_report_output(tmp_path / "notes.txt", [supervision])
    assert str(err.value).startswith(f"{tmp_path / 'notes.txt'}: unknown output type .txt")
    with pytest.raises(TranscriptError) as err:
        check_report_output(supervision.with_suffix(".html"), [supervision.with_suffix(".html")])
    assert "output would overwrite an input file" in str(err.value)
    (tmp_path / "r-sessions").mkdir()
    (tmp_path / "r-sessions" / "data.csv").write_text("x")
    result = scan([supervision], use_gold=True)
    with pytest.raises(TranscriptError) as err:
        write_report(result, tmp_path / "r.html", single_page_max=1)
    assert str(err.value) == (
        f"{tmp_path / 'r-sessions'}: exists and holds more than report pages; move it or "
        "choose another report name"
    )
    assert not (tmp_path / "r.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "r-sessions"]


def test_cli_scan_writes_a_report_folder(tmp_path, supervision):
    result = CliRunner().invoke(
        cli,
        [
            "scan",
            str(supervision),
            "--gold",
            "-o",
            str(tmp_path / "ep.csv"),
            "--report",
            str(tmp_path / "report"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        r"4 sessions, 3 episodes, 2 not repaired in \d+\.\d s", result.stderr.splitlines()[-1]
    )
    page = (tmp_path / "report" / "index.html").read_text()
    assert 'id="e-ortiz-12-4"' in page  # four sessions: one page, exchanges included
    assert not (tmp_path / "report" / "sessions").exists()


def test_cli_refuses_a_report_folder_with_other_files(tmp_path, supervision):
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "keep.md").write_text("mine")
    result = CliRunner().invoke(
        cli,
        [
            "scan",
            str(supervision),
            "--gold",
            "-o",
            str(tmp_path / "e.csv"),
            "--report",
            str(tmp_path / "report"),
        ],
    )
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        f"Error: {tmp_path / 'report'}: folder already holds files that are not a report "
        "(keep.md); choose an empty or new folder"
    )
    assert not (tmp_path / "e.csv").exists()


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH ('make browser' installs Debian's)"
)


@needs_chromium
@pytest.mark.parametrize("width", [1280, 420])
def test_episode_tables_are_not_clipped_or_overlapping_in_chromium(
    width, tmp_path, supervision, known_model, mini_model
):
    """The demo report, and the index and a session page of a large scan, on a desktop screen
    and on a phone."""
    samples = Path(__file__).resolve().parent.parent / "data" / "samples"
    demo = write_report(scan([samples], model=str(mini_model)), tmp_path / "demo.html")
    team = write_report(scan([supervision], model=known_model), tmp_path / "t", single_page_max=1)
    found = layout_problems([demo[0], team[0], team[1]], width)
    assert [f["problems"] for f in found] == [[], [], []]
    assert found[0]["tables"] >= 2  # the samples have unrepaired episodes
    assert [f["tables"] for f in found[1:]] == [0, 2]  # ortiz-12: its episodes and one exchange


@needs_chromium
def test_the_layout_check_finds_clipped_text(tmp_path, supervised):
    """The check can fail: text that cannot wrap and is cut off is reported, cell by cell."""
    page = render_report(supervised).replace(
        "</style>", "table.ex td.x{white-space:nowrap;overflow:hidden;max-width:8rem}</style>"
    )
    (tmp_path / "bad.html").write_text(page)
    problems = layout_problems(tmp_path / "bad.html", 1280)[0]["problems"]
    assert 'clipped: ex row 1 cell 4 "I didn\'t call her."' not in problems  # short text fits
    assert "clipped: ex row 3 cell 4 \"I don't know. It doesn't matter.\"" in problems


@needs_chromium
def test_session_table_sorts_in_chromium_under_the_pages_own_policy(supervised, tmp_path):
    """The sorting script runs only if its hash in the Content-Security-Policy is right."""
    page = write_report(supervised, tmp_path / "r.html")[0]
    script = """
      const order = () => [...document.querySelectorAll("#sessions tbody tr")]
        .map(r => r.cells[0].textContent);
      const button = i => document.querySelectorAll("#sessions th button")[i];
      const seen = [order()];
      button(8).click(); seen.push(order());
      button(8).click(); seen.push(order());
      button(3).click(); seen.push(order());
      return {seen, sorted: button(3).parentNode.getAttribute("aria-sort")};
    """
    found = run_in_pages([page], script, 1280)[0]
    assert found["seen"] == [
        ["adeyemi-04", "ortiz-12", "ortiz-13", "adeyemi-05"],  # most unrepaired first
        ["ortiz-13", "adeyemi-04", "ortiz-12", "adeyemi-05"],  # repair rate, highest first
        ["adeyemi-05", "adeyemi-04", "ortiz-12", "ortiz-13"],  # and lowest first
        ["adeyemi-05", "ortiz-13", "adeyemi-04", "ortiz-12"],  # date, latest first
    ]
    assert found["sorted"] == "descending"
