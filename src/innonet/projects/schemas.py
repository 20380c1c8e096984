"""Joint projects and their items in and out of the API."""

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel, Field, model_validator

from innonet.matching.schemas import CulturalBriefing
from innonet.organisations.schemas import OrganisationSummary
from innonet.projects.models import (
    EXIT_KINDS,
    EXIT_STATES,
    FOREGROUND_RULES,
    ITEM_KINDS,
    ITEM_TYPES,
    MILESTONE_STATUSES,
    ORIGINS,
    OUTCOMES,
    PARTY_ROLES,
    PROJECT_EVENTS,
    PROJECT_KPIS,
    PROJECT_STATES,
    REVIEW_DECISIONS,
    RISK_STATUSES,
)
from innonet.sharing.schemas import AgreementRef, SharingFields, SharingOut
from innonet.text import TEXT_LIMITS, InputModel, RecordIdField

if TYPE_CHECKING:
    ProjectState = str
    PartyRole = str
    ForegroundRule = str
    ItemKind = str
    MilestoneStatus = str
    RiskStatus = str
    Outcome = str
    ExitKind = str
    ExitState = str
    ProjectKpi = str
    ReviewDecision = str
    Origin = str
    ItemType = str
    EventKind = str
else:
    ProjectState = Literal[tuple(PROJECT_STATES)]
    PartyRole = Literal[tuple(PARTY_ROLES)]
    ForegroundRule = Literal[tuple(FOREGROUND_RULES)]
    ItemKind = Literal[tuple(ITEM_KINDS)]
    MilestoneStatus = Literal[tuple(MILESTONE_STATUSES)]
    RiskStatus = Literal[tuple(RISK_STATUSES)]
    Outcome = Literal[tuple(OUTCOMES)]
    ExitKind = Literal[tuple(EXIT_KINDS)]
    ExitState = Literal[tuple(EXIT_STATES)]
    ProjectKpi = Literal[tuple(PROJECT_KPIS)]
    ReviewDecision = Literal[tuple(REVIEW_DECISIONS)]
    Origin = Literal[tuple(ORIGINS)]
    ItemType = Literal[tuple(ITEM_TYPES)]
    EventKind = Literal[tuple(PROJECT_EVENTS)]

OrganisationRef = str  # an organisation's external id
MAX_PARTIES = 50


def _organisation_ref(description: str) -> Any:  # Field() is typed as the value it stands for
    return Field(min_length=1, max_length=64, description=description)


class PartyIn(InputModel):
    organisation: OrganisationRef = _organisation_ref("The party's external id")
    role: PartyRole = "partner"


class PersonIn(InputModel):
    email: str = Field(min_length=3, max_length=320, description="An account's e-mail address")
    organisation: OrganisationRef = _organisation_ref(
        "The party the person works for; they must be its admin, member or guest")
    title: str | None = Field(default=None, max_length=100, description="Their role, e.g. 'project manager'")


class ExitCriterionIn(InputModel):
    kind: ExitKind
    days: int | None = Field(default=None, ge=0, le=3650, description=(
        "milestone_late: days late; inactive: days without activity; agreement_expiring: days before the end"))
    kpi: ProjectKpi | None = Field(default=None, description="kpi_below: the project figure watched")
    threshold: float | None = Field(default=None, ge=0, le=100, description="kpi_below: the lowest acceptable %")

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.kind == "kpi_below":
            if self.kpi is None or self.threshold is None:
                raise ValueError("kpi: a 'kpi_below' criterion needs a kpi and a threshold")
        elif self.days is None:
            raise ValueError(f"days: a {self.kind!r} criterion needs a number of days")
        elif self.kpi is not None or self.threshold is not None:
            raise ValueError("kpi: only a 'kpi_below' criterion watches a kpi")
        return self


class ProjectFields(InputModel):
    title: str = Field(min_length=1, max_length=200)
    summary: str | None = Field(default=None, max_length=TEXT_LIMITS["joint_project.summary"],
                                description="What the project is for (Markdown)")
    start_date: date
    end_date: date | None = None
    foreground_rule: ForegroundRule = Field(default="joint", description=(
        "Who owns the results: joint (the parties that made them), creator (the party that "
        "made each), assignment (one named party)"))
    assignee: OrganisationRef | None = Field(default=None, max_length=64, description=(
        "With 'assignment': the party that owns every result"))

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date: the project ends before it starts")
        return self


