"""Page: an organisation's webhooks, with the form to add one and the delivery log."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from innonet.errors import InnonetError
from innonet.organisations import service as organisations
from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession, PostedForm, RecordId, redirect_with_flash, render, template_globals
from innonet.webhooks import service
from innonet.webhooks.models import DELIVERY_STATUSES, EVENTS

router = APIRouter(include_in_schema=False)
template_globals(WEBHOOK_EVENTS=EVENTS, DELIVERY_STATUSES=DELIVERY_STATUSES)


def _page(request: Request, session: Session, viewer: Viewer, external_id: str, *, values: dict | None = None,
          errors: dict | None = None, created: dict | None = None, status_code: int = 200) -> Response:
    return render(request, "webhooks.html", {
        "org": organisations.get_organisation(session, external_id=external_id),
        "webhooks": service.list_webhooks(session, viewer, external_id=external_id),
        "deliveries": service.deliveries(session, viewer, external_id=external_id),
        "values": values or {"events": list(EVENTS)}, "errors": errors or {}, "created": created},
        status_code=status_code)


@router.get("/orgs/{external_id}/webhooks", response_class=HTMLResponse)
def webhooks(request: Request, external_id: str, session: Session = DbSession,
             viewer: Viewer = CurrentViewer) -> Response:
    return _page(request, session, viewer, external_id)


@router.post("/orgs/{external_id}/webhooks", response_class=HTMLResponse)
def create_webhook(request: Request, external_id: str, session: Session = DbSession,
                   viewer: Viewer = CurrentViewer, form: FormData = PostedForm) -> Response:
    url, events = str(form.get("url") or "")[:500], [str(e) for e in form.getlist("events")][:10]
    values = {"url": url, "events": events}
    try:
        with session.begin_nested():
            webhook, secret = service.create_webhook(session, viewer, external_id=external_id, url=url,
                                                     events=events)
    except InnonetError as error:
        if error.status_code in (401, 403, 404):
            raise
        return _page(request, session, viewer, external_id, values=values, status_code=error.status_code,
                     errors={p.field or "url": p.message for p in error.problems} or {"url": error.message})
    # The secret is shown on this answer only: it is not in the address or a cookie.
    return _page(request, session, viewer, external_id, created={"url": webhook.url, "secret": secret},
                 status_code=201)


@router.post("/webhooks/{webhook_id}/delete")
def delete_webhook(request: Request, webhook_id: RecordId, session: Session = DbSession,
                   viewer: Viewer = CurrentViewer) -> Response:
    from innonet.webhooks.models import Webhook

    webhook = session.get(Webhook, webhook_id)
    service.delete_webhook(session, viewer, webhook_id=webhook_id)
    owner = organisations.organisations_by_id(session, ids=[webhook.organisation_id])[webhook.organisation_id] \
        if webhook else None
    return redirect_with_flash(request, f"/orgs/{owner.external_id}/webhooks" if owner else "/",
                               "Webhook deleted: it receives nothing more.")
