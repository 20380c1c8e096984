"""JSON endpoints: challenges, the ideas that answer them, and what people do with ideas."""

from typing import Annotated, Literal

from fastapi import Query, Response
from sqlalchemy.orm import Session

from innonet.challenges import evaluation, metrics, service
from innonet.challenges.models import Challenge, Comment, Idea
from innonet.challenges.schemas import (
    AssignIn,
    AssignOut,
    BoardOut,
    ChallengeIn,
    ChallengeMetrics,
    ChallengeOut,
    ChallengePatch,
    ChallengeView,
    CommentIn,
    CommentOut,
    CommentPatch,
    CommentView,
    IdeaEventOut,
    IdeaEventView,
    IdeaIn,
    IdeaOut,
    IdeaPatch,
    IdeaSummary,
    IdeaView,
    InviteIn,
    MergeIn,
    RatingIn,
    SimilarIn,
    SimilarOut,
    StageChangeIn,
    TeamIn,
    TeamOut,
)
from innonet.matching.schemas import Recommendations
from innonet.organisations.schemas import OrganisationSummary
from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession, RecordId, api_router

router = api_router(tags=["challenges and ideas"])
NO_CONTENT = Response(status_code=204)


def _challenge_out(session: Session, viewer: Viewer, challenge: Challenge) -> ChallengeView:
    return service.challenge_view(session, viewer, challenges=[challenge])[0]


def _idea_out(session: Session, viewer: Viewer, idea: Idea) -> IdeaView:
    return service.idea_view(session, viewer, idea=idea)


