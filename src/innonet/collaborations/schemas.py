"""Pydantic shapes of projects, participations and relationships."""

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from innonet.collaborations.models import (
    DIRECTIONS,
    PARTICIPATION_ROLES,
    RELATIONSHIP_KINDS,
)
from innonet.organisations.schemas import OrganisationOut, OrganisationSummary
from innonet.sharing.schemas import SharingFields, SharingOut, Visibility
from innonet.text import TEXT_LIMITS, InputModel, RecordIdField

# Each vocabulary's words, checked by the API; a type checker sees plain strings.
if TYPE_CHECKING:
    RelationshipKind = str
    Direction = str
    Role = str
else:
    RelationshipKind = Literal[tuple(RELATIONSHIP_KINDS)]
    Direction = Literal[tuple(DIRECTIONS)]
    Role = Literal[tuple(PARTICIPATION_ROLES)]


class RelationshipFields(InputModel):
    """What describes a tie, apart from the two organisations it joins."""

    model_config = ConfigDict(str_strip_whitespace=True)

    kind: RelationshipKind = Field(description="What the partner is to the organisation")
    direction: Direction = "mutual"
    start_date: date | None = None
    end_date: date | None = None
    strength: int = Field(default=3, ge=1, le=5, description="1 weak … 5 strategic")
    notes: str | None = Field(default=None, max_length=TEXT_LIMITS["relationship.notes"])

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date: the end date is before the start date")
        return self


class RelationshipIn(RelationshipFields, SharingFields):
    organisation: str = Field(min_length=1, description="External id of the organisation")
    partner: str = Field(min_length=1, description="External id of the partner")


class RelationshipPatch(InputModel):
    """A partial update of a relationship: only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    kind: RelationshipKind | None = None
    direction: Direction | None = None
    start_date: date | None = None
    end_date: date | None = None
    strength: int | None = Field(default=None, ge=1, le=5)
    notes: str | None = Field(default=None, max_length=TEXT_LIMITS["relationship.notes"])
    visibility: Visibility | None = None
    shared_with: list[str] | None = Field(default=None, max_length=200)
    agreement: RecordIdField | None = None


class RelationshipOut(RelationshipFields, SharingOut):
    id: int
    organisation: OrganisationSummary
    partner: OrganisationSummary
    source: Literal["manual", "import"]
    created_at: datetime
    updated_at: datetime


class ProjectSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    external_id: str
    acronym: str | None
    title: str | None
    programme: str | None
    start_date: date | None
    end_date: date | None


class ProjectOut(ProjectSummary):
    rcn: int | None
    topic: str | None
    description: str | None
    budget: float | None
    eu_contribution: float | None


class ProjectPage(BaseModel):
    items: list[ProjectSummary]
    total: int
    total_capped: bool = Field(description="True when a text search matched more than `total` "
                               "projects: counting stops at 1,000; add words or filters")
    page: int
    per_page: int


class ParticipantOut(BaseModel):
    organisation: OrganisationSummary
    role: Role
    contribution: float | None


class ProjectDetail(ProjectOut):
    participants: list[ParticipantOut]


class ProjectParticipationOut(BaseModel):
    project: ProjectSummary
    role: Role
    contribution: float | None


class PartnerOut(BaseModel):
    organisation: OrganisationSummary
    shared_projects: int = Field(description="Projects both take part in (the link weight)")
    relationship_kinds: list[RelationshipKind]


class OrganisationDetail(OrganisationOut):
    partner_count: int
    partners: list[PartnerOut] = Field(description="Strongest partners first, up to partners_limit")
    project_count: int
    projects: list[ProjectParticipationOut] = Field(description="Newest first, up to projects_limit")
    relationships: list[RelationshipOut]


class EgoNode(BaseModel):
    id: str = Field(description="The organisation's external id")
    label: str = Field(description="Its short name, else its name")
    name: str
    kind: str | None
    country: str | None
    is_centre: bool


class EgoEdge(BaseModel):
    source: str
    target: str
    weight: int = Field(description="Projects the two share")
    relationship_kinds: list[str] = Field(description="Kinds of the recorded relationships you may see")


class EgoNetwork(BaseModel):
    """An organisation, its strongest partners and the links among them, for drawing."""

    nodes: list[EgoNode]
    edges: list[EgoEdge]
    partner_count: int = Field(description="All its partners, drawn or not")


class CountryRelationships(BaseModel):
    country: str
    relationships: int


class ClusterSummary(BaseModel):
    """Counts over the organisations that consented to the cluster manager's view."""

    consenting_organisations: int
    relationships: int
    relationships_by_kind: dict[str, int]
    partner_countries: list[CountryRelationships] = Field(
        description="The partners' countries, most relationships first")
