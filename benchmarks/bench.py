"""rupture-nlp benchmarks: throughput, growth, training time and multi-core (make bench).

Every speed is printed next to a baseline measured in the same run on the same texts: the bare
``spacy.blank("en")`` tokenizer, the floor any spaCy-based tagger pays. Absolute figures move
with the machine and its load; the ratios are what to compare between versions. No test asserts
a time.

Inputs are built from the corpus: its turns are resampled into new sessions (whole sessions,
with new ids) up to the size asked for, so texts, lengths and speaker patterns stay real.

Figures go to stdout, to ``--out``/bench.json and, with ``--write README.md``, into the README
between ``<!-- bench:start -->`` and ``<!-- bench:end -->`` (tables made by :func:`readme_block`
from what bench.json holds after the run).

Usage: python benchmarks/bench.py [--quick] [--out bench-out/] [--turns N] [--only dask ...]
       [--write README.md]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from rupture_nlp.corpus import load_corpus
from rupture_nlp.model import predict
from rupture_nlp.modelio import data_hash
from rupture_nlp.preprocess import TurnEncoder, build_nlp
from rupture_nlp.readers import DEFAULT_CHUNK_TURNS
from rupture_nlp.training import train_and_save
from rupture_nlp.writers import fill_marked_block, markdown_table, marked_block, write_table

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("throughput", "growth", "multicore", "dask", "training")
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import sklearn
    import spacy

    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB; Python {platform.python_version()}, "
        f"spaCy {spacy.__version__}, scikit-learn {sklearn.__version__}"
    )


def resample(corpus: pd.DataFrame, n_turns: int, seed: int = 0) -> pd.DataFrame:
    """Whole corpus sessions, renamed, until ``n_turns`` turns: every session in a random order,
    then every session again in another, and so on. A session's copies are a corpus apart, so a
    chunk of a tag run never holds two copies of one session: tokenising each distinct text once
    (as the encoder does) gains only from what real sessions repeat, not from the resampling."""
    rng = np.random.default_rng(seed)
    groups = [g for _, g in corpus.groupby("session_id", sort=False)]
    out, total, k = [], 0, 0
    while total < n_turns:
        for i in rng.permutation(len(groups)):
            g = groups[i].copy()
            g["session_id"] = f"{g['session_id'].iloc[0]}-r{k}"
            out.append(g)
            total += len(g)
            k += 1
            if total >= n_turns:
                break
    return pd.concat(out, ignore_index=True).head(n_turns)


def turns_file(corpus: pd.DataFrame, n: int, work: Path) -> Path:
    """A CSV of ``n`` resampled turns, written once and reused by the sections that tag files;
    named by the corpus's hash, so a changed corpus gets new files."""
    src = work / f"turns-{n}-{data_hash(corpus)[:12]}.csv"
    if not src.exists():
        write_table(resample(corpus, n, seed=n), src)
    return src


def rate(fn, n: int, repeat: int = 1) -> float:
    """Best-of-``repeat`` items per second."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return n / best


def throughput(corpus, model, n: int, model_path: Path, work: Path) -> list[dict]:
    """Rows per step over the same ``n`` texts; the last rows are whole ``rupture tag``
    processes on the CSV of those turns (start-up, model load, reading, checks and writing
    included), against the tokenizer's rate measured in this run."""
    df = resample(corpus, n, seed=n)  # the turns of turns_file(corpus, n, work)
    src = turns_file(corpus, n, work)
    texts = df["text"].tolist()
    import spacy

    nlp = spacy.blank("en")
    full = build_nlp()
    encoder = TurnEncoder().fit(df)
    # in the pieces rupture tag reads, not all at once: see resample
    chunks = [df.iloc[i : i + DEFAULT_CHUNK_TURNS] for i in range(0, len(df), DEFAULT_CHUNK_TURNS)]
    encoder.transform(df.head(1000))  # build the pipeline and warm the lemma cache once
    predict(model, df.head(1000))
    rows = []
    base = rate(lambda: [None for _ in nlp.pipe(texts, batch_size=1000)], n, repeat=2)
    rows.append(("spacy.blank('en') tokenizer (baseline)", base))
    rows.append(
        (
            "spaCy pipeline with sentencizer + lemmatizer components",
            rate(lambda: [None for _ in full.pipe(texts, batch_size=1000)], n),
        )
    )
    rows.append(
        (
            "preprocessing: TurnEncoder (tokens, lemmas, cues)",
            rate(lambda: [encoder.transform(part) for part in chunks], n, repeat=2),
        )
    )
    rows.append(
        (
            "tag: encode + features + classifier + context stage",
            rate(lambda: predict(model, df), n, repeat=2),
        )
    )
    runs = [run_tag_timed(src, model_path, work / "tagged.csv") for _ in range(2)]
    (work / "tagged.csv").unlink(missing_ok=True)
    wall = min(w for w, _, _ in runs)
    inside = min(i for _, _, i in runs)
    rows.append(("rupture tag CSV -> CSV, whole process (end to end)", n / wall))
    rows.append(("rupture tag, the command's own time (after start-up)", n / inside))
    out = [
        {"step": name, "turns/s": int(r), "ratio to tokenizer": round(r / base, 2)}
        for name, r in rows
    ]
    out[-2]["peak RSS MiB"] = int(min(m for _, m, _ in runs))
    return out


