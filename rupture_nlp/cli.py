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
from .readers import DEFAULT_CHUNK_TURNS

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


def _parsed_by(parse):
    """A Click callback turning an option's text into what the library takes (``parse`` imports
    lazily, so ``--help`` stays fast); a bad value is a usage error naming every problem."""

    def callback(ctx, param, value):
        try:
            return parse(value)
        except TranscriptError as exc:  # every bad line of a map file, not the first alone
            message = "\n".join(map(str, exc.problems))
            raise click.BadParameter(message, ctx=ctx, param=param) from None

    return callback


def _speaker_map(value):
    from .speakers import speaker_map_from_option

    return speaker_map_from_option(value)


def _column_map(value):
    from .readers import parse_column_map

    return parse_column_map(value)


speaker_map_option = click.option(
    "--speaker-map",
    "speaker_map",
    metavar="MAP",
    callback=_parsed_by(_speaker_map),
    help="Map names in the files to roles, e.g. 'Dr Lee=therapist,Sam=client' (a name may "
    "hold commas: 'Dr. Maya Patel, PhD=therapist'); a map file with one name=role a line; or "
    "'auto' to infer the roles per file (see 'rupture speakers').",
)

columns_option = click.option(
    "--columns",
    "columns",
    metavar="MAP",
    callback=_parsed_by(_column_map),
    help="Map a table's column names to the readers', e.g. "
    "'Utterance=text,Speaker=speaker,Session=session_id'; without a turn column, row order "
    "is the turn order.",
)


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


def jobs_option(func=None, *, help="Chunks tagged in parallel (joblib worker processes)."):
    option = click.option(
        "--jobs",
        "-j",
        "n_jobs",
        type=click.IntRange(1),
        default=1,
        show_default=True,
        help=help,
    )
    return option if func is None else option(func)


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
    _warnings_to_stderr()


