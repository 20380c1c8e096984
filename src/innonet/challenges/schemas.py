"""Challenges, ideas, comments, votes and ratings in and out of the API."""

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from innonet.challenges.models import CHALLENGE_STATES, IDEA_EVENTS, IP_TERMS, SUBMISSION_RULES
from innonet.organisations.schemas import OrganisationSummary
from innonet.sharing.schemas import SharingFields, SharingOut
from innonet.text import TEXT_LIMITS, InputModel, RecordIdField

if TYPE_CHECKING:
    ChallengeState = str
    SubmissionRule = str
    IpTerms = str
    IdeaEventKind = str
else:
    ChallengeState = Literal[tuple(CHALLENGE_STATES)]
    SubmissionRule = Literal[tuple(SUBMISSION_RULES)]
    IpTerms = Literal[tuple(IP_TERMS)]
    IdeaEventKind = Literal[tuple(IDEA_EVENTS)]

STAGE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
MAX_TAGS = 10
TAG = re.compile(r"^[\w][\w \-+.&/]{0,39}$")


def clean_tags(tags: list[str]) -> list[str]:
    """Tags in lower case, each once, in the order given."""
    out = []
    for tag in tags:
        tag = " ".join(tag.split()).casefold()
        if not tag:
            continue
        if not TAG.match(tag) or "," in tag:
            raise ValueError(f"tag {tag[:40]!r}: letters, digits, spaces and - + . & / only, "
                             "at most 40 characters")
        out.append(tag)
    out = list(dict.fromkeys(out))
    if len(out) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    return out


class Tagged(InputModel):
    tags: list[str] = Field(default_factory=list, max_length=50, description=(
        f"Up to {MAX_TAGS} short tags (letters, digits, spaces, - + . & /)"))

    _clean_tags = field_validator("tags")(clean_tags)


class WorkflowIn(InputModel):
    """A challenge's stage-gate: its stages, the moves allowed between them, and which
    stages are decisions (entered only by a gatekeeper, with a reason the authors read)."""

    stages: dict[str, str] = Field(min_length=2, max_length=12, description=(
        "Stage key (lower case, digits, _) -> its name; the first is where ideas start"))
    transitions: dict[str, list[str]] = Field(description="Stage key -> the stages it may move to")
    decisions: list[str] = Field(default_factory=list, max_length=12)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for key, label in self.stages.items():
            if not STAGE_KEY.match(key):
                raise ValueError(f"stages: {key[:40]!r} is not a stage key (a-z, 0-9, _; "
                                 "at most 30 characters, starting with a letter)")
            if not label.strip() or len(label) > 60:
                raise ValueError(f"stages: the name of {key!r} must have 1 to 60 characters")
        for source, targets in self.transitions.items():
            unknown = [k for k in [source, *targets] if k not in self.stages]
            if unknown:
                raise ValueError(f"transitions: unknown stage {unknown[0][:40]!r}")
        if unknown := [k for k in self.decisions if k not in self.stages]:
            raise ValueError(f"decisions: unknown stage {unknown[0][:40]!r}")
        if "merged" in self.stages:
            raise ValueError("stages: 'merged' is reserved for merged ideas")
        return self


class CriterionIn(InputModel):
    name: str = Field(min_length=1, max_length=100)
    weight: float = Field(default=1.0, gt=0, le=100)
    scale: int = Field(default=5, ge=2, le=10, description="Ratings go from 1 to this")
    stage: str | None = Field(default=None, max_length=30, description=(
        "A stage whose evaluators score it on their scorecard; none: everyone who sees the "
        "idea may rate it"))


