"""Writers: the pyarrow fast path writes the text pandas' to_csv writes, chunk by chunk."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from rupture_nlp.writers import TableWriter, _fast_delimited


def _turns() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "session_id": ["intake-07", "intake-07", 'group "B"', "group, C", "café-2", "s6"],
            "turn": np.array([1, 2, 1, 1, 1, 2], dtype=np.int64),
            "speaker": ["therapist", "client", "therapist", "client", "client2", "client"],
            "text": [
                "What would you like to focus on?",
                'She said "just go", so I came.',
                "Two things,\nthen.",
                " I'd rather not.",
                "Ça va.",
                None,
            ],
            "start": [np.nan, 12.5, np.nan, 3.0, np.nan, np.nan],
            "Coder notes": pd.Series([None, "C6?", None, None, None, None], dtype=object),
            "p_repair": [1e-06, 0.000235, 5e-05, 0.0, 1.0, 0.123456],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_fast_path_writes_pandas_text(suffix):
    df = _turns()
    if suffix == ".tsv":  # TSV has no quoting: no tabs or line breaks in its fields
        df["text"] = df["text"].str.replace("\n", " ")
        expected = df.to_csv(
            index=False, sep="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, quotechar=None
        )
        fast = _fast_delimited(df, "\t", quote=False)
    else:
        expected = df.to_csv(index=False, lineterminator="\n")
        fast = _fast_delimited(df, ",", quote=True)
    assert fast == expected.split("\n", 1)[1]


def test_fast_path_leaves_carriage_returns_and_mixed_objects_to_pandas():
    df = _turns()
    assert _fast_delimited(df.assign(text="line\rbreak"), ",", True) is None
    assert _fast_delimited(df.assign(**{"Coder notes": [1, "a", 2, 3, 4, 5]}), ",", True) is None


def test_table_writer_chunks_read_back_as_one_table(tmp_path):
    df = _turns()
    out = tmp_path / "tagged.csv"
    with TableWriter(out, list(df.columns)) as writer:
        writer.write(df.iloc[:3])
        writer.write(df.iloc[3:])
    assert out.read_text(encoding="utf-8") == df.to_csv(index=False, lineterminator="\n")
    cr = tmp_path / "cr.csv"  # a carriage return: every text field quoted, as before
    with TableWriter(cr) as writer:
        writer.write(df.assign(text="a\rb").iloc[:2])
    with open(cr, encoding="utf-8", newline="") as f:
        assert f.read().split("\n")[1] == '"intake-07",1,"therapist","a\rb","","",1e-06'


def test_tag_files_keeps_no_written_chunk(tmp_path, monkeypatch, mini_model, mini_df):
    """Streaming: when a chunk is asked for, only the one before it (the loop's variable) is
    still alive; earlier chunks are gone, so memory does not grow with the input."""
    import gc
    import weakref

    import rupture_nlp.tagging as tagging

    written: list[weakref.ref] = []
    alive_at_each_chunk: list[int] = []
    real = tagging.iter_tagged

    def watched(*args, **kwargs):
        for chunk in real(*args, **kwargs):
            gc.collect()
            alive_at_each_chunk.append(sum(r() is not None for r in written))
            written.append(weakref.ref(chunk))
            yield chunk

    monkeypatch.setattr(tagging, "iter_tagged", watched)
    source = tmp_path / "turns.csv"
    mini_df.to_csv(source, index=False)
    out = tmp_path / "tagged.csv"
    assert tagging.tag_files(source, out, mini_model, chunk_turns=10) == len(mini_df)
    assert len(alive_at_each_chunk) > 3 and max(alive_at_each_chunk) == 1
    assert len(pd.read_csv(out)) == len(mini_df)


def test_probabilities_are_written_as_numpy_writes_every_multiple_of_a_millionth():
    from rupture_nlp.writers import _float_text

    values = np.r_[np.round(np.arange(1_000_001) / 1e6, 6), np.nan]
    expected = values.astype(str)
    expected[-1] = ""
    assert _float_text(values).to_pylist() == expected.tolist()
    other = np.array([12.5, 3723.25, np.nan, 1e-07])  # times, not rounded: numpy writes them
    assert _float_text(other).to_pylist() == ["12.5", "3723.25", "", "1e-07"]


def test_a_marked_block_is_replaced_and_the_rest_kept(tmp_path):
    from rupture_nlp.writers import fill_marked_block

    readme = tmp_path / "README.md"
    readme.write_text("Intro.\n<!-- x:start -->\nold\n<!-- x:end -->\nOutro.\n", encoding="utf-8")
    block = "<!-- x:start -->\nnew\n<!-- x:end -->"
    assert fill_marked_block(readme, "<!-- x:start -->", "<!-- x:end -->", block, write=False)
    assert "old" in readme.read_text(encoding="utf-8")  # only told
    assert fill_marked_block(readme, "<!-- x:start -->", "<!-- x:end -->", block)
    assert readme.read_text(encoding="utf-8") == f"Intro.\n{block}\nOutro.\n"
    assert not fill_marked_block(readme, "<!-- x:start -->", "<!-- x:end -->", block)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def test_markers_missing_or_out_of_order_are_refused_with_the_file_untouched(tmp_path):
    from rupture_nlp.writers import fill_marked_block

    readme = tmp_path / "README.md"
    text = "<!-- x:end -->\n<!-- x:start -->\n"
    readme.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"README.md: no <!-- x:start --> \.\.\. <!-- x:end -->"):
        fill_marked_block(readme, "<!-- x:start -->", "<!-- x:end -->", "new")
    assert readme.read_text(encoding="utf-8") == text
