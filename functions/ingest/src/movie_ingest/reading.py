"""Reading an uploaded file as CSV records in constant memory (IngestFunction): bytes -> text -> bounded records.

Whatever the file's size, at most one sample (64 KiB), one record (`max_record_chars`) and the reader's buffers are
in memory. The file may be gzip; its text UTF-8 (with or without BOM), or Windows-1252 / Latin-1 (detected, also
when it holds bytes Windows-1252 leaves undefined: read as C1 controls, as browsers do), or another encoding
charset-normalizer recognises. A UTF-8 file with stray Windows-1252 bytes deep inside (past the sample) is still
read: those bytes are read as Windows-1252 and counted in a warning. Delimiters `,` `;` tab and `|` are sniffed
from the sample (or given). Records follow RFC 4180: quoted fields may hold delimiters, quotes (doubled) and line
breaks; CRLF, LF or CR line ends; the last line may lack one.

Binary files are refused as a whole, judged on the first block (`binary_reason`); a NUL byte in a text file only
makes its row bad (BadRecord `nul_byte`, naming the column and showing the value escaped), as it is a damaged row,
not a file that is not text.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import threading
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from movie_common.errors import EmptyFileError, IngestFileError, NotTextFileError

SAMPLE_BYTES = 64 * 1024
SKIP_CHUNK_CHARS = 64 * 1024
DEFAULT_MAX_RECORD_CHARS = 1024 * 1024
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}
# Single-byte encodings of Latin script that charset-normalizer may name for a Western file; Windows-1252 reads all
# of their letters the way such files are meant (Latin-1 is Windows-1252 minus the punctuation in 0x80-0x9F).
# cp1250 (Central European) is here on purpose: a Polish or Czech file is read as Windows-1252, and its letters that
# Windows-1252 lacks (ł, ś, ż…) come out as others (README, "Reading").
# Mac's Latin code pages are here as charset-normalizer names them for Windows-1252 files too (`Göttliche Komödie`
# beside `cœur` was mac_iceland, and ö was read as a circumflex); a Mac Roman file is recognised before
# (_looks_like_mac_roman).
_WESTERN = frozenset(
    (
        *("ascii", "latin_1", "iso8859_1", "cp1252", "cp1250", "iso8859_15", "iso8859_2", "iso8859_9", "cp1254"),
        *("mac_roman", "mac_iceland", "mac_latin2", "mac_turkish"),
    )
)
# The five bytes Windows-1252 leaves undefined. Python's cp1252 codec cannot decode them, so charset-normalizer never
# names Windows-1252 for a file holding one, and names whatever single-byte code page decodes everything instead
# (cp775, cp1256, cp1257...), garbling the file's accented letters. Browsers (the WHATWG Encoding Standard) read them
# as the C1 control characters U+0081, U+008D, U+008F, U+0090 and U+009D, and so does open_text.
_WINDOWS_1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
# Signatures of files people upload by mistake: what each is, and what to do instead (or "").
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive or an Excel/OpenDocument workbook", "save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Word document", "save the sheet as CSV"),
    (b"%PDF", "a PDF document", ""),
    (b"\x89PNG", "a PNG image", ""),
    (b"\xff\xd8\xff", "a JPEG image", ""),
    (b"GIF8", "a GIF image", ""),
    (b"BZh", "a bzip2 archive", "only gzip compression is read"),
    (b"\xfd7zXZ", "an xz archive", "only gzip compression is read"),
    (b"7z\xbc\xaf", "a 7-Zip archive", "only gzip compression is read"),
    (b"PAR1", "a Parquet file", ""),
    (b"SQLite format 3", "an SQLite database", ""),
    (b"\x7fELF", "a program", ""),
)
# The binary test of the first block (binary_reason): control characters other than tab, CR, LF, VT and FF, NUL
# included. As bytes they are the same in every ASCII-compatible encoding (ESC aside: ISO-2022 text uses it); as
# decoded text C1 controls count too (they appear when binary data is read as a single-byte encoding).
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_CONTROL_SPLIT = re.compile("([\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]+)")
_LINE_BREAK_BYTES = re.compile(rb"\r\n?|\n")
_LINE_BREAK_CHARS = re.compile("\r\n?|\n")
# A text file may have a few damaged lines (each reported as a bad row); past these bounds the file is binary.
BINARY_MIN_LINES = 3  # control characters on at least this many lines of the first block ...
BINARY_LINE_SHARE = 0.25  # ... and on more than this share of them
BINARY_CHAR_SHARE = 0.25  # or more than this share of the first block is control characters ...
BINARY_MIN_CHARS = 64  # ... and more than this many (a short file with one damaged row is still text)
_FALLBACK_ERRORS = "marquee-windows-1252"
_WHATWG_ERRORS = "marquee-windows-1252-whatwg"
_fallbacks = threading.local()


def _read_as_windows_1252(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler for UTF-8: bytes that are not UTF-8 are read as Windows-1252 (its 5 undefined bytes as
    the C1 controls of the same number, as WHATWG's windows-1252 reads them), and counted (`fallback_bytes`)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    _fallbacks.count = getattr(_fallbacks, "count", 0) + len(bad)
    return "".join(bytes((b,)).decode("cp1252", errors="ignore") or chr(b) for b in bad), error.end


def _read_undefined_as_c1(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler for cp1252: the bytes it leaves undefined (the only ones it cannot decode) are the C1
    controls of the same number, as WHATWG's windows-1252 reads them: 0x81 -> U+0081. Not counted as fallback bytes,
    as they are not a second encoding in the file; what becomes of a control character in a value is the rules'
    business (movie_rules.clean_text drops it, as it does C0 controls)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "".join(chr(b) for b in error.object[error.start : error.end]), error.end


codecs.register_error(_FALLBACK_ERRORS, _read_as_windows_1252)
codecs.register_error(_WHATWG_ERRORS, _read_undefined_as_c1)

# A Windows-1252 file holding some UTF-8 text (rows pasted from another file, two exports joined): the UTF-8 forms of
# Latin letters (U+00C0-U+017F: é, ö, ñ, ł, ő...) and of typographic punctuation (U+2000-U+203F: curly quotes,
# dashes, the ellipsis) are read as UTF-8, everything else as Windows-1252 (WHATWG's, _WHATWG_ERRORS). Read as
# Windows-1252 alone they came out garbled (`José` as `JosÃ©`, a curly apostrophe as `â€™`), silently; in
# Windows-1252 text these byte pairs are an accented capital (Ã, Ä, Å) before a symbol, or `â€`, which only such
# garbling writes. Used for files detected as Windows-1252; one whose encoding is given is read as given.
WESTERN_WITH_UTF8 = "marquee_western"
_WESTERN_UTF8 = re.compile(rb"[\xc3-\xc5][\x80-\xbf]|\xe2\x80[\x80-\xbf]")
_utf8_in_western = threading.local()


class _WesternDecoder(codecs.IncrementalDecoder):
    def __init__(self, errors: str = "strict") -> None:
        super().__init__(errors)
        self._pending = b""

    def decode(self, input: Any, final: bool = False) -> str:
        data = self._pending + bytes(input)
        end = len(data)
        if not final:  # a sequence cut by the chunk's end waits for its other bytes
            if data[-2:] == b"\xe2\x80":
                end -= 2
            elif data[-1:] and data[-1] in (0xC3, 0xC4, 0xC5, 0xE2):
                end -= 1
        data, self._pending = data[:end], data[end:]
        pieces, start, found = [], 0, 0
        for match in _WESTERN_UTF8.finditer(data):
            pieces.append(data[start : match.start()].decode("cp1252", errors=_WHATWG_ERRORS))
            pieces.append(match.group().decode("utf-8"))
            start, found = match.end(), found + 1
        pieces.append(data[start:].decode("cp1252", errors=_WHATWG_ERRORS))
        _utf8_in_western.count = getattr(_utf8_in_western, "count", 0) + found
        return "".join(pieces)

    def reset(self) -> None:
        self._pending = b""

    def getstate(self) -> tuple[bytes, int]:
        return self._pending, 0

    def setstate(self, state: tuple[bytes, int]) -> None:
        self._pending = state[0]


def _western_codec(name: str) -> codecs.CodecInfo | None:
    if name.replace("-", "_") != WESTERN_WITH_UTF8:
        return None
    cp1252 = codecs.lookup("cp1252")
    return codecs.CodecInfo(
        name=WESTERN_WITH_UTF8,
        encode=cp1252.encode,
        decode=lambda data, errors="strict": (_WesternDecoder(errors).decode(bytes(data), final=True), len(data)),
        incrementalencoder=cp1252.incrementalencoder,
        incrementaldecoder=_WesternDecoder,
    )


codecs.register(_western_codec)


class _Counted(io.RawIOBase):
    """A readable raw stream over any `.read(n)` object (a file, an S3 StreamingBody), counting the bytes read."""

    def __init__(self, source: Any) -> None:
        self._source = source
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        return n


class _Prefixed(io.RawIOBase):
    """`prefix` (bytes already read for the sample), then the rest of `rest`."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@dataclass
