"""The ``rupture`` command line: thin wrappers over library functions.

Each command parses options, calls one library function and formats its result. Library errors
(:class:`TranscriptError`, :class:`ModelError`) become ``Error: ...`` with exit 1; usage errors
are Click's exit 2. No command prints transcript text unless the user asked for it.
"""

from __future__ import annotations

import functools
import json
import sys
import time

import click

from .episodes import DEFAULT_GAP, DEFAULT_WINDOW, EPISODE_COLUMNS
from .errors import ModelError, TranscriptError
from .progress import note, progress_bar, summary_line

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail_cleanly(func):
    """Turn the library's user-facing errors into Click errors (no traceback, exit 1)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (TranscriptError, ModelError) as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:  # an output folder that cannot be made, a full disk...
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None
        except KeyboardInterrupt:
            raise click.Abort() from None

    return wrapper


def _say(message: str) -> None:
    click.echo(message, err=True)


def speaker_map_option(func):
    @click.option(
        "--speaker-map",
        "speaker_map",
        metavar="MAP",
        help="Map names in the files to roles, e.g. 'Dr Lee=therapist,Sam=client'.",
    )
    @functools.wraps(func)
    def wrapper(*args, speaker_map=None, **kwargs):
        from .readers import parse_speaker_map

        try:
            kwargs["speaker_map"] = parse_speaker_map(speaker_map)
        except TranscriptError as exc:
            raise click.BadParameter(str(exc), param_hint="--speaker-map") from None
        return func(*args, **kwargs)

    return wrapper


def model_option(func):
    return click.option(
        "--model",
        "-m",
        "model",
        type=click.Path(dir_okay=False),
        default=None,
        help="Model file (default: $RUPTURE_MODEL, a checkout's models/rupture-default.joblib, "
        "or the default model built in the user cache on first use).",
    )(func)


def jobs_option(func):
    return click.option(
        "--jobs",
        "-j",
        "n_jobs",
        type=click.IntRange(1),
        default=1,
        show_default=True,
        help="Chunks tagged in parallel (joblib worker processes).",
    )(func)


def n_process_option(func):
    return click.option(
        "--n-process",
        "n_process",
        type=click.IntRange(1),
        default=None,
        help="spaCy processes (default 1; more helps only with a heavy --spacy-model pipeline).",
    )(func)


def episode_options(func):
    """How marker turns group into episodes and when an episode counts as repaired; shared by
    scan (which finds episodes) and evaluate (which scores them against the coders')."""
    func = click.option(
        "--min-prob",
        type=click.FloatRange(0, 1),
        default=None,
        help="Count a turn as a marker when p(withdrawal)+p(confrontation) reaches this; "
        "lower finds more ruptures and more false alarms.",
    )(func)
    func = click.option(
        "--gap",
        default=DEFAULT_GAP,
        show_default=True,
        type=click.IntRange(1),
        help="Marker turns at most this many turns apart form one episode.",
    )(func)
    return click.option(
        "--window",
        default=DEFAULT_WINDOW,
        show_default=True,
        type=click.IntRange(0),
        help="Turns after an episode's last marker in which a repair must begin.",
    )(func)


def table_output_option(what: str):
    """The one output option of every command that writes a table."""
    return click.option(
        "-o",
        "--output",
        "out",
        required=True,
        metavar="OUT",
        help=f"{what}: .csv, .tsv, .jsonl or .parquet by extension; '-' for CSV "
        "on stdout. Written to a temporary file, renamed when complete.",
    )


def _folds(value: int, allow_zero: bool = False) -> int:
    if value >= 2 or (allow_zero and value == 0):
        return value
    raise click.BadParameter("needs at least 2 folds" + (" (or 0 to skip)" if allow_zero else ""))


paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path())


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="rupture-nlp")
def cli():
    """Find alliance-rupture markers (withdrawal, confrontation, repair) in therapy transcripts.

    \b
    Examples:
      rupture validate data/
      rupture tag session.vtt --speaker-map "Dr Lee=therapist,Sam=client" -o tagged.csv
      rupture scan recordings/ -o episodes.csv --report report.html
    """
    _exit_on_sigterm()


