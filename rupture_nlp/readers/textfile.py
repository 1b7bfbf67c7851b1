"""Text files as an editor shows them: UTF-8 with the line of a bad byte, lines, clock times."""

from __future__ import annotations

from pathlib import Path

from ..errors import Problem

__all__ = ["decode", "locate_bad_bytes", "open_text", "parse_time", "physical_lines"]


def decode(path: Path, data: bytes) -> tuple[str | None, list[Problem]]:
    """Decode UTF-8 (a BOM is fine); report the line of the first bad byte otherwise."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        return None, [not_utf8(path, data.count(b"\n", 0, exc.start) + 1, data[exc.start])]


def not_utf8(path: Path, line: int | None, byte: int | None = None) -> Problem:
    which = "" if byte is None else f" (byte 0x{byte:02x})"
    return Problem(str(path), line, f"not UTF-8 text{which}; save the file as UTF-8")


def open_text(path: Path):
    return open(path, encoding="utf-8-sig", errors="strict", newline="")


def locate_bad_bytes(path: Path) -> Problem:
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return not_utf8(path, number, raw[exc.start])
    return not_utf8(path, None)


def physical_lines(text: str) -> list[str]:
    """Lines as an editor numbers them: split on newlines only (str.splitlines also splits on
    form feeds, vertical tabs and Unicode separators, which shifts every line number after)."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def parse_time(value: str) -> float:
    """Seconds from ``hh:mm:ss.mmm``, ``mm:ss`` or ``mm:ss,mmm``.

    >>> parse_time("01:02:03.5")
    3723.5
    >>> parse_time("2:05")
    125.0
    """
    parts = value.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds
