"""JSON endpoints: an organisation's webhooks and their delivery log (its administrators)."""

from fastapi import Response
from sqlalchemy.orm import Session

from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession, RecordId, api_router
from innonet.webhooks import service
from innonet.webhooks.models import Webhook
from innonet.webhooks.schemas import DeliveryOut, WebhookCreated, WebhookIn, WebhookOut

router = api_router(tags=["webhooks"])


@router.get("/orgs/{external_id}/webhooks", response_model=list[WebhookOut])
def webhooks(external_id: str, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[Webhook]:
    return service.list_webhooks(session, viewer, external_id=external_id)


@router.post("/orgs/{external_id}/webhooks", response_model=WebhookCreated, status_code=201)
def create_webhook(external_id: str, data: WebhookIn, session: Session = DbSession,
                   viewer: Viewer = CurrentViewer) -> dict:
    """Register an endpoint; the answer holds its signing secret, shown this once."""
    webhook, secret = service.create_webhook(session, viewer, external_id=external_id, url=data.url,
                                             events=data.events)
    return WebhookOut.model_validate(webhook).model_dump() | {"secret": secret}


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    service.delete_webhook(session, viewer, webhook_id=webhook_id)
    return Response(status_code=204)


@router.get("/orgs/{external_id}/webhook-deliveries", response_model=list[DeliveryOut])
def deliveries(external_id: str, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[dict]:
    """The newest 100 deliveries: status, attempts and the endpoint's last answer."""
    return [{c: getattr(d, c) for c in DeliveryOut.model_fields if c != "url"} | {"url": url}
            for d, url in service.deliveries(session, viewer, external_id=external_id)]
