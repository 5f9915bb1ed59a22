"""The CSV reader: encodings, gzip, delimiters, quoting, line ends, binary and empty files, bounded memory."""

from __future__ import annotations

import gzip
import io
import os
import re
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from movie_common.errors import EmptyFileError, IngestFileError, MissingTitleColumnError, NotTextFileError
from movie_ingest import columns, reading
from movie_ingest.reading import BadRecord, CsvTable, Record


def _table(data: bytes, **options: object) -> CsvTable:
    source = reading.open_text(io.BytesIO(data), encoding=options.pop("encoding", None))  # type: ignore[arg-type]
    return CsvTable.open(source, **options)  # type: ignore[arg-type]


def _rows(data: bytes, **options: object) -> tuple[CsvTable, list[Record | BadRecord]]:
    table = _table(data, **options)
    return table, list(table.records())


def test_utf8_with_and_without_bom_read_the_same() -> None:
    text = "title,year\r\nAmélie,2001\r\nLéon,1994\r\n"
    for data, label in ((text.encode(), "UTF-8"), (b"\xef\xbb\xbf" + text.encode(), "UTF-8 with BOM")):
        table, rows = _rows(data)
        assert table.header == ["title", "year"]  # no BOM left in the first column's name
        assert table.source.encoding_label == label
        assert rows == [Record(2, ["Amélie", "2001"]), Record(3, ["Léon", "1994"])]


def test_latin1_and_windows_1252_are_detected() -> None:
    text = "title;year;director\nAmélie;2001;Jean-Pierre Jeunet\nLa Cité des enfants perdus;1995;Marc Caro\n"
    _, rows = _rows(text.encode("latin-1"))
    assert [r.fields[0] for r in rows if isinstance(r, Record)] == ["Amélie", "La Cité des enfants perdus"]
    smart = "title,plot\n\u201cQuoted\u201d \u2013 Caf\u00e9,It\u2019s \u20ac5\n"
    table, rows = _rows(smart.encode("cp1252"))
    assert table.source.encoding_label == "Windows-1252"
    assert rows == [Record(2, ["\u201cQuoted\u201d \u2013 Caf\u00e9", "It\u2019s \u20ac5"])]


# The five bytes Windows-1252 leaves undefined: no letter of Python's cp1252, the C1 control of the same number in
# WHATWG's windows-1252 (what browsers read).
WINDOWS_1252_UNDEFINED = (0x81, 0x8D, 0x8F, 0x90, 0x9D)


@pytest.mark.parametrize("byte", WINDOWS_1252_UNDEFINED, ids=lambda b: f"0x{b:02X}")
def test_a_windows_1252_file_holding_a_byte_it_leaves_undefined_is_read_as_windows_1252(byte: int) -> None:
    """Such a file was detected as cp775, cp1256 or cp1257 (charset-normalizer never names cp1252 for a byte that
    codec cannot decode), and its accented letters came out garbled: é as ķ."""
    smart = (
        "title,year,plot\nAmélie,2001,\u201cCafé\u201d crème brûlée \u2013 {} \u2013 Léon\nLéon,1994,Où est Mathilda?\n"
    )
    before, after = smart.split("{}")
    data = before.encode("cp1252") + bytes((byte,)) + after.encode("cp1252")
    table, rows = _rows(data)
    assert (table.source.encoding, table.source.encoding_label) == ("cp1252", "Windows-1252")
    assert rows == [
        Record(2, ["Amélie", "2001", f"\u201cCafé\u201d crème brûlée \u2013 {chr(byte)} \u2013 Léon"]),
        Record(3, ["Léon", "1994", "Où est Mathilda?"]),
    ]
    assert table.source.fallback_bytes == 0  # a Windows-1252 file, not a UTF-8 one holding Windows-1252 bytes


@pytest.mark.slow  # over 0.35 s (README: the fast tier)
def test_the_undefined_bytes_of_a_windows_1252_file_past_the_sample_are_c1_controls() -> None:
    head = "title,year\n" + "".join(f"Café {i},2000\n" for i in range(6000))  # > the 64 KiB sample
    data = head.encode("cp1252") + b"Late \x81\x8d\x8f\x90\x9d caf\xe9,2001\n"
    table, rows = _rows(data)
    assert table.source.encoding == "cp1252"
    assert rows[-1] == Record(6002, ["Late \x81\x8d\x8f\x90\x9d café", "2001"])
    assert table.source.fallback_bytes == 0


