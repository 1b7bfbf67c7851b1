"""Which files an input names, and the session id of each transcript file."""

from __future__ import annotations

import glob
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from ..errors import Problem, TranscriptError
from .formats import FORMATS

__all__ = ["expand_paths", "find_inputs", "find_transcripts", "ids_of", "session_ids"]

Found = list[tuple[Path, Path | None]]  # a file, and the folder argument it was found in


def _in_folder(root: Path) -> list[Path]:
    files = []
    for f in sorted(root.rglob("*")):
        hidden = any(part.startswith(".") for part in f.relative_to(root).parts)
        fmt = FORMATS.get(f.suffix.lower())
        if not hidden and fmt is not None and f.is_file() and fmt.in_folders(f):
            files.append(f)
    return files


def _find(paths: Iterable[str | Path]) -> tuple[Found, list[Problem]]:
    found: Found = []
    problems: list[Problem] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files = _in_folder(p)
            if not files:
                problems.append(
                    Problem(
                        str(p),
                        None,
                        "folder has no transcript files (looked for "
                        f"{', '.join(sorted(FORMATS))}, in subfolders too)",
                    )
                )
            found += [(f, p) for f in files]
        elif p.is_file():
            found.append((p, None))
        else:
            matches = sorted(Path(m) for m in glob.glob(str(raw), recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                problems.append(
                    Problem(str(raw), None, "no such file, directory or matching files")
                )
            found += [(f, None) for f in files]
    seen: set[Path] = set()
    unique = []
    for f, root in found:
        if f not in seen:
            seen.add(f)
            unique.append((f, root))
    return unique, problems


def find_transcripts(
    paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()
) -> tuple[Found, list[Problem]]:
    """Like :func:`find_inputs`, but return the problems (an empty folder, a path matching
    nothing) beside the files found instead of raising, so ``validate`` can list them all."""
    found, problems = _find(paths)
    left_out = {Path(p).resolve() for p in exclude}
    if left_out:
        found = [(f, root) for f, root in found if f.resolve() not in left_out]
    return found, problems


def expand_paths(paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> list[Path]:
    """Turn files, directories (searched recursively) and glob patterns into a sorted file list.

    Directories contribute only files of a known format (hidden files skipped, a ``.json`` only
    when it is recogniser output); a path that matches nothing and a folder without
    transcripts are errors rather than a silently empty input. Files in ``exclude`` (a
    command's own previous output found in an input folder) are left out.
    """
    return [f for f, _ in find_inputs(paths, exclude)]


def find_inputs(paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> Found:
    """``(file, folder it was found in or None)`` for every input file; raises like
    :func:`expand_paths`."""
    found, problems = find_transcripts(paths, exclude)
    if problems:
        raise TranscriptError(problems)
    return found


def session_ids(paths: Iterable[str | Path]) -> dict[Path, str]:
    """Session ids of the transcript files among ``paths``: the file name without its suffix, or,
    where two files' names clash (``jordan/session01.vtt``, ``aisha/session01.txt``), the path
    relative to the folder given (``jordan/session01``) so that ids stay unique.

    Tables are left out: they carry their own ``session_id`` column.
    """
    return ids_of(find_inputs(paths))


def ids_of(found: Found) -> dict[Path, str]:
    """:func:`session_ids` of files already found by :func:`find_inputs`."""
    by_stem: dict[str, Found] = defaultdict(list)
    for f, root in found:
        if not FORMATS[f.suffix.lower()].streams:
            by_stem[f.stem].append((f, root))
    ids: dict[Path, str] = {}
    for stem, group in by_stem.items():
        if len(group) == 1:
            ids[group[0][0]] = stem
            continue
        common = Path(os.path.commonpath([f.resolve().parent for f, _ in group]))
        for f, root in group:
            base = root.resolve() if root is not None else common
            ids[f] = f.resolve().relative_to(base).with_suffix("").as_posix()
    return ids
