"""Reading tabular files as they come: gzip or not, BOM or not, any common delimiter.

Every row comes with the line number where it starts in the file, so that each problem
can be reported where a person can find it.
"""

import csv
import gzip
import io
import itertools
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any

from pydantic import ValidationError

from innonet.errors import InvalidInput, Problem
from innonet.text import CONTROL_MESSAGE, FIRST_YEAR, LAST_YEAR, MAX_CELL, has_control_characters

if TYPE_CHECKING:
    from typing_extensions import Buffer  # the type of a writable buffer before Python 3.12

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DELIMITERS = ";,\t|"
csv.field_size_limit(MAX_CELL + 1)
# No data file has lines this long; a longer one is refused before it fills the memory.
MAX_LINE = 1_000_000
# Data files compress five to fifteen times; far more means a file built to explode.
MAX_RATIO = 100
MAX_UNPACKED = 2_000_000_000


class _BoundedGzip(io.RawIOBase):
    """A gzip stream that stops, with a clear message, once it unpacks to more than
    MAX_RATIO times its packed size (after the first 2 MB) or MAX_UNPACKED bytes."""

    def __init__(self, packed: io.BufferedReader):
        self.packed, self.unpacked = packed, 0
        self.gzip = gzip.GzipFile(fileobj=packed)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "Buffer") -> int:
        n = self.gzip.readinto(buffer)
        self.unpacked += n
        try:
            ratio_too_high = self.unpacked > 2_000_000 and self.unpacked > MAX_RATIO * self.packed.tell()
        except OSError:  # a stream without positions: the absolute bound still holds
            ratio_too_high = False
        if ratio_too_high or self.unpacked > MAX_UNPACKED:
            raise InvalidInput("The gzip file unpacks to far more than a data file of its size "
                               f"(over {MAX_RATIO} times); it was not read further.")
        return n


def text_stream(raw: IO[bytes]) -> io.TextIOWrapper:
    """Decode a (possibly gzipped) byte stream as UTF-8, dropping a byte-order mark."""
    buffered: io.BufferedReader = raw if isinstance(raw, io.BufferedReader) \
        else io.BufferedReader(raw)  # type: ignore[arg-type, type-var]
    if buffered.peek(2)[:2] == b"\x1f\x8b":
        buffered = io.BufferedReader(_BoundedGzip(buffered))
    return io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")


def _bounded_lines(stream: io.TextIOWrapper) -> Iterator[str]:
    number = 0
    while line := stream.readline(MAX_LINE + 1):
        number += 1
        if len(line) > MAX_LINE:
            raise InvalidInput(f"Line {number}: longer than {MAX_LINE:,} characters; not a data file "
                               "this importer can read.", [Problem("line too long", line=number)])
        yield line


def sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    """The delimiter and quoting of a CSV sample; the header line decides when unsure."""
    header = sample.splitlines()[0] if sample else ""
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
        if dialect.delimiter in header:
            return dialect
    except csv.Error:
        pass
    counts = Counter({d: header.count(d) for d in DELIMITERS})
    delimiter = counts.most_common(1)[0][0] if header else ","

    class Detected(csv.excel):
        pass

    Detected.delimiter = delimiter
    return Detected