_TAG = """
import atexit, sys
from rupture_nlp.entry import main

def peak():
    # VmHWM is this process's own high-water mark; ru_maxrss would include the parent's
    # memory copied at fork, which survives exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("VMHWM " + line.split()[1] + "\\n")

atexit.register(peak)
main(sys.argv[1:])
"""


def run_tag(path: Path, model_path: Path, out: Path, *extra: str) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of one ``rupture tag`` process."""
    wall, peak, _ = run_tag_timed(path, model_path, out, *extra)
    return wall, peak


def run_tag_timed(path: Path, model_path: Path, out: Path, *extra: str):
    """:func:`run_tag`, and the command's own seconds (what it prints: without interpreter
    start-up and the CLI's imports)."""
    cmd = [
        sys.executable,
        "-c",
        _TAG,
        "tag",
        str(path),
        "--model",
        str(model_path),
        "-o",
        str(out),
        *extra,
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    peak = [line.split()[1] for line in done.stderr.splitlines() if line.startswith("VMHWM ")]
    if done.returncode != 0 or not peak:
        raise RuntimeError(done.stderr)
    said = re.findall(r"^tagged \d+ turns -> .* in ([\d.]+) s$", done.stderr, re.M)
    return wall, int(peak[-1]) / 1024, float(said[-1]) if said else wall


def growth(corpus, model_path: Path, sizes, work: Path) -> list[dict]:
    rows = []
    for n in sizes:
        src = turns_file(corpus, n, work)
        wall, rss = run_tag(src, model_path, work / "tagged.csv")
        rows.append(
            {
                "turns": n,
                "file MiB": round(src.stat().st_size / 2**20, 1),
                "tag seconds": round(wall, 1),
                "turns/s": int(n / wall),
                "peak RSS MiB": int(rss),
            }
        )
        (work / "tagged.csv").unlink(missing_ok=True)
    return rows


def training(corpus, work: Path, fractions, n_jobs: int = 2) -> list[dict]:
    """What ``make model`` does (grouped cross-validation with the model's own folds and the
    final model, ``n_jobs`` workers) on a share of the train split's sessions, drawn at random, for each share; times
    and sizes as ratios to the smallest, to read how training grows."""
    train_df = corpus[corpus["split"] == "train"]
    order = np.random.default_rng(0).permutation(train_df["session_id"].unique())
    runs = []
    for share in fractions:
        df = train_df[train_df["session_id"].isin(order[: max(2, round(share * len(order)))])]
        gc.collect()
        start = time.perf_counter()
        train_and_save(df, work / "bench-train.joblib", n_jobs=n_jobs)
        runs.append((share, df, time.perf_counter() - start))
    _, smallest, first = runs[0]
    rows = [
        {
            "share of train sessions": f"{share:g}",
            "sessions": df["session_id"].nunique(),
            "turns": len(df),
            "seconds": round(wall, 1),
            "turns x": round(len(df) / len(smallest), 2),
            "time x": round(wall / first, 2),
        }
        for share, df, wall in runs
    ]
    for suffix in (".joblib", ".json"):
        (work / "bench-train").with_suffix(suffix).unlink(missing_ok=True)
    return rows


def multicore(corpus, n: int, model_path: Path, work: Path, n_tag: int) -> list[dict]:
    """spaCy's n_process for preprocessing, and joblib workers (--jobs) for whole tag runs."""
    df = resample(corpus, n)
    rows = []
    one = None
    for procs in (1, 2):
        enc = TurnEncoder(n_process=procs).fit(df)
        r = rate(lambda enc=enc: enc.transform(df), n)
        one = one or r
        rows.append(
            {
                "what": f"preprocessing, n_process={procs}",
                "turns": n,
                "turns/s": int(r),
                "speed-up": round(r / one, 2),
            }
        )
    src = turns_file(corpus, n_tag, work)
    one = None
    for jobs in (1, 2):
        wall, _ = run_tag(src, model_path, work / "tagged.csv", "--jobs", str(jobs))
        r = n_tag / wall
        one = one or r
        rows.append(
            {
                "what": f"rupture tag --jobs {jobs}",
                "turns": n_tag,
                "turns/s": int(r),
                "speed-up": round(r / one, 2),
            }
        )
    (work / "tagged.csv").unlink(missing_ok=True)
    return rows


def dask_engine(corpus, n: int, model_path: Path, work: Path) -> list[dict]:
    """``rupture tag --engine dask`` on a LocalCluster of two workers against the single process,
    on the same file in the same run (the cluster's start-up is inside its time)."""
    src = turns_file(corpus, n, work)
    runs = (
        ("rupture tag (single process)", "tagged.parquet", ()),
        ("rupture tag --jobs 2", "tagged.parquet", ("--jobs", "2")),
        (
            "rupture tag --engine dask (LocalCluster, 2 workers)",
            "tagged-dask",
            ("--engine", "dask", "--jobs", "2"),
        ),
    )
    rows, one = [], None
    for name, out, extra in runs:
        wall, _ = run_tag(src, model_path, work / out, *extra)
        one = one or wall
        rows.append(
            {
                "what": name,
                "turns": n,
                "seconds": round(wall, 1),
                "turns/s": int(n / wall),
                "ratio to single process": round(one / wall, 2),
            }
        )
    single, dask_out = (
        pd.read_parquet(work / "tagged.parquet"),
        pd.read_parquet(work / "tagged-dask"),
    )
    key = ["session_id", "turn"]
    pd.testing.assert_frame_equal(
        dask_out.sort_values(key).reset_index(drop=True),
        single.sort_values(key).reset_index(drop=True),
    )
    (work / "tagged.parquet").unlink()
    import shutil

    shutil.rmtree(work / "tagged-dask")
    return rows


def show(title: str, rows: list[dict]) -> None:
    print(f"\n## {title}\n")
    print(pd.DataFrame(rows).to_string(index=False))
    sys.stdout.flush()


def _cell(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def md_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """A markdown table of ``rows``: one column per ``(header, key, format spec)``."""
    cells = ([_cell(r.get(key), spec) for _, key, spec in columns] for r in rows)
    return markdown_table([h for h, _, _ in columns], cells)


# Per section of the README block: its heading (before the load and the colon) and its table's
# columns, as (header, key in the section's rows, format spec).
TABLES = {
    "throughput": (
        "**Throughput**{on}, the same texts for every row",
        [
            ("step", "step", ""),
            ("turns/s", "turns/s", ","),
            ("ratio to tokenizer", "ratio to tokenizer", ".2f"),
        ],
    ),
    "growth": (
        "**Growth**: `rupture tag FILE.csv -o OUT.csv` as a whole process",
        [
            ("turns", "turns", ","),
            ("file MiB", "file MiB", ".1f"),
            ("seconds", "tag seconds", ".1f"),
            ("turns/s", "turns/s", ","),
            ("peak memory MiB", "peak RSS MiB", ","),
        ],
    ),
    "multicore": (
        "**Multi-core**: spaCy's `n_process` for preprocessing, `--jobs` for whole tag runs",
        [
            ("what", "what", ""),
            ("turns", "turns", ","),
            ("turns/s", "turns/s", ","),
            ("speed-up", "speed-up", ".2f"),
        ],
    ),
    "dask": (
        "**Dask**: `rupture tag --engine dask` on a two-worker LocalCluster against the single "
        "process, the same file (cluster start-up included; the rows are checked equal)",
        [
            ("what", "what", ""),
            ("turns", "turns", ","),
            ("seconds", "seconds", ".1f"),
            ("turns/s", "turns/s", ","),
            ("ratio to single process", "ratio to single process", ".2f"),
        ],
    ),
    "training": (
        "**Training time** against corpus size (what `make model` does: 3-fold grouped "
        "cross-validation and the final fit, 2 workers, on a share of the train split's sessions)",
        [
            ("share", "share of train sessions", ""),
            ("sessions", "sessions", ","),
            ("turns", "turns", ","),
            ("seconds", "seconds", ".1f"),
            ("turns x", "turns x", ".2f"),
            ("time x", "time x", ".2f"),
        ],
    ),
}


def _load(triple) -> str:
    return "/".join(f"{x:.2f}" for x in triple)


def _during(run: dict) -> str:
    load = run.get("load")
    return f"load {load[0]:.1f} to {load[1]:.1f}" if load else ""


def _when(run: dict) -> str:
    return ", ".join(
        x
        for x in (
            run.get("date", "date not recorded"),
            run.get("quick") and "--quick",
            _during(run),
        )
        if x
    )


def _targets(results: dict, runs: dict) -> str | None:
    """Issue 12's single-machine targets against what this block measured."""
    said = []
    rows = results.get("throughput", [])
    end_to_end = next((r for r in rows if r["step"].endswith("(end to end)")), None)
    if end_to_end:  # a bench.json from before the whole-process rows has none
        n = runs.get("throughput", {}).get("turns")
        on = f" on {n:,} turns" if n else ""
        said.append(
            f"a whole `rupture tag` process{on} runs at {end_to_end['ratio to tokenizer']:.2f} "
            "of the tokenizer's rate (target: >= 0.6 on 200,000 turns)"
        )
    if "growth" in results:
        rows = results["growth"]
        at = next((r for r in rows if r["turns"] == 200_000), rows[-1])
        said.append(
            f"peak memory at {at['turns']:,} turns is {at['peak RSS MiB']:,} MiB"
            + (
                f", {rows[-1]['peak RSS MiB']:,} MiB at {rows[-1]['turns']:,}"
                if rows[-1] is not at
                else ""
            )
            + " (target: < 300 MiB at 200,000 turns and flat to 1M)"
        )
    return "Targets (issue 12): " + "; ".join(said) + "." if said else None


def readme_block(results: dict) -> str:
    """The README's figures (between the bench markers) from :func:`main`'s results.

    Only the sections ``results`` holds appear; those measured by an earlier run than this one
    (kept in bench.json by ``--only``) are named with their date, so figures from different
    runs are never mistaken for one measurement. Each table's heading gives the 1-minute load
    average before and after its section ran: the machine may be shared.
    """
    runs = results.get("runs", {})
    present = [name for name in SECTIONS if name in results]
    load = results["load"]
    head = [
        f"Measured by `make bench` on {results['date']}: {results['machine']}. Load average "
        f"(1/5/15 min) {_load(load['start'])} at the start of the run, {_load(load['end'])} "
        "at the end."
    ]
    if results.get("quick"):
        head.append(
            "**A `--quick` run**: small sizes, a smoke test of the benchmark; run `make bench` "
            "for figures to quote."
        )
    model = results["model"]
    head.append(
        f"Model: format {model['format_version']}, trained on the corpus's train split "
        f"({model['n_turns']:,} turns in {model['n_sessions']:,} sessions)."
    )
    earlier = [name for name in present if name not in results.get("ran", present)]
    if earlier:
        head.append(
            "Carried over from an earlier run: "
            + "; ".join(f"{name} ({_when(runs.get(name, {}))})" for name in earlier)
            + "."
        )
    parts = [" ".join(head)]
    targets = _targets(results, runs)
    for name in present:
        heading, columns = TABLES[name]
        n = runs.get(name, {}).get("turns")
        heading = heading.format(on=f" on {n:,} turns" if n else "")
        during = _during(runs.get(name, {}))
        if during:  # inside the heading's own brackets when it ends with some
            heading = (
                f"{heading[:-1]}; {during})" if heading[-1] == ")" else f"{heading} ({during})"
            )
        parts.append(f"{heading}:\n\n" + md_table(results[name], columns))
        if name == ("growth" if "growth" in results else "throughput") and targets:
            parts.append(targets)
    return f"{START}\n\n" + "\n\n".join(parts) + f"\n\n{END}"


def block_bounds(path: Path) -> tuple[str, int, int]:
    """The text of ``path`` and where its bench block starts and ends; refuses (SystemExit, the
    file untouched) when the markers are not there once each and in order."""
    try:
        return marked_block(path, START, END)
    except ValueError as e:
        raise SystemExit(str(e)) from None


def write_block(path: Path, block: str) -> None:
    """Replace the bench block of ``path`` with ``block`` (temp file, then rename)."""
    try:
        fill_marked_block(path, START, END, block)
    except ValueError as e:
        raise SystemExit(str(e)) from None


def merge_results(earlier: dict, results: dict) -> dict:
    """This run's ``results`` over the ``earlier`` bench.json: sections not run this time keep
    their figures and the record of the run that measured them."""
    return {**earlier, **results, "runs": {**earlier.get("runs", {}), **results["runs"]}}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out")
    ap.add_argument(
        "--turns",
        type=int,
        default=None,
        help="turns for the Dask row (default 1,000,000; 20,000 with --quick)",
    )
    ap.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        default=list(SECTIONS),
        help="run only these sections",
    )
    ap.add_argument(
        "--write",
        type=Path,
        metavar="PATH",
        help="fill the <!-- bench:start --> ... <!-- bench:end --> block of PATH (the README)",
    )
    args = ap.parse_args(argv)
    if args.write and args.quick:
        ap.error("--quick figures are a smoke test, not for the README: drop --write (or --quick)")
    if args.write:
        block_bounds(args.write)  # refuse before the run, not after an hour of it
    load_start = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    corpus = load_corpus(ROOT / "data")
    results = {"machine": machine(), "date": _now(), "quick": args.quick, "ran": [], "runs": {}}
    print(f"# rupture-nlp benchmark\n\n{results['machine']}")
    model_path = args.out / "bench-model.joblib"
    meta = train_and_save(corpus[corpus["split"] == "train"], model_path, cv=0)
    results["model"] = {k: meta[k] for k in ("format_version", "n_turns", "n_sessions")}
    from rupture_nlp.modelio import load_model

    model = load_model(model_path)
    n = 20_000 if args.quick else 200_000

    def section(name: str, title: str, run, **extra) -> None:
        before = os.getloadavg()[0]
        results[name] = run()
        results["ran"].append(name)
        results["runs"][name] = {
            "date": _now(),
            "quick": args.quick,
            "load": [before, os.getloadavg()[0]],
            **extra,
        }
        show(title, results[name])

    if "throughput" in args.only:
        section(
            "throughput",
            f"Throughput on {n:,} turns (same texts for every row)",
            lambda: throughput(corpus, model, n, model_path, args.out),
            turns=n,
        )
    if "growth" in args.only:
        sizes = (2_000, 10_000) if args.quick else (10_000, 200_000, 1_000_000)
        section(
            "growth",
            "rupture tag as a process: time and peak memory as the input grows",
            lambda: growth(corpus, model_path, sizes, args.out),
        )
    if "multicore" in args.only:
        section(
            "multicore",
            "Multi-core: spaCy n_process, and joblib workers for tag",
            lambda: multicore(
                corpus,
                5_000 if args.quick else 50_000,
                model_path,
                args.out,
                20_000 if args.quick else 1_000_000,
            ),
        )
    if "dask" in args.only:
        n_dask = args.turns or (20_000 if args.quick else 1_000_000)
        section(
            "dask",
            f"Dask engine on {n_dask:,} turns (same file, same rows)",
            lambda: dask_engine(corpus, n_dask, model_path, args.out),
        )
    if "training" in args.only:
        shares = (0.125, 0.25) if args.quick else (0.125, 0.25, 0.5, 1)
        section(
            "training",
            "Training time against corpus size (make model: 3-fold CV + final model, 2 workers)",
            lambda: training(corpus, args.out, shares),
        )
    results["load"] = {"start": list(load_start), "end": list(os.getloadavg())}
    path = args.out / "bench.json"
    if path.exists():  # --only updates its sections and keeps the others' last figures
        results = merge_results(json.loads(path.read_text()), results)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nfigures also in {args.out / 'bench.json'}")
    if args.write:
        write_block(args.write, readme_block(results))
        print(f"wrote the figures into {args.write}")


if __name__ == "__main__":
    main()