@pytest.mark.parametrize("byte", WINDOWS_1252_UNDEFINED, ids=lambda b: f"0x{b:02X}")
def test_undefined_bytes_count_as_control_characters_when_judging_a_file_binary(byte: int) -> None:
    """A C1 control read from an undefined byte is judged as a C0 control is: on a few lines it is text (the rules
    drop it from the value), on most lines the file is binary, in a Windows-1252 file as in a UTF-8 one."""

    def table_of(control: bytes, lines: int) -> bytes:
        rows = b"".join(
            b"Am\xe9lie %d,2000,caf\xe9 " % n + (control if n < lines else b"") + b" y\n" for n in range(20)
        )
        return b"title,year,plot\n" + rows

    for control in (bytes((byte,)), b"\x01"):
        table, rows = _rows(table_of(control, 2))
        assert table.source.encoding == "cp1252" and len(rows) == 20
        with pytest.raises(NotTextFileError, match="20 of its first 21 lines hold NUL bytes or other control"):
            _table(table_of(control, 20))


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("title,year,plot\nЃорький,1972,\nБрат,1997,Данила возвращается из армии домой\n", "cp1251"),  # noqa: RUF001
        ("title,year\nپدرخوانده,1972\nچهارشنبه سوري,2006\nگلاره در تهران,2008\n", "cp1256"),  # noqa: RUF001
    ],
)
def test_a_code_page_that_uses_those_bytes_as_letters_keeps_its_encoding(text: str, encoding: str) -> None:
    """Ѓ is 0x81 in cp1251, پ 0x81 and گ 0x90 in cp1256: their files are still read in their own code page."""
    data = text.encode(encoding)
    assert any(b in data for b in WINDOWS_1252_UNDEFINED)
    table, rows = _rows(data)
    assert table.source.encoding == encoding
    assert isinstance(rows[0], Record) and rows[0].fields[0] == text.split("\n")[1].split(",")[0]


def test_a_file_that_stops_being_utf8_deep_inside_is_still_read() -> None:
    head = "title,year\n" + "".join(f"Movie {i} ünïcode,2000\n" for i in range(8000))  # > the 64 KiB sample
    tail = "Café Society,2016\n".encode("cp1252")
    table, rows = _rows(head.encode() + tail)
    assert table.source.encoding == "utf-8"
    last = rows[-1]
    assert isinstance(last, Record) and last.fields == ["Café Society", "2016"]
    assert table.source.fallback_bytes == 1
    assert len(rows) == 8001


def test_a_utf8_file_holding_windows_1252_bytes_in_its_first_block_keeps_its_utf8_letters() -> None:
    """Rows pasted from a Windows-1252 file into a UTF-8 one, near the top: the file was read as Windows-1252 as a
    whole, and its UTF-8 letters came out garbled (`José` as `JosÃ©`). Each part is read in its own encoding now,
    and the stray bytes counted (the job's warning)."""
    data = "title,year,director\nAmélie,2001,Jean-Pierre Jeunet\nLéon,1994,Luc Besson\n".encode() + (
        "Café Society,2016,Woody Allen\n".encode("cp1252")
    )
    table, rows = _rows(data)
    assert table.source.encoding == "utf-8"
    assert [r.fields[0] for r in rows if isinstance(r, Record)] == ["Amélie", "Léon", "Café Society"]
    assert table.source.fallback_bytes == 1
    # A Windows-1252 file whose bytes happen to form a UTF-8 sequence (`ß“`) once among its letters stays one.
    text = "title,plot\nDer Große,„Der Große“ von Jörg \u2013 Käse\nÄrger,Öl für Müller\n"
    table, rows = _rows(text.encode("cp1252"))
    assert table.source.encoding == "cp1252"
    assert rows[0] == Record(2, ["Der Große", "„Der Große“ von Jörg \u2013 Käse"])


@pytest.mark.parametrize(
    "text",
    [
        "Title,Year,Director\rAmélie,2001,Jean-Pierre Jeunet\rLéon,1994,Luc Besson\rLa Cité,1995,Marc Caro\r",
        "Title,Year,Director,Plot\rCafé Probé,2006,René Clément,Un film très « beau » à voir\r",
        "title,year,director\nGöttliche Komödie,2000,Jörg Müller\nAmores perros,2000,Alejandro González Iñárritu\n",
    ],
)
def test_a_mac_roman_file_from_excel_for_mac_keeps_its_accents(text: str) -> None:
    """Excel for Mac's "Comma Separated Values" is Mac Roman: detection named cp1257, mac_greek or Windows-1252 for
    these, and `Clément` was stored as `ClŽment` (or worse)."""
    table, rows = _rows(text.encode("mac_roman"))
    assert (table.source.encoding, table.source.encoding_label) == ("mac_roman", "Mac Roman")
    expected = [line.split(",")[0] for line in re.split("\r|\n", text)[1:] if line]
    assert [r.fields[0] for r in rows if isinstance(r, Record)] == expected