def _exit_on_sigterm() -> None:
    """A SIGTERM (a job scheduler, a killed terminal) unwinds like an error, so temporary output
    files are removed and nothing half-written is left beside the target."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


@cli.command(context_settings=CONTEXT)
@paths_argument
@click.option("--all", "every", is_flag=True, help="List every occurrence of a repeated problem.")
@speaker_map_option
def validate(paths, every, speaker_map):
    """Check transcript files and list every problem with its file and line.

    A problem repeated on many lines is one line with a count and the first lines (--all lists
    each); a summary per file follows. Files are checked together, as tag and scan read them.
    Exit 0 when clean, 1 when problems were found, 2 for usage errors.

    \b
    Examples:
      rupture validate data/
      rupture validate "transcripts/*.txt" --speaker-map "Dr Lee=therapist,Sam=client"
    """
    from .validation import format_problems, validate_paths

    try:
        reports, overall = validate_paths(paths, speaker_map)
    except TranscriptError as exc:
        raise click.ClickException(str(exc)) from None
    problems = [p for r in reports for p in r.problems] + overall
    for line in format_problems(problems, every=every):
        click.echo(line)
    for r in reports:
        click.echo(r.summary())
    n_turns = sum(r.turns for r in reports)
    summary = f"{len(reports)} file(s), {n_turns} turns, {len(problems)} problem(s)"
    click.echo(summary, err=True)
    sys.exit(1 if problems else 0)


@cli.command(context_settings=CONTEXT)
@paths_argument
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Model file to write (.joblib); metadata goes beside it (.json).",
)
@click.option("--seed", default=0, show_default=True, help="Random seed, recorded in the metadata.")
@click.option(
    "--spacy-model", default=None, help="Installed spaCy pipeline (default: blank English)."
)
@click.option(
    "--cv",
    default=5,
    show_default=True,
    callback=lambda ctx, param, v: _folds(v, allow_zero=True),
    help="Folds of session-grouped cross-validation for the recorded metrics (0: skip).",
)
@speaker_map_option
@_fail_cleanly
def train(paths, out, seed, spacy_model, cv, speaker_map):
    """Train a model. A corpus folder (data/) trains on its train split.

    \b
    Examples:
      rupture train data/ -o models/my-model.joblib --seed 1
      rupture train coded/*.csv -o coded.joblib --cv 0
    """
    from .corpus import load_training_data
    from .training import train_and_save
    from .writers import check_output

    if not out.endswith(".joblib"):
        raise TranscriptError(
            f"{out}: a model file name must end in .joblib (its metadata is "
            "written beside it as .json)"
        )
    check_output(out, paths, suffixes=(".joblib",))
    df = load_training_data(paths, "train", speaker_map)
    started = time.perf_counter()
    with progress_bar("training", "fits") as bar:
        drawn = not bar.disable  # closing a bar disables it
        meta = train_and_save(df, out, seed=seed, spacy_model=spacy_model, cv=cv, bar=bar)
    if not drawn:
        _say(summary_line(f"trained on {meta['n_turns']} turns, {bar.total} fits", started))
    click.echo(f"wrote {out} (sha256 {meta['sha256'][:12]}...), {meta['n_turns']} turns")
    if meta["cv_metrics"]:
        m = meta["cv_metrics"]
        click.echo(
            f"cross-validated macro-F1 {m['macro_f1']:.3f}, marker macro-F1 "
            f"{m['marker_macro_f1']:.3f}"
        )


@cli.command(context_settings=CONTEXT)
@paths_argument
@model_option
@click.option(
    "--cv",
    type=int,
    default=None,
    callback=lambda ctx, param, v: v if v is None else _folds(v),
    help="Grouped K-fold cross-validation estimate instead of a model.",
)
@click.option(
    "--split",
    default="test",
    show_default=True,
    help="Split of a corpus folder to evaluate on (with --cv: the split to cross-validate).",
)
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False), help="Also write metrics as JSON."
)
@episode_options
@speaker_map_option
@_fail_cleanly
def evaluate(paths, model, cv, split, json_out, window, gap, min_prob, speaker_map):
    """Per-label precision, recall and F1, macro-F1, confusion matrix, marker recall.

    \b
    Examples:
      rupture evaluate data/ --model models/rupture-default.joblib --json test-metrics.json
      rupture evaluate data/ --cv 5 --split train
    """
    from .corpus import load_training_data
    from .evaluation import evaluate_frame, format_metrics
    from .writers import check_output

    if json_out:
        check_output(json_out, paths, suffixes=(".json",))
    df = load_training_data(paths, split, speaker_map)
    result = evaluate_frame(
        df,
        model=model,
        cv=cv,
        window=window,
        gap=gap,
        progress=_say,
        min_prob=min_prob,
        notice=_say,
    )
    kinds = {"natural": "natural-density sessions only", "dense": "rupture-dense sessions only"}
    parts = [(result["title"], result)] + [
        (kinds.get(kind, f"sessions of density {kind!r} only"), part)
        for kind, part in result.get("by_density", {}).items()
    ]
    for title, part in parts:
        click.echo(format_metrics(part["turns"], title=title))
        e = part["episodes"]
        click.echo(
            f"unrepaired episodes: precision {e['precision']:.3f}, recall {e['recall']:.3f} "
            f"({e['predicted']} predicted, {e['gold']} in the gold labels)\n"
        )
    if json_out:
        from .writers import write_text

        write_text(json_out, json.dumps(result, indent=2) + "\n")


@cli.command(context_settings=CONTEXT)
@paths_argument
@model_option
@table_output_option("Output table")
@click.option("--chunk-turns", default=20_000, show_default=True, help="Turns tagged at a time.")
@jobs_option
@n_process_option
@speaker_map_option
@_fail_cleanly
def tag(paths, model, out, chunk_turns, n_jobs, n_process, speaker_map):
    """Label every turn; keep the input columns, add predicted_label and p_<label>.

    \b
    Examples:
      rupture tag data/samples/ -o tagged.csv
      rupture tag session.vtt --speaker-map "Dr Lee=therapist,Sam=client" -o - | less
    """
    from .tagging import tag_files

    if n_jobs > 1 and (n_process or 1) > 1:
        raise click.UsageError("use either --jobs or --n-process, not both")
    started = time.perf_counter()
    with progress_bar("tagging", "turns") as bar:
        n = tag_files(
            paths,
            out,
            model=model,
            speaker_map=speaker_map,
            chunk_turns=chunk_turns,
            progress=bar,
            n_process=n_process,
            n_jobs=n_jobs,
            notice=note,
        )
    if out != "-":
        _say(summary_line(f"tagged {n} turns -> {out}", started))


@cli.command(context_settings=CONTEXT)
@paths_argument
@model_option
@table_output_option("Episodes table")
@click.option(
    "--report",
    "report",
    type=click.Path(dir_okay=False),
    help="Also write a self-contained HTML report for a supervisor.",
)
@episode_options
@click.option(
    "--no-text", is_flag=True, help="Leave excerpts out (for sharing outside the clinic)."
)
@click.option("--gold", is_flag=True, help="Use the files' own 'label' column instead of a model.")
@n_process_option
@speaker_map_option
@_fail_cleanly
def scan(paths, model, out, report, window, gap, min_prob, no_text, gold, n_process, speaker_map):
    """Find rupture episodes and those never repaired; write episodes and a report.

    \b
    Examples:
      rupture scan recordings/*.vtt --speaker-map "Dr Lee=therapist,Sam=client" \\
          -o episodes.csv --report report.html
      rupture scan data/corpus.csv --gold -o coder-episodes.csv
      rupture scan sessions/ --no-text --min-prob 0.4 -o episodes.jsonl --report share.html
    """
    from .report import render_report
    from .scanning import scan as run_scan
    from .writers import check_output, write_table, write_text

    exclude = check_output(out, paths, own_columns=[c for c in EPISODE_COLUMNS if c != "excerpt"])
    if exclude:
        _say(f"leaving out {out}: it is this command's output from an earlier run")
    if report:
        check_output(report, paths, suffixes=(".html",))
    started = time.perf_counter()
    with progress_bar("scanning", "turns") as bar:
        result = run_scan(
            paths,
            model=model,
            window=window,
            gap=gap,
            min_prob=min_prob,
            speaker_map=speaker_map,
            text=not no_text,
            use_gold=gold,
            n_process=n_process,
            exclude=exclude,
            progress=bar,
            notice=note,
        )
    write_table(result.episodes, out)
    if report:
        write_text(report, render_report(result))
    n_unrep = int((~result.episodes["repaired"].astype(bool)).sum()) if len(result.episodes) else 0
    counts = (
        f"{len(result.sessions)} sessions, {len(result.episodes)} episodes, {n_unrep} not repaired"
    )
    _say(summary_line(counts, started))


@cli.command(context_settings=CONTEXT)
@click.argument("first", type=click.Path())
@click.argument("second", type=click.Path())
@click.option(
    "--column",
    default="label",
    show_default=True,
    help="Label column of SECOND ('predicted_label' compares a model's tags).",
)
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False), help="Also write figures as JSON."
)
@_fail_cleanly
def agree(first, second, column, json_out):
    """Inter-coder agreement between two labelled files: Cohen's kappa, overall and per label.

    Each file is a table (CSV, TSV, JSONL, Parquet) with session_id, turn and the label column;
    transcripts columns are not needed. Turns are matched by session_id and turn; only turns
    labelled in both count.

    \b
    Examples:
      rupture agree coder-a.csv coder-b.csv --json kappa.json
      rupture agree coded/ tagged.csv --column predicted_label
    """
    from .evaluation import agreement
    from .readers import read_label_table
    from .writers import check_output, write_text

    if json_out:
        check_output(json_out, [first, second], suffixes=(".json",))
    result = agreement(
        read_label_table([first]), read_label_table([second], column), column_b=column
    )
    click.echo(f"{result['n_turns']} turns in {result['n_sessions']} sessions coded by both")
    overall = "-" if result["kappa"] is None else f"{result['kappa']:.3f}"
    click.echo(f"Cohen's kappa {overall}, agreement {result['agreement']:.1%}")
    for label, k in result["kappa_per_label"].items():
        click.echo(f"  {label:<14} kappa {'-' if k is None else f'{k:.3f}'}")
    if "subtype_agreement" in result:
        click.echo(
            f"same subtype where both chose the same marker: {result['subtype_agreement']:.1%}"
        )
    if json_out:
        write_text(json_out, json.dumps(result, indent=2, allow_nan=False) + "\n")


def main():  # pragma: no cover - console entry point
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
