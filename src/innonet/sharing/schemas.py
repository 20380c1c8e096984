"""Pydantic shapes of sharing settings, agreements and audit events."""

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from innonet.organisations.schemas import OrganisationSummary
from innonet.sharing.models import (
    AGREEMENT_KINDS,
    AGREEMENT_STATUSES,
    AUDIT_ACTIONS,
    VISIBILITIES,
    AuditEvent,
)
from innonet.text import TEXT_LIMITS, InputModel, RecordIdField

# Each vocabulary's words, checked by the API; a type checker sees plain strings.
if TYPE_CHECKING:
    Visibility = str
    AgreementKind = str
    AgreementStatus = str
    AuditAction = str
    AuditItemType = str
else:
    Visibility = Literal[tuple(VISIBILITIES)]
    AgreementKind = Literal[tuple(AGREEMENT_KINDS)]
    AgreementStatus = Literal[tuple(AGREEMENT_STATUSES)]
    AuditAction = Literal[AUDIT_ACTIONS]
    AuditItemType = Literal[tuple(AuditEvent.ITEM_TYPES)]


class SharingFields(InputModel):
    """Who may see a record. New records are private until their owner shares them."""

    visibility: Visibility = Field(default="private", description=(
        "private: the owner's members; partners: the organisations in shared_with; "
        "network: every member of the platform; public: everyone"))
    shared_with: list[str] = Field(default_factory=list, max_length=200, description=(
        "External ids of the organisations that see the record when visibility is 'partners'"))
    agreement: RecordIdField | None = Field(default=None, description=(
        "With 'partners': they see it only while this agreement is in force and they are party to it"))


class SharingOut(BaseModel):
    visibility: Visibility
    shared_with: list[OrganisationSummary] = Field(
        description="Shown in full to the owner's members; others see only their own organisations")
    agreement: int | None


class DocumentFields(InputModel):
    model_config = ConfigDict(from_attributes=True, str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=300)
    filename: str | None = Field(default=None, max_length=300)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    signed_on: date | None = None
    location: str | None = Field(default=None, max_length=500,
                                 description="Where the signed file is kept (not stored here)")


class AgreementFields(InputModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    kind: AgreementKind
    title: str = Field(min_length=1, max_length=300)
    status: AgreementStatus = "draft"
    start_date: date | None = None
    end_date: date | None = None
    notes: str | None = Field(default=None, max_length=TEXT_LIMITS["agreement.notes"])
    documents: list[DocumentFields] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _dates_in_order(self) -> "AgreementFields":
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date: the end date is before the start date")
        return self


class AgreementIn(AgreementFields):
    owner: str = Field(min_length=1, description="External id of the organisation recording it")
    parties: list[str] = Field(min_length=1, max_length=50, description=(
        "External ids of the other parties (the owner is always a party)"))


class AgreementPatch(InputModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=300)
    status: AgreementStatus | None = None
    start_date: date | None = None
    end_date: date | None = None
    notes: str | None = Field(default=None, max_length=TEXT_LIMITS["agreement.notes"])
    documents: list[DocumentFields] | None = Field(default=None, max_length=50)


class AgreementOut(AgreementFields):
    id: int
    owner: OrganisationSummary
    parties: list[OrganisationSummary]
    in_force: bool = Field(description="Whether it gates access today (status and dates)")
    created_at: datetime
    updated_at: datetime


class AgreementRef(BaseModel):
    """A linked agreement; to a viewer who may not read it (not an insider of its parties),
    only that it is there: ``readable`` false and every other field null."""

    id: int | None
    kind: str | None
    title: str | None
    status: str | None
    start_date: date | None
    end_date: date | None
    in_force: bool | None
    readable: bool


class ClusterConsentIn(InputModel):
    consent: bool = Field(description="Let the cluster manager count our network in aggregates")


class ClusterConsentOut(BaseModel):
    consent: bool
    since: datetime | None


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    action: str
    item_type: str
    item_id: int
    channel: str
    path: str | None
    detail: str | None


class AuditFilter(InputModel):
    """Which events of an audit log to show; an empty or absent field means any."""

    actor: str | None = Field(default=None, max_length=320, description=(
        "Part of who did it: an e-mail address, 'visitor' or 'command line'"))
    action: AuditAction | None = None
    item_type: AuditItemType | None = Field(default=None, description="The kind of record")
    item_id: RecordIdField | None = Field(default=None, description="The record's id")
    since: date | None = Field(default=None, description="From this day (UTC)")
    until: date | None = Field(default=None, description="Up to and including this day (UTC)")

    @model_validator(mode="before")
    @classmethod
    def _empty_means_any(cls, data: object) -> object:
        # A filter form sent by GET sends its empty boxes too.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data