class TextSource:
    """The decoded text of an upload: the stream, what was detected, and byte counts for progress."""

    text: io.TextIOWrapper
    encoding: str  # a Python codec name: utf-8, utf-8-sig, cp1252, ...
    compressed: bool
    sample: str  # the first SAMPLE_BYTES, decoded (the last line may be cut)
    sample_complete: bool  # the sample is the whole file
    raw: _Counted
    codec: str = ""  # what decodes it: `encoding`, or WESTERN_WITH_UTF8 for a file detected as Windows-1252

    @property
    def bytes_read(self) -> int:
        """Bytes read from the upload itself (compressed bytes for gzip), for progress against its size."""
        return self.raw.bytes_read

    @property
    def encoding_label(self) -> str:
        return {
            "utf-8": "UTF-8",
            "utf-8-sig": "UTF-8 with BOM",
            "cp1252": "Windows-1252",
            "utf-16": "UTF-16",
            "utf-32": "UTF-32",
            "mac_roman": "Mac Roman",
        }.get(self.encoding, self.encoding)

    @property
    def utf8_letters(self) -> int:
        """Letters and punctuation of a Windows-1252 file that were UTF-8 and were read so (this thread, this file)."""
        return int(getattr(_utf8_in_western, "count", 0)) if self.codec == WESTERN_WITH_UTF8 else 0

    @property
    def fallback_bytes(self) -> int:
        """Bytes of a UTF-8 file that were not UTF-8 and were read as Windows-1252 (this thread, this file)."""
        return int(getattr(_fallbacks, "count", 0))


