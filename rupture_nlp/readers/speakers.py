"""Speakers' names as meeting tools and recognisers write them, and the maps from names to roles.

Zoom, Teams and recognisers write ``Maya Patel (she/her)``, ``Óscar Ruiz``, ``Dr. Maya Patel, PhD``
or ``SPEAKER_00``; a map (``--speaker-map``) says which name is the therapist and which the
client. A map is a dict of name -> role; a map read from a file may also hold, under a file
name, the names of that file only: ``{"Maya Patel": "therapist", "session01.vtt": {"Jo": "client"}}``.
The raw name of every turn stays in ``speaker_name``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from pathlib import Path

from ..errors import Problem, TranscriptError
from ..labels import SPEAKER_ROLES, normalise_role
from .options import split_pairs

__all__ = [
    "NAME",
    "SpeakerMap",
    "looks_like_name",
    "map_for",
    "parse_speaker_map",
    "read_speaker_map",
    "role_of",
]

#: A speaker name in a ``Name: text`` line: starts with a letter of any script; may hold
#: pronouns in brackets, titles, credentials after commas, digits (``Speaker 2``, ``SPEAKER_00``).
NAME = r"[^\W\d_][\w .,'’()/&-]{0,99}?"

EXAMPLE = "Dr Lee=therapist,Sam=client"
_TRAILING_BRACKET = re.compile(r"\s*\([^()]*\)\s*$")
_PARTICLES = {"al", "bin", "da", "das", "de", "del", "della", "der", "di", "do", "dos", "du", "el"}
_PARTICLES |= {"ibn", "la", "le", "ten", "ter", "van", "von", "y"}
_CREDENTIAL = re.compile(r"^(?:[A-Z][A-Za-z.]*[A-Z][A-Za-z.]*|Jr\.?|Sr\.?)$")  # PhD, LCSW, Ph.D.


def _key(name: str) -> str:
    """Names compare whatever the case, spacing or Unicode form (an NFD ``Ó`` is an NFC ``Ó``)."""
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()


def looks_like_name(name: str) -> bool:
    """Whether the text before a colon is a person rather than the start of a sentence.

    >>> [looks_like_name(n) for n in ("Maya Patel (she/her)", "Óscar Ruiz", "Speaker 2")]
    [True, True, True]
    >>> [looks_like_name(n) for n in ("Dr. Maya Patel, PhD", "Ana de la Cruz", "SPEAKER_00")]
    [True, True, True]
    >>> [looks_like_name(n) for n in ("I said to her", "Well, Okay", "Really? So")]
    [False, False, False]
    """
    core, *credentials = _TRAILING_BRACKET.sub("", name).split(",")
    if not all(_CREDENTIAL.match(c.strip()) for c in credentials):
        return False
    words = core.split()
    if not 0 < len(words) <= 6 or not words[0][0].isupper():
        return False
    return all(
        re.fullmatch(r"[\w.'’&/-]+", w) and (w[0].isupper() or w.isdigit() or w in _PARTICLES)
        for w in words
    )


def role_of(name: str, speaker_map: dict[str, str] | None = None) -> str | None:
    """The role of a speaker as written in a file, or None when neither map nor alias knows it.

    A name that is not in the map as written is looked up without a trailing bracket, so
    ``Maya Patel=therapist`` also maps ``Maya Patel (she/her)``.

    >>> role_of("Maya Patel (she/her)", {"maya patel": "therapist"})
    'therapist'
    >>> role_of("Counsellor"), role_of("Sam") is None
    ('therapist', True)
    """
    keyed = {_key(k): v for k, v in (speaker_map or {}).items() if isinstance(v, str)}
    for candidate in (name, _TRAILING_BRACKET.sub("", name)):
        role = normalise_role(_key(candidate), keyed)
        if role is not None:
            return role
    return None


class SpeakerMap(dict):
    """A ``name -> role`` map (what every reader takes) that can also infer and be per session.

    ``infer=True`` gives names the map does not know an inferred role (``--speaker-map auto``,
    see :mod:`rupture_nlp.speakers`); ``per_session`` holds entries that apply to one session
    only (a recogniser's ``SPEAKER_00`` is someone else in every file). Code that only knows
    plain dicts uses the global entries.

    >>> m = SpeakerMap({"Dr Lee": "therapist"}, infer=True)
    >>> dict(m), m.infer, bool(SpeakerMap(infer=True))
    ({'Dr Lee': 'therapist'}, True, True)
    """

    def __init__(self, entries=(), infer: bool = False, per_session=None):
        super().__init__(entries)
        self.infer = infer
        self.per_session = {k: dict(v) for k, v in (per_session or {}).items()}

    def __bool__(self) -> bool:  # an empty map that infers is still a map (`m or {}`)
        return bool(self.infer or self.per_session or len(self))

    def __repr__(self) -> str:
        return f"SpeakerMap({dict(self)!r}, infer={self.infer}, per_session={self.per_session!r})"

    def __reduce__(self):  # workers of --jobs get the flags too
        return (SpeakerMap, (dict(self), self.infer, self.per_session))


def _role(value: str, entry: str) -> str:
    role = normalise_role(value)
    if role is None:
        close = difflib.get_close_matches(value.lower(), SPEAKER_ROLES[:2], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TranscriptError(
            f"speaker map entry {entry!r}: {value!r} is not a role (therapist, client){hint}"
        )
    return role


def _add(mapping: dict, name: str, role: str, entry: str) -> None:
    known = {_key(k): k for k in mapping if isinstance(mapping[k], str)}
    old = mapping.get(known.get(_key(name), name))
    if old is not None and old != role:
        raise TranscriptError(
            f"speaker map entry {entry!r}: {name!r} is already mapped to {old}; map each name once"
        )
    mapping[name] = role


def parse_speaker_map(spec: str | None) -> dict:
    """Parse ``"Dr Lee=therapist,Sam=client"`` (or the path of a map file) into a dict.

    Entries are separated by commas or semicolons; a name may contain commas, since everything
    up to ``=`` is the name. A value without ``=`` that names a file is read with
    :func:`read_speaker_map`. (``auto`` is never taken for a file name.)

    >>> parse_speaker_map("Dr Lee=therapist, Sam=client")
    {'Dr Lee': 'therapist', 'Sam': 'client'}
    >>> parse_speaker_map("Dr. Maya Patel, PhD=therapist,Óscar Ruiz=patient")
    {'Dr. Maya Patel, PhD': 'therapist', 'Óscar Ruiz': 'client'}
    """
    if not spec or not spec.strip():
        return {}
    if "=" not in spec:
        if spec.strip() != "auto" and Path(spec).is_file():
            return read_speaker_map(spec)
        raise TranscriptError(
            f"speaker map {spec.strip()!r} is neither NAME=ROLE entries (example: {EXAMPLE!r}) "
            "nor a map file"
        )
    mapping: dict = {}
    for name, value in split_pairs(spec, "speaker map", "NAME=ROLE", EXAMPLE):
        entry = f"{name}={value}"
        _add(mapping, name, _role(value, entry), entry)
    return mapping


def _file_prefix(line: str) -> tuple[str | None, str]:
    """Split ``session01.vtt: Maya Patel=therapist`` into the file and the entry."""
    from .formats import FORMATS

    head, sep, rest = line.partition(":")
    if sep and "=" not in head and Path(head.strip()).suffix.lower() in FORMATS:
        return head.strip(), rest.strip()
    return None, line


def read_speaker_map(path: str | Path) -> dict:
    """Read a map file: one ``name=role`` a line, ``FILE: name=role`` for one file's names only.

    A ``[SESSION]`` line starts entries for that session only (what ``rupture speakers
    --write-map`` writes), and a line ``auto`` infers the roles of names the map does not list;
    either makes the result a :class:`SpeakerMap`. Blank lines and lines starting with ``#`` are
    skipped. A line holds one entry, so a name may contain commas. Every bad line is reported
    with its line number.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "roles.txt"
    >>> _ = p.write_text("# clinic roles\\nDr. Maya Patel, PhD=therapist\\n"
    ...                  "jordan/session01.vtt: Jordan=client\\n", encoding="utf-8")
    >>> read_speaker_map(p)
    {'Dr. Maya Patel, PhD': 'therapist', 'jordan/session01.vtt': {'Jordan': 'client'}}
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise TranscriptError(
            Problem(str(path), None, f"cannot read speaker map ({reason})")
        ) from None
    mapping: dict = {}
    problems = []
    infer, per_session, section = False, {}, None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower() == "auto":
            infer = True
            continue
        if line.startswith("[") and line.endswith("]") and line[1:-1].strip():
            section = per_session.setdefault(line[1:-1].strip(), {})
            continue
        file, entry = _file_prefix(line)
        name, sep, value = entry.rpartition("=")
        try:
            if not sep or not name.strip() or not value.strip():
                raise TranscriptError(f"{entry!r} is not NAME=ROLE (example: 'Dr Lee=therapist')")
            scope = (
                mapping.setdefault(file, {}) if file else mapping if section is None else section
            )
            _add(scope, name.strip(), _role(value.strip(), entry), entry)
        except TranscriptError as exc:
            problems.append(Problem(str(path), number, str(exc.problems[0])))
    if problems:
        raise TranscriptError(problems)
    return SpeakerMap(mapping, infer, per_session) if infer or per_session else mapping


def map_for(path: str | Path, speaker_map: dict | None) -> dict[str, str]:
    """The names -> roles that apply to one file: the map's own, then the file's entries.

    A file's entries are found by its name or by the end of its path (``jordan/session01.vtt``).

    >>> map_for("rec/jordan/session01.vtt", {"Lee": "therapist", "jordan/session01.vtt": {"Jo": "client"}})
    {'Lee': 'therapist', 'Jo': 'client'}
    """
    if not speaker_map:
        return {}
    names = {k: v for k, v in speaker_map.items() if isinstance(v, str)}
    where = "/" + Path(path).as_posix()
    for key, value in speaker_map.items():
        if isinstance(value, dict) and where.endswith("/" + Path(key).as_posix()):
            names.update(value)
    if isinstance(speaker_map, SpeakerMap):
        return SpeakerMap(names, speaker_map.infer, speaker_map.per_session)
    return names
