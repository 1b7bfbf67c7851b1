"""The ``rupture`` command line: thin wrappers over library functions.

Each command parses options, calls one library function and formats its result. Library errors
(:class:`TranscriptError`, :class:`ModelError`) become ``Error: ...`` with exit 1; usage errors
are Click's exit 2. No command prints transcript text unless the user asked for it.
"""

from __future__ import annotations

import functools
import json
import sys

import click

from .episodes import DEFAULT_GAP, DEFAULT_WINDOW
from .errors import ModelError, TranscriptError

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
        help="Model file (default: models/rupture-default.joblib, or $RUPTURE_MODEL).",
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
@speaker_map_option
def validate(paths, speaker_map):
    """Check transcript files and list every problem with its file and line.

    Exit 0 when clean, 1 when problems were found, 2 for usage errors. Coded review-queue
    sheets and Label Studio / doccano exports are checked as label tables.

    \b
    Examples:
      rupture validate data/
      rupture validate "transcripts/*.txt" --speaker-map "Dr Lee=therapist,Sam=client"
      rupture validate queue-coded.xlsx label-studio-export.json
    """
    from .corrections import is_correction_file, read_corrections
    from .readers import expand_paths, read_file

    try:
        files = expand_paths(paths)
    except TranscriptError as exc:
        raise click.ClickException(str(exc)) from None
    n_problems, n_turns = 0, 0
    # Each file is checked on its own: two coders' files of the same sessions are both valid.
    # Commands that combine files (train, tag, scan) also refuse a session id in two files.
    for path in files:
        if is_correction_file(path):  # a coded queue sheet, a Label Studio or doccano export
            df, problems = read_corrections(path)
        else:
            df, problems = read_file(path, speaker_map)
        n_turns += len(df)
        for p in problems:
            click.echo(str(p))
        n_problems += len(problems)
    summary = f"{len(files)} file(s), {n_turns} turns, {n_problems} problem(s)"
    click.echo(summary, err=True)
    sys.exit(1 if n_problems else 0)


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
@click.option(
    "--labels",
    "labels",
    multiple=True,
    type=click.Path(),
    help="Coders' labels for turns of PATHS: a coded queue sheet (.csv/.xlsx), a Label Studio "
    "(.json) or doccano (.jsonl) export, or any label sheet. Repeatable. Turns left uncoded are "
    "context only.",
)
@speaker_map_option
@_fail_cleanly
def train(paths, out, seed, spacy_model, cv, labels, speaker_map):
    """Train a model. A corpus folder (data/) trains on its train split.

    \b
    Examples:
      rupture train data/ -o models/my-model.joblib --seed 1
      rupture train coded/*.csv -o coded.joblib --cv 0
      rupture train transcripts/ --labels queue-coded.xlsx -o round1.joblib
    """
    from .corpus import load_training_data
    from .training import train_and_save
    from .writers import check_output

    if not out.endswith(".joblib"):
        raise TranscriptError(
            f"{out}: a model file name must end in .joblib (its metadata is "
            "written beside it as .json)"
        )
    check_output(out, [*paths, *labels], suffixes=(".joblib",))
    df = load_training_data(paths, "train", speaker_map)
    if labels:
        from .corrections import apply_labels
        from .readers import read_label_table

        df = apply_labels(df, read_label_table(labels))
    meta = train_and_save(
        df,
        out,
        seed=seed,
        spacy_model=spacy_model,
        cv=cv,
        progress=_say,
        allow_uncoded=bool(labels),
    )
    coded = f" ({meta['n_coded_turns']} coded)" if labels else ""
    click.echo(f"wrote {out} (sha256 {meta['sha256'][:12]}...), {meta['n_turns']} turns{coded}")
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
        df, model=model, cv=cv, window=window, gap=gap, progress=_say, min_prob=min_prob
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
    show = sys.stderr.isatty()
    total = [0]

    def progress(n):
        total[0] += n
        if show:
            click.echo(f"\rtagged {total[0]} turns", err=True, nl=False)

    n = tag_files(
        paths,
        out,
        model=model,
        speaker_map=speaker_map,
        chunk_turns=chunk_turns,
        progress=progress,
        n_process=n_process,
        n_jobs=n_jobs,
    )
    if show:
        click.echo("", err=True)
    if out != "-":
        click.echo(f"tagged {n} turns -> {out}", err=True)


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

    check_output(out, paths)
    if report:
        check_output(report, paths, suffixes=(".html",))
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
    )
    write_table(result.episodes, out)
    if report:
        write_text(report, render_report(result))
    n_unrep = int((~result.episodes["repaired"].astype(bool)).sum()) if len(result.episodes) else 0
    click.echo(
        f"{len(result.sessions)} sessions, {len(result.episodes)} episodes, {n_unrep} not repaired",
        err=True,
    )