def test_a_windows_1252_file_is_not_taken_for_mac_roman() -> None:
    """The other way round: `Göttliche Komödie` beside `cœur` and `Film™` was named mac_iceland by detection, and read
    as `G\u02c6ttliche` (a circumflex for ö)."""
    text = "title,year\nGöttliche Komödie,2000\nŒuvre cœur,2001\nFilm™,2002\nDon’t Look Up,2021\n"  # noqa: RUF001
    table, rows = _rows(text.encode("cp1252"))
    assert table.source.encoding == "cp1252"
    assert [r.fields[0] for r in rows if isinstance(r, Record)] == [
        "Göttliche Komödie",
        "Œuvre cœur",
        "Film™",
        "Don’t Look Up",  # noqa: RUF001
    ]


def test_gzip_is_recognised_by_its_bytes() -> None:
    table, rows = _rows(gzip.compress(b"title,year\nHeat,1995\n"))
    assert table.source.compressed
    assert rows == [Record(2, ["Heat", "1995"])]


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("title,year,genre\nHeat,1995,Crime\n", ","),
        ('title;year;genre\nHeat;1995;"Crime, Drama"\nSe7en;1995;Crime, Mystery\n', ";"),
        ("title\tyear\tgenre\nHeat\t1995\tCrime, Drama\n", "\t"),
        ("title|year\nHeat|1995\n", "|"),
        ("sep=;\ntitle;year\nHeat;1995\n", ";"),
        ("sep=;\r\ntitle;year\r\nHeat;1995\r\n", ";"),
        ("sep=;\rtitle;year\rHeat;1995\r", ";"),  # CR line ends (old Mac files): the hint was not seen, no title column
        ("title\nHeat\n", ","),
    ],
)
def test_delimiters_are_sniffed(text: str, delimiter: str) -> None:
    table, rows = _rows(text.encode())
    assert table.delimiter == delimiter
    assert isinstance(rows[0], Record) and rows[0].fields[0] == "Heat"


@pytest.mark.parametrize(
    ("encoding", "says"),
    [
        ("nonsense", "Unknown encoding"),
        ("rot13", "not a text encoding"),
        ("base64", "not a text encoding"),
        ("utf-16", "cannot be read as utf-16"),
    ],
)
def test_an_encoding_that_cannot_read_the_file_fails_it_with_a_reason(encoding: str, says: str) -> None:
    # a given encoding (x-amz-meta-encoding, --encoding) that is a codec but not a text encoding, or utf-16 for a
    # file without its BOM, used to stop the job as an internal error with a traceback
    with pytest.raises(IngestFileError, match=says):
        _table(b"title,year\nAmelie,2001\n", encoding=encoding)
    assert _table("title,year\nAmélie,2001\n".encode("utf-16"), encoding="utf-16").header == ["title", "year"]


def test_a_delimiter_can_be_given() -> None:
    table, rows = _rows(b"title;year\nHeat,1995;1995\n", delimiter="semicolon")
    assert table.delimiter == ";"
    assert rows == [Record(2, ["Heat,1995", "1995"])]
    with pytest.raises(IngestFileError, match="Unknown delimiter"):
        _table(b"title\nx\n", delimiter="colon")


def test_quoted_fields_hold_delimiters_quotes_and_line_breaks() -> None:
    data = b'title,plot,year\r\n"Heat, the film","He said ""no"".\r\nThen left.",1995\r\nSe7en,Dark,1995'
    _, rows = _rows(data)
    assert rows == [
        Record(2, ["Heat, the film", 'He said "no".\r\nThen left.', "1995"]),
        Record(4, ["Se7en", "Dark", "1995"]),  # line numbers count the line break inside the quotes
    ]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_any_line_end_and_no_final_newline(newline: bytes) -> None:
    _, rows = _rows(newline.join([b"title,year", b"A,2001", b"", b"B,2002"]))
    assert rows == [Record(2, ["A", "2001"]), Record(4, ["B", "2002"])]


