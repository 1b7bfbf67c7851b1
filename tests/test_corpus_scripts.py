"""scripts/check_sessions.py and scripts/blind_pass.py: the writers' check and the blind pass."""

import json

import pytest

HEADER = (
    "# modality: CBT\n# setting: clinic\n# english: UK\n# client: 30, low mood\n"
    "# summary: one W2, repaired\n# density: natural\n"
)
SESSION = HEADER + (
    "therapist|none||So, um, how was the-the week?\n"
    "client|none||Yeah. Okay.\n"
    "therapist|none||What came up for you when we talked about your dad last time?\n"
    "client|withdrawal|W2|Nothing much.\n"
    "therapist|repair|R1|That was a lot to bring, and I went straight to it. Um, we can go slower.\n"
    "client|none||Yeah, I-I'd like that, you know.\n"
)


@pytest.fixture()
def check(load_script):
    return load_script("scripts/check_sessions.py")


@pytest.fixture()
def blind(load_script):
    return load_script("scripts/blind_pass.py")


@pytest.fixture()
def raw(tmp_path):
    for writer in ("xa", "xb"):
        (tmp_path / "raw" / writer).mkdir(parents=True)
        for k in range(1, 4):
            (tmp_path / "raw" / writer / f"{writer}0{k}.txt").write_text(SESSION)
    return tmp_path / "raw"


def test_check_counts_markers_and_texture_per_speaker(check, raw):
    t, problems = check.check(check.files_of([str(raw / "xa")]))
    assert problems == []
    fig = check.figures(t)
    assert fig["turns"] == 18 and fig["markers"] == 6
    assert fig["client markers %"] == pytest.approx(100 / 3, abs=0.1)
    assert fig["therapist filler %"] == pytest.approx(200 / 3, abs=0.1)  # "um" in two of three
    assert fig["client false_start %"] == pytest.approx(100 / 3, abs=0.1)  # "I-I'd"
    assert fig["client short %"] == pytest.approx(200 / 3, abs=0.1)


