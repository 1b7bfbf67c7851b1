"""The Dask engine against a two-worker LocalCluster: the same rows as the single process."""

from __future__ import annotations

import json
import sys

import distributed
import pandas as pd
import pytest
from click.testing import CliRunner

from rupture_nlp.cli import cli
from rupture_nlp.distributed import episodes_dataframe, read_turns, tag_dataframe, whole_sessions
from rupture_nlp.episodes import find_episodes
from rupture_nlp.errors import ModelError, TranscriptError
from rupture_nlp.tagging import tag_files
from rupture_nlp.writers import write_table

KEY = ["session_id", "turn"]


@pytest.fixture(scope="module")
def client():
    """Two in-process workers: the scheduler, the scattering and the partition tasks are the
    real ones, without the seconds that worker processes take to import spaCy."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture
def archive(tmp_path, mini_df):
    """The mini corpus as two CSV files of three sessions each, as an archive export is."""
    sessions = mini_df["session_id"].unique()
    paths = []
    for i, part in enumerate((sessions[:3], sessions[3:])):
        path = tmp_path / "archive" / f"export-{i}.csv"
        path.parent.mkdir(exist_ok=True)
        write_table(mini_df[mini_df["session_id"].isin(part)], path)
        paths.append(path)
    return tmp_path / "archive"


def single_process(paths, model, tmp_path) -> pd.DataFrame:
    out = tmp_path / "single.parquet"
    tag_files(paths, out, model=model)
    return pd.read_parquet(out)


def in_order(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEY).reset_index(drop=True)


def test_tagging_on_the_cluster_gives_the_single_process_rows(
    client, archive, mini_model, tmp_path
):
    expected = single_process([archive], mini_model, tmp_path)
    tagged = tag_dataframe(read_turns(archive / "*.csv"), mini_model)
    tagged.to_parquet(tmp_path / "dask-out", write_index=False)
    got = pd.read_parquet(tmp_path / "dask-out")
    assert len(got) == 62 and got["session_id"].nunique() == 6
    pd.testing.assert_frame_equal(in_order(got), in_order(expected))
    # the lazy frame's meta is what the partitions hold: no surprise for a user's next step
    assert tagged.dtypes.to_dict() == tagged.compute().dtypes.to_dict()


@pytest.mark.parametrize("suffix", [".tsv", ".parquet"])
def test_tsv_and_parquet_archives_give_the_same_rows(client, archive, mini_model, tmp_path, suffix):
    other = tmp_path / f"archive{suffix}"
    other.mkdir()
    for path in sorted(archive.iterdir()):
        write_table(pd.read_csv(path, keep_default_na=False), other / f"{path.stem}{suffix}")
    got = tag_dataframe(read_turns(other), mini_model).compute()
    expected = single_process([other], mini_model, tmp_path)
    assert got.dtypes.to_dict() == expected.dtypes.to_dict()
    pd.testing.assert_frame_equal(in_order(got), in_order(expected))


def test_sessions_cut_between_partitions_are_tagged_whole(client, archive, mini_model, tmp_path):
    turns = read_turns(archive, blocksize=700)
    firsts = turns.map_partitions(lambda p: p["session_id"].drop_duplicates()).compute()
    assert not firsts.is_unique, "the small blocks should cut sessions"
    whole = whole_sessions(turns)
    sessions = whole.map_partitions(lambda p: p["session_id"].drop_duplicates()).compute()
    assert sessions.is_unique and len(sessions) == 6
    got = tag_dataframe(turns, mini_model).compute()
    expected = single_process([archive], mini_model, tmp_path)
    pd.testing.assert_frame_equal(in_order(got), in_order(expected))


def test_a_session_longer_than_several_partitions_is_put_back_together(client, archive, mini_df):
    turns = read_turns(archive, blocksize=200)  # ~2 turns a partition, ~10 partitions a session
    assert turns.npartitions > 3 * mini_df["session_id"].nunique()
    whole = whole_sessions(turns)
    assert whole.npartitions == 6
    # in input order, with the readers' types: exactly the table the single process reads
    pd.testing.assert_frame_equal(whole.compute().reset_index(drop=True), mini_df)


def test_workers_can_load_the_model_file_themselves(client, archive, mini_model, tmp_path):
    got = tag_dataframe(read_turns(archive), mini_model, load_on_workers=True).compute()
    pd.testing.assert_frame_equal(
        in_order(got), in_order(single_process([archive], mini_model, tmp_path))
    )


def test_a_changed_model_file_is_refused_before_any_work(client, archive, mini_model, tmp_path):
    bad = tmp_path / "changed.joblib"
    bad.write_bytes(mini_model.read_bytes() + b"\0")
    meta = json.loads(mini_model.with_suffix(".json").read_text())
    bad.with_suffix(".json").write_text(json.dumps(meta))
    for load_on_workers in (False, True):
        with pytest.raises(ModelError, match="does not match the sha256"):
            tag_dataframe(read_turns(archive), bad, load_on_workers=load_on_workers)


def test_episodes_per_partition_are_the_single_process_episodes(client, archive, mini_model):
    tagged = tag_dataframe(read_turns(archive, blocksize=700), mini_model).persist()
    for column in ("predicted_label", "label"):
        lazy = episodes_dataframe(tagged, column=column, text=False)
        got = lazy.compute()
        expected = find_episodes(tagged.compute(), column, text=False)
        assert lazy.dtypes.to_dict() == got.dtypes.to_dict()
        assert len(expected) == (5 if column == "label" else len(got))
        pd.testing.assert_frame_equal(
            got.sort_values(["session_id", "start_turn"]).reset_index(drop=True),
            expected.sort_values(["session_id", "start_turn"]).reset_index(drop=True),
        )


def test_a_session_id_in_two_files_is_refused(client, archive, mini_df):
    again = mini_df[mini_df["session_id"] == "mini01"]
    write_table(again, archive / "export-2.csv")
    with pytest.raises(TranscriptError, match="session 'mini01' appears again after other"):
        whole_sessions(read_turns(archive))


def test_a_bad_row_names_its_file(client, tmp_path, mini_df):
    bad = mini_df.copy()
    bad.loc[5, "speaker"] = "Dr Lee"
    write_table(bad, tmp_path / "coded.csv")
    with pytest.raises(TranscriptError) as info:
        read_turns(tmp_path / "coded.csv").compute()
    first = info.value.problems[0]
    assert first.path.endswith("coded.csv") and "unknown speaker 'Dr Lee'" in first.message
    assert "rupture validate" in str(info.value.problems[-1])


def test_transcript_files_are_read_one_file_a_partition(client, files, mini_model, tmp_path):
    srt = [files / "lee_sam.srt"]
    speakers = {"Dr Lee": "therapist", "Sam": "client"}
    turns = read_turns(srt, speaker_map=speakers)
    out = tmp_path / "single.parquet"
    tag_files(srt, out, model=mini_model, speaker_map=speakers)
    got = tag_dataframe(turns, mini_model).compute()
    pd.testing.assert_frame_equal(in_order(got), in_order(pd.read_parquet(out)))


def test_rupture_tag_engine_dask_writes_the_same_rows(client, archive, mini_model, tmp_path):
    runner = CliRunner()
    single = tmp_path / "single.parquet"
    out = tmp_path / "tagged"
    base = ["tag", str(archive), "--model", str(mini_model)]
    result = runner.invoke(cli, [*base, "-o", str(single)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    dask_args = ["-o", str(out), "--engine", "dask", "--scheduler", client.scheduler.address]
    result = runner.invoke(cli, [*base, *dask_args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"tagged 62 turns -> {out}/ (Parquet)" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive", "single.parquet", "tagged"]
    pd.testing.assert_frame_equal(in_order(pd.read_parquet(out)), in_order(pd.read_parquet(single)))
    # a second run replaces the folder; a failing one leaves the last good output alone
    result = runner.invoke(cli, [*base, *dask_args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    broken = pd.read_csv(archive / "export-1.csv", keep_default_na=False)
    broken.loc[3, "speaker"] = "coach"
    write_table(broken, archive / "export-1.csv")
    result = runner.invoke(cli, [*base, *dask_args], catch_exceptions=False)
    assert result.exit_code == 1
    assert "export-1.csv: unknown speaker 'coach'" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive", "single.parquet", "tagged"]
    assert len(pd.read_parquet(out)) == 62


def test_rupture_tag_engine_dask_refuses_a_file_or_an_input_folder(archive, mini_model, tmp_path):
    runner = CliRunner()
    base = ["tag", str(archive), "--model", str(mini_model), "--engine", "dask"]
    for out, message in (
        (archive / "export-0.csv", "is a file: choose a folder name"),
        (archive / "tagged", "output folder overlaps the input"),
    ):
        result = runner.invoke(cli, [*base, "-o", str(out)], catch_exceptions=False)
        assert result.exit_code == 1 and message in result.output, result.output
    result = runner.invoke(cli, [*base, "-o", "-"], catch_exceptions=False)
    assert result.exit_code == 2 and "give -o FOLDER" in result.output
    result = runner.invoke(cli, [*base, "-o", "t", "--n-process", "2"], catch_exceptions=False)
    assert result.exit_code == 2 and "--n-process does not apply to --engine dask" in result.output


def test_without_the_extra_the_error_says_what_to_install(archive, mini_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)  # as if dask were not installed
    result = CliRunner().invoke(
        cli,
        ["tag", str(archive), "--model", str(mini_model), "-o", "out", "--engine", "dask"],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    assert result.output == (
        "Error: the Dask engine needs the optional extra: pip install 'rupture-nlp[dask]'\n"
    )


def test_a_malformed_csv_is_an_error_line_not_a_traceback(client, tmp_path, mini_model):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "session_id,turn,speaker,text\n"
        "s1,1,therapist,How has the week been?\n"
        "s1,2,client,Long, tiring,and I did not sleep\n"
    )
    result = CliRunner().invoke(
        cli,
        ["tag", str(bad), "--model", str(mini_model), "-o", str(tmp_path / "out")]
        + ["--scheduler", client.scheduler.address],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {bad}: unreadable table (Error tokenizing data.")
    assert result.output.rstrip().endswith("for the line of each problem")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]
