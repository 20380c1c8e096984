"""Joint projects that organisations run together on innonet: their parties and people,
work packages, milestones and deliverables, risks, decisions, the IP register, exit
criteria and reviews. (Funded projects imported from public data are
``collaborations.models.Project``; they stay public and apart.)"""

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from innonet.db import Base, UtcDateTime, check_length, check_one_of, utcnow
from innonet.sharing.models import Shareable, visibility_constraint

PROJECT_STATES = {
    "active": "Running",
    "closed": "Closed",
}
ORIGINS = {
    "scratch": "Started from scratch",
    "idea": "Started from an idea",
    "recommendation": "Started from a partner recommendation",
}
PARTY_ROLES = {
    "lead": "Lead",
    "partner": "Partner",
    "subcontractor": "Subcontractor",
    "advisor": "Advisor",
}
# Who owns what the project makes (foreground), and what that means in plain words.
FOREGROUND_RULES = {
    "joint": "Joint ownership",
    "creator": "Owner by creator",
    "assignment": "Assignment to one party",
}
FOREGROUND_MEANINGS = {
    "joint": ("Results belong jointly to the parties that made them together. Each co-owner "
              "may use them for its own research and business; licensing them to others or "
              "selling them needs the other co-owners' agreement (and usually fair compensation)."),
    "creator": ("Each result belongs to the party whose people made it. The other parties may "
                "use it for the project's work while the project runs; any other use needs a "
                "licence from the owner."),
    "assignment": ("Every result belongs to one named party: the others assign their rights in "
                   "what they make to it, and keep the right to use it for the project's work."),
}
ITEM_KINDS = {"milestone": "Milestone", "deliverable": "Deliverable"}
MILESTONE_STATUSES = {
    "planned": "Planned",
    "done": "Done",
    "cancelled": "Cancelled",
}
RISK_STATUSES = {"open": "Open", "closed": "Closed"}
OUTCOMES = {
    "succeeded": "Succeeded: it reached its goals",
    "partly": "Partly: some goals reached",
    "stopped": "Stopped: ended before reaching its goals",
}
# Exit criteria set at the start, checked every day (projects.exits).
EXIT_KINDS = {
    "milestone_late": "A milestone or deliverable is late by more than N days",
    "inactive": "Nothing happened in the project for N days",
    "kpi_below": "A project figure falls below a threshold",
    "agreement_expiring": "A linked agreement ends within N days or is no longer in force",
}
# The project figures an exit criterion may watch, each a percentage.
PROJECT_KPIS = {
    "milestones_on_time": "Milestones and deliverables done by their due date (% of those due)",
    "deliverables_done": "Deliverables done (% of those due so far)",
}
EXIT_STATES = {
    "unchecked": "Not checked yet",
    "ok": "Not met",
    "met": "Met",
    "unknown": "Cannot be checked",
}
REVIEW_DECISIONS = {
    "continue": "Continue as planned",
    "change": "Continue with changes",
    "exit": "Exit: close the project",
}
PROJECT_EVENTS = {
    "created": "Project started",
    "party_added": "Party added",
    "party_removed": "Party removed",
    "item_added": "Added",
    "item_changed": "Changed",
    "item_deleted": "Deleted",
    "review_raised": "Review raised",
    "review_decided": "Review decided",
    "closed": "Project closed",
    "changed": "Project changed",
}
# The items of a project, by the name the audience table, the activity log and the API use.
ITEM_TYPES = {
    "work_package": "Work package",
    "milestone": "Milestone or deliverable",
    "risk": "Risk",
    "decision": "Decision",
    "background_ip": "Background IP",
    "result": "Result",
}


