"""scripts/import_agreement.py: a blind pass and its adjudication change the corpus and are kept."""

import json

import pandas as pd
import pytest


@pytest.fixture()
def script(load_script):
    return load_script("scripts/import_agreement.py")


CORPUS = [
    ("s1", 1, "therapist", "What came up for you when I said that?", "none", ""),
    ("s1", 2, "client", "Nothing. Fine.", "withdrawal", "W2"),
    ("s1", 3, "therapist", "I pushed, I think. Can we slow down?", "repair", "R3"),
    ("s2", 1, "therapist", "Any questions before we finish?", "none", ""),
    ("s2", 2, "client", "Nah.", "withdrawal", "W2"),
    ("s2", 3, "therapist", "Same time next week, then.", "none", ""),
]


@pytest.fixture()
def data(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    cols = ["session_id", "turn", "speaker", "text", "label", "subtype"]
    pd.DataFrame(CORPUS, columns=cols).to_csv(folder / "corpus.csv", index=False)
    return folder


def _labels(folder):
    df = pd.read_csv(folder / "corpus.csv", dtype=str, keep_default_na=False)
    keys = zip(df.session_id, df.turn.astype(int), strict=True)
    return dict(zip(keys, df.label, strict=True))


def test_turn_level_pass_settles_only_the_adjudicated_turns(tmp_path, data, script):
    second = tmp_path / "review.txt"
    second.write_text("s2|2|none||closed question\ns1|2|withdrawal|W2|minimal after strain\n")
    adj = tmp_path / "adj.txt"
    adj.write_text("s2|2|none||answers a closed check\n")
    script.main([str(second), str(adj), "--data", str(data), "--name", "review_pass"])
    labels = _labels(data)
    assert labels[("s2", 2)] == "none"
    assert labels[("s1", 2)] == "withdrawal"
    assert labels[("s1", 3)] == "repair"
    records = json.loads((data / "agreement" / "review_pass.json").read_text())
    by_turn = {(r["session_id"], r["turn"]): r for r in records}
    assert set(by_turn) == {("s2", 2), ("s1", 2)}
    assert by_turn[("s2", 2)]["first_label"] == "withdrawal"
    assert by_turn[("s2", 2)]["adjudicated_label"] == "none"
    assert by_turn[("s2", 2)]["adjudication_note"] == "answers a closed check"
    assert by_turn[("s1", 2)]["adjudicated_subtype"] == "W2"


def test_adding_a_turn_already_in_the_pass_is_refused(tmp_path, data, script):
    second = tmp_path / "review.txt"
    second.write_text("s1|2|withdrawal|W2|\n")
    adj = tmp_path / "adj.txt"
    adj.write_text("")
    script.main([str(second), str(adj), "--data", str(data), "--name", "review_pass"])
    with pytest.raises(SystemExit, match="s1 turn 2"):
        script.main([str(second), str(adj), "--data", str(data), "--name", "review_pass", "--add"])


@pytest.mark.parametrize(
    ("line", "message"),
    [("s2|2|withdrawl|W2|", "label 'withdrawl'"), ("s2|2|withdrawal|C2|", "subtype 'C2'")],
)
def test_unknown_codes_are_refused_before_the_corpus_is_written(
    tmp_path, data, script, line, message
):
    before = (data / "corpus.csv").read_bytes()
    second = tmp_path / "review.txt"
    second.write_text(line + "\n")
    adj = tmp_path / "adj.txt"
    adj.write_text("")
    with pytest.raises(SystemExit, match=message):
        script.main([str(second), str(adj), "--data", str(data), "--name", "review_pass"])
    assert (data / "corpus.csv").read_bytes() == before


def test_a_disagreement_without_adjudication_is_refused(tmp_path, data, script):
    second = tmp_path / "review.txt"
    second.write_text("s2|2|none||\n")
    adj = tmp_path / "adj.txt"
    adj.write_text("")
    with pytest.raises(SystemExit, match="exactly the turns"):
        script.main([str(second), str(adj), "--data", str(data), "--name", "review_pass"])
    assert _labels(data)[("s2", 2)] == "withdrawal"


def test_a_batch_is_recorded_for_the_data_card_and_not_twice(tmp_path, data, script, load_script):
    second = tmp_path / "second"
    second.mkdir()
    (second / "s1.txt").write_text("1|none||\n2|withdrawal|W2|\n3|repair|R3|\n")
    adj = tmp_path / "adj.txt"
    adj.write_text("")
    drawn = "one session of each writer, drawn at random"
    args = [str(second), str(adj), "--data", str(data), "--name", "natural_pass"]
    script.main([*args, "--batch", "xa-xb", "--drawn", drawn])
    card = load_script("scripts/data_card.py")
    assert card.batches(data) == ("xa-xb",)
    spec = card.passes(data)["natural_pass"]
    assert card.covered(spec) == f"sessions ({drawn}: writers xa-xb)"
    (second / "s1.txt").unlink()
    (second / "s2.txt").write_text("1|none||\n2|withdrawal|W2|\n3|none||\n")
    before = (data / "corpus.csv").read_bytes()
    with pytest.raises(SystemExit, match="batch xa-xb is already in natural_pass"):
        script.main([*args, "--add", "--batch", "xa-xb", "--drawn", drawn])
    assert (data / "corpus.csv").read_bytes() == before


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ("dp", "give the first and last writer"),
        ("dw-dp", "give the first and last writer"),
        ("xb-xc", "overlaps xa-xb"),
        ("xc-xd", "sessions not written by its writers: s1"),
    ],
)
def test_a_malformed_or_misplaced_batch_is_refused_before_anything_is_written(
    tmp_path, data, script, batch, message
):
    (data / "sessions.json").write_text(
        json.dumps([{"session_id": "s1", "writer": "xa"}, {"session_id": "s2", "writer": "xb"}])
    )
    (data / "agreement").mkdir()
    passes = {"natural_pass": {"covers": "sessions", "batches": {"xa-xb": "one each"}}}
    (data / "agreement" / "passes.json").write_text(json.dumps(passes))
    second = tmp_path / "second"
    second.mkdir()
    (second / "s1.txt").write_text("1|none||\n2|withdrawal|W2|\n3|repair|R3|\n")
    adj = tmp_path / "adj.txt"
    adj.write_text("")
    before = (data / "corpus.csv").read_bytes()
    args = [str(second), str(adj), "--data", str(data), "--name", "natural_pass"]
    with pytest.raises(SystemExit, match=message):
        script.main([*args, "--batch", batch, "--drawn", "one each"])
    assert (data / "corpus.csv").read_bytes() == before
    assert json.loads((data / "agreement" / "passes.json").read_text()) == passes
    assert not (data / "agreement" / "natural_pass.json").exists()