def _read_sample(stream: IO[bytes]) -> bytes:
    chunks = []
    size = 0
    while size < SAMPLE_BYTES:
        chunk = stream.read(SAMPLE_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _utf8_prefix_is_valid(sample: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _detect_encoding(sample: bytes) -> str:
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if sample.startswith(bom):
            return name
    for signature, what, advice in _SIGNATURES:
        if sample.startswith(signature):
            # The advice after the verdict: "…workbook; save the sheet as CSV, not a CSV text file." read as advice
            # not to save a CSV.
            raise NotTextFileError(f"This file is {what}, not a CSV text file" + (f"; {advice}." if advice else "."))
    if _looks_like_utf16_or_utf32(sample):
        raise NotTextFileError(
            "This file looks like UTF-16 or UTF-32 text without a byte-order mark (a NUL byte beside every letter), "
            "not a UTF-8 CSV: save it as CSV UTF-8, or give its encoding (such as utf-16-le)."
        )
    if _utf8_prefix_is_valid(sample):
        return "utf-8"  # NUL and control bytes are valid UTF-8: open_text judges them on the decoded text
    if _mostly_utf8(sample):
        return "utf-8"  # read with the Windows-1252 fallback (_FALLBACK_ERRORS), counted in a warning
    reason = binary_reason(sample)
    if reason is not None:  # before charset-normalizer, whose guess for binary data means nothing
        raise NotTextFileError(f"This file is binary, not a CSV text file: {reason}.")
    if _looks_like_mac_roman(sample):
        return "mac_roman"
    from charset_normalizer import from_bytes  # imported only for files that are not UTF-8

    # NULs and other control bytes on a few lines passed binary_reason; the rows report (NUL) or drop (the others) them,
    # and they would only blind detection: charset-normalizer finds no encoding for a sample with a few of them.
    sample = _CONTROL_BYTES.sub(b"", sample)
    best = from_bytes(sample).best()
    if best is None and _latin_in(sample, WESTERN_WITH_UTF8):
        # Windows-1252 with UTF-8 rows in it: charset-normalizer finds no single encoding for the mixture.
        return "cp1252"
    if best is None:
        raise NotTextFileError("This file is not text in any encoding recognised: it is not a CSV file.")
    encoding = str(best.encoding)
    if encoding in _WESTERN or _reads_as_western_without_undefined_bytes(sample) or _latin_in(sample, encoding):
        return "cp1252"  # read by _WesternDecoder, its UTF-8 letters as UTF-8 (open_text)
    return encoding


def _latin_in(sample: bytes, encoding: str) -> bool:
    """Whether the letters a code page other than Windows-1252's gives the sample's high bytes are mostly Latin: a
    French text is the same in Arabic cp1256 (which has é, è, à, ç at Windows-1252's places), and charset-normalizer
    named cp1256 for one, which then read its UTF-8 rows as Arabic (`José` as `Josأ©`). Read as Windows-1252, as
    its letters are. A text in the code page's own script has its letters in that script."""
    latin = other = 0
    for char in sample.decode(encoding, errors="ignore"):
        if char >= "\x80" and char.isalpha():
            if unicodedata.name(char, "").startswith("LATIN"):
                latin += 1
            else:
                other += 1
    return latin > other


# A UTF-8 sequence of two to four bytes (RFC 3629: no overlong forms, no surrogates), and any byte of 0x80-0xFF.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


def _mostly_utf8(sample: bytes) -> bool:
    """Whether a sample that is not all UTF-8 is a UTF-8 file holding some Windows-1252 bytes (rows pasted from
    another file, a file joined from two): its UTF-8 letters are at least as many as the bytes that are not UTF-8.
    Read as Windows-1252 as a whole, its UTF-8 letters came out garbled (`José` as `JosÃ©`); read as UTF-8, only
    the stray bytes are read as Windows-1252. A Windows-1252 file rarely holds a valid UTF-8 sequence (`ß“` is one)
    and never mostly."""
    letters = _UTF8_SEQUENCE.findall(sample)
    if not letters:
        return False
    stray = len(_HIGH_BYTE.findall(_UTF8_SEQUENCE.sub(b"", sample)))
    return len(letters) >= stray


# Bytes that are accented letters in Mac Roman (Excel for Mac's "Comma Separated Values": é 0x8E, ö 0x9A, ü 0x9F,
# à 0x88, ç 0x8D, Ä 0x80, É 0x83...) and in Windows-1252 rare letters or symbols (Ž, š, Ÿ) or undefined. Left out:
# those that are common punctuation in Windows-1252 (low, curly and double quotes, dashes, ellipsis, bullet, trade
# mark: 0x82, 0x84, 0x85, 0x91-0x97, 0x99), found beside letters in its texts.
_MAC_LETTER_BYTES = b"\x80\x81\x83\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x98\x9a\x9b\x9c\x9d\x9e\x9f"
_MAC_LETTERS = re.compile(
    rb"(?<=[A-Za-z])[" + re.escape(_MAC_LETTER_BYTES) + rb"]|[" + re.escape(_MAC_LETTER_BYTES) + rb"](?=[A-Za-z])"
)
# Bytes that are accented letters in Windows-1252 (é 0xE9, ö 0xF6, Ñ 0xD1...); Mac Roman's punctuation there («, », …,
# its dashes and curly quotes, 0xC7-0xC9 and 0xD0-0xD5) left out.
_WINDOWS_LETTERS = re.compile(rb"(?<=[A-Za-z])[\xc0-\xc6\xca-\xcf\xd6-\xff]|[\xc0-\xc6\xca-\xcf\xd6-\xff](?=[A-Za-z])")


def _looks_like_mac_roman(sample: bytes) -> bool:
    """Whether a Western sample that is not UTF-8 is Mac Roman (Excel for Mac saves "Comma Separated Values" so)
    rather than Windows-1252: the bytes beside its letters are Mac Roman's accented letters, at least twice and four
    times as many as Windows-1252's. Read as Windows-1252 (or as whatever charset-normalizer named: cp1257, mac_greek),
    `Göttliche Komödie` was `Gšttliche Komšdie` and `Clément` `ClŽment`. Cyrillic, Greek, Arabic or Hebrew code pages
    put their letters beside one another, not beside ASCII letters, and stay theirs."""
    mac = len(_MAC_LETTERS.findall(sample))
    return mac >= 2 and mac > 4 * len(_WINDOWS_LETTERS.findall(sample))


def _reads_as_western_without_undefined_bytes(sample: bytes) -> bool:
    """Whether a sample that charset-normalizer did not find Western is a Western file holding some of the bytes
    Windows-1252 leaves undefined (_WINDOWS_1252_UNDEFINED), which alone kept Windows-1252 out of its candidates:
    detection without them names a Western encoding. A file in a code page that uses these bytes as letters (cp1251
    Cyrillic, cp1256 Arabic, DOS cp437/cp850) has its other letters to be recognised by, and keeps its encoding."""
    if not any(byte in sample for byte in _WINDOWS_1252_UNDEFINED):
        return False
    from charset_normalizer import from_bytes

    best = from_bytes(sample.translate(None, _WINDOWS_1252_UNDEFINED)).best()
    return best is not None and str(best.encoding) in _WESTERN


def _looks_like_utf16_or_utf32(sample: bytes) -> bool:
    """NUL bytes in a regular pattern: at one position of every 2 (or 4) bytes often, at another almost never, as
    UTF-16 (or UTF-32) text without a BOM has them beside its ASCII characters. A NUL run or scattered NULs of a
    damaged text file fall on every position alike."""
    head = sample[:4096]
    if len(head) < 16 or b"\x00" not in head:
        return False
    for width in (2, 4):
        counts = [head[i::width].count(0) for i in range(width)]
        shares = [count / len(head[i::width]) for i, count in enumerate(counts)]
        if max(counts) >= 8 and max(shares) >= 0.1 and min(shares) <= 0.01:
            return True
    return False


def binary_reason(sample: bytes | str) -> str | None:
    """Why the first block of a file (bytes before decoding, or the decoded text) is binary rather than text with
    a few damaged lines, or None. Binary: NUL or other control characters (not tab, CR, LF, VT, FF) on at least
    BINARY_MIN_LINES lines and on more than BINARY_LINE_SHARE of them, or making more than BINARY_CHAR_SHARE of the
    block (and more than BINARY_MIN_CHARS). Text with NULs on a few lines passes: those rows are reported one by one
    (BadRecord `nul_byte`)."""
    if isinstance(sample, bytes):
        if not _CONTROL_BYTES.search(sample):
            return None
        controls = len(_CONTROL_BYTES.findall(sample))
        byte_lines = [line for line in _LINE_BREAK_BYTES.split(sample) if line]
        lines, flagged = len(byte_lines), sum(1 for line in byte_lines if _CONTROL_BYTES.search(line))
    else:
        if not _CONTROL_CHARS.search(sample):
            return None
        controls = len(_CONTROL_CHARS.findall(sample))
        text_lines = [line for line in _LINE_BREAK_CHARS.split(sample) if line]
        lines, flagged = len(text_lines), sum(1 for line in text_lines if _CONTROL_CHARS.search(line))
    if flagged >= BINARY_MIN_LINES and flagged > lines * BINARY_LINE_SHARE:
        return f"{flagged:,} of its first {lines:,} lines hold NUL bytes or other control characters"
    if controls > max(BINARY_MIN_CHARS, len(sample) * BINARY_CHAR_SHARE):
        share = controls / len(sample)
        return f"{share:.0%} of its first {len(sample):,} characters are NUL bytes or other control characters"
    return None


def open_text(stream: Any, *, encoding: str | None = None) -> TextSource:
    """Open an upload (any object with `.read(n)` giving bytes) as text.

    gzip is recognised by its magic bytes. `encoding` overrides detection (a Python codec name).
    Raises EmptyFileError for an empty file, NotTextFileError for binary files (with what the file seems to be),
    IngestFileError for a damaged gzip stream or an unknown encoding name.
    """
    raw = _Counted(stream)
    buffered = io.BufferedReader(raw, buffer_size=SAMPLE_BYTES)
    head = buffered.peek(2)[:2]
    compressed = head == b"\x1f\x8b"
    source: Any = gzip.GzipFile(fileobj=buffered, mode="rb") if compressed else buffered
    try:
        sample = _read_sample(source)
    except (OSError, EOFError, zlib.error) as error:
        if not compressed:  # the stream itself (a drop-folder file written over while it was read)
            raise IngestFileError(f"The file could not be read: {error}. Nothing was changed.") from None
        raise IngestFileError(f"The gzip data is damaged: {error}.") from None
    if not sample:
        raise EmptyFileError("The file is empty." if not compressed else "The file is an empty gzip archive.")
    given = bool(encoding)
    encoding = encoding_from_name(encoding) if encoding else _detect_encoding(sample)
    codec = WESTERN_WITH_UTF8 if encoding == "cp1252" and not given else encoding
    complete = len(sample) < SAMPLE_BYTES
    errors = {"utf-8": _FALLBACK_ERRORS, "utf-8-sig": _FALLBACK_ERRORS, "cp1252": _WHATWG_ERRORS}.get(
        encoding, "replace"
    )
    try:
        sample_text = codecs.getincrementaldecoder(codec)(errors=errors).decode(sample, final=complete)
    except UnicodeError as error:  # not a decoding error that `errors` replaces: utf-16 without its BOM
        raise IngestFileError(f"The file cannot be read as {encoding}: {error}.") from None
    reason = binary_reason(sample_text)
    if reason is not None:
        raise NotTextFileError(f"This file is binary, not a CSV text file: {reason}.")
    _fallbacks.count = _utf8_in_western.count = 0
    text = io.TextIOWrapper(
        io.BufferedReader(_Prefixed(sample, source), buffer_size=SAMPLE_BYTES),
        encoding=codec,
        errors=errors,
        newline="",
    )
    return TextSource(text, encoding, compressed, sample_text.lstrip("\ufeff"), complete, raw, codec)


def encoding_from_name(name: str) -> str:
    """The codec name of a text encoding given by any of Python's names (`CP1252`, `latin-1`). IngestFileError
    otherwise."""
    try:
        codec = codecs.lookup(name)
    except LookupError:
        raise IngestFileError(f"Unknown encoding {name!r}.") from None
    if not getattr(codec, "_is_text_encoding", True):  # rot13, base64, zlib, hex: codecs, not text encodings
        raise IngestFileError(f"{name!r} is not a text encoding; give one such as utf-8 or cp1252.")
    return codec.name


def delimiter_from_name(name: str) -> str:
    """`,` `;` `|` or a tab, also given as comma, semicolon, tab (or `\\t`), pipe. IngestFileError otherwise."""
    value = _DELIMITER_NAMES.get(name.strip().lower(), name)
    if value not in DELIMITERS:
        raise IngestFileError(f"Unknown delimiter {name!r}: use comma, semicolon, tab or pipe.")
    return value


def sniff_delimiter(sample: str, *, complete: bool) -> str:
    """The delimiter that splits the header into the most columns while splitting the next rows alike.

    Reads at most the first 50 records of the sample (the last one is dropped unless the sample is the whole file,
    as it may be cut). A file whose header has one column (titles only) is read as comma-separated.
    """
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        records = []
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        try:
            for record in reader:
                if any(cell.strip() for cell in record):
                    records.append(len(record))
                if len(records) > 50:
                    break
        except csv.Error:
            continue
        if not complete and len(records) > 1:
            records.pop()
        if not records or records[0] < 2:
            continue
        width = records[0]
        rest = records[1:]
        consistent = sum(1 for n in rest if n == width) / len(rest) if rest else 1.0
        score = (consistent, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


class RecordTooLargeError(Exception):
    """A record longer than the bound; its lines were skipped."""

    def __init__(self, first_line: int, last_line: int, chars: int, *, unterminated: bool) -> None:
        super().__init__(f"lines {first_line}-{last_line}")
        self.first_line = first_line
        self.last_line = last_line
        self.chars = chars
        self.unterminated = unterminated


_LINE_ENDS = ("\n", "\r")
_BLANK = " \t\r\n\x0b\x0c\x1a"  # white space, and the Ctrl-Z old DOS and Windows tools end a file with


class BoundedLines:
    """The physical lines of a text stream, for csv.reader, never holding more than one bounded record.

    `start_record()` marks where the reader starts a record. A record that would exceed `max_record_chars` is
    skipped to its end (tracking quotes, as RFC 4180 quoting decides where a record ends) and reported by raising
    RecordTooLargeError from __next__, which csv.reader passes on; the reader starts afresh on the next call.
    """

    def __init__(self, text: IO[str], *, max_record_chars: int, quotes: bool = True) -> None:
        self._text = text
        self._max = max_record_chars
        self._quotes = (
            quotes  # whether a quote opens a field that may run over lines (False: a file that quotes nothing)
        )
        self.line = 0  # physical lines consumed
        self._record_chars = 0
        self._quoted = False
        self._record_first_line = 1
        self.nul = False  # the current record holds a NUL byte (checked per line: cheaper than per field)

    def start_record(self) -> int:
        """Called before each record; returns the line it starts on."""
        self._record_chars = 0
        self._quoted = False
        self.nul = False
        self._record_first_line = self.line + 1
        return self._record_first_line

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        room = self._max - self._record_chars
        piece = self._text.readline(room + 1) if room >= 0 else self._text.readline(SKIP_CHUNK_CHARS)
        if not piece:
            raise StopIteration
        if len(piece) > room:
            self._skip_record(piece)
        self.line += 1
        self._record_chars += len(piece)
        if self._quotes and piece.count('"') % 2:
            self._quoted = not self._quoted
        if "\x00" in piece:
            self.nul = True
        return piece

    def _skip_record(self, piece: str) -> None:
        """Read on to the end of the current record (quotes balanced at a line end), then raise."""
        chars = self._record_chars
        while piece:
            chars += len(piece)
            if self._quotes and piece.count('"') % 2:
                self._quoted = not self._quoted
            if piece.endswith(_LINE_ENDS):
                self.line += 1
                if not self._quoted:
                    break
                piece = self._text.readline(SKIP_CHUNK_CHARS)
            else:
                piece = self._text.readline(SKIP_CHUNK_CHARS)
                if not piece:
                    self.line += 1  # the file's last line, without a line end
        first, unterminated = self._record_first_line, self._quoted
        self.start_record()
        raise RecordTooLargeError(first, self.line, chars, unterminated=unterminated)


@dataclass(frozen=True)
class Record:
    """One CSV record: the line it starts on, and its fields."""

    line: int
    fields: list[str]


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be read: where, and why (a stable code and a sentence); `cells` names the columns
    at fault with their values shown escaped (`nul_byte`), and is empty when the record as a whole is at fault."""

    line: int
    code: str
    reason: str
    cells: tuple[tuple[str, str], ...] = ()


NUL_REASON = "the value holds a NUL byte (shown as \\x00): the file is damaged here; the row was not loaded"
SHOWN_VALUE_CHARS = 200


def escape_controls(value: str, *, limit: int = SHOWN_VALUE_CHARS) -> str:
    """`value` with its control characters (NUL included; not tab or line breaks) written as `\\xNN`, cut to
    about `limit` characters without cutting an escape: how a damaged value is shown in a report."""
    shown: list[str] = []
    size = 0
    for piece in _CONTROL_SPLIT.split(value):
        if not piece:
            continue
        if _CONTROL_CHARS.fullmatch(piece[0]):
            piece = "".join(f"\\x{ord(ch):02x}" for ch in piece)
        if size + len(piece) > limit:
            cut = limit - size
            shown.append(piece[: cut - cut % 4] if piece.startswith("\\x") else piece[:cut])
            break
        shown.append(piece)
        size += len(piece)
    return "".join(shown)


class CsvTable:
    """A CSV file read record by record: its delimiter and header (read by `open`), then `records()`."""

    def __init__(
        self, source: TextSource, delimiter: str, header: list[str], lines: BoundedLines, reader: Any, max_chars: int
    ) -> None:
        self.source = source
        self.delimiter = delimiter
        self.header = header
        self._lines = lines
        self._reader = reader
        self._max_chars = max_chars
        self.header_line = 1  # the line the header row is on (after blank lines and Excel's `sep=` line)
        # Values under a column the header leaves unnamed (a heading deleted, the data kept): read by no field, and
        # counted for the job's warning, by column number (1-based): [rows holding one, first line].
        self.unnamed_values: dict[int, list[int]] = {}

    @classmethod
    def open(
        cls, source: TextSource, *, delimiter: str | None = None, max_record_chars: int = DEFAULT_MAX_RECORD_CHARS
    ) -> CsvTable:
        """Read up to the header. EmptyFileError when the file holds no header (blank lines only),
        IngestFileError when the first row is not a readable CSV header or `delimiter` is not one of DELIMITERS."""
        first_line = _LINE_BREAK_CHARS.split(source.sample, 1)[0].strip()  # CR alone ends a line too (old Mac files)
        sep_line = first_line.lower().startswith("sep=") and len(first_line) == 5
        if sep_line and delimiter is None:
            delimiter = first_line[4]  # Excel's "sep=;" hint line
        chosen = (
            delimiter_from_name(delimiter)
            if delimiter
            else sniff_delimiter(source.sample, complete=source.sample_complete)
        )
        csv.field_size_limit(max(csv.field_size_limit(), max_record_chars + 1))
        # IMDb's datasets (title.basics.tsv: `tconst<TAB>titleType<TAB>primaryTitle...`) are tab-separated and quote
        # nothing: a title may begin with a quote (`"Weird Al" Yankovic: ...`), which is text there, not a quoted field
        # running on over the next lines (it took the rows after it with it).
        unquoted = chosen == "\t" and first_line.lstrip("\ufeff").split("\t", 1)[0].strip().lower() == "tconst"
        lines = BoundedLines(source.text, max_record_chars=max_record_chars, quotes=not unquoted)
        reader = (
            csv.reader(lines, delimiter=chosen, quoting=csv.QUOTE_NONE, strict=True)
            if unquoted
            # skipinitialspace: `Heat, "1995"` and `A, "Heat, the film", 1995`, hand-written with a space after each
            # delimiter, have quoted fields (the quotes and the comma inside were read as text).
            else csv.reader(
                lines, delimiter=chosen, quotechar='"', doublequote=True, strict=True, skipinitialspace=True
            )
        )
        if sep_line:
            lines.start_record()
            next(reader, None)
        table = cls(source, chosen, [], lines, reader, max_record_chars)
        if not table.next_header():
            raise EmptyFileError("The file holds no header row and no data, only blank lines.")
        return table

    def next_header(self) -> bool:
        """Take the next row that is not blank as the header (`open` takes the first; a caller whose header names
        no title column takes the next, past a sheet's title line or a list's description); False at the end of the
        file. IngestFileError when that row cannot be read as CSV, is too long for a header or holds a NUL byte."""
        while True:
            start = self._lines.start_record()
            try:
                header = next(self._reader)
            except StopIteration:
                return False
            except RecordTooLargeError:
                raise IngestFileError(
                    f"The row on line {start} (read as the header) is longer than {self._max_chars:,} characters: "
                    "it is not a CSV header."
                ) from None
            except csv.Error as error:
                raise IngestFileError(f"The header row (line {start}) cannot be read as CSV: {error}.") from None
            if any(cell.strip() for cell in header):
                break
        header = [cell.strip().lstrip("\ufeff").strip() for cell in header]
        damaged = [f"{n} ({escape_controls(cell, limit=60)})" for n, cell in enumerate(header, 1) if "\x00" in cell]
        if damaged:
            raise IngestFileError(
                f"The header row (line {start}) holds a NUL byte in column {', '.join(damaged)}: the file is "
                "damaged there; fix or re-export it. Nothing was changed."
            )
        self.header, self.header_line = header, start
        return True

    @property
    def lines_read(self) -> int:
        return self._lines.line

    def _column_name(self, index: int) -> str:
        """The header's name of the field at `index` (0-based), or `field N` past the header or for a blank name."""
        name = self.header[index] if index < len(self.header) else ""
        return name or f"field {index + 1}"

    def records(self) -> Iterator[Record | BadRecord]:
        """Every data record after the header, or a BadRecord where one could not be read; blank rows skipped.

        A row holding a NUL byte in any field is bad (`nul_byte`, each such column named with its value escaped). A
        row with more fields than the header is bad unless the extra ones are empty (trailing delimiters); a row
        with fewer has its missing fields empty.
        """
        width = len(self.header)
        lines, reader = self._lines, self._reader
        # The header row again (files joined from several exports, each with its header): never a movie, whose
        # title would be the title column's name ("Title", directed by "Director"). Not in a file of one column, where
        # the row may be a film of that name (Beckett's `Film`).
        header_again = [name.casefold() for name in self.header] if width > 1 else None
        unnamed = [index for index, name in enumerate(self.header) if not name]
        while True:
            start = lines.start_record()
            try:
                fields = next(reader)
            except StopIteration:
                return
            except RecordTooLargeError as error:
                reason = (
                    f"a quoted field opened on line {error.first_line} is never closed; "
                    f"lines {error.first_line} to {error.last_line} were skipped"
                    if error.unterminated
                    else f"the row is longer than {self._max_chars:,} characters ({error.chars:,}); it was skipped"
                )
                yield BadRecord(error.first_line, "record_too_large", reason)
                continue
            except csv.Error as error:
                # A stray quote opens a field that runs on over the next lines, taking their rows with it: say which.
                end = lines.line
                spanned = f"; a quoted field ran on over lines {start} to {end}, all skipped" if end > start else ""
                yield BadRecord(start, "malformed_csv", f"the row cannot be read as CSV: {error}{spanned}")
                continue
            if lines.nul:  # PostgreSQL cannot store a NUL, and one in text means the row was damaged
                cells = tuple(
                    (self._column_name(n), escape_controls(cell)) for n, cell in enumerate(fields) if "\x00" in cell
                )
                if cells:
                    yield BadRecord(start, "nul_byte", NUL_REASON, cells)
                    continue
            if len(fields) > width:
                if any(cell.strip() for cell in fields[width:]):
                    yield BadRecord(
                        start,
                        "too_many_fields",
                        f"the row has {len(fields)} fields but the header has {width}: a value holding the "
                        "delimiter needs quotes",
                    )
                    continue
                del fields[width:]
            if (
                header_again is not None
                and [cell.strip().lstrip("\ufeff").strip().casefold() for cell in fields] + [""] * (width - len(fields))
                == header_again
            ):
                yield BadRecord(
                    start,
                    "repeated_header",
                    f"the header row again (as on line {self.header_line}): the file joins several files, "
                    "each with its header; the row was skipped",
                    ((self._column_name(0), escape_controls(fields[0])),),
                )
                continue
            if any(cell.strip(_BLANK) for cell in fields):  # Ctrl-Z, DOS's end of file, after the last row: blank
                for index in unnamed:
                    if index < len(fields) and fields[index].strip():
                        seen = self.unnamed_values.setdefault(index + 1, [0, start])
                        seen[0] += 1
                yield Record(start, fields)
