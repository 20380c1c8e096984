"""Introduction requests in and out of the API."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from innonet.organisations.schemas import OrganisationSummary
from innonet.text import InputModel

OrganisationId = Field(min_length=1, max_length=64)


class IntroductionIn(InputModel):
    asker: str = Field(min_length=1, max_length=64, description="Your organisation's external id")
    introducer: str = Field(min_length=1, max_length=64, description=(
        "The organisation asked to introduce you: one that has worked with you or with the target"))
    target: str = Field(min_length=1, max_length=64, description="The organisation you want to meet")
    note: str = Field(min_length=1, max_length=1000, description=(
        "A short note to the introducer: who you are and why you want to meet the target"))
    contact: str | None = Field(default=None, max_length=300, description=(
        "Your contact person (name, e-mail or phone); default: your name and e-mail"))


class IntroductionAccept(InputModel):
    contact: str = Field(min_length=1, max_length=300, description=(
        "The target's contact person the asker may write to (name, e-mail or phone)"))
    reply: str | None = Field(default=None, max_length=1000, description="A word to both sides")


class IntroductionOut(BaseModel):
    """What a party sees: the asker never learns why a request was declined."""

    id: int
    status: Literal["pending", "accepted", "declined"]
    your_side: Literal["asker", "introducer", "target"]
    asker: OrganisationSummary
    introducer: OrganisationSummary
    target: OrganisationSummary
    note: str
    asker_contact: str | None = Field(description="Shown to the introducer, and to the target once introduced")
    target_contact: str | None = Field(description="Shown once introduced")
    reply: str | None
    created_at: datetime
    decided_at: datetime | None