def test_rows_with_more_fields_than_the_header_are_bad_unless_the_extra_ones_are_empty() -> None:
    _, rows = _rows(b"title,year\nA,2001,,\nB,2002,oops\nC\n")
    assert rows[0] == Record(2, ["A", "2001"])
    assert isinstance(rows[1], BadRecord) and (rows[1].line, rows[1].code) == (3, "too_many_fields")
    assert rows[2] == Record(4, ["C"])


def test_the_header_row_repeated_mid_file_is_reported_not_loaded() -> None:
    """Files joined from several exports carry each one's header: such a row was read as a movie titled `Title`
    directed by `Director` (or refused with the year's column name as a bad number)."""
    data = (
        b"\xef\xbb\xbfTitle,Director,,\r\nHeat,Michael Mann,,\r\n"
        b"\xef\xbb\xbfTitle , director\r\nSe7en,David Fincher,,\r\n"  # the next export's BOM and header, less tidy
    )
    _, rows = _rows(data)
    assert rows[0] == Record(2, ["Heat", "Michael Mann", "", ""])
    assert rows[1] == BadRecord(
        3,
        "repeated_header",
        "the header row again (as on line 1): the file joins several files, each with its header; the row was skipped",
        (("Title", "\ufeffTitle "),),
    )
    assert rows[2] == Record(4, ["Se7en", "David Fincher", "", ""])
    # After blank lines the header is on a later line, and the report says which.
    _, rows = _rows(b"\n\ntitle,year\nHeat,1995\nTITLE,YEAR\n")
    assert isinstance(rows[1], BadRecord) and rows[1].line == 5 and "(as on line 3)" in rows[1].reason
    # A file of one column may hold a film of the column's name (Beckett's `Film`): it stays a row.
    _, rows = _rows(b"film\nHeat\nFilm\n")
    assert rows == [Record(2, ["Heat"]), Record(3, ["Film"])]


def test_quoted_fields_after_a_space_are_quoted_fields() -> None:
    """Hand-written CSV with `, ` between fields: the quotes of `, "2001"` were read as part of the value (a year
    `"2001"`, not_a_number), and the comma inside `, "Heat, the film"` split the field."""
    _, rows = _rows(b'title, year, plot\nHeat, "1995", "Heat, the film"\nSe7en, 1995, "He said ""no""."\n')
    assert rows == [Record(2, ["Heat", "1995", "Heat, the film"]), Record(3, ["Se7en", "1995", 'He said "no".'])]


def test_a_ctrl_z_ending_the_file_is_no_row() -> None:
    """Old DOS and Windows tools end a file with Ctrl-Z (0x1A): it was a bad row, `a title is required`, its value a
    raw control character."""
    _, rows = _rows(b"title,year\r\nHeat,1995\r\n\x1a")
    assert rows == [Record(2, ["Heat", "1995"])]


def test_empty_and_blank_files_fail() -> None:
    with pytest.raises(EmptyFileError):
        _table(b"")
    with pytest.raises(EmptyFileError):
        _table(gzip.compress(b""))
    with pytest.raises(EmptyFileError):
        _table(b"\n\r\n  \n")


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\x89PNG\r\n\x1a\n" + os.urandom(200), "PNG image"),
        (b"PK\x03\x04" + os.urandom(200), "Excel"),
        (b"%PDF-1.7\n" + os.urandom(200), "PDF"),
        (bytes(range(1, 32)) * 20, "21 of its first 41 lines hold NUL bytes or other control characters"),
        (b"\x00" * 100_000, "100% of its first 65,536 characters are NUL bytes"),  # a zero-filled file
        (b"title,year\n" + b"Damaged\x00,2001\n" * 3 + b"Fine,2002\n", "3 of its first 5 lines hold NUL bytes"),
        # UTF-16 and UTF-32 without a byte-order mark: NUL bytes beside every ASCII letter
        ("title,year\nAmélie,2001\n".encode("utf-16-le"), "UTF-16 or UTF-32 text without a byte-order mark"),
        ("title,year\nAmélie,2001\n".encode("utf-16-be"), "UTF-16 or UTF-32 text without a byte-order mark"),
        ("title,year\n東京物語,1953\n".encode("utf-16-le"), "UTF-16 or UTF-32 text without a byte-order mark"),
        ("title,year\nAmélie,2001\n".encode("utf-32-le"), "UTF-16 or UTF-32 text without a byte-order mark"),
    ],
)
def test_binary_files_are_refused_with_what_they_look_like(data: bytes, says: str) -> None:
    with pytest.raises(NotTextFileError, match=re.escape(says)):
        _table(data)