class JointProject(Shareable, Base):
    """A project organisations run together. Its parties' members always see it; its
    visibility says who else does (``private``: the parties only)."""

    __tablename__ = "joint_project"
    share_type = "joint_project"
    owner_column = "organisation_id"
    __table_args__ = (
        visibility_constraint(), check_one_of("state", PROJECT_STATES), check_one_of("origin", ORIGINS),
        check_one_of("foreground_rule", FOREGROUND_RULES),
        check_one_of("outcome", OUTCOMES, optional=True),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
        check_length("joint_project", "summary"), check_length("joint_project", "results_summary"),
        check_length("joint_project", "lessons"),
        Index("ix_joint_project_organisation_id", "organisation_id"),
        Index("ix_joint_project_idea_id", "idea_id"),
    )

    def shared_notice(self, owner_external_id: str) -> tuple[str, str]:
        return f"the project “{self.title}”", f"/projects/{self.id}"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The lead party; its administrators manage parties, agreements, exit criteria and closing.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="active")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(15), default="scratch")
    idea_id: Mapped[int | None] = mapped_column(ForeignKey("idea.id", ondelete="SET NULL"))
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("challenge.id", ondelete="SET NULL"))
    # The idea's evaluation when the project began (criteria means, decisions), kept as it was.
    evaluation: Mapped[dict | None] = mapped_column(JSON)
    foreground_rule: Mapped[str] = mapped_column(String(12), default="joint")
    # With the rule "assignment": the party that owns every result.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(String(10))
    closed_on: Mapped[date | None] = mapped_column(Date)
    results_summary: Mapped[str | None] = mapped_column(Text)
    lessons: Mapped[str | None] = mapped_column(Text)
    # The last change by anyone; the "no activity" exit criterion reads it.
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ProjectParty(Base):
    """An organisation taking part; its admins and members see the project."""

    __tablename__ = "project_party"
    __table_args__ = (UniqueConstraint("project_id", "organisation_id"), check_one_of("role", PARTY_ROLES),
                      Index("ix_project_party_organisation_id", "organisation_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("joint_project.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(15), default="partner")
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProjectPerson(Base):
    """A person on the project for one of its parties. A party's guest sees the project
    only when named here."""

    __tablename__ = "project_person"
    __table_args__ = (UniqueConstraint("project_id", "user_id"), Index("ix_project_person_user_id", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("joint_project.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(100))


class ProjectAgreement(Base):
    """An NDA, IP or collaboration agreement the project works under."""

    __tablename__ = "project_agreement"
    __table_args__ = (UniqueConstraint("project_id", "agreement_id"),
                      Index("ix_project_agreement_agreement_id", "agreement_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("joint_project.id", ondelete="CASCADE"))
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))


class ProjectItem:
    """What every item of a project has: its project, the party that recorded it, and
    whether it is narrowed to the parties in ``project_audience``."""

    item_type: str
    if TYPE_CHECKING:  # each kind of item declares its own title column
        title: Mapped[str]

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("joint_project.id", ondelete="CASCADE"), index=True)
    # The party that recorded it (it always sees it).
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    narrowed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


# The audience rows of an event about a narrowed item carry this item type.
EVENT_AUDIENCE = "project_event"


class ProjectAudience(Base):
    """A party a narrowed item (or an event about one) is shown to, besides the party that
    recorded it."""

    __tablename__ = "project_audience"
    __table_args__ = (UniqueConstraint("item_type", "item_id", "organisation_id"),
                      Index("ix_project_audience_organisation_id", "organisation_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))


class WorkPackage(ProjectItem, Base):
    __tablename__ = "work_package"
    item_type = "work_package"
    __table_args__ = (check_length("work_package", "description"),
                      CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
                                      name="dates"))

    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # RACI: exactly one accountable party; responsible, consulted and informed in work_package_party.
    accountable_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))


RACI = {"R": "Responsible", "C": "Consulted", "I": "Informed"}


class WorkPackageParty(Base):
    __tablename__ = "work_package_party"
    __table_args__ = (UniqueConstraint("work_package_id", "organisation_id", "raci"), check_one_of("raci", RACI))

    id: Mapped[int] = mapped_column(primary_key=True)
    work_package_id: Mapped[int] = mapped_column(ForeignKey("work_package.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    raci: Mapped[str] = mapped_column(String(1))


class Milestone(ProjectItem, Base):
    """A milestone or a deliverable, due on a date, owned by a party (and a person)."""

    __tablename__ = "project_milestone"
    item_type = "milestone"
    __table_args__ = (check_one_of("kind", ITEM_KINDS), check_one_of("status", MILESTONE_STATUSES),
                      check_length("project_milestone", "description"))

    kind: Mapped[str] = mapped_column(String(12), default="milestone")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    work_package_id: Mapped[int | None] = mapped_column(ForeignKey("work_package.id", ondelete="SET NULL"))
    due_on: Mapped[date] = mapped_column(Date)
    # The date first planned: a later due date shows as a slip.
    planned_on: Mapped[date] = mapped_column(Date)
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="planned")
    done_on: Mapped[date | None] = mapped_column(Date)


class Risk(ProjectItem, Base):
    __tablename__ = "project_risk"
    item_type = "risk"
    __table_args__ = (check_one_of("status", RISK_STATUSES), check_length("project_risk", "description"),
                      check_length("project_risk", "mitigation"),
                      CheckConstraint("likelihood BETWEEN 1 AND 5", name="likelihood"),
                      CheckConstraint("impact BETWEEN 1 AND 5", name="impact"))

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    likelihood: Mapped[int] = mapped_column(Integer, default=3)
    impact: Mapped[int] = mapped_column(Integer, default=3)
    mitigation: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(6), default="open")


class Decision(ProjectItem, Base):
    __tablename__ = "project_decision"
    item_type = "decision"
    __table_args__ = (check_length("project_decision", "rationale"),)

    title: Mapped[str] = mapped_column(String(200))
    decided_on: Mapped[date] = mapped_column(Date)
    rationale: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(200))


class BackgroundIp(ProjectItem, Base):
    """What a party brings in and keeps owning (its ``organisation_id``)."""

    __tablename__ = "background_ip"
    item_type = "background_ip"
    __table_args__ = (check_length("background_ip", "description"),)

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # On what terms the others may use it (e.g. "for the project only, royalty-free").
    terms: Mapped[str | None] = mapped_column(String(500))


class ProjectResult(ProjectItem, Base):
    """A result (foreground) and who owns it under the project's foreground rule."""

    __tablename__ = "project_result"
    item_type = "result"
    __table_args__ = (check_length("project_result", "description"),
                      check_one_of("rule", FOREGROUND_RULES))

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # The rule it was recorded under (the project's rule at the time).
    rule: Mapped[str] = mapped_column(String(12))


class ResultOwner(Base):
    __tablename__ = "result_owner"
    __table_args__ = (UniqueConstraint("result_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("project_result.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))


class ExitCriterion(Base):
    __tablename__ = "exit_criterion"
    __table_args__ = (check_one_of("kind", EXIT_KINDS), check_one_of("state", EXIT_STATES),
                      check_one_of("kpi", PROJECT_KPIS, optional=True),
                      CheckConstraint("days IS NULL OR days BETWEEN 0 AND 3650", name="days"),
                      Index("ix_exit_criterion_project_id", "project_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("joint_project.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    days: Mapped[int | None] = mapped_column(Integer)
    kpi: Mapped[str | None] = mapped_column(String(30))
    threshold: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(10), default="unchecked")
    # What the last check found, in words ("M2 'Pilot line' due 2026-03-01, 12 days late").
    evidence: Mapped[str | None] = mapped_column(String(1000))
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ProjectReview(Base):
    """An exit review: raised when a criterion is met, decided by the lead's admins."""

    __tablename__ = "project_review"
    __table_args__ = (
        check_one_of("decision", REVIEW_DECISIONS, optional=True),
        check_length("project_review", "note"),
        Index("ix_project_review_project_id", "project_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("joint_project.id", ondelete="CASCADE"))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    evidence: Mapped[str] = mapped_column(String(2000))
    # What met the criteria (criterion and item ids): the same cause is not raised again
    # after the parties decided to continue.
    cause: Mapped[str] = mapped_column(String(500))
    decision: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ProjectEvent(Base):
    """The project's activity log. An event about a narrowed item is shown to those who saw the item
    when it happened."""

    __tablename__ = "project_event"
    __table_args__ = (check_one_of("kind", PROJECT_EVENTS), Index("ix_project_event_project_id_at", "project_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("joint_project.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(20))
    item_type: Mapped[str | None] = mapped_column(String(20))
    item_id: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    # An event about a narrowed item keeps the item's audience as it was then (the party
    # that recorded it, and audience rows of type EVENT_AUDIENCE), whatever becomes of it.
    narrowed: Mapped[bool] = mapped_column(Boolean, default=False)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))


class CalendarFeed(Base):
    """A person's calendar address: the token is in the URL, only its digest is kept."""

    __tablename__ = "calendar_feed"
    __table_args__ = (UniqueConstraint("user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