@router.get("/challenges", response_model=list[ChallengeOut])
def list_challenges(organisation: Annotated[str | None, Query(max_length=64)] = None,
                    state: Literal["draft", "open", "closed", "decided"] | None = None,
                    session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[ChallengeView]:
    """Challenges you may know of: their brief where you may read it, else the cover of an
    open call. Open ones first."""
    return service.challenge_view(session, viewer, challenges=service.list_challenges(
        session, viewer, organisation=organisation, state=state))


@router.post("/challenges", response_model=ChallengeOut, status_code=201)
def create_challenge(data: ChallengeIn, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> ChallengeOut:
    """Pose a challenge for your organisation; it is a draft until its state is set to open."""
    return _challenge_out(session, viewer, service.create_challenge(session, viewer, data=data))


@router.get("/challenges/{challenge_id}", response_model=ChallengeOut)
def get_challenge(challenge_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> ChallengeOut:
    return _challenge_out(session, viewer, service.get_challenge(session, viewer, challenge_id=challenge_id))


@router.patch("/challenges/{challenge_id}", response_model=ChallengeOut)
def update_challenge(challenge_id: RecordId, changes: ChallengePatch, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer) -> ChallengeOut:
    """Change a challenge (its owner's members): open, close or decide it with ``state``."""
    return _challenge_out(session, viewer, service.update_challenge(
        session, viewer, challenge_id=challenge_id, changes=changes))


@router.delete("/challenges/{challenge_id}", status_code=204)
def delete_challenge(challenge_id: RecordId, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer) -> Response:
    """Delete a challenge and its ideas (the owner's administrators)."""
    service.delete_challenge(session, viewer, challenge_id=challenge_id)
    return NO_CONTENT


@router.post("/challenges/{challenge_id}/invitations", response_model=list[OrganisationSummary])
def invite(challenge_id: RecordId, data: InviteIn, session: Session = DbSession,
           viewer: Viewer = CurrentViewer) -> list[OrganisationSummary]:
    """Invite organisations to contribute (their members are told); returns those newly invited."""
    service.invite_organisations(session, viewer, challenge_id=challenge_id,
                                 external_ids=data.organisations)
    challenge = service.get_challenge(session, viewer, challenge_id=challenge_id, for_change=True)
    return service.invited_organisations(session, challenge=challenge)


@router.get("/challenges/{challenge_id}/team", response_model=TeamOut)
def team(challenge_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> TeamOut:
    """The gatekeepers and each stage's evaluators (the challenge's team)."""
    return evaluation.team_of(session, challenge=service.get_challenge(
        session, viewer, challenge_id=challenge_id, for_change=True))


@router.put("/challenges/{challenge_id}/team", response_model=TeamOut)
def set_team(challenge_id: RecordId, data: TeamIn, session: Session = DbSession,
             viewer: Viewer = CurrentViewer) -> TeamOut:
    """Name the gatekeepers and each stage's evaluators; replaces the lists before."""
    evaluation.set_team(session, viewer, challenge_id=challenge_id, gatekeepers=data.gatekeepers,
                        evaluators=data.evaluators)
    return team(challenge_id, session, viewer)


@router.post("/challenges/{challenge_id}/assignments", response_model=AssignOut)
def assign(challenge_id: RecordId, data: AssignIn, session: Session = DbSession,
           viewer: Viewer = CurrentViewer) -> AssignOut:
    """Assign ideas to the stage's evaluators, who are told in their inbox."""
    return evaluation.assign(session, viewer, challenge_id=challenge_id, stage=data.stage, idea_ids=data.ideas)


@router.get("/challenges/{challenge_id}/evaluation", response_model=BoardOut)
def evaluation_board(challenge_id: RecordId, stage: Annotated[str | None, Query(max_length=30)] = None,
                     session: Session = DbSession, viewer: Viewer = CurrentViewer) -> BoardOut:
    """A stage's evaluation: the ranking with each idea's spread between evaluators (the
    team and gatekeepers), or the ideas assigned to you with your scores. Score with
    ``PUT /ideas/{id}/ratings`` on the stage's criteria."""
    return evaluation.board(session, viewer, challenge_id=challenge_id, stage=stage)


@router.get("/challenges/{challenge_id}/solvers", response_model=Recommendations)
def solvers(challenge_id: RecordId, k: Annotated[int, Query(ge=1, le=50)] = 10, session: Session = DbSession,
            viewer: Viewer = CurrentViewer) -> Recommendations:
    """The organisations most likely to contribute (the team's view): the partner finder
    with the problem statement as the need, each with its factors and reasons. Invite the
    ones you choose with ``POST /challenges/{id}/invitations``."""
    return service.propose_solvers(session, viewer, challenge_id=challenge_id, k=k)


@router.get("/challenges/{challenge_id}/metrics", response_model=ChallengeMetrics)
def challenge_metrics(challenge_id: RecordId, session: Session = DbSession,
                      viewer: Viewer = CurrentViewer) -> ChallengeMetrics:
    """The challenge's figures (its team and gatekeepers): the same definitions as its
    dashboard and its CSV (docs/methods.md)."""
    return metrics.challenge_metrics(session, viewer, challenge_id=challenge_id)


@router.get("/ideas", response_model=list[IdeaSummary])
def list_ideas(response: Response, challenge: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
               stage: Annotated[str | None, Query(max_length=30)] = None,
               tag: Annotated[str | None, Query(max_length=40)] = None,
               order: Literal["newest", "supported", "discussed"] = "newest",
               limit: Annotated[int, Query(ge=1, le=200)] = 50,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
               session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[IdeaSummary]:
    """Ideas you may read (merged ones aside); the total is in ``X-Total-Count``."""
    if challenge is not None:
        service.get_challenge(session, viewer, challenge_id=challenge)
    ideas, total = service.list_ideas(session, viewer, challenge_id=challenge, stage=stage, tag=tag,
                                      order=order, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return service.idea_summaries(session, viewer, ideas=ideas)


@router.post("/ideas", response_model=IdeaOut, status_code=201)
def submit_idea(data: IdeaIn, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> IdeaOut:
    """Submit an idea to a challenge (``accept_terms`` true), or a free idea of your organisation."""
    return _idea_out(session, viewer, service.submit_idea(session, viewer, data=data))


@router.post("/ideas/similar", response_model=list[SimilarOut])
def similar_ideas(data: SimilarIn, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[SimilarOut]:
    """The ideas you may read closest to a text in meaning and words: ask while typing, to
    support an existing idea instead of writing it again."""
    if data.challenge is not None:
        service.get_challenge(session, viewer, challenge_id=data.challenge)
    return service.similar_to(session, viewer, text=data.text, challenge_id=data.challenge,
                              exclude=data.exclude, limit=data.limit)


@router.get("/ideas/{idea_id}", response_model=IdeaOut)
def get_idea(idea_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> IdeaOut:
    return _idea_out(session, viewer, service.get_idea(session, viewer, idea_id=idea_id))


@router.patch("/ideas/{idea_id}", response_model=IdeaOut)
def update_idea(idea_id: RecordId, changes: IdeaPatch, session: Session = DbSession,
                viewer: Viewer = CurrentViewer) -> IdeaOut:
    """Its authors edit an idea (shown as edited)."""
    return _idea_out(session, viewer, service.update_idea(session, viewer, idea_id=idea_id, changes=changes))


@router.post("/ideas/{idea_id}/co-authorship", response_model=IdeaOut)
def confirm_co_author(idea_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> IdeaOut:
    """Confirm that you co-author the idea you were asked to."""
    return _idea_out(session, viewer, service.confirm_co_author(session, viewer, idea_id=idea_id))


@router.put("/ideas/{idea_id}/support", status_code=204)
def support(idea_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    """Support the idea: one vote per person, however often asked."""
    service.support(session, viewer, idea_id=idea_id)
    return NO_CONTENT


@router.delete("/ideas/{idea_id}/support", status_code=204)
def withdraw_support(idea_id: RecordId, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer) -> Response:
    service.withdraw_support(session, viewer, idea_id=idea_id)
    return NO_CONTENT


@router.put("/ideas/{idea_id}/follow", status_code=204)
def follow(idea_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    """Follow the idea: its comments and stage changes reach your inbox."""
    service.follow(session, viewer, idea_id=idea_id, following=True)
    return NO_CONTENT


@router.delete("/ideas/{idea_id}/follow", status_code=204)
def unfollow(idea_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> Response:
    service.follow(session, viewer, idea_id=idea_id, following=False)
    return NO_CONTENT


@router.put("/ideas/{idea_id}/ratings", status_code=204)
def rate(idea_id: RecordId, data: RatingIn, session: Session = DbSession,
         viewer: Viewer = CurrentViewer) -> Response:
    """Rate the idea on one of its challenge's criteria (once per person; again replaces it)."""
    service.rate(session, viewer, idea_id=idea_id, criterion_id=data.criterion, value=data.value)
    return NO_CONTENT


@router.get("/ideas/{idea_id}/comments", response_model=list[CommentOut])
def comments(idea_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[CommentView]:
    """The discussion, each answer after what it answers."""
    return service.comments_of(session, viewer, idea=service.get_idea(session, viewer, idea_id=idea_id))


@router.post("/ideas/{idea_id}/comments", response_model=CommentOut, status_code=201)
def add_comment(idea_id: RecordId, data: CommentIn, session: Session = DbSession,
                viewer: Viewer = CurrentViewer) -> CommentOut:
    """Comment (or answer ``parent``); @e-mail mentions tell people who may read the idea."""
    comment = service.add_comment(session, viewer, idea_id=idea_id, data=data)
    return _comment_out(session, viewer, comment)


@router.patch("/comments/{comment_id}", response_model=CommentOut)
def edit_comment(comment_id: RecordId, data: CommentPatch, session: Session = DbSession,
                 viewer: Viewer = CurrentViewer) -> CommentOut:
    """Its writer edits a comment (shown as edited)."""
    return _comment_out(session, viewer, service.edit_comment(session, viewer, comment_id=comment_id,
                                                              body=data.body))


def _comment_out(session: Session, viewer: Viewer, comment: Comment) -> CommentView:
    idea = service.get_idea(session, viewer, idea_id=comment.idea_id, log=False)
    return next(c for c in service.comments_of(session, viewer, idea=idea) if c.id == comment.id)


@router.post("/ideas/{idea_id}/stage", response_model=IdeaOut)
def move(idea_id: RecordId, data: StageChangeIn, session: Session = DbSession,
         viewer: Viewer = CurrentViewer) -> IdeaOut:
    """Move the idea along its workflow (the challenge's team). A decision needs a
    gatekeeper and a reason; a move the workflow does not allow answers 409 naming the
    allowed ones."""
    return _idea_out(session, viewer, service.move_idea(session, viewer, idea_id=idea_id,
                                                        stage=data.stage, reason=data.reason))


@router.post("/ideas/{idea_id}/merge", response_model=IdeaOut)
def merge(idea_id: RecordId, data: MergeIn, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> IdeaOut:
    """Merge a duplicate into this idea (the challenge's team)."""
    return _idea_out(session, viewer, service.merge_ideas(session, viewer, idea_id=idea_id,
                                                          duplicate_id=data.duplicate, reason=data.reason))


@router.get("/ideas/{idea_id}/history", response_model=list[IdeaEventOut])
def history(idea_id: RecordId, session: Session = DbSession, viewer: Viewer = CurrentViewer) -> list[IdeaEventView]:
    """Stage changes, decisions, merges and edits: who, when and why."""
    return service.history(session, viewer, idea=service.get_idea(session, viewer, idea_id=idea_id))
