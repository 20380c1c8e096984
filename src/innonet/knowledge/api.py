"""JSON endpoints: the knowledge base's search, items, versions and diffs, related items
and attachments."""

from typing import Annotated

from fastapi import File, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload

from innonet.knowledge import extract as _extract  # noqa: F401 - registers the text-reading job
from innonet.knowledge import service
from innonet.knowledge.models import Attachment
from innonet.knowledge.schemas import (
    AttachmentOut,
    DiffOut,
    KnowledgeIn,
    KnowledgeKind,
    KnowledgeOut,
    KnowledgePatch,
    RelatedOut,
    SearchOut,
    SearchView,
    VersionOut,
)
from innonet.knowledge.storage import delete_after_commit, receive, storage_of
from innonet.roles import Viewer
from innonet.text import MAX_ID
from innonet.web import CurrentViewer, DbSession, RecordId, api_router, download

router = api_router(tags=["knowledge base"])
NO_CONTENT = Response(status_code=204)


@router.get("/knowledge", response_model=SearchOut)
def search(q: Annotated[str, Query(max_length=200, description="Words that must all be found")] = "",
           kind: KnowledgeKind | None = None, tag: Annotated[str | None, Query(max_length=40)] = None,
           organisation: Annotated[str | None, Query(max_length=64, description=(
               "Items of this organisation or linked to it (its external id)"))] = None,
           project: Annotated[int | None, Query(ge=1, le=MAX_ID,
                                                description="Items linked to this joint project")] = None,
           page: Annotated[int, Query(ge=1, le=500)] = 1, session: Session = DbSession,
           viewer: Viewer = CurrentViewer) -> SearchView:
    """Full-text search over titles, tags, bodies and attachments, best first, with an excerpt
    around the words; only items you may read are returned or counted."""
    return service.search_items(session, viewer, query=q, kind=kind, tag=tag, organisation=organisation,
                                project=project, page=page)


@router.post("/knowledge", response_model=KnowledgeOut, status_code=201)
def create_item(data: KnowledgeIn, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> KnowledgeOut:
    """Add an item for your organisation: private until you share it."""
    return service.item_view(session, viewer, item=service.create_item(session, viewer, data=data))


@router.get("/knowledge/{item_id}", response_model=KnowledgeOut)
def get_item(item_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> KnowledgeOut:
    return service.item_view(session, viewer, item=service.get_item(session, viewer, item_id=item_id))


@router.patch("/knowledge/{item_id}", response_model=KnowledgeOut)
def update_item(item_id: RecordId, changes: KnowledgePatch, session: Session = DbSession,
                viewer: Viewer = CurrentViewer) -> KnowledgeOut:
    """Save an edit made on ``version``. If a newer version was saved meanwhile: 409, with
    the stored text and yours under ``error.conflict``; nothing is overwritten."""
    return service.item_view(session, viewer, item=service.update_item(session, viewer, item_id=item_id,
                                                                         changes=changes))


@router.delete("/knowledge/{item_id}", status_code=204)
def delete_item(request: Request, item_id: RecordId, session: Session = DbSession,
                viewer: Viewer = CurrentViewer) -> Response:
    """Delete the item with its versions and attachments (their files too)."""
    keys = service.delete_item(session, viewer, item_id=item_id)
    delete_after_commit(session, storage_of(request.app.state.settings), keys)
    return NO_CONTENT


@router.get("/knowledge/{item_id}/versions", response_model=list[VersionOut])
def versions(item_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[VersionOut]:
    """Every saved version, newest first."""
    return service.versions(session, viewer, item=service.get_item(session, viewer, item_id=item_id))


@router.get("/knowledge/{item_id}/diff", response_model=DiffOut)
def diff(item_id: RecordId, old: Annotated[int, Query(ge=1, le=MAX_ID)], new: Annotated[int, Query(ge=1, le=MAX_ID)],
         session: Session = DbSession, viewer: Viewer = CurrentViewer) -> DiffOut:
    """What changed between two versions, line by line."""
    item = service.get_item(session, viewer, item_id=item_id)
    return service.diff(session, viewer, item=item, old=old, new=new)


@router.get("/knowledge/{item_id}/related", response_model=list[RelatedOut])
def related(item_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[RelatedOut]:
    """Items you may read that are closest in meaning."""
    return service.related(session, viewer, item=service.get_item(session, viewer, item_id=item_id, log=False))


def upload(request: Request, session: Session, viewer: Viewer, *, item_id: int,
           file: StarletteUpload) -> Attachment:
    """Check the viewer may attach, then stream the file to storage (size and type checked
    on the way) and record it. Shared by the API and the page."""
    item = service.get_item(session, viewer, item_id=item_id, log=False)
    service.ensure_may_attach(viewer, item)
    settings = request.app.state.settings
    storage = storage_of(settings)
    stored = receive(file.file, filename=file.filename, storage=storage, max_bytes=settings.max_attachment_bytes)
    delete_after_commit(session, storage, [stored.key], only_on_rollback=True)
    return service.add_attachment(session, viewer, item_id=item_id, stored=stored)


@router.post("/knowledge/{item_id}/attachments", response_model=AttachmentOut, status_code=201)
def add_attachment(request: Request, item_id: RecordId, file: Annotated[UploadFile, File(description=(
        "PDF, Word, Excel, PowerPoint, PNG, JPEG, GIF, WebP or plain text; the type is read from the content"))],
        session: Session = DbSession, viewer: Viewer = CurrentViewer) -> AttachmentOut:
    """Attach a file (at most the configured size, 25 MB by default: 413 beyond). Its text
    is read in the background and then found by search."""
    return service.attachment_view(upload(request, session, viewer, item_id=item_id, file=file))


def attachment_file(request: Request, session: Session, viewer: Viewer, *, item_id: int,
                    attachment_id: int) -> Response:
    attachment = service.get_attachment(session, viewer, item_id=item_id, attachment_id=attachment_id)
    chunks = storage_of(request.app.state.settings).open(attachment.storage_key)
    return download(chunks, attachment.filename, attachment.content_type, headers={
        "Content-Length": str(attachment.size), "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox"})


@router.get("/knowledge/{item_id}/attachments/{attachment_id}", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "The file, to save"}})
def get_attachment(request: Request, item_id: RecordId, attachment_id: RecordId, session: Session = DbSession,
                   viewer: Viewer = CurrentViewer) -> Response:
    """The file, always as a download (never shown in the browser)."""
    return attachment_file(request, session, viewer, item_id=item_id, attachment_id=attachment_id)


@router.delete("/knowledge/{item_id}/attachments/{attachment_id}", status_code=204)
def delete_attachment(request: Request, item_id: RecordId, attachment_id: RecordId, session: Session = DbSession,
                      viewer: Viewer = CurrentViewer) -> Response:
    key = service.delete_attachment(session, viewer, item_id=item_id, attachment_id=attachment_id)
    delete_after_commit(session, storage_of(request.app.state.settings), [key])
    return NO_CONTENT