class ChallengeFields(Tagged):
    title: str = Field(min_length=1, max_length=200)
    problem: str = Field(min_length=1, max_length=TEXT_LIMITS["challenge.problem"],
                         description="The problem statement (Markdown)")
    sought: str | None = Field(default=None, max_length=TEXT_LIMITS["challenge.sought"],
                               description="What is sought (Markdown)")
    offered: str | None = Field(default=None, max_length=TEXT_LIMITS["challenge.offered"],
                                description="What is offered in return (Markdown)")
    cover_text: str | None = Field(default=None, max_length=TEXT_LIMITS["challenge.cover_text"],
                                   description="The cover outsiders read of an open call")
    opens_on: date | None = None
    closes_on: date | None = None
    open_call: bool = Field(default=False, description=(
        "Everyone reads the title and cover text; anyone with an account may submit"))
    submissions: SubmissionRule = Field(default="shared", description=(
        "shared: everyone who sees the challenge sees its ideas; confidential: only the "
        "owner and each idea's authors"))
    ip_terms: IpTerms = Field(default="submitter_keeps", description=(
        "Who owns submitted ideas: the submitter, the submitter with a licence to the owner, "
        "or the owner by assignment"))
    terms_text: str | None = Field(default=None, max_length=TEXT_LIMITS["challenge.terms_text"],
                                   description="Further terms a submitter accepts")
    blind: bool = Field(default=False, description="Evaluators do not see the authors")

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.opens_on and self.closes_on and self.closes_on < self.opens_on:
            raise ValueError("closes_on: the closing date is before the opening date")
        return self


class ChallengeIn(ChallengeFields, SharingFields):
    organisation: str = Field(min_length=1, max_length=64, description="The owner's external id")
    workflow: WorkflowIn | None = Field(default=None, description="Default: the standard stage-gate")
    criteria: list[CriterionIn] = Field(default_factory=list, max_length=30)


class ChallengePatch(Tagged):
    """Fields to change; absent ones stay. Changing the IP terms or the further terms
    raises the terms' version: later submitters accept the new one."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    problem: str | None = Field(default=None, min_length=1, max_length=TEXT_LIMITS["challenge.problem"])
    sought: str | None = Field(default=None, max_length=TEXT_LIMITS["challenge.sought"])
    offered: str | None = Field(default=None, max_length=TEXT_LIMITS["challenge.offered"])
    cover_text: str | None = Field(default=None, max_length=TEXT_LIMITS["challenge.cover_text"])
    tags: list[str] = Field(default_factory=list, max_length=50)
    opens_on: date | None = None
    closes_on: date | None = None
    open_call: bool | None = None
    submissions: SubmissionRule | None = None
    ip_terms: IpTerms | None = None
    terms_text: str | None = Field(default=None, max_length=TEXT_LIMITS["challenge.terms_text"])
    blind: bool | None = None
    state: ChallengeState | None = None
    workflow: WorkflowIn | None = None
    criteria: list[CriterionIn] | None = Field(default=None, max_length=30)
    visibility: str | None = None
    shared_with: list[str] | None = Field(default=None, max_length=200)
    agreement: RecordIdField | None = None


class CriterionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    weight: float
    scale: int
    stage: str | None


class TermsOut(BaseModel):
    version: int
    ip_terms: IpTerms
    ip_terms_text: str = Field(description="What the IP terms mean, in words")
    submissions: SubmissionRule
    submissions_text: str
    terms_text: str | None
    accepted: bool = Field(description="Whether you accepted this version")


class ChallengeOut(SharingOut):
    """A challenge. Outsiders of an open call whose brief they may not see get the cover
    only: ``brief_visible`` false and the brief's fields empty."""

    id: int
    organisation: OrganisationSummary
    title: str
    brief_visible: bool
    problem: str | None
    sought: str | None
    offered: str | None
    cover_text: str | None
    tags: list[str]
    opens_on: date | None
    closes_on: date | None
    state: ChallengeState
    open_call: bool
    blind: bool
    workflow: dict
    criteria: list[CriterionOut]
    terms: TermsOut
    ideas: int = Field(description="Ideas you may see (merged ones aside)")
    may_submit: bool
    may_manage: bool
    created_at: datetime
    updated_at: datetime


class ChallengeView(ChallengeOut):
    """A challenge as its pages show it."""

    may_delete: bool = Field(description="The viewer administers the owner, who may delete it")


class IdeaFields(Tagged):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=TEXT_LIMITS["idea.description"],
                             description="Markdown; shown sanitised")


