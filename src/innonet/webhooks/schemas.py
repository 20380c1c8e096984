"""Webhook endpoints and deliveries in and out of the API."""

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from innonet.text import InputModel
from innonet.webhooks.models import DELIVERY_STATUSES, EVENTS

if TYPE_CHECKING:
    Event = str
    DeliveryStatus = str
else:
    Event = Literal[tuple(EVENTS)]
    DeliveryStatus = Literal[tuple(DELIVERY_STATUSES)]


class WebhookIn(InputModel):
    url: str = Field(min_length=8, max_length=500, description="An https:// address on a public host")
    events: list[Event] = Field(min_length=1, max_length=len(EVENTS))


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Shown this once: check each body's X-Innonet-Signature with it")


class DeliveryOut(BaseModel):
    id: int
    event: str
    url: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