@pytest.mark.parametrize("size", [4096, 70_000, 300_000])
def test_random_bytes_are_not_text(size: int) -> None:
    for _ in range(5):  # random: a handful of draws, each must be refused
        with pytest.raises(NotTextFileError, match=r"binary|not text"):
            _table(os.urandom(size))


def test_random_bytes_compressed_with_gzip_are_not_text() -> None:
    with pytest.raises(NotTextFileError, match="binary"):
        _table(gzip.compress(os.urandom(8192)))


def test_utf16_without_a_bom_reads_when_its_encoding_is_given() -> None:
    _, rows = _rows("title,year\nAmélie,2001\n".encode("utf-16-le"), encoding="utf-16-le")
    assert rows == [Record(2, ["Amélie", "2001"])]


_NUL = "the value holds a NUL byte (shown as \\x00): the file is damaged here; the row was not loaded"


@pytest.mark.parametrize(
    ("data", "cells"),
    [
        (
            b"title,year,genre\nGood One,2001,Drama\nDam\x00aged,2002,Drama\nGood Two,2003,Drama\n",
            [("title", "Dam\\x00aged")],
        ),
        (
            b"title,year,genre\nGood One,2001,Drama\nDamaged,20\x0002,\x00\nGood Two,2003,Drama\n",
            [("year", "20\\x0002"), ("genre", "\\x00")],
        ),
        # in a quoted field spanning two lines, in a column no field reads, in a field past the header's width
        (
            b'title,year,genre\nGood One,2001,Drama\n"Dam\naged\x00",2002,Drama\nGood Two,2003,Drama\n',
            [("title", "Dam\naged\\x00")],
        ),
        (
            b"title,year,Certificate\nGood One,2001,PG\nDamaged,2002,P\x00G\nGood Two,2003,PG\n",
            [("Certificate", "P\\x00G")],
        ),
        (b"title,year,\nGood One,2001,\nDamaged,2002,\x00\nGood Two,2003,\n", [("field 3", "\\x00")]),
        # a run of zeros is one damaged row, its value shown cut
        (
            b"title,year,genre\nGood One,2001,Drama\nDamaged" + b"\x00" * 60 + b",2002,\nGood Two,2003,Drama\n",
            [("title", "Damaged" + "\\x00" * 48)],
        ),
        # in a Windows-1252 file, and gzip-compressed
        (
            b"title,year,genre\nGood One,2001,Drama\nCaf\xe9\x00,2002,\nGood Two,2003,Drama\xe9\n",
            [("title", "Café\\x00")],
        ),
        (
            gzip.compress(b"title,year,genre\nGood One,2001,Drama\nX\x00,2002,\nGood Two,2003,Drama\n"),
            [("title", "X\\x00")],
        ),
    ],
)
def test_a_nul_byte_makes_its_row_bad_and_the_other_rows_read(data: bytes, cells: list[tuple[str, str]]) -> None:
    _, rows = _rows(data)
    assert len(rows) == 3, rows
    assert isinstance(rows[0], Record) and rows[0].line == 2 and rows[0].fields[0] == "Good One"
    assert rows[1] == BadRecord(3, "nul_byte", _NUL, tuple(cells))
    assert isinstance(rows[2], Record) and rows[2].fields[0] == "Good Two"
    assert rows[2].line == (5 if b'"Dam\naged' in data else 4)


@pytest.mark.slow
def test_a_nul_byte_past_the_first_block_makes_its_row_bad() -> None:
    data = b"title,year\n" + b"Filler,2001\n" * 10_000 + b"Late\x00,2002\nLast,2003\n"
    _, rows = _rows(data)
    assert rows[-2] == BadRecord(10_002, "nul_byte", _NUL, (("title", "Late\\x00"),))
    assert rows[-1] == Record(10_003, ["Last", "2003"])
    assert sum(isinstance(r, BadRecord) for r in rows) == 1


def test_a_run_of_zeros_inside_a_text_file_is_one_bad_row() -> None:
    """A file overwritten in part with zeros (a crash while saving): the block of zeros is one damaged row."""
    rows_before = b"".join(b"Before %d %s,2001\n" % (n, b"x" * 150) for n in range(300))
    data = b"title,year\n" + rows_before + b"\x00" * 4096 + b"\nAfter,2002\n"
    _, rows = _rows(data)
    assert rows[-2] == BadRecord(302, "nul_byte", _NUL, (("title", "\\x00" * 50),))
    assert rows[-1] == Record(303, ["After", "2002"])
    assert len(rows) == 302


