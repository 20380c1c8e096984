"""Pages: search the knowledge base, read an item with its attachments, history and related
items, write and edit one (a stale edit shows both texts), attach files."""

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from innonet import roles
from innonet.errors import EditConflict, InnonetError, InvalidInput
from innonet.knowledge import service
from innonet.knowledge.api import attachment_file, upload
from innonet.knowledge.models import KNOWLEDGE_KINDS, LINK_TYPES, TEXT_STATES, KnowledgeItem
from innonet.knowledge.schemas import KnowledgeIn, KnowledgePatch
from innonet.knowledge.storage import delete_after_commit, storage_of
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation
from innonet.organisations.schemas import OrganisationSummary
from innonet.projects import service as projects
from innonet.roles import Viewer
from innonet.sharing import service as sharing
from innonet.text import MAX_ID
from innonet.web import (
    CurrentViewer,
    DbSession,
    PostedForm,
    RecordId,
    form_ids,
    form_tags,
    form_text,
    redirect_with_flash,
    refused_form,
    render,
    template_globals,
)

router = APIRouter(include_in_schema=False)
template_globals(KNOWLEDGE_KINDS=KNOWLEDGE_KINDS, TEXT_STATES=TEXT_STATES, LINK_TYPES=LINK_TYPES)



@router.get("/knowledge", response_class=HTMLResponse)
def knowledge_page(request: Request, q: str = Query("", max_length=200), kind: str | None = Query(None, max_length=20),
                   tag: str | None = Query(None, max_length=40), organisation: str | None = Query(None, max_length=64),
                   project: int | None = Query(None, ge=1, le=MAX_ID), page: int = Query(1, ge=1, le=500),
                   session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    """Search (or browse, newest first) the items the viewer may read."""
    kind = kind if kind in KNOWLEDGE_KINDS else None
    found = service.search_items(session, viewer, query=q, kind=kind, tag=tag, organisation=organisation,
                                 project=project, page=page)
    mine = organisations.organisations_by_id(session, ids=sorted(viewer.member_of))
    filters = {"q": q, "kind": kind, "tag": tag, "organisation": organisation, "project": project}
    return render(request, "knowledge.html", {
        "found": found, "filters": filters, "page": page, "per_page": service.SEARCH_PAGE,
        "pages": max(1, -(-found.total // service.SEARCH_PAGE)),
        "tags": service.tags_in_use(session, viewer),
        "project_options": [(p.id, p.title) for p in projects.list_projects(session, viewer)] if viewer.signed_in
        else [],
        "my_organisations": sorted(mine.values(), key=lambda o: o.name)})


def _form(request: Request, session: Session, viewer: Viewer, *, owner: Organisation | OrganisationSummary,
          item: KnowledgeItem | None = None, values: dict, errors: dict | None = None,
          conflict: EditConflict | None = None, status_code: int = 200) -> Response:
    return render(request, "knowledge_form.html", {
        "owner": owner, "item": item, "values": values, "errors": errors or {}, "conflict": conflict,
        "agreement_options": [(a.id, f"{a.title} (#{a.id})") for a in sharing.list_agreements(session, viewer)]},
        status_code=status_code)


def _links(form: FormData) -> list[dict]:
    """Links typed one per line as "type:id" (e.g. "project:12")."""
    links = []
    for line in str(form.get("links") or "").replace(",", "\n").splitlines()[:50]:
        if line.strip():
            kind, _, record = line.strip().partition(":")
            links.append({"type": kind.strip(), "id": record.strip()})
    return links


def _values(form: FormData) -> dict:
    """The fields the form sent (one it left out stays as it was)."""
    values = {"kind": form_text(form, "kind"), "title": form_text(form, "title"), "body": str(form.get("body") or ""),
              "tags": form_tags(form),
              "links": _links(form), "visibility": form_text(form, "visibility"),
              "shared_with": form_ids(form, "shared_with"),
              "agreement": form_text(form, "agreement")}
    return {k: v for k, v in values.items() if k in form}


def _shown(values: dict) -> dict:
    """Form values as the boxes show them."""
    return values | {"tags": ", ".join(values.get("tags") or []),
                     "shared_with": " ".join(values.get("shared_with") or []),
                     "links": "\n".join(f"{link['type']}:{link['id']}" for link in values.get("links") or [])}


@router.get("/knowledge/new", response_class=HTMLResponse)
def new_item(request: Request, org: str | None = Query(None, max_length=64),
             project: int | None = Query(None, ge=1, le=MAX_ID), session: Session = DbSession,
             viewer: Viewer = CurrentViewer) -> Response:
    owner = organisations.acting_for(session, viewer, external_id=org, doing="add knowledge")
    values = {"kind": "how_to", "visibility": "private", "links": f"project:{project}" if project else ""}
    return _form(request, session, viewer, owner=owner, values=values)


@router.post("/knowledge/new", response_class=HTMLResponse)
def create_item(request: Request, org: str | None = Query(None, max_length=64), session: Session = DbSession,
                viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    owner = organisations.acting_for(session, viewer, external_id=form_text(form, "organisation") or org,
                                     doing="add knowledge")
    values = _values(form)
    try:
        data = KnowledgeIn.model_validate({k: v for k, v in values.items() if v is not None}
                                          | {"organisation": owner.external_id})
        with session.begin_nested():
            item = service.create_item(session, viewer, data=data)
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, "title")
        return _form(request, session, viewer, owner=owner, values=_shown(values), errors=errors,
                     status_code=status)
    return redirect_with_flash(request, f"/knowledge/{item.id}", "Saved: it is private until you share it."
                               if item.visibility == "private" else "Saved.")


@router.get("/knowledge/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, item_id: RecordId, session: Session = DbSession,
              viewer: Viewer = CurrentViewer) -> Response:
    item = service.get_item(session, viewer, item_id=item_id)
    return render(request, "knowledge_item.html", {
        "k": service.item_view(session, viewer, item=item), "related": service.related(session, viewer, item=item),
        "max_mb": request.app.state.settings.max_attachment_bytes / 1024 / 1024})


@router.get("/knowledge/{item_id}/edit", response_class=HTMLResponse)
def edit_item(request: Request, item_id: RecordId, session: Session = DbSession,
              viewer: Viewer = CurrentViewer) -> Response:
    item = service.get_item(session, viewer, item_id=item_id)
    roles.ensure_insider(viewer, item.organisation_id)
    view = service.item_view(session, viewer, item=item)
    values = view.model_dump(include={"kind", "title", "body", "tags", "visibility", "agreement", "version"})
    values |= {"shared_with": [o.external_id for o in view.shared_with],
               "links": [{"type": link.type, "id": link.id} for link in view.links]}
    return _form(request, session, viewer, owner=view.organisation, item=item, values=_shown(values))


@router.post("/knowledge/{item_id}/edit", response_class=HTMLResponse)
def update_item(request: Request, item_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer,
                form: FormData = PostedForm) -> Response:
    item = service.get_item(session, viewer, item_id=item_id, log=False)
    values = _values(form) | {"version": form_text(form, "version")}
    try:
        changes = KnowledgePatch.model_validate({k: v for k, v in values.items()
                                                 if v is not None or k == "agreement"})  # an emptied box clears it
        with session.begin_nested():
            service.update_item(session, viewer, item_id=item_id, changes=changes)
    except EditConflict as conflict:
        # Both texts on one page: theirs to read, yours still in the box, on the new version.
        owner = organisations.organisations_by_id(session, ids=[item.organisation_id])[item.organisation_id]
        return _form(request, session, viewer, owner=owner, item=item, conflict=conflict, status_code=409,
                     values=_shown(values) | {"version": conflict.stored["version"]})
    except (ValidationError, InnonetError) as error:
        errors, status = refused_form(session, error, "title")
        owner = organisations.organisations_by_id(session, ids=[item.organisation_id])[item.organisation_id]
        return _form(request, session, viewer, owner=owner, item=item, values=_shown(values),
                     errors=errors, status_code=status)
    return redirect_with_flash(request, f"/knowledge/{item_id}", "Saved as a new version.")


@router.get("/knowledge/{item_id}/history", response_class=HTMLResponse)
def history(request: Request, item_id: RecordId, old: int | None = Query(None, ge=1, le=MAX_ID),
            new: int | None = Query(None, ge=1, le=MAX_ID), session: Session = DbSession,
            viewer: Viewer = CurrentViewer) -> Response:
    """Every version, and what changed between the two chosen (by default the last two)."""
    item = service.get_item(session, viewer, item_id=item_id)
    found = service.versions(session, viewer, item=item)
    new = new or item.version
    old = old or max(1, new - 1)
    try:
        changes = service.diff(session, viewer, item=item, old=old, new=new) if len(found) > 1 else None
    except InvalidInput:
        changes = None
    return render(request, "knowledge_history.html", {"item": item, "versions": found, "diff": changes,
                                                      "old": old, "new": new})


@router.post("/knowledge/{item_id}/delete")
def delete_item(request: Request, item_id: RecordId, session: Session = DbSession,
                viewer: Viewer = CurrentViewer) -> Response:
    title = service.get_item(session, viewer, item_id=item_id, log=False).title
    keys = service.delete_item(session, viewer, item_id=item_id)
    delete_after_commit(session, storage_of(request.app.state.settings), keys)
    return redirect_with_flash(request, "/knowledge", f"“{title}” deleted with its versions and files.")


@router.post("/knowledge/{item_id}/attachments", response_class=HTMLResponse)
def attach(request: Request, item_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer,
           form: FormData = PostedForm) -> Response:
    file = form.get("file")
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            raise InvalidInput.for_field("file", "choose a file to attach")
        with session.begin_nested():
            attachment = upload(request, session, viewer, item_id=item_id, file=file)
    except InnonetError as error:
        if error.status_code in (401, 403, 404):
            raise
        item = service.get_item(session, viewer, item_id=item_id, log=False)
        return render(request, "knowledge_item.html", {
            "k": service.item_view(session, viewer, item=item), "related": [],
            "max_mb": request.app.state.settings.max_attachment_bytes / 1024 / 1024,
            "upload_error": error.problems[0].message if error.problems else error.message},
            status_code=error.status_code)
    note = " Its text will be searchable in a moment." if attachment.text_state == "pending" else ""
    return redirect_with_flash(request, f"/knowledge/{item_id}#attachments", f"Attached {attachment.filename}.{note}")


@router.get("/knowledge/{item_id}/attachments/{attachment_id}")
def get_attachment(request: Request, item_id: RecordId, attachment_id: RecordId, session: Session = DbSession,
                   viewer: Viewer = CurrentViewer) -> Response:
    return attachment_file(request, session, viewer, item_id=item_id, attachment_id=attachment_id)


@router.post("/knowledge/{item_id}/attachments/{attachment_id}/delete")
def remove_attachment(request: Request, item_id: RecordId, attachment_id: RecordId, session: Session = DbSession,
                      viewer: Viewer = CurrentViewer) -> Response:
    key = service.delete_attachment(session, viewer, item_id=item_id, attachment_id=attachment_id)
    delete_after_commit(session, storage_of(request.app.state.settings), [key])
    return redirect_with_flash(request, f"/knowledge/{item_id}#attachments", "File removed.")
