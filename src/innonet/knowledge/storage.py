"""Where attachments' bytes are kept: a folder on disk by default, any S3-compatible store
in production (``INNONET_ATTACHMENTS_URL=s3://bucket/prefix``). One interface: put a
stream under a new random key, open a key for reading, delete keys.

An upload is checked while it streams, never held whole in memory: its size against the
limit, its type by its first bytes, its SHA-256 as it passes.
"""

import hashlib
import os
import re
import secrets
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import filetype
from sqlalchemy.orm import Session

from innonet.config import Settings
from innonet.db import after_commit, after_rollback
from innonet.errors import InnonetError, InvalidInput

CHUNK = 1024 * 1024
# What may be attached, by the type its content shows, and the word a person reads.
ALLOWED_TYPES = {
    "application/pdf": "PDF",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint presentation",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "text/plain": "plain text",
}


class TooLarge(InnonetError):
    status_code = 413


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str
    content_type: str
    filename: str


# The endings a name may have for each type; the first is the one a name without one gets.
EXTENSIONS = {
    "application/pdf": ("pdf",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("pptx",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "text/plain": ("txt", "text", "md", "markdown", "csv", "tsv", "log"),
}
# Endings that make a file act when opened (a page, a script, a program): never kept.
ACTIVE_EXTENSIONS = frozenset(
    "htm html xhtml shtml mht mhtml svg svgz xml xsl hta js jse mjs vbs vbe wsf wsh ps1 psm1 bat cmd com exe "
    "msi msp scr pif cpl dll lnk url reg jar sh bash php py pl rb application appref-ms iso img vhd".split())
# Bidirectional and invisible formatting characters, which can make "exe.pdf" read "fdp.exe".
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_RESERVED = re.compile(r'[\x00-\x1f\x7f-\x9f<>:"|?*]')
_DEVICE = re.compile(r"(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?", re.IGNORECASE)
# What text that a browser or a shell would run looks like, and the type it is named by.
_ACTIVE_TEXT = ((re.compile(rb"^\s*<\?xml[^>]*>\s*(<!--.*?-->\s*)*<svg|^\s*<svg", re.IGNORECASE | re.DOTALL),
                 "image/svg+xml"),
                (re.compile(rb"<(!doctype\s+html|html|head|body|script|iframe|object|embed|meta|svg|form|"
                            rb"img[^>]+on\w+\s*=)[\s>/]", re.IGNORECASE), "text/html"),
                (re.compile(rb"^\s*<\?xml", re.IGNORECASE), "application/xml"),
                (re.compile(rb"^(#!|@echo\s+off)", re.IGNORECASE), "text/x-script"))
TYPE_WORDS = {"text/html": "HTML", "image/svg+xml": "an SVG image", "application/xml": "XML",
              "text/x-script": "a script", "application/x-msdownload": "a Windows program"}


def safe_filename(name: str | None, content_type: str) -> str:
    """The last part of an uploaded name, normalised (NFC) and without folder, control,
    invisible or reserved characters, nor a device name (``CON``), ending as its type
    does: "../../etc/passwd" of plain text becomes "passwd.txt", "C:\\x\\plan.pdf" of a
    PDF "plan.pdf". A name whose ending is another type's, or one that acts when opened
    (``.html``, ``.svg``, ``.hta``, ``.bat``…), is refused naming the file."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/")).split("/")[-1]
    name = _RESERVED.sub("", _INVISIBLE.sub("", name)).strip().strip(".").strip()
    if _DEVICE.fullmatch(name):
        name = "_" + name
    allowed = EXTENSIONS[content_type]
    stem, dot, ending = name.rpartition(".")
    ending = ending.lower()
    if dot and stem and ending in allowed:
        return stem[:190].rstrip(". ") + "." + ending
    known = {e for endings in EXTENSIONS.values() for e in endings} | ACTIVE_EXTENSIONS
    if dot and stem and ending in known:
        raise InvalidInput.for_field("file", f"the name ends in .{ending[:10]} but the file is "
                                             f"{type_name(content_type)}: name it .{allowed[0]}")
    return (name[:190].rstrip(". ") or "attachment") + "." + allowed[0]


def detect_type(head: bytes) -> str | None:
    """The type the first bytes of a file show (its magic numbers); plain text when they are
    UTF-8 without NUL and not a page, an SVG image, XML or a script; None for anything else."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not merely a character cut by the end of the sample
            return None
    text = head.removeprefix(b"\xef\xbb\xbf")
    for pattern, found in _ACTIVE_TEXT:
        if pattern.search(text):
            return found
    return "text/plain"


def type_name(content_type: str) -> str:
    return ALLOWED_TYPES.get(content_type) or TYPE_WORDS.get(content_type, content_type)


class Storage(Protocol):
    spool: Path  # where an upload is written while it streams in

    def save(self, key: str, path: Path) -> None: ...
    def open(self, key: str) -> Iterator[bytes]: ...
    def delete(self, keys: list[str]) -> None: ...


class FolderStorage:
    def __init__(self, folder: Path):
        self.folder = folder
        self.spool = folder / ".incoming"  # on the same disk: saving is a rename

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def save(self, key: str, path: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)  # the spooled file moves; nothing is copied

    def open(self, key: str) -> Iterator[bytes]:
        with self._path(key).open("rb") as file:
            while chunk := file.read(CHUNK):
                yield chunk

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)


class S3Storage:
    def __init__(self, url: str, endpoint_url: str | None, spool: Path):
        import boto3

        self.spool = spool
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint_url)

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def save(self, key: str, path: Path) -> None:
        self.client.upload_file(str(path), self.bucket, self._name(key))  # in parts: never whole in memory
        path.unlink(missing_ok=True)

    def open(self, key: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        yield from body.iter_chunks(CHUNK)

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            self.client.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": self._name(k)} for k in keys[start:start + 1000]], "Quiet": True})


def storage_of(settings: Settings) -> Storage:
    if settings.attachments_url:
        if not settings.attachments_url.startswith("s3://"):
            raise ValueError("INNONET_ATTACHMENTS_URL must look like s3://bucket/prefix")
        return S3Storage(settings.attachments_url, settings.s3_endpoint_url, Path(settings.data_dir) / "incoming")
    folder = Path(settings.attachments_folder)
    return FolderStorage(folder if folder.is_absolute() else Path(settings.data_dir) / folder)


def receive(stream: BinaryIO, *, filename: str | None, storage: Storage, max_bytes: int) -> Stored:
    """Copy an upload to storage chunk by chunk, checking its size, its type and that its
    name agrees with the type on the way. Nothing is stored when a check fails."""
    storage.spool.mkdir(parents=True, exist_ok=True)
    digest, size, content_type, name = hashlib.sha256(), 0, None, ""
    handle, name = tempfile.mkstemp(dir=storage.spool, prefix="upload-")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := stream.read(CHUNK):
                if content_type is None:
                    content_type = detect_type(chunk[:8192])
                    if content_type not in ALLOWED_TYPES:
                        shown = f"{type_name(content_type)} ({content_type})" if content_type in TYPE_WORDS \
                            else content_type or "not a known type (binary data)"
                        raise InvalidInput.for_field("file", f"this file is {shown}; allowed: "
                                                     f"{', '.join(sorted(set(ALLOWED_TYPES.values())))}")
                    name = safe_filename(filename, content_type)
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"The file is larger than {max_bytes / 1024 / 1024:g} MB ({max_bytes:,} bytes), "
                                   "the most an attachment may be.")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidInput.for_field("file", "the file is empty")
        key = secrets.token_hex(16)
        storage.save(key, path)
        return Stored(key, size, digest.hexdigest(), content_type or "text/plain", name)
    finally:
        path.unlink(missing_ok=True)


def delete_after_commit(session: Session, storage: Storage, keys: list[str], *, only_on_rollback: bool = False) -> None:
    """Delete files once the transaction that dropped their records commits (a rollback
    keeps them); with ``only_on_rollback``, the files of records that were not kept."""
    if not keys:
        return

    (after_rollback if only_on_rollback else after_commit)(session, lambda: storage.delete(keys))
