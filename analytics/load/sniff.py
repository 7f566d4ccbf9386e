"""What a file really is, and whether its text is UTF-8: checked from content, never the name.

The scan reads a CSV once in large chunks: it hashes it (the audit keeps the hash), refuses NUL
bytes (binary or UTF-16 without a byte-order mark) and invalid UTF-8, naming the line. UTF-16
with a byte-order mark (Excel's "Unicode text") is converted to UTF-8; anything else is refused
with "save as UTF-8" rather than guessed, so text is never garbled.
"""

from __future__ import annotations

import codecs
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from analytics.load import limits
from analytics.load.errors import LoadError

CHUNK = 16 * limits.MIB

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)

# Other binary formats people pick by mistake, named so the message helps.
_BINARY_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"\x7fELF": "a program",
    b"SQLite format 3": "an SQLite database",
}

SAVE_AS_UTF8 = "save the file as CSV UTF-8 (in Excel: Save As, 'CSV UTF-8 (Comma delimited)')"


def head(path: Path, label: str, n: int = 16) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError as exc:
        raise LoadError(f"{label}: cannot read the file ({exc.strerror or type(exc).__name__})") from None


def sniff(path: Path, label: str) -> str:
    """'zip' (an .xlsx, to be checked further) or 'text'; refuses legacy/encrypted and other binaries."""
    start = head(path, label)
    if start.startswith(OLE2_MAGIC):
        raise LoadError(
            f"{label}: this is a legacy .xls workbook or a password-protected workbook; "
            "save it as .xlsx without a password (or as CSV UTF-8)"
        )
    if start.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return "zip"
    for magic, what in _BINARY_MAGIC.items():
        if start.startswith(magic):
            raise LoadError(f"{label}: this is {what}, not CSV text or an .xlsx workbook")
    return "text"


@dataclass
class TextFile:
    """A CSV file checked to be UTF-8 text: read `path` (a converted copy for UTF-16 input)."""

    path: Path
    sha256: str
    size: int
    converted: bool = False


def _line_of(path: Path, offset: int) -> int:
    """1-based line of a byte offset: only computed when a message needs it."""
    line = 1
    done = 0
    with open(path, "rb") as f:
        while done < offset:
            chunk = f.read(min(CHUNK, offset - done))
            if not chunk:
                break
            line += chunk.count(b"\n")
            done += len(chunk)
    return line


def check_size(path: Path, label: str, limit: int) -> int:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"{label}: cannot read the file ({exc.strerror or type(exc).__name__})") from None
    if size > limit:
        raise LoadError(
            f"{label}: the file is larger than the {limits.human(limit)} limit; split the export by period"
        )
    return size


def scan_text(path: Path, label: str, workdir: Path) -> TextFile:
    """Hash the file and make sure it is UTF-8 text (converting UTF-16 with a byte-order mark)."""
    size = check_size(path, label, limits.MAX_CSV_BYTES)
    start = head(path, label, 4)
    if start.startswith(UTF32_BOMS):
        raise LoadError(f"{label}: the file is UTF-32 text; {SAVE_AS_UTF8}")
    if start.startswith(UTF16_BOMS):
        return _convert_utf16(path, label, workdir, size)
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                nul = chunk.find(b"\0")
                if nul >= 0:
                    raise LoadError(
                        f"{label}: the file contains NUL bytes from line {_line_of(path, offset + nul)} on: "
                        f"it is binary or UTF-16 without a byte-order mark, not CSV text; {SAVE_AS_UTF8}"
                    )
                if not chunk.isascii():  # plain ASCII is valid UTF-8: skip the decode
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError as exc:
                        line = _line_of(path, offset + exc.start)
                        raise LoadError(
                            f"{label}: not valid UTF-8 at line {line} (perhaps Windows-1252 or another "
                            f"legacy encoding); {SAVE_AS_UTF8}"
                        ) from None
                offset += len(chunk)
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise LoadError(
                    f"{label}: not valid UTF-8 at line {_line_of(path, offset)} (the file ends inside a "
                    f"character); {SAVE_AS_UTF8}"
                ) from None
    except OSError as exc:
        raise LoadError(f"{label}: cannot read the file ({exc.strerror or type(exc).__name__})") from None
    return TextFile(path=path, sha256=digest.hexdigest(), size=size)


def _convert_utf16(path: Path, label: str, workdir: Path, size: int) -> TextFile:
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-16")()  # reads and drops the byte-order mark
    fd, name = tempfile.mkstemp(suffix=".csv", dir=workdir)
    out_path = Path(name)
    chars_lines = 1
    try:
        with open(path, "rb") as f, open(fd, "w", encoding="utf-8", newline="") as out:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError:
                    raise LoadError(
                        f"{label}: not valid UTF-16 text near line {chars_lines}; {SAVE_AS_UTF8}"
                    ) from None
                if "\0" in text:
                    raise LoadError(f"{label}: the file contains NUL characters; {SAVE_AS_UTF8}")
                chars_lines += text.count("\n")
                out.write(text)
            try:
                out.write(decoder.decode(b"", final=True))
            except UnicodeDecodeError:
                raise LoadError(f"{label}: the UTF-16 text ends inside a character; {SAVE_AS_UTF8}") from None
    except OSError as exc:
        raise LoadError(f"{label}: cannot read the file ({exc.strerror or type(exc).__name__})") from None
    return TextFile(path=out_path, sha256=digest.hexdigest(), size=size, converted=True)
