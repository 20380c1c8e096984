"""The text inside an attachment, read by a background job so that search finds it: PDF
(pypdf), Word and PowerPoint files (their XML read as a stream), Excel workbooks (openpyxl),
plain text. Images have none. A file that cannot be read says so on its item; the upload stays.

Reading is bounded, so that a small file that unpacks to gigabytes (a "zip bomb") costs
neither minutes nor memory: an Office file whose parts to read unpack to more than
MAX_UNPACKED bytes, or at a ratio above MAX_RATIO, is not read; XML is parsed as a stream
(without entities, DTDs or the network) and each element dropped once read; reading stops
at LIMIT characters and after MAX_SECONDS. A file over a bound is kept without its text,
and its item says so ("too_large").
"""

import logging
import re
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

from sqlalchemy import select

from innonet.db import transaction
from innonet.jobs.service import JobContext, job_kind
from innonet.knowledge import service
from innonet.knowledge.models import Attachment
from innonet.knowledge.storage import storage_of

logger = logging.getLogger(__name__)
LIMIT = service.MAX_ATTACHMENT_TEXT
MAX_UNPACKED = 16 * 1024 * 1024  # the parts read of one Office file, unpacked
MAX_RATIO = 100                  # unpacked / packed, for a part of more than RATIO_FROM bytes
RATIO_FROM = 1024 * 1024
MAX_SECONDS = 20.0
WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DRAWING = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


class TooLarge(Exception):
    """The file is over a bound: it is kept without its text."""


class _Reading:
    """Text read so far, stopped by its length or the clock."""

    def __init__(self, seconds: float):
        self.parts: list[str] = []
        self.size, self.deadline = 0, time.monotonic() + seconds

    def add(self, text: str) -> bool:
        """Keep some text; False once enough is read."""
        if time.monotonic() > self.deadline:
            raise TooLarge(f"reading took longer than {MAX_SECONDS:g} s")
        self.parts.append(text)
        self.size += len(text)
        return self.size <= LIMIT

    def text(self) -> str:
        return "".join(self.parts)


def _office_parts(archive: zipfile.ZipFile, pattern: str) -> list[zipfile.ZipInfo]:
    """The archive's parts to read, in their natural order, once their sizes are checked."""
    number = re.compile(r"(\d+)")
    parts = sorted((i for i in archive.infolist() if re.fullmatch(pattern, i.filename)),
                   key=lambda i: [int(x) if x.isdigit() else x for x in number.split(i.filename)])
    if sum(i.file_size for i in parts) > MAX_UNPACKED:
        raise TooLarge(f"its text unpacks to more than {MAX_UNPACKED // 1024 // 1024} MB")
    for info in parts:
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise TooLarge(f"{info.filename} unpacks {info.file_size // max(info.compress_size, 1)} times its size")
    return parts


def _office_xml(path: Path, pattern: str, namespace: str) -> str:
    """The text of the ``t`` elements of the parts matching ``pattern``, a line per paragraph."""
    from lxml import etree

    reading = _Reading(MAX_SECONDS)
    with zipfile.ZipFile(path) as archive:
        for info in _office_parts(archive, pattern):
            with archive.open(info) as stream:
                for _, element in etree.iterparse(stream, events=("end",), tag=(f"{namespace}t", f"{namespace}p"),
                                                  resolve_entities=False, no_network=True, load_dtd=False,
                                                  huge_tree=False):
                    going = reading.add("\n" if element.tag.endswith("}p") else element.text or "")
                    element.clear(keep_tail=False)
                    if not going:
                        return reading.text()
    return reading.text()


def _pdf(path: Path) -> str:
    from pypdf import PdfReader

    reading = _Reading(MAX_SECONDS)
    for page in PdfReader(path).pages:
        if not reading.add((page.extract_text() or "") + "\n"):
            break
    return reading.text()


def _docx(path: Path) -> str:
    return _office_xml(path, r"word/document\.xml", WORD)


def _pptx(path: Path) -> str:
    return _office_xml(path, r"ppt/slides/slide\d+\.xml", DRAWING)


def _xlsx(path: Path) -> str:
    from openpyxl import load_workbook

    with zipfile.ZipFile(path) as archive:
        _office_parts(archive, r"xl/(sharedStrings|worksheets/sheet\d+)\.xml")
    reading = _Reading(MAX_SECONDS)
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                if not reading.add(" ".join(str(v) for v in row if v is not None) + "\n"):
                    return reading.text()
    finally:
        workbook.close()
    return reading.text()


def _plain(path: Path) -> str:
    with path.open("rb") as file:
        return file.read(LIMIT * 4).decode("utf-8", errors="replace")


READERS = {
    "application/pdf": _pdf,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _docx,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _pptx,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _xlsx,
    "text/plain": _plain,
}


def text_of(path: Path, content_type: str) -> str | None:
    """The file's text (whitespace kept as lines), or None when its type holds none;
    TooLarge when the file is over a bound."""
    reader = READERS.get(content_type)
    if reader is None:
        return None
    text = reader(path)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)[:LIMIT] or None


@job_kind(service.EXTRACT_JOB, title="Read an attachment's text for search")
def _extract_job(context: JobContext) -> dict:
    attachment_id = int(context.params["attachment"])
    with transaction(context.sessions, writes=False) as session:
        found = session.execute(select(Attachment.storage_key, Attachment.content_type).where(
            Attachment.id == attachment_id)).first()
    if found is None:
        return {"note": "the attachment was deleted"}
    key, content_type = found
    storage = storage_of(context.settings)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "file"
        with path.open("wb") as out:
            for chunk in storage.open(key):
                out.write(chunk)
        try:
            text, state = text_of(path, content_type), None
        except TooLarge as bound:
            logger.info("attachment %s: kept without its text: %s", attachment_id, bound)
            text, state = None, "too_large"
        except Exception as error:  # noqa: BLE001 - a damaged file must not fail the job for ever
            logger.warning("attachment %s: its text could not be read: %s", attachment_id, error)
            text, state = None, "failed"
    with transaction(context.sessions) as session:
        service.store_text(session, attachment_id=attachment_id, text=text, state=state)
    return {"characters": len(text or ""), "read": state is None, "state": state, "on": date.today().isoformat()}
