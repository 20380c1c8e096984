"""Webhooks: an organisation's administrators register endpoints; each event of theirs
is posted as JSON, signed, by a background job that retries with back-off and logs every
delivery. Services flush, never commit.

Every body is signed with the endpoint's secret: the header ``X-Innonet-Signature`` holds
``sha256=`` and the hex HMAC-SHA256 of the raw body; ``X-Innonet-Event`` names the event
and ``X-Innonet-Delivery`` the delivery, which a receiver uses to ignore a repeat (a
delivery is posted again only when innonet could not record that it arrived).
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from innonet import roles
from innonet.config import Settings
from innonet.db import transaction, utcnow
from innonet.errors import Conflict, InvalidInput, NotFound
from innonet.jobs.queue import queue_of
from innonet.jobs.service import JobContext, PassingFailure, job_kind
from innonet.organisations import service as organisations
from innonet.roles import Viewer
from innonet.webhooks.models import EVENTS, Webhook, WebhookDelivery

DELIVER_JOB = "webhooks.deliver"
# Tries of one delivery (the job's attempts, with the jobs' back-off between them).
ATTEMPTS = 3
TIMEOUT = 10
MAX_WEBHOOKS = 10
USER_AGENT = "innonet-webhooks"


def _settings(session: Session) -> Settings:
    from innonet.accounts import mail  # the settings of the app or worker of this session

    return mail.settings_of(session)


# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052 and 8215).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list:
    """The address and every IPv4 address it carries (mapped, 6to4, Teredo, NAT64)."""
    found: list = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        found += [a for a in (ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())) if a is not None]
        if any(ip in network for network in _NAT64):
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _refused_ip(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%")[0])
    for carried in _embedded(ip):
        if not carried.is_global or carried.is_multicast:
            return f"a private, loopback or reserved address ({ip})"
    return None


def resolve(host: str, port: int, *, allow_local: bool) -> str:
    """The one address a call to ``host`` connects to; InvalidInput naming ``url`` when the
    host does not resolve, or (in production) when any of its addresses is not public. The
    caller connects to exactly this address, so a name that resolves anew to a private one
    between the check and the call (DNS rebinding) reaches nothing."""
    try:
        addresses = list(dict.fromkeys(str(info[4][0]) for info in socket.getaddrinfo(
            host, port, proto=socket.IPPROTO_TCP)))
    except (OSError, UnicodeError):
        raise InvalidInput.for_field("url", f"{host} cannot be resolved") from None
    if not allow_local:
        for address in addresses:
            if reason := _refused_ip(address):
                raise InvalidInput.for_field("url", f"{host} points to {reason}")
    return addresses[0]


def check_url(url: str, *, allow_local: bool) -> str:
    """The endpoint's address, or InvalidInput naming ``url``: https on a public address
    (http and private addresses too where the deployment allows them)."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" and not (allow_local and parts.scheme == "http"):
        raise InvalidInput.for_field("url", "use an https:// address")
    if not parts.hostname or parts.username or parts.password:
        raise InvalidInput.for_field("url", "give a full address such as https://example.org/hooks/innonet, "
                                     "without a user name or password")
    if not allow_local:
        resolve(parts.hostname, parts.port or 443, allow_local=False)
    return url.strip()


def create_webhook(session: Session, viewer: Viewer, *, external_id: str, url: str,
                   events: list[str]) -> tuple[Webhook, str]:
    """Register an endpoint for the organisation (its administrators); returns it with its
    secret, shown this once."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    roles.ensure_insider(viewer, organisation.id, admin=True)
    if unknown := [e for e in events if e not in EVENTS]:
        raise InvalidInput.for_field("events", f"no event {unknown[0][:40]!r}; the events are " + ", ".join(EVENTS))
    if not events:
        raise InvalidInput.for_field("events", "choose at least one event")
    url = check_url(url, allow_local=_settings(session).webhooks_allow_local)
    count = session.scalar(select(func.count()).select_from(Webhook).where(Webhook.organisation_id == organisation.id))
    if (count or 0) >= MAX_WEBHOOKS:
        raise Conflict(f"An organisation may have {MAX_WEBHOOKS} webhooks: delete one first.")
    secret = secrets.token_urlsafe(32)
    webhook = Webhook(organisation_id=organisation.id, url=url, secret=secret, events=list(dict.fromkeys(events)),
                      created_by_id=viewer.user_id)
    session.add(webhook)
    session.flush()
    return webhook, secret


def list_webhooks(session: Session, viewer: Viewer, *, external_id: str) -> list[Webhook]:
    organisation = organisations.get_organisation(session, external_id=external_id)
    roles.ensure_insider(viewer, organisation.id, admin=True)
    return list(session.scalars(select(Webhook).where(Webhook.organisation_id == organisation.id)
                                .order_by(Webhook.id)))


def delete_webhook(session: Session, viewer: Viewer, *, webhook_id: int) -> None:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or not viewer.admin_of(webhook.organisation_id):
        raise NotFound(f"No webhook with id {webhook_id}.")
    roles.ensure_can_write(viewer)
    session.delete(webhook)
    session.flush()


def deliveries(session: Session, viewer: Viewer, *, external_id: str, limit: int = 100) -> list[tuple]:
    """The newest deliveries to the organisation's endpoints, with their endpoint."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    roles.ensure_insider(viewer, organisation.id, admin=True)
    return list(session.execute(select(WebhookDelivery, Webhook.url).join(Webhook).where(
        Webhook.organisation_id == organisation.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit)).all())