def test_nul_bytes_on_two_rows_of_a_short_file_leave_it_text() -> None:
    _, rows = _rows(b"title,year\nA\x00,2001\nB\x00,2002\nC,2003\n")
    assert [r.code if isinstance(r, BadRecord) else r.fields[0] for r in rows] == ["nul_byte", "nul_byte", "C"]


def test_a_nul_byte_in_the_header_fails_the_file() -> None:
    with pytest.raises(
        IngestFileError, match=re.escape("The header row (line 1) holds a NUL byte in column 2 (ye\\x00ar)")
    ):
        _table(b"title,ye\x00ar\nA,2001\n")


def test_damaged_values_are_shown_escaped_and_cut_between_escapes() -> None:
    assert reading.escape_controls("Heat\x00 (1995)\x1b") == "Heat\\x00 (1995)\\x1b"
    assert reading.escape_controls("tab\tand\nline stay") == "tab\tand\nline stay"
    assert reading.escape_controls("a" * 10 + "\x00" * 10, limit=20) == "a" * 10 + "\\x00\\x00"


def test_a_damaged_gzip_stream_is_refused() -> None:
    with pytest.raises(IngestFileError, match="gzip"):
        _table(gzip.compress(b"title,year\n" * 10)[:15])


class _Generated(io.RawIOBase):
    """A large file produced on the fly: a header, one row with a huge field, then ordinary rows."""

    def __init__(self, field_bytes: int, *, quoted: bool) -> None:
        quote = b'"' if quoted else b""
        self._parts: Iterator[bytes] = iter(
            [
                b"title,plot\n",
                b"Before,ok\n",
                b"Huge," + quote,
                *([b"x" * 65536] * (field_bytes // 65536)),
                quote + b"\n",
                b"After,ok\n",
            ]
        )
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._parts)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


@pytest.mark.parametrize("quoted", [False, True])
def test_a_20_mb_field_is_skipped_and_reported_in_bounded_memory(quoted: bool) -> None:
    tracemalloc.start()
    try:
        source = reading.open_text(io.BufferedReader(_Generated(20 * 1024 * 1024, quoted=quoted)))
        table = CsvTable.open(source, max_record_chars=1024 * 1024)
        rows = list(table.records())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows[0] == Record(2, ["Before", "ok"])
    assert isinstance(rows[1], BadRecord) and (rows[1].line, rows[1].code) == (3, "record_too_large")
    assert "longer than 1,048,576 characters" in rows[1].reason
    assert rows[2] == Record(4, ["After", "ok"])
    assert peak < 8 * 1024 * 1024, f"peak {peak:,} bytes"


@pytest.mark.slow
def test_a_quote_never_closed_is_reported_where_it_opened() -> None:
    data = b'title,plot\nA,fine\nB,"opened\n' + b"more text\n" * 200_000
    _, rows = _rows(data, max_record_chars=64 * 1024)
    assert rows[0] == Record(2, ["A", "fine"])
    assert isinstance(rows[1], BadRecord) and rows[1].line == 3
    assert "never closed" in rows[1].reason
    assert len(rows) == 2


def test_header_spellings_map_onto_movie_fields() -> None:
    header = [
        "Poster_Link",
        "Series_Title",
        "Released_Year",
        "Certificate",
        "Runtime",
        "Genre",
        "IMDB_Rating",
        "Overview",
        "Meta_score",
        "Director",
        "Star1",
        "Star2",
        "Star3",
        "Star4",
        "No_of_Votes",
        "Gross",
    ]
    mapping = columns.map_columns(header)
    assert mapping.names == {
        "title": ("Series_Title",),
        "year": ("Released_Year",),
        "genre": ("Genre",),
        "director": ("Director",),
        "actors": ("Star1", "Star2", "Star3", "Star4"),
        "plot": ("Overview",),
        "poster_url": ("Poster_Link",),
        "runtime": ("Runtime",),
        "rating": ("IMDB_Rating",),
    }
    assert mapping.unknown == ("Certificate", "Meta_score", "Gross")
    assert mapping.vote_count_at == header.index("No_of_Votes")  # read beside the rating, never stored
    assert mapping.column_of("actors") == "Star1, Star2, Star3, Star4"


@pytest.mark.parametrize(
    ("header", "field", "column"),
    [
        (["primaryTitle", "startYear", "titleType", "tconst", "runtimeMinutes"], "year", "startYear"),
        (["primaryTitle", "startYear", "titleType", "tconst"], "media_type", "titleType"),
        (["primaryTitle", "tconst"], "imdb_id", "tconst"),
        (["TITLE ", "Release Date"], "release_date", "Release Date"),
        (["movie_title", "title_year", "actor_1_name", "actor_2_name"], "year", "title_year"),
        (["name", "genres", "cast", "description", "poster"], "actors", "cast"),
        (["title", "overview", "poster_path", "vote_average", "id"], "rating", "vote_average"),
    ],
)
def test_common_header_spellings(header: list[str], field: str, column: str) -> None:
    assert columns.map_columns(header).names[field] == (column,)


def test_the_first_listed_spelling_wins_and_the_other_is_reported() -> None:
    mapping = columns.map_columns(["original_title", "title", "Title", "x"])
    assert mapping.names["title"] == ("title",)
    assert set(mapping.unknown) == {"original_title", "Title", "x"}


def test_no_title_column_fails_naming_the_columns_seen() -> None:
    with pytest.raises(MissingTitleColumnError, match="'year', 'genre'"):
        columns.map_columns(["year", "genre"])


def test_null_tokens_and_tmdb_poster_paths() -> None:
    mapping = columns.map_columns(["title", "poster_path", "director", "Star1", "Star2"])
    values = mapping.values(["N/A", "/abc.jpg", "\\N", "Tom Hanks", "NA"])
    assert values == {
        "title": "N/A",  # a title is never a null token
        "director": None,
        "actors": ["Tom Hanks"],
        "poster_url": "https://image.tmdb.org/t/p/w500/abc.jpg",
    }


def test_the_shared_imdb_file_reads_as_1000_rows(imdb_top_1000: Path) -> None:
    with imdb_top_1000.open("rb") as raw:
        table = CsvTable.open(reading.open_text(raw))
        rows = list(table.records())
    assert len(rows) == 1000 and all(isinstance(r, Record) and len(r.fields) == 16 for r in rows)
    assert rows[-1].line == 1001


@pytest.mark.parametrize(
    "data",
    [
        b'title,year,genre\nGood,2001,Drama\n"Unclosed quote,2001,Drama\n',  # the last row: the file ends inside it
        b'title,year,genre\nGood,2001,Drama\n"Unclosed quote,2001,Drama',
        b'title,year,genre\nGood,2001,Drama\nShort,"1999\n',
    ],
)
def test_a_quote_still_open_at_the_end_of_the_file_is_a_bad_row_not_a_title(data: bytes) -> None:
    """A short file ending inside a quoted field used to load the rest of the file as one value (a movie titled
    'Unclosed quote,2001,Drama')."""
    _, rows = _rows(data)
    assert rows[0] == Record(2, ["Good", "2001", "Drama"])
    assert isinstance(rows[1], BadRecord) and rows[1].line == 3, rows
    assert rows[1].code == "malformed_csv" and "unexpected end of data" in rows[1].reason
    assert len(rows) == 2


def test_a_stray_quote_that_takes_the_next_lines_with_it_names_every_line_skipped() -> None:
    """A stray opening quote runs its field on until the next quote in the file: the rows in between are part of
    the bad record. The report named only its first line, and those rows vanished without a word."""
    _, rows = _rows(b'title,year\n"Unclosed,1999\nGood One,2000\nGood Two,2001\nSaid "Hi",2002\nGood Three,2003\n')
    assert isinstance(rows[0], BadRecord) and (rows[0].line, rows[0].code) == (2, "malformed_csv")
    assert rows[0].reason.endswith("a quoted field ran on over lines 2 to 5, all skipped"), rows[0].reason
    assert rows[1:] == [Record(6, ["Good Three", "2003"])]
    # Run on to the end of the file, the same.
    _, rows = _rows(b'title,year\nGood,2001\n"Unclosed,1999\nGood One,2000\nGood Two,2001\n')
    assert isinstance(rows[1], BadRecord) and rows[1].line == 3
    assert rows[1].reason.endswith("unexpected end of data; a quoted field ran on over lines 3 to 5, all skipped")


def test_imdbs_datasets_quote_nothing_so_a_title_may_begin_with_a_quote() -> None:
    """IMDb's title.basics.tsv quotes no field: `"Weird Al" Yankovic: ...` is a title there, but it opened a quoted
    field that took the rows after it (the stray-quote case above); such a file is read without quoting."""
    header = b"tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres\n"
    body = (
        b'tt0388795\tmovie\t"Weird Al" Yankovic: The Ultimate Video Collection\tsame\t0\t2003\t\\N\t\\N\tMusic\n'
        b"tt0068646\tmovie\tThe Godfather\tThe Godfather\t0\t1972\t\\N\t175\tCrime,Drama\n"
        b'tt0000001\tshort\tSaid "Hi\tSaid "Hi\t0\t1894\t\\N\t1\tShort\n'
    )
    for bom in (b"", b"\xef\xbb\xbf"):
        table, rows = _rows(bom + header + body)
        assert table.header[0] == "tconst" and table.delimiter == "\t"
        assert [r.fields[2] for r in rows if isinstance(r, Record)] == [
            '"Weird Al" Yankovic: The Ultimate Video Collection',
            "The Godfather",
            'Said "Hi',
        ]
        assert [r.line for r in rows] == [2, 3, 4]
    # Other tab-separated files keep RFC 4180 quoting: a quoted field may hold a tab or a line break.
    _, rows = _rows(b'title\tyear\n"A\tB\nC"\t2001\n')
    assert rows == [Record(2, ["A\tB\nC", "2001"])]


def test_text_after_a_closing_quote_is_a_bad_row() -> None:
    """`"Odd"quote` is not CSV: a lenient reader would make it `Oddquote` without a word."""
    _, rows = _rows(b'title,year\n"Odd"quote,2001\nGood,2002\n')
    assert isinstance(rows[0], BadRecord) and rows[0].line == 2 and rows[0].code == "malformed_csv"
    assert rows[1] == Record(3, ["Good", "2002"])


# A Windows-1252 file holding a few rows in UTF-8 (two exports joined, rows pasted from another file): those rows
# came out garbled and unannounced (`José` as `JosÃ©`), because the file was read as Windows-1252 throughout (the
# thirty-fourth tester). Its UTF-8 Latin letters and typographic marks are now read as UTF-8, wherever they are.
def test_utf8_rows_in_a_windows_1252_file_are_read_as_utf8_wherever_they_are() -> None:
    western = "".join(f"Caf\u00e9 {n} \u2013 \u00e0 la cr\u00e8me,1994\r\n" for n in range(4000)).encode("cp1252")
    assert len(western) > reading.SAMPLE_BYTES
    pasted = "Jos\u00e9 \u2019s \u0141\u00f3d\u017a,2001\r\n".encode()
    data = b"title,year\r\n" + pasted + western + pasted
    table, rows = _rows(data)
    assert (table.source.encoding, table.source.encoding_label) == ("cp1252", "Windows-1252")
    titles = [r.fields[0] for r in rows if isinstance(r, Record)]
    assert titles[0] == titles[-1] == "Jos\u00e9 \u2019s \u0141\u00f3d\u017a"
    assert titles[1] == "Caf\u00e9 0 \u2013 \u00e0 la cr\u00e8me" and len(titles) == 4002
    assert table.source.utf8_letters == 2 * 5


def test_the_windows_1252_decoder_joins_a_utf8_letter_cut_between_chunks() -> None:
    data = "\u00e9t\u00e9 \u2019 \u0142".encode() + "\u00e9".encode("cp1252")
    for cut in range(1, len(data)):
        decoder = reading._WesternDecoder()
        assert (
            decoder.decode(data[:cut]) + decoder.decode(data[cut:], final=True) == "\u00e9t\u00e9 \u2019 \u0142\u00e9"
        )


@pytest.mark.parametrize(
    "pair",
    [
        "\u00c9\u2019",  # É before a curly apostrophe (C9 92): a valid UTF-8 pair, but not a Latin letter's
        "\u00d1\u201d",  # Ñ before a closing quote (D1 94)
        "\u00df\u201c",  # ß before an opening quote (DF 93)
    ],
)
def test_windows_1252_text_that_only_looks_like_utf8_stays_windows_1252(pair: str) -> None:
    data = f"title,year\nCAF{pair}S \u00e9t\u00e9,1994\n".encode("cp1252")
    table, rows = _rows(data)
    assert rows == [Record(2, [f"CAF{pair}S \u00e9t\u00e9", "1994"])]
    assert table.source.utf8_letters == 0


def test_a_windows_1252_encoding_given_is_read_as_given() -> None:
    data = "title,year\n\u00e9t\u00e9,1994\n".encode("cp1252") + "Jos\u00e9,2001\n".encode()
    _, rows = _rows(data, encoding="cp1252")
    assert [r.fields[0] for r in rows if isinstance(r, Record)] == ["\u00e9t\u00e9", "Jos\u00c3\u00a9"]
