"""benchmarks/bench.py's README block: tables from a results dict, and the marker checks."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def bench(load_script):
    return load_script("benchmarks/bench.py")


def results() -> dict:
    """What main() keeps after a quick run of throughput and growth, with training kept from an
    earlier full run by --only."""
    return {
        "machine": "AMD EPYC 7B13, 2 cores, 24 GiB; Python 3.11.7, spaCy 3.8.7, scikit-learn 1.7.1",
        "date": "2025-06-02 09:15 UTC",
        "quick": True,
        "load": {"start": [0.52, 0.61, 0.7], "end": [1.875, 1.2, 0.9]},
        "model": {"format_version": 6, "n_turns": 51273, "n_sessions": 140},
        "ran": ["throughput", "growth"],
        "runs": {
            "throughput": {
                "date": "2025-06-02 09:16 UTC",
                "quick": True,
                "load": [0.5, 1.7],
                "turns": 20000,
            },
            "growth": {"date": "2025-06-02 09:17 UTC", "quick": True, "load": [1.7, 1.9]},
            "training": {"date": "2025-05-30 18:02 UTC", "quick": False, "load": [2.04, 3.96]},
        },
        "throughput": [
            {
                "step": "spacy.blank('en') tokenizer (baseline)",
                "turns/s": 80871,
                "ratio to tokenizer": 1.0,
            },
            {
                "step": "tag: encode + features + classifier + context stage",
                "turns/s": 30393,
                "ratio to tokenizer": 0.38,
            },
            {
                "step": "rupture tag CSV -> CSV, whole process (end to end)",
                "turns/s": 25120,
                "ratio to tokenizer": 0.31,
                "peak RSS MiB": 571,
            },
        ],
        "growth": [
            {
                "turns": 2000,
                "file MiB": 1.25,
                "tag seconds": 3.04,
                "turns/s": 657,
                "peak RSS MiB": 433,
            },
            {
                "turns": 10000,
                "file MiB": 6.4,
                "tag seconds": 4.0,
                "turns/s": 2500,
                "peak RSS MiB": 512,
            },
        ],
        "training": [
            {
                "share of train sessions": "0.125",
                "sessions": 18,
                "turns": 6302,
                "seconds": 21.4,
                "turns x": 1.0,
                "time x": 1.0,
            },
            {
                "share of train sessions": "1",
                "sessions": 140,
                "turns": 51273,
                "seconds": 174.0,
                "turns x": 8.14,
                "time x": 8.13,
            },
        ],
    }


def table_under(lines: list[str], heading: str) -> list[str]:
    """The table's lines below ``heading`` (a blank line between them), up to the next blank."""
    start = lines.index(heading) + 2
    return lines[start : lines.index("", start)]


def test_the_block_has_the_run_the_model_and_a_table_per_section(bench):
    block = bench.readme_block(results())
    assert block.startswith("<!-- bench:start -->\n\nMeasured by `make bench` on 2025-06-02 09:15")
    assert block.endswith("\n\n<!-- bench:end -->")
    lines = block.splitlines()
    assert lines[2] == (
        "Measured by `make bench` on 2025-06-02 09:15 UTC: AMD EPYC 7B13, 2 cores, 24 GiB; "
        "Python 3.11.7, spaCy 3.8.7, scikit-learn 1.7.1. Load average (1/5/15 min) "
        "0.52/0.61/0.70 at the start of the run, 1.88/1.20/0.90 at the end. **A `--quick` "
        "run**: small sizes, a smoke test of the benchmark; run `make bench` for figures to "
        "quote. Model: format 6, trained on the corpus's train split (51,273 turns in 140 "
        "sessions). Carried over from an earlier run: training (2025-05-30 18:02 UTC, load "
        "2.0 to 4.0)."
    )
    assert table_under(
        lines, "**Throughput** on 20,000 turns, the same texts for every row (load 0.5 to 1.7):"
    ) == [
        "| step | turns/s | ratio to tokenizer |",
        "|---|---|---|",
        "| spacy.blank('en') tokenizer (baseline) | 80,871 | 1.00 |",
        "| tag: encode + features + classifier + context stage | 30,393 | 0.38 |",
        "| rupture tag CSV -> CSV, whole process (end to end) | 25,120 | 0.31 |",
    ]
    growth = "**Growth**: `rupture tag FILE.csv -o OUT.csv` as a whole process (load 1.7 to 1.9):"
    assert table_under(lines, growth) == [
        "| turns | file MiB | seconds | turns/s | peak memory MiB |",
        "|---|---|---|---|---|",
        "| 2,000 | 1.2 | 3.0 | 657 | 433 |",
        "| 10,000 | 6.4 | 4.0 | 2,500 | 512 |",
    ]
    assert lines[lines.index(growth) + 7] == (
        "Targets (issue 12): a whole `rupture tag` process on 20,000 turns runs at 0.31 of the "
        "tokenizer's rate (target: >= 0.6 on 200,000 turns); peak memory at 10,000 turns is "
        "512 MiB (target: < 300 MiB at 200,000 turns and flat to 1M)."
    )
    start = next(i for i, line in enumerate(lines) if line.startswith("**Training time**"))
    assert lines[start].endswith("on a share of the train split's sessions; load 2.0 to 4.0):")
    assert lines[start + 2 :] == [
        "| share | sessions | turns | seconds | turns x | time x |",
        "|---|---|---|---|---|---|",
        "| 0.125 | 18 | 6,302 | 21.4 | 1.00 | 1.00 |",
        "| 1 | 140 | 51,273 | 174.0 | 8.14 | 8.13 |",
        "",
        "<!-- bench:end -->",
    ]
    # sections neither run nor kept have no heading
    assert "**Multi-core**" not in block and "**Dask**" not in block