@cli.command(context_settings=CONTEXT)
@paths_argument
@model_option
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    metavar="SHEET",
    help="Queue sheet for coders: .csv or .xlsx by extension ('-' for CSV on stdout), with "
    "empty label and subtype columns to fill in.",
)
@click.option("--size", default=200, show_default=True, type=click.IntRange(1), help="Turns.")
@click.option(
    "--per-session",
    default=5,
    show_default=True,
    type=click.IntRange(1),
    help="At most this many turns from one session.",
)
@click.option(
    "--by",
    "method",
    type=click.Choice(["margin", "entropy"]),
    default="margin",
    show_default=True,
    help="Uncertainty of the calibrated probabilities: margin between the two likeliest labels, "
    "or entropy of all four.",
)
@click.option(
    "--context",
    "context",
    default="2,1",
    show_default=True,
    metavar="B,A",
    help="Turns shown before and after each queued turn.",
)
@click.option(
    "--label-studio",
    "label_studio",
    type=click.Path(dir_okay=False),
    help="Also write Label Studio tasks (.json, with the model's label as a prediction) and "
    "their labeling config beside them (.xml).",
)
@click.option(
    "--doccano",
    "doccano",
    type=click.Path(dir_okay=False),
    help="Also write a doccano import file (.jsonl, text classification).",
)
@speaker_map_option
@_fail_cleanly
def queue(
    paths, model, out, size, per_session, method, context, label_studio, doccano, speaker_map
):
    """Queue for coders the turns whose labels would teach the model most.

    Turns are ranked by the model's uncertainty; turns that already have a label are skipped.
    Code the sheet's label (and subtype) column, or the tasks in Label Studio or doccano, and
    train on the result with 'rupture train PATHS --labels CODED'.

    \b
    Examples:
      rupture queue transcripts/ -o queue.xlsx --size 300 --per-session 5
      rupture queue transcripts/ -o queue.csv --label-studio tasks.json --doccano tasks.jsonl
      rupture train transcripts/ --labels queue.xlsx -o round1.joblib
    """
    from .review_queue import (
        SHEET_SUFFIXES,
        build_queue,
        write_doccano,
        write_label_studio,
        write_sheet,
    )
    from .writers import check_output

    try:
        before, after = (int(v) for v in context.split(","))
        if before < 0 or after < 0:
            raise ValueError
    except ValueError:
        raise click.BadParameter(
            "expected two counts such as 2,1", param_hint="--context"
        ) from None
    check_output(out, paths, suffixes=SHEET_SUFFIXES)
    for extra, suffix in ((label_studio, ".json"), (doccano, ".jsonl")):
        if extra:
            check_output(extra, paths, suffixes=(suffix,))
    result = build_queue(
        paths,
        model=model,
        size=size,
        per_session=per_session,
        method=method,
        before=before,
        after=after,
        speaker_map=speaker_map,
    )
    write_sheet(result, out)
    if label_studio:
        write_label_studio(result, label_studio)
    if doccano:
        write_doccano(result, doccano)
    _say(f"queued {len(result)} turns from {result['session_id'].nunique()} sessions -> {out}")


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