class ProjectIn(ProjectFields, SharingFields):
    """A new joint project. The lead's members and each party's members see it; its
    visibility says who else does (``private``: the parties only)."""

    organisation: OrganisationRef = _organisation_ref("The lead party's external id (you must be its member)")
    parties: list[PartyIn] = Field(default_factory=list, max_length=MAX_PARTIES,
                                   description="The other parties and their roles")
    agreements: list[RecordIdField] = Field(default_factory=list, max_length=20, description=(
        "Agreements the project works under (NDA, IP, collaboration); the lead must be party to each"))
    idea: RecordIdField | None = Field(default=None, description=(
        "Start from this idea: its authors join, its challenge and evaluation are carried over"))
    recommended_partner: OrganisationRef | None = Field(default=None, max_length=64, description=(
        "Start from a partner recommendation: this organisation joins as a partner"))
    exit_criteria: list[ExitCriterionIn] = Field(default_factory=list, max_length=20)


class ProjectPatch(InputModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    summary: str | None = Field(default=None, max_length=TEXT_LIMITS["joint_project.summary"])
    start_date: date | None = None
    end_date: date | None = None
    foreground_rule: ForegroundRule | None = None
    assignee: OrganisationRef | None = Field(default=None, max_length=64)
    visibility: str | None = None
    shared_with: list[str] | None = Field(default=None, max_length=200)
    agreement: RecordIdField | None = None


class AgreementsIn(InputModel):
    agreements: list[RecordIdField] = Field(max_length=20)


class ExitCriteriaIn(InputModel):
    exit_criteria: list[ExitCriterionIn] = Field(max_length=20)


class ReviewIn(InputModel):
    decision: ReviewDecision
    note: str | None = Field(default=None, max_length=TEXT_LIMITS["project_review.note"])


class CloseIn(InputModel):
    outcome: Outcome
    results_summary: str | None = Field(default=None, max_length=TEXT_LIMITS["joint_project.results_summary"])
    lessons: str | None = Field(default=None, max_length=TEXT_LIMITS["joint_project.lessons"], description=(
        "Lessons learned, one paragraph each (separated by a blank line); each becomes a knowledge item "
        "the parties see"))


# ---------------------------------------------------------------- items


class ItemFields(InputModel):
    audience: list[OrganisationRef] = Field(default_factory=list, max_length=MAX_PARTIES, description=(
        "Narrow the item to these parties (and the party recording it); empty: everyone who sees the project"))
    organisation: OrganisationRef | None = Field(default=None, max_length=64, description=(
        "The party recording it (default: your organisation among the parties)"))


class WorkPackageIn(ItemFields):
    code: str = Field(min_length=1, max_length=20, description="e.g. 'WP1'")
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=TEXT_LIMITS["work_package.description"])
    start_date: date | None = None
    end_date: date | None = None
    responsible: list[OrganisationRef] = Field(default_factory=list, max_length=MAX_PARTIES,
                                               description="The parties doing the work (at least one)")
    accountable: OrganisationRef | None = Field(default=None, max_length=64,
                                                description="The one party answerable for it (default: the lead)")
    consulted: list[OrganisationRef] = Field(default_factory=list, max_length=MAX_PARTIES)
    informed: list[OrganisationRef] = Field(default_factory=list, max_length=MAX_PARTIES)


class MilestoneIn(ItemFields):
    kind: ItemKind = "milestone"
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=TEXT_LIMITS["project_milestone.description"])
    work_package: RecordIdField | None = None
    due_on: date
    owner: OrganisationRef | None = Field(default=None, max_length=64, description="The party delivering it")
    owner_person: str | None = Field(default=None, max_length=320,
                                     description="E-mail of the person delivering it (on the project)")
    status: MilestoneStatus = "planned"
    done_on: date | None = None


class RiskIn(ItemFields):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=TEXT_LIMITS["project_risk.description"])
    likelihood: int = Field(default=3, ge=1, le=5)
    impact: int = Field(default=3, ge=1, le=5)
    mitigation: str | None = Field(default=None, max_length=TEXT_LIMITS["project_risk.mitigation"])
    owner: OrganisationRef | None = Field(default=None, max_length=64)
    status: RiskStatus = "open"


class DecisionIn(ItemFields):
    title: str = Field(min_length=1, max_length=200)
    decided_on: date
    rationale: str | None = Field(default=None, max_length=TEXT_LIMITS["project_decision.rationale"])
    decided_by: str | None = Field(default=None, max_length=200, description="Who decided, in words")


class BackgroundIpIn(ItemFields):
    """What the recording party brings in and keeps owning."""

    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=TEXT_LIMITS["background_ip.description"])
    terms: str | None = Field(default=None, max_length=500,
                              description="On what terms the other parties may use it")


