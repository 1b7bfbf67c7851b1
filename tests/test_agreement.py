from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from rupture_nlp.agreement import (
    agreement,
    cohen_kappa,
    gwet_ac1,
    icc_2_1,
    krippendorff_alpha,
    session_frequency_icc,
)
from rupture_nlp.errors import TranscriptError

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C (nominal data,
# any number of observers, missing data): 4 observers (rows) code 12 units (columns) with
# values 1-5; "." (here NaN) is a unit the observer did not code. His alpha is 0.743.
# Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed., uses the same table for AC1 with
# missing ratings: p_a = 0.818, p_e = 0.190, AC1 = 0.775 (the values his R package irrCAC
# reproduces for its data set `cac.raw4raters`).
NAN = np.nan
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]

# Shrout & Fleiss (1979), Table 2: six targets rated by four judges. Their ICC(2,1) is 0.29.
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def units_of(table: list[list[int]], categories: list[str]) -> pd.DataFrame:
    """Two raters' ratings, one row per unit, from a contingency table (rows: rater 1)."""
    rows = [
        (categories[i], categories[j])
        for i, row in enumerate(table)
        for j, n in enumerate(row)
        for _ in range(n)
    ]
    return pd.DataFrame(rows, columns=["first", "second"])


def test_alpha_matches_krippendorffs_worked_example():
    units = pd.DataFrame(KRIPPENDORFF_2011).T  # units by observers
    assert krippendorff_alpha(units, categories=[1, 2, 3, 4, 5]) == pytest.approx(0.743, abs=5e-4)


def test_ac1_matches_gwets_worked_example_with_missing_ratings():
    units = pd.DataFrame(KRIPPENDORFF_2011).T
    assert gwet_ac1(units, categories=[1, 2, 3, 4, 5]) == pytest.approx(0.775, abs=5e-4)


def test_ac1_and_kappa_match_gwets_two_abstractors_table():
    """Gwet (2014), Handbook, 4th ed.: two abstractors classify 100 pregnancies as ectopic,
    abnormal intrauterine (AIU) or normal intrauterine (NIU); AC1 = 0.849, Cohen's kappa 0.796
    (irrCAC's `cont3x3abstractors`)."""
    units = units_of([[13, 0, 0], [0, 20, 7], [0, 4, 56]], ["ectopic", "AIU", "NIU"])
    assert gwet_ac1(units, categories=["ectopic", "AIU", "NIU"]) == pytest.approx(0.849, abs=5e-4)
    assert cohen_kappa(units["first"], units["second"]) == pytest.approx(0.796, abs=5e-4)


def test_kappa_matches_altmans_radiologists():
    """Altman (1991), Practical Statistics for Medical Research, Table 14.2: two radiologists
    classify 85 xeromammograms (Boyd et al. 1982); agreement 0.64, kappa 0.47."""
    categories = ["normal", "benign", "suspected cancer", "cancer"]
    table = [[21, 12, 0, 0], [4, 17, 1, 0], [3, 9, 15, 2], [0, 0, 0, 1]]
    units = units_of(table, categories)
    assert (units["first"] == units["second"]).mean() == pytest.approx(0.64, abs=0.005)
    assert cohen_kappa(units["first"], units["second"]) == pytest.approx(0.47, abs=0.005)


def test_ac1_stays_near_raw_agreement_when_one_label_dominates():
    """Altman (1991), Table 14.4: two tables with the same 80% agreement; kappa is 0.38 when
    80% of cases are '+' and 0.60 when they split evenly. AC1's chance term shrinks as one
    category dominates: (0.8 - 0.32) / 0.68 and (0.8 - 0.5) / 0.5."""
    skewed = units_of([[70, 10], [10, 10]], ["+", "-"])
    even = units_of([[40, 10], [10, 40]], ["+", "-"])
    assert cohen_kappa(skewed["first"], skewed["second"]) == 0.375  # printed as 0.38
    assert cohen_kappa(even["first"], even["second"]) == pytest.approx(0.60, abs=0.005)
    assert gwet_ac1(skewed, ["+", "-"]) == pytest.approx(0.48 / 0.68, abs=1e-4)
    assert gwet_ac1(even, ["+", "-"]) == pytest.approx(0.6, abs=1e-4)


