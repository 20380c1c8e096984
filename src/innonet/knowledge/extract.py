"""The text inside an attachment, read by a background job so that search finds it: PDF
(pypdf), Word, PowerPoint and Excel files (python-docx, python-pptx, openpyxl), plain text.
Images have none. A file that cannot be read says so on its item; the upload stays."""

import logging
import tempfile
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


def _pdf(path: Path) -> str:
    from pypdf import PdfReader

    parts, size = [], 0
    for page in PdfReader(path).pages:
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        if size > LIMIT:
            break
    return "\n".join(parts)


def _docx(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def _pptx(path: Path) -> str:
    from pptx import Presentation

    return "\n".join(shape.text_frame.text for slide in Presentation(str(path)).slides for shape in slide.shapes
                     if shape.has_text_frame)


def _xlsx(path: Path) -> str:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    parts, size = [], 0
    try:
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                line = " ".join(str(v) for v in row if v is not None)
                parts.append(line)
                size += len(line)
                if size > LIMIT:
                    return "\n".join(parts)
    finally:
        workbook.close()
    return "\n".join(parts)


READERS = {
    "application/pdf": _pdf,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _docx,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _pptx,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _xlsx,
    "text/plain": lambda path: path.read_bytes()[:LIMIT * 4].decode("utf-8", errors="replace"),
}


def text_of(path: Path, content_type: str) -> str | None:
    """The file's text (whitespace kept as lines), or None when its type holds none."""
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
            text, failed = text_of(path, content_type), False
        except Exception as error:  # noqa: BLE001 - a damaged file must not fail the job for ever
            logger.warning("attachment %s: its text could not be read: %s", attachment_id, error)
            text, failed = None, True
    with transaction(context.sessions) as session:
        service.store_text(session, attachment_id=attachment_id, text=text, failed=failed)
    return {"characters": len(text or ""), "read": not failed, "on": date.today().isoformat()}