def read_csv(raw: IO[bytes], *, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each record of a CSV file; rejects a header missing ``required``."""
    stream = _bounded_lines(text_stream(raw))
    line = 1
    bad_text = Problems()
    try:
        head = list(itertools.islice(stream, 50))  # enough lines to sniff the dialect
        reader = csv.reader(itertools.chain(head, stream), sniff_dialect("".join(head)))
        header = [name.strip() for name in next(reader, [])]
        if not header:
            raise InvalidInput("The file is empty.", [Problem("the file is empty", line=1)])
        check_columns(header, required)
        line = reader.line_num + 1
        for values in reader:
            if any(v.strip() for v in values):
                cells = [v.strip() for v in values] + [""] * (len(header) - len(values))
                row = dict(zip(header, cells, strict=False))
                bad_text.check_text(line, row)
                yield line, row
            line = reader.line_num + 1
    except UnicodeDecodeError:
        raise InvalidInput(f"Line {line}: not UTF-8 text.", [Problem("not UTF-8 text", line=line)]) from None
    except csv.Error as error:
        raise InvalidInput(f"Line {line}: {error}.", [Problem(str(error), line=line)]) from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise InvalidInput(f"Line {line}: the gzip file is damaged or cut short ({error}); "
                           "nothing was imported.", [Problem("damaged or truncated gzip file", line=line)]) from None
    bad_text.raise_if_any("File")


def check_columns(header: list[str], required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidInput(
            f"Line 1: the header lacks the column(s) {', '.join(missing)}.",
            [Problem(f"missing column {c!r}", line=1, field=c) for c in missing])


@dataclass
class Problems:
    """Collects every problem of a file before anything is written."""

    items: list[Problem] = field(default_factory=list)

    def add(self, line: int, column: str | None, message: str) -> None:
        self.items.append(Problem(message, field=column, line=line))

    def add_validation(self, line: int, error: ValidationError) -> None:
        """Every field a Pydantic ValidationError names, on this line."""
        for problem in InvalidInput.from_validation(error.errors()).problems:
            self.add(line, problem.field, problem.message)

    def check_text(self, line: int, row: dict[str, str]) -> None:
        """Every cell within MAX_CELL characters and free of control characters."""
        for column, value in row.items():
            if len(value) > MAX_CELL:
                self.add(line, column, f"longer than {MAX_CELL:,} characters")
            elif has_control_characters(value):
                self.add(line, column, CONTROL_MESSAGE)

    def raise_if_any(self, what: str) -> None:
        if self.items:
            lines = sorted({p.line for p in self.items if p.line is not None})
            raise InvalidInput(
                f"{what}: {len(lines)} bad line(s); nothing was imported. "
                + "; ".join(str(p) for p in self.items[:5])
                + (" …" if len(self.items) > 5 else ""),
                self.items)

    def number(self, line: int, row: dict, column: str) -> float | None:
        """A number; empty or '-' is None. Accepts a decimal comma (1234,5)."""
        text = row.get(column, "").strip()
        if text in ("", "-"):
            return None
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            return float(text)
        except ValueError:
            self.add(line, column, f"{text!r} is not a number")
            return None

    def integer(self, line: int, row: dict, column: str, *, required: bool = True) -> int | None:
        text = row.get(column, "").strip()
        if not text:
            if required:
                self.add(line, column, "is empty")
            return None
        try:
            return int(float(text)) if text.endswith(".0") else int(text)
        except ValueError:
            self.add(line, column, f"{text!r} is not a whole number")
            return None

    def date(self, line: int, row: dict, column: str, *, fmt: str = "%Y-%m-%d") -> date | None:
        text = row.get(column, "").strip()
        if not text:
            return None
        try:
            if fmt == "%Y-%m-%d" and _ISO_DATE.fullmatch(text[:10]):
                found = date.fromisoformat(text[:10])  # ten times quicker than strptime
            else:
                found = datetime.strptime(text[:10] if fmt == "%Y-%m-%d" else text, fmt).date()
        except ValueError:
            human = fmt.replace("%Y", "yyyy").replace("%m", "mm").replace("%d", "dd")
            self.add(line, column, f"{text!r} is not a date ({human})")
            return None
        if not FIRST_YEAR <= found.year <= LAST_YEAR:
            self.add(line, column, f"{text!r}: a date from {FIRST_YEAR} to {LAST_YEAR}")
            return None
        return found

    def choice(self, line: int, row: dict, column: str, mapping: dict, *, empty: Any = None) -> Any:
        """The value ``mapping`` gives for the cell (compared in upper case)."""
        text = row.get(column, "").strip()
        if not text:
            return empty
        try:
            return mapping[text.upper()]
        except KeyError:
            allowed = ", ".join(sorted({k for k in mapping}))
            self.add(line, column, f"{text!r} is not one of {allowed}")
            return None

    def identifier(self, line: int, row: dict, column: str) -> str | None:
        text = row.get(column, "").strip()
        if not text:
            self.add(line, column, "is empty")
            return None
        return text


class Consensus:
    """The value most rows agree on for each field of each entity (ties: first seen).

    The same organisation appears on many rows of a file, occasionally with different
    spellings; one value per field has to be chosen, and the majority is the fairest.
    """

    def __init__(self) -> None:
        # Plain dicts of counts (a Counter per field and entity costs a second per 90,000 rows).
        self._values: dict[str, dict[str, dict[Any, int]]] = {}

    def add(self, key: str, record: dict) -> None:
        fields = self._values.get(key)
        if fields is None:
            fields = self._values[key] = {}
        for name, value in record.items():
            counts = fields.get(name)
            if counts is None:
                counts = fields[name] = {}
            if value is not None:
                counts[value] = counts.get(value, 0) + 1

    def records(self) -> list[dict]:
        # A field no row gives is left out: the import keeps what the database knows. Of
        # equal counts, max keeps the first seen.
        return [
            {name: max(counts, key=counts.__getitem__) for name, counts in fields.items() if counts}
            for fields in self._values.values()
        ]
