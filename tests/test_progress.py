"""Progress: a bar with a total and the time left on a terminal, one summary line otherwise."""

from __future__ import annotations

import functools
import io
import re

import pytest
from click.testing import CliRunner

from rupture_nlp import cli as cli_module
from rupture_nlp.cli import cli
from rupture_nlp.progress import progress_bar
from rupture_nlp.survey import survey_inputs
from rupture_nlp.tagging import tag_files
from rupture_nlp.training import train_and_save


@pytest.fixture
def terminal(monkeypatch):
    """What the commands draw on stderr as if it were a terminal."""
    screen = io.StringIO()
    monkeypatch.setattr(
        cli_module, "progress_bar", functools.partial(progress_bar, file=screen, enabled=True)
    )
    return screen


def test_tag_on_a_terminal_shows_a_total_and_the_time_left(
    tmp_path, mini_model, mini_csv, terminal
):
    out = tmp_path / "t.csv"
    result = CliRunner().invoke(
        cli, ["tag", mini_csv, "--model", str(mini_model), "-o", str(out), "--chunk-turns", "20"]
    )
    assert result.exit_code == 0, result.output
    drawn = terminal.getvalue()
    assert re.search(r"tagging: +100%\|.*\| 62/62 \[\d\d:\d\d<00:00", drawn), drawn


def test_scan_and_train_on_a_terminal(tmp_path, mini_model, mini_csv, terminal):
    runner = CliRunner()
    scanned = runner.invoke(cli, ["scan", mini_csv, "--model", str(mini_model), "-o", "-"])
    assert scanned.exit_code == 0, scanned.output
    assert re.search(r"scanning: +100%\|.*\| 62/62 \[", terminal.getvalue())
    trained = runner.invoke(cli, ["train", mini_csv, "-o", str(tmp_path / "m.joblib"), "--cv", "3"])
    assert trained.exit_code == 0, trained.output
    assert re.search(r"training: +100%\|.*\| 4/4 \[", terminal.getvalue())  # 3 folds + final
    assert "trained on" not in trained.stderr  # the bar said it


def test_without_a_terminal_each_command_writes_one_summary_line(tmp_path, mini_model, mini_csv):
    runner = CliRunner()
    out = tmp_path / "t.csv"
    tagged = runner.invoke(cli, ["tag", mini_csv, "--model", str(mini_model), "-o", str(out)])
    assert re.fullmatch(rf"tagged 62 turns -> {re.escape(str(out))} in \d+\.\d s\n", tagged.stderr)
    scanned = runner.invoke(
        cli, ["scan", mini_csv, "--model", str(mini_model), "-o", str(tmp_path / "e.csv")]
    )
    assert re.fullmatch(
        r"6 sessions, \d+ episodes, \d+ not repaired in \d+\.\d s\n", scanned.stderr
    ), scanned.stderr
    trained = runner.invoke(cli, ["train", mini_csv, "-o", str(tmp_path / "m.joblib"), "--cv", "2"])
    assert re.fullmatch(r"trained on 62 turns, 3 fits in \d+\.\d s\n", trained.stderr)


def test_the_total_comes_from_a_cheap_count_of_rows_and_turns(files):
    names = ("intake_07.txt", "lee_sam.srt", "lee_sam.vtt", "table.tsv")
    survey = survey_inputs([files / n for n in names], {"Dr Lee": "therapist", "Sam": "client"})
    by_name = {p.name: n for p, n in survey.rows.items()}
    assert by_name == {"intake_07.txt": 5, "lee_sam.srt": 4, "lee_sam.vtt": 4, "table.tsv": 2}
    assert survey.n_rows == 15


def test_library_bars_get_their_total_and_every_update(tmp_path, mini_model, mini_csv, mini_df):
    class Bar:
        total, n = None, 0

        def update(self, k):
            self.n += k

    bar = Bar()
    assert tag_files(mini_csv, tmp_path / "t.csv", mini_model, chunk_turns=10, progress=bar) == 62
    assert (bar.total, bar.n) == (62, 62)
    fits = Bar()
    train_and_save(mini_df, tmp_path / "m.joblib", cv=2, bar=fits)
    assert (fits.total, fits.n) == (3, 3)


def test_scan_counts_turns_for_its_bar_without_reading_the_inputs_twice(files, monkeypatch):
    import rupture_nlp.survey as survey

    assert survey.count_turns([files / "intake_07.txt", files / "table.tsv"]) == 7
    assert survey.count_turns(files / "clinic_export.xlsx") is None  # it would be read whole
    assert survey.count_turns(files / "clinic_export_semicolon.csv") == 4
