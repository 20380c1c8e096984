"""An organisation's webhook endpoints and the log of every event delivered to them."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from innonet.db import Base, UtcDateTime, check_one_of, utcnow

EVENTS = {
    "challenge.opened": "A challenge opens for ideas",
    "challenge.closed": "A challenge closes to new ideas",
    "idea.created": "An idea is submitted to one of our challenges",
    "idea.stage_changed": "An idea of one of our challenges changes stage (decisions too)",
    "comment.created": "A comment on an idea of one of our challenges",
    "alert.raised": "The daily check raises a partnership alert (a partnership decaying, an agreement expiring …)",
}
DELIVERY_STATUSES = {"pending": "Waiting", "delivered": "Delivered", "failed": "Failed"}


class Webhook(Base):
    __tablename__ = "webhook"
    __table_args__ = (Index("ix_webhook_organisation_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(500))
    # The key both sides hold to sign and check each body (HMAC-SHA256). Unlike our own
    # secrets it must be stored as it is: innonet signs with it.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one endpoint, tried until it is delivered or its attempts are used."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (check_one_of("status", DELIVERY_STATUSES),
                      Index("ix_webhook_delivery_webhook_id_created_at", "webhook_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