def test_undefined_figures_are_none():
    one_label = pd.DataFrame({"a": ["none"] * 5, "b": ["none"] * 5})
    assert cohen_kappa(one_label["a"], one_label["b"]) is None
    assert krippendorff_alpha(one_label) is None
    assert gwet_ac1(one_label) == 1.0  # AC1 stays defined: perfect agreement
    never_paired = pd.DataFrame({"a": ["none", None], "b": [None, "repair"]})
    assert gwet_ac1(never_paired) is None and krippendorff_alpha(never_paired) is None


def test_icc_matches_the_published_worked_example():
    """Shrout & Fleiss (1979) report ICC(2,1) = .29, ICC(1,1) = .17, ICC(3,1) = .71."""
    assert icc_2_1(pd.DataFrame(SHROUT_FLEISS)) == pytest.approx(0.29, abs=0.005)
    assert icc_2_1(pd.DataFrame([[1, 1], [1, 1], [1, 1]])) is None  # no variation: undefined


def test_session_icc_is_the_icc_of_per_session_rates_per_100_turns():
    """Shrout & Fleiss's four judges as four codings of six 100-turn sessions."""
    rows = []
    for target, ratings in enumerate(SHROUT_FLEISS):
        for i in range(100):
            row = {"session_id": f"s{target}"}
            for judge, rate in enumerate(ratings):
                row[f"judge{judge}"] = "withdrawal" if i < rate else "none"
            rows.append(row)
    df = pd.DataFrame(rows)
    judges = [f"judge{j}" for j in range(4)]
    assert session_frequency_icc(df, *judges)["withdrawal"] == icc_2_1(pd.DataFrame(SHROUT_FLEISS))
    two = df.rename(columns={"judge0": "label", "judge3": "predicted_label"})
    icc = session_frequency_icc(two)  # default: coders against a model
    assert icc["withdrawal"] == icc_2_1(pd.DataFrame(SHROUT_FLEISS)[[0, 3]])
    assert icc["withdrawal"] == pytest.approx(0.6479, abs=1e-4)
    assert icc["confrontation"] is None  # no session has any: undefined, not 1 or 0
    # a coding that left the second half of s0 uncoded is rated over the 50 turns it coded:
    # its 8 withdrawal turns (all in the first half) are 16 per 100, not 8
    two.loc[(two["session_id"] == "s0") & (two.index >= 50), "predicted_label"] = np.nan
    rates = pd.DataFrame(SHROUT_FLEISS)[[0, 3]]
    rates.iloc[0, 1] = 16
    assert session_frequency_icc(two)["withdrawal"] == icc_2_1(rates)


def coder(rows: str) -> pd.DataFrame:
    """A label sheet from 'session turn label [subtype]' lines."""
    records = []
    for line in rows.strip().splitlines():
        session, turn, label, *subtype = line.split()
        records.append(
            {"session_id": session, "turn": int(turn), "label": label, "subtype": "".join(subtype)}
        )
    return pd.DataFrame(records)


# Two sessions coded by three coders. Dana codes everything; Eli leaves intake_07 turns 7-8
# uncoded (blank labels); Fran codes only intake_07.
DANA = coder("""
lee_sam 1 none
lee_sam 2 withdrawal W2
lee_sam 3 none
lee_sam 4 withdrawal W1
lee_sam 5 none
lee_sam 6 none
lee_sam 7 none
lee_sam 8 confrontation C1
lee_sam 9 repair R1
lee_sam 10 none
intake_07 1 none
intake_07 2 none
intake_07 3 confrontation C2
intake_07 4 none
intake_07 5 none
intake_07 6 none
intake_07 7 withdrawal W4
intake_07 8 none
""")
ELI = DANA.copy()
ELI.loc[3, ["label", "subtype"]] = ["none", ""]  # lee_sam 4
ELI.loc[1, "subtype"] = "W5"  # lee_sam 2: same label, other subtype
ELI.loc[8, ["label", "subtype"]] = ["none", ""]  # lee_sam 9: no repair, so 8 is unrepaired
ELI.loc[16:17, ["label", "subtype"]] = ""  # intake_07 7-8 not coded
FRAN = DANA[DANA["session_id"] == "intake_07"].copy()
FRAN.loc[12, ["label", "subtype"]] = ["withdrawal", "W2"]  # intake_07 3