def test_peak_memory_is_read_at_200k_turns_and_the_largest_size(bench):
    r = results()
    r["growth"] = [
        {"turns": 10000, "file MiB": 6.4, "tag seconds": 3.0, "turns/s": 3333, "peak RSS MiB": 433},
        {
            "turns": 200000,
            "file MiB": 128.0,
            "tag seconds": 9.0,
            "turns/s": 22222,
            "peak RSS MiB": 287,
        },
        {
            "turns": 1000000,
            "file MiB": 640.0,
            "tag seconds": 44.0,
            "turns/s": 22727,
            "peak RSS MiB": 296,
        },
    ]
    del r["throughput"], r["quick"]
    r["ran"], r["runs"] = ["growth"], {}
    block = bench.readme_block(r)
    assert "--quick" not in block and "**Throughput**" not in block
    assert (
        "Targets (issue 12): peak memory at 200,000 turns is 287 MiB, 296 MiB at 1,000,000 "
        "(target: < 300 MiB at 200,000 turns and flat to 1M)."
    ) in block.splitlines()
    # training was kept from a run that recorded no date
    assert "Carried over from an earlier run: training (date not recorded)." in block


def test_a_throughput_table_from_before_the_whole_process_rows_has_no_target_line(bench):
    r = results()
    r["throughput"] = r["throughput"][:2]
    del r["growth"]
    block = bench.readme_block(r)
    assert "| tag: encode + features + classifier + context stage | 30,393 | 0.38 |" in block
    assert "Targets" not in block


def test_a_run_of_some_sections_keeps_the_others_from_bench_json(bench):
    earlier = results()
    earlier["ran"] = ["throughput", "growth", "training"]
    now = {
        "machine": earlier["machine"],
        "date": "2025-06-03 10:00 UTC",
        "quick": False,
        "load": {"start": [0.1, 0.2, 0.3], "end": [0.4, 0.5, 0.6]},
        "model": earlier["model"],
        "ran": ["growth"],
        "runs": {"growth": {"date": "2025-06-03 10:01 UTC", "quick": False, "load": [0.1, 0.4]}},
        "growth": earlier["growth"][:1],
    }
    merged = bench.merge_results(earlier, now)
    assert merged["ran"] == ["growth"] and merged["growth"] == earlier["growth"][:1]
    assert merged["throughput"] == earlier["throughput"]
    assert merged["runs"]["growth"]["date"] == "2025-06-03 10:01 UTC"
    assert merged["runs"]["training"] == earlier["runs"]["training"]
    head = bench.readme_block(merged).splitlines()[2]
    assert "--quick` run" not in head
    assert head.endswith(
        "Carried over from an earlier run: throughput (2025-06-02 09:16 UTC, --quick, load 0.5 "
        "to 1.7); training (2025-05-30 18:02 UTC, load 2.0 to 4.0)."
    )


def test_the_block_replaces_only_what_is_between_the_markers(bench, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "## Performance\n\nProse.\n\n<!-- bench:start -->\nold figures\n<!-- bench:end -->\n\n"
        "## Layout\n",
        encoding="utf-8",
    )
    bench.write_block(readme, "<!-- bench:start -->\n\nnew\n\n<!-- bench:end -->")
    assert readme.read_text(encoding="utf-8") == (
        "## Performance\n\nProse.\n\n<!-- bench:start -->\n\nnew\n\n<!-- bench:end -->\n\n"
        "## Layout\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]  # no temporary file left


@pytest.mark.parametrize(
    "text",
    [
        "## Performance\n\nHand-written figures.\n",
        "<!-- bench:start -->\nonly the start\n",
        "<!-- bench:end -->\nthe end first\n<!-- bench:start -->\n",
    ],
)
def test_write_refuses_a_file_without_the_markers_before_running_anything(bench, tmp_path, text):
    readme = tmp_path / "README.md"
    readme.write_text(text, encoding="utf-8")
    out = tmp_path / "bench-out"
    with pytest.raises(SystemExit) as caught:
        bench.main(["--only", "throughput", "--out", str(out), "--write", str(readme)])
    assert str(caught.value) == (
        f"{readme}: no <!-- bench:start --> ... <!-- bench:end --> block to fill; put those two "
        "lines, once each, where the figures should go"
    )
    assert readme.read_text(encoding="utf-8") == text
    assert not out.exists()  # refused before the benchmark started


def test_quick_figures_are_not_written_into_the_readme(bench, tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("<!-- bench:start -->\n<!-- bench:end -->\n", encoding="utf-8")
    with pytest.raises(SystemExit) as caught:
        bench.main(["--quick", "--out", str(tmp_path / "out"), "--write", str(readme)])
    assert caught.value.code == 2 and "drop --write" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_write_refuses_a_missing_file(bench, tmp_path):
    with pytest.raises(SystemExit) as caught:
        bench.write_block(tmp_path / "README.md", "<!-- bench:start -->\n<!-- bench:end -->")
    assert (
        str(caught.value) == f"{tmp_path / 'README.md'}: cannot read it (No such file or directory)"
    )