class IdeaIn(IdeaFields):
    challenge: RecordIdField | None = Field(default=None, description=(
        "The challenge it answers; none for a free idea of your organisation"))
    organisation: str | None = Field(default=None, min_length=1, max_length=64, description=(
        "On whose behalf you submit (one of your organisations); default: your first"))
    accept_terms: bool = Field(default=False, description=(
        "Required for a challenge: you accept its terms (version shown on the challenge)"))
    terms_version: int | None = Field(default=None, ge=1, description=(
        "The terms' version you read; refused when they have changed since"))
    co_authors: list[str] = Field(default_factory=list, max_length=10, description=(
        "E-mail addresses of people who may see the challenge; each confirms"))


class IdeaPatch(Tagged):
    """Fields to change. The sharing fields apply to free ideas only: an idea in a
    challenge is read as its challenge says."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, min_length=1,
                                    max_length=TEXT_LIMITS["idea.description"])
    tags: list[str] = Field(default_factory=list, max_length=50)
    visibility: str | None = None
    shared_with: list[str] | None = Field(default=None, max_length=200)
    agreement: RecordIdField | None = None


class AuthorOut(BaseModel):
    name: str
    email: str | None
    organisation: OrganisationSummary
    confirmed: bool


class AuthorView(AuthorOut):
    """An author with their account, for the checks that need it."""

    user_id: int


class IdeaSummary(BaseModel):
    id: int
    title: str
    challenge: int | None
    stage: str
    stage_name: str
    tags: list[str]
    supporters: int
    comments: int
    created_at: datetime


class IdeaOut(IdeaSummary):
    description: str
    organisation: OrganisationSummary | None = Field(description="The authors' organisation; None while hidden "
                                                                 "for blind evaluation")
    authors: list[AuthorOut] | None = Field(description="None while hidden for blind evaluation")
    followers: int
    ratings: dict[str, float | None] = Field(description="Criterion name -> mean rating")
    supported: bool = Field(description="Whether you support it")
    following: bool
    your_ratings: dict[str, int]
    merged_into: int | None
    edited_at: datetime | None
    next_stages: list[str] = Field(description="Stages you may move it to")


class IdeaView(IdeaOut):
    """An idea as its page shows it: its scorecard, its workflow and what the viewer may do."""

    criteria: list[CriterionOut] = Field(description="The criteria everyone who sees the idea may rate")
    workflow: dict
    may_manage: bool
    may_decide: bool
    is_author: bool
    asked_to_co_author: bool
    challenge_title: str | None


class SimilarIn(InputModel):
    text: str = Field(min_length=1, max_length=TEXT_LIMITS["idea.description"] + 200)
    challenge: RecordIdField | None = None
    exclude: RecordIdField | None = Field(default=None, description="An idea to leave out (the one being edited)")
    limit: int = Field(default=5, ge=1, le=20)


class SimilarOut(BaseModel):
    id: int
    title: str
    stage_name: str
    supporters: int
    similarity: float = Field(description="0 to 1; the share of meaning and words in common")


class CommentIn(InputModel):
    body: str = Field(min_length=1, max_length=TEXT_LIMITS["comment.body"],
                      description="Markdown; @name or @e-mail mentions people who may see the idea")
    parent: RecordIdField | None = Field(default=None, description="The comment this answers")


class CommentPatch(InputModel):
    body: str = Field(min_length=1, max_length=TEXT_LIMITS["comment.body"])


class CommentOut(BaseModel):
    id: int
    parent: int | None
    author: str
    body: str
    created_at: datetime
    edited_at: datetime | None


class CommentView(CommentOut):
    """A comment as the idea's page shows it: where it sits in the thread, and whether it is the viewer's."""

    depth: int
    mine: bool


class RatingIn(InputModel):
    criterion: RecordIdField
    value: int = Field(description="From 1 to the criterion's scale")


class StageChangeIn(InputModel):
    stage: str = Field(min_length=1, max_length=30)
    reason: str | None = Field(default=None, max_length=2000, description=(
        "Why; required for a decision, which the authors read"))


class MergeIn(InputModel):
    duplicate: RecordIdField = Field(description="The idea merged into this one")
    reason: str | None = Field(default=None, max_length=2000)


class IdeaEventOut(BaseModel):
    at: datetime
    kind: IdeaEventKind
    who: str | None
    from_stage: str | None
    to_stage: str | None
    reason: str | None
    other_idea: int | None


class IdeaEventView(IdeaEventOut):
    """An event as the idea's page tells it, with the stages' names."""

    from_stage_name: str | None
    to_stage_name: str | None


class InviteIn(InputModel):
    organisations: list[str] = Field(min_length=1, max_length=50, description="External ids")


class TeamIn(InputModel):
    gatekeepers: list[str] = Field(default_factory=list, max_length=50, description=(
        "E-mail addresses of people who decide, besides the owner's administrators"))
    evaluators: dict[str, list[str]] = Field(default_factory=dict, max_length=12, description=(
        "Stage key -> e-mail addresses of its evaluators (at most 50 per stage); each must "
        "be able to read the challenge"))

    @field_validator("evaluators")
    @classmethod
    def _bounded(cls, teams: dict[str, list[str]]) -> dict[str, list[str]]:
        if any(len(people) > 50 for people in teams.values()):
            raise ValueError("at most 50 evaluators per stage")
        return teams


class PersonOut(BaseModel):
    name: str
    email: str


class TeamOut(BaseModel):
    gatekeepers: list[PersonOut]
    evaluators: dict[str, list[PersonOut]]


class AssignIn(InputModel):
    stage: str = Field(min_length=1, max_length=30)
    ideas: list[RecordIdField] | None = Field(default=None, max_length=1000, description=(
        "The ideas to assign; default: every idea now in the stage"))


class AssignOut(BaseModel):
    assigned: int = Field(description="Assignments made (those that existed are kept)")
    left_out: int = Field(description=(
        "Idea and evaluator pairs left out for a conflict of interest: the evaluator wrote the idea or, "
        "under blind evaluation, belongs to an organisation that submitted it"))


class RankedIdea(IdeaSummary):
    assigned: int = Field(description="Evaluators assigned")
    scored: int = Field(description="Evaluators whose scorecard is complete")
    score: float | None = Field(description="Mean of the evaluators' totals, 0-100")
    spread: float | None = Field(description="Highest minus lowest total, in points")
    your_scores: dict[int, int] = Field(description="Criterion id -> your score")
    your_total: float | None
    yours: bool = Field(description="Whether you are to score it")


class BoardOut(BaseModel):
    stage: str
    stage_name: str
    criteria: list[CriterionOut]
    ideas: Sequence[RankedIdea] = Field(description=(
        "Best first; the challenge's team and gatekeepers see every idea, an evaluator theirs"))


class RankedIdeaView(RankedIdea):
    description: str


class BoardView(BoardOut):
    """A stage's evaluation as its page shows it, with the ideas' texts to score."""

    ideas: Sequence[RankedIdeaView]
    stages: list[str] = Field(description="The stages with a scorecard")
    leads: bool = Field(description="The viewer sees every idea (the challenge's team or a gatekeeper)")
    blind: bool
    challenge_id: int
    challenge_title: str


class WeekCount(BaseModel):
    week: date = Field(description="The Monday the week starts on")
    ideas: int


class StageFigures(BaseModel):
    stage: str
    name: str
    reached: int = Field(description="Ideas that ever entered the stage")
    now: int = Field(description="Ideas in the stage now")
    conversion: float | None = Field(description=(
        "Share of the ideas that reached the stage before (in the workflow's order) that reached this one"))
    median_days: float | None = Field(description="Median days of the stays in the stage that ended")


class AgreementFigures(BaseModel):
    ideas: int = Field(description="Ideas scored by two or more evaluators in a stage")
    mean_spread: float | None = Field(description="Mean of highest minus lowest total, in points (0-100)")
    agreeing_share: float | None = Field(description="Share of those ideas whose spread is under 30 points")


class ChallengeMetrics(BaseModel):
    ideas: int = Field(description="Ideas, merged ones aside")
    ideas_by_week: list[WeekCount]
    supporters: int = Field(description="People who support at least one idea")
    supports: int = Field(description="Support votes in all")
    comments: int
    participants: int = Field(description="People who wrote, supported, discussed or rated an idea")
    organisations: int = Field(description=(
        "Organisations taking part: those ideas were submitted for, and those of the other participants"))
    stages: list[StageFigures]
    evaluator_agreement: AgreementFigures