def test_two_coders_every_figure():
    result = agreement({"dana": DANA, "eli": ELI})
    assert result["coders"] == ["dana", "eli"]
    assert (result["n_turns"], result["n_sessions"]) == (16, 2)
    assert result["agreement"] == round(14 / 16, 4)
    # repair against the rest: Dana's one repair is none for Eli, observed = chance = 15/16
    assert result["per_label"]["repair"]["kappa"] == 0.0
    pair = result["pairs"][0]
    assert pair["confusion"]["matrix"] == [[1, 0, 0, 1], [0, 2, 0, 0], [0, 0, 0, 1], [0, 0, 0, 11]]
    assert (
        result["kappa"]
        == pair["kappa"]
        == cohen_kappa(DANA["label"][ELI["label"] != ""], ELI["label"][ELI["label"] != ""])
    )
    assert pair["subtypes"]["withdrawal"] == {"n_turns": 1, "agreement": 0.0, "kappa": 0.0}
    assert pair["subtypes"]["confrontation"]["agreement"] == 1.0
    # On the 16 shared turns, Dana's episodes: lee_sam 2-4 (one episode, gap 2) unrepaired,
    # 8 repaired at 9, intake_07 3 unrepaired (her 7 is not shared: Eli left it blank).
    # Eli's: lee_sam 2 and 8, intake_07 3, all three unrepaired.
    assert pair["episodes"]["unrepaired"] == {
        "first": 2,
        "second": 3,
        "both": 2,
        "only_first": 0,
        "only_second": 1,
    }
    assert pair["episodes"]["all"]["both"] == 3
    assert set(result["session_icc"]) == {"withdrawal", "confrontation", "repair"}
    assert result["session_icc"]["repair"] is None  # two sessions: too few for an ICC


def test_three_coders_with_missing_labels():
    result = agreement({"dana": DANA, "eli": ELI, "fran": FRAN})
    assert result["coded_turns"] == {"dana": 18, "eli": 16, "fran": 8}
    assert result["n_turns"] == 18  # intake_07 7-8: Dana and Fran
    assert [(p["first"], p["second"], p["n_turns"]) for p in result["pairs"]] == [
        ("dana", "eli", 16),
        ("dana", "fran", 8),
        ("eli", "fran", 6),
    ]
    assert result["kappa"] == round(np.mean([p["kappa"] for p in result["pairs"]]), 4)
    assert result["kappa_kind"].startswith("Light")
    wide = pd.concat(
        {
            n: df.set_index(["session_id", "turn"])["label"].replace("", np.nan)
            for n, df in (("dana", DANA), ("eli", ELI), ("fran", FRAN))
        },
        axis=1,
    )
    assert result["alpha"] == krippendorff_alpha(wide)
    assert result["ac1"] == gwet_ac1(wide)
    assert result["icc_sessions"] == 1  # only intake_07 has turns from all three


def test_a_sequence_of_tables_gets_numbered_names():
    assert agreement([DANA, ELI])["coders"] == ["coder 1", "coder 2"]


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            DANA.assign(label=DANA["label"].replace("repair", "rapport")),
            "unknown label(s) 'rapport'",
        ),
        (pd.concat([DANA, DANA.iloc[[4]]]), "turn 5 of session 'lee_sam' is labelled 2 times"),
        (DANA.drop(columns="turn"), "no turn column"),
        (DANA.assign(turn="three"), "turn 'three' is not an integer"),
    ],
)
def test_bad_coder_tables_are_refused(bad, message):
    with pytest.raises(TranscriptError, match="^eli: " + re.escape(message)):
        agreement({"dana": DANA, "eli": bad})


def test_no_shared_turns_and_one_coder_are_refused():
    with pytest.raises(TranscriptError, match="share no labelled turns"):
        agreement({"dana": DANA[DANA["session_id"] == "lee_sam"], "fran": FRAN})
    with pytest.raises(TranscriptError, match="at least two coders"):
        agreement({"dana": DANA})


def test_episodes_are_paired_one_to_one():
    """Ana's one episode (turns 2-6, markers two turns apart) overlaps both of Ben's (2 and 6):
    one is found by both, the other by Ben only."""
    turns = range(1, 11)
    ana = pd.DataFrame({"session_id": "s", "turn": turns, "label": "none"}).assign(
        label=lambda d: d["label"].mask(d["turn"].isin([2, 4, 6]), "withdrawal")
    )
    ben = ana.assign(label=ana["label"].mask(ana["turn"] == 4, "none"))
    episodes = agreement({"ana": ana, "ben": ben})["pairs"][0]["episodes"]
    assert episodes["unrepaired"] == {
        "first": 1,
        "second": 2,
        "both": 1,
        "only_first": 0,
        "only_second": 1,
    }