def test_check_refuses_bad_codes_and_kept_out_phrases(check, tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text(
        HEADER.replace("# english: UK\n", "")
        + "client|withdrawal|R2|Whatever you think.\n"
        + "therapist|repair|R2|Can I stop us there for a second?\n"
        + "client|maybe||Hm.\n"
    )
    assert check.main([str(bad), "--strict"]) == 1
    out = capsys.readouterr().out
    assert "'# english:' missing" in out
    # what every reader refuses, with the file line (check_frame, as for any transcript)
    assert f"{bad}:6: subtype R2 belongs to repair, not to label 'withdrawal'" in out
    assert f"{bad}:8: unknown label 'maybe'" in out
    assert f"{bad}:6: a withdrawal turn holds a kept-out phrase" in out
    assert f"{bad}:7: a repair turn holds a kept-out phrase or shared frame" in out
    # without --strict the figures are printed and the exit is 0
    assert check.main([str(bad)]) == 0


@pytest.mark.parametrize(
    ("text", "filler", "false_start", "you_know"),
    [
        ("I-I'd like that", False, True, False),
        ("it's, it's hard, you know", False, True, True),
        ("Um, the the bus", True, True, False),
        ("we went to the ER, um, twice", True, False, False),
        ("Uh-huh.", False, False, False),
        ("re-read the well-known bye-bye leaflet", False, False, False),
        ("I thought that that worked. Do you know why?", False, False, False),
        ("the theory, erm, holds", True, False, False),
    ],
)
def test_texture_patterns_count_speech_not_spelling(check, text, filler, false_start, you_know):
    assert bool(check.FILLER.search(text)) is filler
    assert check.false_start(text) is false_start
    assert bool(check.YOU_KNOW.search(text)) is you_know


def test_check_reports_the_file_and_line_of_a_broken_line(check, tmp_path):
    bad = tmp_path / "broken.txt"
    bad.write_text(HEADER + "therapist|none|Hello there\n")
    _, problems = check.check([bad])
    assert problems == [f"{bad}:7: expected SPEAKER|LABEL|SUBTYPE|TEXT"]


def test_packet_draws_per_writer_by_seed_and_hides_labels(blind, raw, tmp_path):
    out = tmp_path / "packet"
    paths = blind.draw(raw, 2, seed=3, also=["xa03"])
    drawn = blind.draw(raw, 2, seed=3)
    assert [p.parent.name for p in drawn] == ["xa", "xa", "xb", "xb"]  # two of each writer
    # each writer's draw is its own: drawing one writer alone gives the same sessions
    alone = tmp_path / "alone"
    (alone / "xb").mkdir(parents=True)
    for p in (raw / "xb").glob("*.txt"):
        (alone / "xb" / p.name).write_text(p.read_text())
    assert [p.stem for p in blind.draw(alone, 2, seed=3)] == [p.stem for p in drawn[2:]]
    assert {p.stem for p in paths} == {p.stem for p in drawn} | {"xa03"}
    with pytest.raises(SystemExit, match="no session xa09"):
        blind.draw(raw, 2, seed=3, also=["xa09"])
    blind.write_packet(paths, out, {"seed": 3})
    text = (out / f"{paths[0].stem}.txt").read_text()
    assert text.splitlines()[3] == "4|client|Nothing much."
    assert "withdrawal" not in text and "W2" not in text
    selection = json.loads((out / "selection.json").read_text())
    assert selection["seed"] == 3 and selection["sessions"] == [p.stem for p in paths]
    with pytest.raises(SystemExit, match="not empty"):
        blind.write_packet(paths, out, {"seed": 3})
    before = (raw / "xa" / "xa01.txt").read_text()
    with pytest.raises(SystemExit, match="inside"):
        blind.write_packet(paths, raw / "xa", {"seed": 3}, raw)
    assert (raw / "xa" / "xa01.txt").read_text() == before


def test_disputes_pair_the_coders_and_hide_whose_label_is_whose(blind, raw, tmp_path, capsys):
    second = tmp_path / "second"
    second.mkdir()
    (second / "xb01.txt").write_text(
        "1|none||\n2|none||\n3|none||\n4|none||\n5|repair|R1|\n6|none||\n"
    )
    out = tmp_path / "disputes.md"
    assert blind.main(["disputes", str(raw), str(second), str(out)]) == 0
    text = out.read_text()
    assert text.count("## xb01") == 1 and "## xb01 turn 4" in text
    assert ">> 4 client: Nothing much." in text and "   1 therapist:" in text
    assert " 6 client:" not in text  # three turns before, one after
    assert "withdrawal W2" in text and "= none" in text
    assert "1 sessions, 6 turns, kappa 0.600, 1 disputes" in capsys.readouterr().out


def test_disputes_refuse_a_mistyped_label_before_writing(blind, raw, tmp_path):
    second = tmp_path / "second"
    second.mkdir()
    (second / "xb01.txt").write_text("1|none||\n2|none||\n3|none||\n4|withdrawl|W2|\n")
    out = tmp_path / "disputes.md"
    with pytest.raises(SystemExit, match="label 'withdrawl'"):
        blind.main(["disputes", str(raw), str(second), str(out)])
    assert not out.exists()


def test_disputes_with_no_marker_from_either_coder_print_no_kappa(blind, tmp_path, capsys):
    raw = tmp_path / "raw" / "xc"
    raw.mkdir(parents=True)
    (raw / "xc01.txt").write_text(HEADER + "therapist|none||Hello.\nclient|none||Hi.\n")
    second = tmp_path / "second"
    second.mkdir()
    (second / "xc01.txt").write_text("1|none||\n2|none||\n")
    out = tmp_path / "disputes.md"
    assert blind.main(["disputes", str(raw.parent), str(second), str(out)]) == 0
    assert "1 sessions, 2 turns, kappa -, 0 disputes" in capsys.readouterr().out
    assert out.read_text() == ""