class ResultIn(ItemFields):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=TEXT_LIMITS["project_result.description"])
    owners: list[OrganisationRef] = Field(default_factory=list, max_length=MAX_PARTIES, description=(
        "Joint ownership: the parties that made it (two or more); owner by creator: the one that made it "
        "(default: the recording party); assignment: left empty (the assignee owns it)"))


ITEM_INPUTS: dict[str, type[ItemFields]] = {
    "work_package": WorkPackageIn, "milestone": MilestoneIn, "risk": RiskIn, "decision": DecisionIn,
    "background_ip": BackgroundIpIn, "result": ResultIn,
}


# ---------------------------------------------------------------- out


class PartyOut(BaseModel):
    organisation: OrganisationSummary
    role: PartyRole
    country: str | None


class PersonOut(BaseModel):
    user_id: int
    name: str
    organisation: OrganisationSummary
    title: str | None


class ItemOut(BaseModel):
    """Common to every item; ``fields`` holds the item's own fields."""

    id: int
    type: ItemType
    organisation: OrganisationSummary
    audience: list[OrganisationSummary] | None = Field(description="None: everyone who sees the project")
    fields: dict
    created_at: datetime
    updated_at: datetime


class ExitCriterionOut(BaseModel):
    id: int
    kind: ExitKind
    description: str
    days: int | None
    kpi: ProjectKpi | None
    threshold: float | None
    state: ExitState
    evidence: str | None
    checked_at: datetime | None


class ReviewOut(BaseModel):
    id: int
    raised_at: datetime
    evidence: str
    decision: ReviewDecision | None
    note: str | None
    decided_by: str | None
    decided_at: datetime | None


class EventOut(BaseModel):
    at: datetime
    actor: str
    kind: EventKind
    text: str


class ProjectSummary(BaseModel):
    id: int
    title: str
    organisation: OrganisationSummary
    state: ProjectState
    start_date: date
    end_date: date | None
    parties: int
    review_open: bool
    outcome: Outcome | None


class ProjectOut(SharingOut):
    id: int
    title: str
    summary: str | None
    organisation: OrganisationSummary
    state: ProjectState
    origin: Origin
    start_date: date
    end_date: date | None
    idea: int | None
    challenge: int | None
    evaluation: dict | None
    foreground_rule: ForegroundRule
    foreground_meaning: str
    assignee: OrganisationSummary | None
    parties: list[PartyOut]
    people: list[PersonOut]
    agreements: list[AgreementRef]
    items: dict[str, list[ItemOut]] = Field(description="Item type -> the items you may see")
    exit_criteria: list[ExitCriterionOut]
    reviews: list[ReviewOut]
    review_open: bool
    outcome: Outcome | None
    closed_on: date | None
    results_summary: str | None
    lessons: str | None
    last_activity_at: datetime
    may_manage: bool = Field(description="You may change parties, agreements, exit criteria and close it")
    may_contribute: bool = Field(description="You may add and change items")
    created_at: datetime


class ProjectView(ProjectOut):
    """A project as its pages show it: which parties the viewer speaks for."""

    acting_for: list[str] = Field(description="The parties the viewer acts for, the lead first (external ids)")
    may_remove: list[str] = Field(description="The parties the viewer may remove, or leave for (external ids)")


class ProjectExport(ProjectOut):
    """A project as ``innonet projects export`` writes it: with its activity log."""

    activity: list[EventOut]


class TimelineBar(BaseModel):
    id: int
    label: str
    start: date
    end: date
    left: float = Field(description="Where the bar starts, in percent of the axis")
    width: float = Field(description="How long it is, in percent of the axis (at least 1)")


class TimelineMark(BaseModel):
    id: int
    label: str
    kind: ItemKind
    due_on: date
    at: float = Field(description="Where the mark sits, in percent of the axis")
    planned_on: date
    slipped_days: int = Field(description="How far the due date moved from the first plan")
    status: MilestoneStatus
    late_days: int | None


class TimelineTick(BaseModel):
    date: date
    at: float
    label: bool = Field(description="Its month is written: there is room for it on a wide screen")
    phone_label: bool = Field(description="Its month is written on a phone too")


class Timeline(BaseModel):
    """Where each work package's bar and each milestone's mark go on the project's time axis."""

    start: date
    end: date
    bars: list[TimelineBar]
    marks: list[TimelineMark]
    ticks: list[TimelineTick]
    today: float | None = Field(description="Where today is on the axis; none outside it")


class BriefingOut(CulturalBriefing):
    """Hofstede's national averages compared for each pair of the parties' countries.
    They describe countries, not the people in the project."""

    parties_by_country: dict[str, list[str]]
    without_country: list[str]