def _warnings_to_stderr() -> None:
    """The library's warnings about the user's input (a suspicious speaker map) read as
    ``Warning: ...`` lines, without Python's source-line noise."""
    import warnings

    from .speakers import SpeakerMapWarning

    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, SpeakerMapWarning):
            _say(f"Warning: {message}")
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show


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
@columns_option
def validate(paths, every, speaker_map, columns):
    """Check transcript files and list every problem with its file and line.

    A problem repeated on many lines is one line with a count and the first lines (--all lists
    each); a summary per file follows. Files are checked together, as tag and scan read them.
    Coded review-queue sheets and Label Studio / doccano exports are
    checked as label tables. Exit 0 when clean, 1 when problems were found, 2 for usage errors.

    \b
    Examples:
      rupture validate data/
      rupture validate "transcripts/*.txt" --speaker-map "Dr Lee=therapist,Sam=client"
      rupture validate export.xlsx --columns "Utterance=text,Speaker=speaker,Session=session_id"
      rupture validate queue-coded.xlsx label-studio-export.json
    """
    from .validation import format_problems, validate_paths

    try:
        reports, overall = validate_paths(paths, speaker_map, columns=columns)
    except TranscriptError as exc:
        raise click.ClickException(str(exc)) from None
    problems = overall + [p for r in reports for p in r.problems]
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
    type=int,
    default=None,
    callback=lambda ctx, param, v: v if v is None else _folds(v, allow_zero=True),
    help="Folds of session-grouped cross-validation for the recorded metrics (default: the "
    "model's inner folds, 3, whose fits it shares; 0: skip).",
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
@jobs_option(help="Fits run in parallel (worker processes); the model file is the same for any.")
@speaker_map_option
@columns_option
@_fail_cleanly
def train(paths, out, seed, spacy_model, cv, labels, n_jobs, speaker_map, columns):
    """Train a model. A corpus folder (data/) trains on its train split.

    \b
    Examples:
      rupture train data/ -o models/my-model.joblib --seed 1 --jobs 2
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
    df = load_training_data(paths, "train", speaker_map, columns)
    if labels:
        from .corrections import apply_labels
        from .readers import read_label_table

        df = apply_labels(df, read_label_table(labels))
    started = time.perf_counter()
    with progress_bar("training", "fits") as bar:
        drawn = not bar.disable  # closing a bar disables it
        meta = train_and_save(
            df,
            out,
            seed=seed,
            spacy_model=spacy_model,
            cv=cv,
            bar=bar,
            allow_uncoded=bool(labels),
            n_jobs=n_jobs,
        )
    if not drawn:
        _say(summary_line(f"trained on {meta['n_turns']} turns, {bar.total} fits", started))
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
@columns_option
@_fail_cleanly
def evaluate(paths, model, cv, split, json_out, window, gap, min_prob, speaker_map, columns):
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
    df = load_training_data(paths, split, speaker_map, columns)
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
@click.option(
    "--chunk-turns", default=DEFAULT_CHUNK_TURNS, show_default=True, help="Turns tagged at a time."
)
@click.option(
    "--explain",
    is_flag=True,
    help="Add a 'why' column: the top reasons (the turn's words, cues, neighbouring turns) for "
    "each turn not labelled none. About 1.5 ms of CPU per such turn: the model's time 1.8x on "
    "natural sessions, 5x on rupture-dense ones (README, 'Why this label').",
)
@jobs_option
@n_process_option
@speaker_map_option
@columns_option
@click.option(
    "--engine",
    type=click.Choice(["process", "dask"]),
    default="process",
    show_default=True,
    help="dask: tag on a Dask cluster (pip install 'rupture-nlp[dask]'); OUT is then a folder "
    "of Parquet files. Without --scheduler, a local cluster of --jobs workers (default: one "
    "per core).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies --engine dask).",
)
@_fail_cleanly
def tag(
    paths,
    model,
    out,
    chunk_turns,
    explain,
    n_jobs,
    n_process,
    speaker_map,
    columns,
    engine,
    scheduler,
):
    """Label every turn; keep the input columns, add predicted_label and p_<label>.

    \b
    Examples:
      rupture tag data/samples/ -o tagged.csv
      rupture tag session.vtt --speaker-map "Dr Lee=therapist,Sam=client" -o - | less
      rupture tag data/samples/ --explain -o tagged-why.csv
      rupture tag "archive/*.parquet" -o tagged/ --engine dask --scheduler tcp://head:8786
    """
    if engine == "dask" or scheduler:
        if n_process:
            raise click.UsageError("--n-process does not apply to --engine dask; use --jobs")
        if explain or columns:
            raise click.UsageError(
                "--explain and --columns are not yet supported with --engine dask"
            )
        return _tag_dask(paths, model, out, chunk_turns, n_jobs, speaker_map, scheduler)
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
            columns=columns,
            explain=explain,
        )
    if out != "-":
        _say(summary_line(f"tagged {n} turns -> {out}", started))


def _tag_dask(paths, model, out, chunk_turns, n_jobs, speaker_map, scheduler):
    from .distributed import require_dask, tag_to_parquet

    try:
        require_dask()
    except ImportError as exc:
        raise click.ClickException(str(exc)) from None
    if out == "-":
        raise click.UsageError("--engine dask writes a folder of Parquet files; give -o FOLDER")
    n = tag_to_parquet(
        paths,
        out,
        model=model,
        scheduler=scheduler,
        speaker_map=speaker_map,
        n_workers=n_jobs if n_jobs > 1 else None,
        chunk_turns=chunk_turns,
    )
    click.echo(f"tagged {n} turns -> {str(out).rstrip('/')}/ (Parquet)", err=True)


@cli.command(context_settings=CONTEXT)
@paths_argument
@model_option
@table_output_option("Episodes table")
@click.option(
    "--report",
    "report",
    type=click.Path(),
    help="Also write a self-contained HTML report for a supervisor: FILE.html, or a folder "
    "(index.html inside). Scans of more than 30 sessions get an index page linking to one page "
    "per session (FILE-sessions/ beside FILE.html, or sessions/ in the folder).",
)
@episode_options
@click.option(
    "--no-text", is_flag=True, help="Leave excerpts out (for sharing outside the clinic)."
)
@click.option("--gold", is_flag=True, help="Use the files' own 'label' column instead of a model.")
@n_process_option
@speaker_map_option
@columns_option
@_fail_cleanly
def scan(
    paths, model, out, report, window, gap, min_prob, no_text, gold, n_process, speaker_map, columns
):
    """Find rupture episodes and those never repaired; write episodes and a report.

    \b
    Examples:
      rupture scan recordings/*.vtt --speaker-map "Dr Lee=therapist,Sam=client" \\
          -o episodes.csv --report report.html
      rupture scan data/corpus.csv --gold -o coder-episodes.csv
      rupture scan sessions/ --no-text --min-prob 0.4 -o episodes.jsonl --report share.html
      rupture scan archive/ -o episodes.parquet --report team-report/
    """
    from .episodes import count_unrepaired
    from .report import check_report_output, write_report
    from .scanning import scan as run_scan
    from .writers import check_output, write_table

    exclude = check_output(out, paths, own_columns=[c for c in EPISODE_COLUMNS if c != "excerpt"])
    if exclude:
        _say(f"leaving out {out}: it is this command's output from an earlier run")
    if report:
        check_report_output(report, paths)
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
            columns=columns,
            exclude=exclude,
            progress=bar,
            notice=note,
        )
    write_table(result.episodes, out)
    if report:
        written = write_report(result, report)
        if len(written) > 1:
            _say(
                f"report: {written[0]} and {len(written) - 1} session pages in {written[1].parent}"
            )
    counts = (
        f"{len(result.sessions)} sessions, {len(result.episodes)} episodes, "
        f"{count_unrepaired(result.episodes)} not repaired"
    )
    _say(summary_line(counts, started))


@cli.command(context_settings=CONTEXT)
@paths_argument
@click.option("--no-text", is_flag=True, help="Leave each speaker's first lines out.")
@click.option(
    "--lines",
    "n_lines",
    default=3,
    show_default=True,
    type=click.IntRange(1),
    help="Lines shown per speaker.",
)
@click.option(
    "--write-map",
    "write_map",
    type=click.Path(dir_okay=False),
    help="Also write the roles as a map file to check, edit and pass with --speaker-map FILE.",
)
@speaker_map_option
@_fail_cleanly
def speakers(paths, no_text, n_lines, write_map, speaker_map):
    """Who is who in each file: turns, share of words and questions, a suggested role.

    Roles come from the file (Therapist:, Client:), from --speaker-map, or are inferred from
    how each speaker talks, with the probability that the inferred role is right.

    \b
    Examples:
      rupture speakers session.vtt
      rupture speakers recordings/ --no-text --write-map roles.txt
      rupture tag recordings/ --speaker-map roles.txt -o tagged.csv
    """
    from .speakers import describe_speakers, format_speaker_map
    from .writers import check_output, write_text

    if write_map:
        check_output(write_map, paths, suffixes=(".txt",))
    summary = describe_speakers(paths, speaker_map, n_lines=n_lines, text=not no_text)
    for sid, group in summary.groupby("session_id", sort=False):
        inferred = group[group["role_source"] == "inferred"]
        sure = f", map confidence {inferred['map_confidence'].iloc[0]:.2f}" if len(inferred) else ""
        click.echo(f"{sid}: {len(group)} speaker(s){sure}")
        for row in group.itertuples():
            how = (
                f"{row.confidence:.2f} inferred"
                if row.role_source == "inferred"
                else row.role_source
            )
            click.echo(
                f"  {row.speaker_name:<20} {row.role:<10} ({how})  {row.turns} turns, "
                f"{row.word_share:.0%} of words, {row.question_share:.0%} questions"
            )
            for line in getattr(row, "first_lines", []):
                click.echo(f"      {line if len(line) <= 90 else line[:87] + '...'}")
    if write_map:
        write_text(write_map, format_speaker_map(summary))
        _say(f"wrote {write_map}: check it, then pass it with --speaker-map {write_map}")


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
@click.argument("paths", nargs=-1, required=True, type=click.Path(), metavar="PATH PATH [PATH...]")
@click.option(
    "--column",
    default="label",
    show_default=True,
    help="Label column of the last PATH ('predicted_label' makes a tagged file the last coder).",
)
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False), help="Also write every figure as JSON."
)
@_fail_cleanly
def agree(paths, column, json_out):
    """Agreement among coders: kappa, Krippendorff's alpha, Gwet's AC1, episodes, session ICC.

    Each PATH is one coder: a table (CSV, TSV, JSONL, Parquet, Excel), or a folder of them, with
    session_id, turn and the label column (subtype optional; transcript columns are not
    needed). Turns are matched by session_id and turn; a blank or missing label is a turn that
    coder did not code, and turns coded by at least two coders count. Reported: Cohen's kappa
    (each pair), Krippendorff's alpha and Gwet's AC1 (all coders), each overall and per label;
    the confusion table and subtype agreement of each pair; unrepaired episodes found by both
    or one; the ICC(2,1) of markers per 100 turns per session.

    \b
    Examples:
      rupture agree coder-a.csv coder-b.csv --json agreement.json
      rupture agree coder-a/ coder-b/ coder-c/
      rupture agree coder-a.csv coder-b.csv tagged.csv --column predicted_label
    """
    from .agreement import agreement_of_files, format_agreement
    from .writers import check_output, write_text

    if len(paths) < 2:
        raise click.UsageError("give at least two coders' files or folders")
    if json_out:
        check_output(json_out, paths, suffixes=(".json",))
    result = agreement_of_files(paths, column)
    click.echo(format_agreement(result))
    if json_out:
        write_text(json_out, json.dumps(result, indent=2, allow_nan=False) + "\n")


if __name__ == "__main__":  # pragma: no cover - python -m rupture_nlp.cli, as before
    # pandas and pyarrow are loaded by now, so this route keeps Arrow's own allocator; the
    # ``rupture`` command and ``python -m rupture_nlp`` set the system one (rupture_nlp.entry).
    cli(prog_name="rupture")