def emit(session: Session, *, organisation_id: int, event: str, data: dict) -> None:
    """Queue ``event`` for each active endpoint of the organisation that wants it; posted
    once this transaction commits."""
    hooks = [w for w in session.scalars(select(Webhook).where(
        Webhook.organisation_id == organisation_id, Webhook.active.is_(True))) if event in w.events]
    if not hooks:
        return
    organisation = organisations.organisations_by_id(session, ids=[organisation_id])[organisation_id]
    made = []
    for hook in hooks:
        delivery = WebhookDelivery(webhook_id=hook.id, event=event, body="", created_at=utcnow())
        session.add(delivery)
        session.flush()
        delivery.body = json.dumps({"event": event, "delivery": delivery.id, "at": delivery.created_at.isoformat(),
                                    "organisation": organisation.external_id, "data": data},
                                   ensure_ascii=False, separators=(",", ":"), default=str)
        made.append(delivery.id)
    session.flush()
    # Events happen through the web app, whose queue posts them; elsewhere (a test of the
    # services) they stay pending in the log.
    if (queue := queue_of(session)) is not None:
        for delivery_id in made:
            queue.submit_after_commit(session, DELIVER_JOB, {"delivery": delivery_id},
                                      organisation_id=organisation_id)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(factory: sessionmaker, settings: Settings, delivery_id: int) -> bool:
    """Post one delivery; True once delivered (a delivered one is never posted again).
    A failure is logged on the delivery and raised as PassingFailure while attempts are
    left; the last one marks the delivery failed."""
    with transaction(factory, writes=False) as session:
        found = session.execute(select(WebhookDelivery, Webhook).join(Webhook).where(
            WebhookDelivery.id == delivery_id)).first()
        if found is None:
            return False  # its endpoint was deleted
        delivery, hook = found
        if delivery.status != "pending":
            return delivery.status == "delivered"
        body, url, secret, event = delivery.body.encode(), hook.url, hook.secret, delivery.event
    code, error = _post(url, body, secret, event, delivery_id, settings)
    with transaction(factory) as session:
        delivery = session.get_one(WebhookDelivery, delivery_id)
        delivery.attempts += 1
        delivery.last_status_code, delivery.last_error = code, error
        if error is None:
            delivery.status, delivery.delivered_at = "delivered", utcnow()
        elif delivery.attempts >= ATTEMPTS:
            delivery.status = "failed"
        attempts, status = delivery.attempts, delivery.status
    if error is not None and status == "pending":
        raise PassingFailure(f"the endpoint {urlsplit(url).hostname} answered: {error} "
                             f"(attempt {attempts} of {ATTEMPTS})")
    return error is None


def _post(url: str, body: bytes, secret: str, event: str, delivery_id: int,
          settings: Settings) -> tuple[int | None, str | None]:
    """(HTTP status, None) when the endpoint took it (2xx), else (status or None, why). The
    host is resolved once and checked, and exactly that address is called (TLS still checks
    the host's name); a redirect is not followed: it counts as a failure."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    try:
        port = parts.port or (443 if secure else 80)
        address = resolve(parts.hostname or "", port, allow_local=settings.webhooks_allow_local)
    except InvalidInput as refused:
        return None, refused.problems[0].message
    except ValueError as failure:  # a port out of range
        return None, f"ValueError: {str(failure)[:200]}"
    connection = (_PinnedHTTPS if secure else _PinnedHTTP)(parts.hostname or "", port, address=address,
                                                          timeout=TIMEOUT)
    try:
        connection.request("POST", urlunsplit(("", "", parts.path or "/", parts.query, "")), body=body, headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT, "X-Innonet-Event": event,
            "X-Innonet-Delivery": str(delivery_id), "X-Innonet-Signature": signature(secret, body)})
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as failure:
        return None, f"{type(failure).__name__}: {str(failure)[:200]}"
    finally:
        connection.close()
    if 200 <= status < 300:
        return status, None
    return status, f"HTTP {status}" + (" (a redirect, which is not followed)" if 300 <= status < 400 else "")


class _PinnedHTTP(http.client.HTTPConnection):
    """A connection to the address that was checked, whatever the name resolves to now."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@job_kind(DELIVER_JOB, title="Deliver a webhook event", attempts=ATTEMPTS)
def _deliver_job(context: JobContext) -> dict:
    return {"delivered": deliver(context.sessions, context.settings, context.params["delivery"])}
