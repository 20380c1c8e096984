"""Ideas: submitting, co-authors, changes, lists, similar ideas and what a reader sees of
one."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from innonet import roles
from innonet.accounts import service as accounts
from innonet.accounts.models import Membership
from innonet.challenges import similar
from innonet.challenges.access import (
    audit,
    cover_condition,
    default_workflow,
    emit,
    first_stage,
    idea_condition,
    next_stages,
    stage_name,
    tags_list,
    tags_value,
)
from innonet.challenges.briefs import (
    accept_terms,
    criteria_of,
    is_open_for_ideas,
    may_decide,
    may_decide_idea,
    may_manage_idea,
    may_read_brief,
    may_submit,
    readable_in,
)
from innonet.challenges.models import (
    Assignment,
    Challenge,
    Evaluator,
    Follow,
    Idea,
    IdeaAuthor,
    IdeaEvent,
    Rating,
    Vote,
    new_text_version,
)
from innonet.challenges.schemas import (
    AuthorView,
    CriterionOut,
    IdeaIn,
    IdeaPatch,
    IdeaSummary,
    IdeaView,
    SimilarOut,
)
from innonet.db import insert_once, rows_changed, serialise, utcnow
from innonet.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from innonet.organisations import service as organisations
from innonet.organisations.schemas import OrganisationSummary
from innonet.roles import Viewer
from innonet.sharing import service as sharing
from innonet.sharing.schemas import SharingFields


def lock_idea(session: Session, idea_id: int) -> None:
    """Changes to one idea's support, ratings, discussion, stage or merge run one after
    the other (a merge moving votes must not lose one cast meanwhile)."""
    serialise(session, f"idea:{idea_id}")


def get_idea(session: Session, viewer: Viewer, *, idea_id: int, log: bool = True) -> Idea:
    """An idea the viewer may read (NotFound otherwise, as if it did not exist)."""
    idea = session.scalar(select(Idea).where(Idea.id == idea_id, idea_condition(viewer)))
    if idea is None:
        raise NotFound(f"No idea with id {idea_id}.")
    if log:
        audit(session, viewer, action="read", items=[idea])
    return idea


def challenge_of(session: Session, idea: Idea) -> Challenge | None:
    return session.get(Challenge, idea.challenge_id) if idea.challenge_id is not None else None


def workflow_of(session: Session, idea: Idea) -> dict:
    challenge = challenge_of(session, idea)
    return challenge.workflow if challenge is not None else default_workflow()


def _author_organisation(session: Session, viewer: Viewer, external_id: str | None) -> int:
    """The organisation on whose behalf the viewer writes: one of theirs."""
    mine = [o for o, role in sorted(viewer.roles.items())]
    if external_id is None:
        if not mine:
            raise Forbidden("Only people who belong to an organisation may submit ideas.")
        return sorted(viewer.member_of)[0] if viewer.member_of else mine[0]
    organisation = organisations.get_organisation(session, external_id=external_id)
    if organisation.id not in viewer.roles:
        raise InvalidInput.for_field("organisation", "you may only submit on behalf of your own organisations")
    return organisation.id


def submit_idea(session: Session, viewer: Viewer, *, data: IdeaIn) -> Idea:
    """Submit an idea to a challenge (accepting its terms), or a free idea of the viewer's
    organisation (private to it until shared). The author follows it."""
    roles.ensure_can_write(viewer)
    if viewer.user_id is None:
        raise Forbidden("Ideas are submitted by people: sign in.")
    author_org = _author_organisation(session, viewer, data.organisation)
    challenge = None
    if data.challenge is not None:
        challenge = session.scalar(select(Challenge).where(Challenge.id == data.challenge,
                                                           cover_condition(viewer)))
        if challenge is None:  # as if it did not exist
            raise NotFound(f"No challenge with id {data.challenge}.",
                           [Problem(f"no challenge with id {data.challenge}", field="challenge")])
        if not is_open_for_ideas(challenge, viewer.today):
            raise Conflict("The challenge is not open for ideas"
                           + (f" (it closed on {challenge.closes_on})." if challenge.closes_on
                              and challenge.closes_on < viewer.today else "."))
        if not may_submit(session, viewer, challenge):
            raise Forbidden("You may not submit ideas to this challenge.")
        if not data.accept_terms:
            raise InvalidInput.for_field("accept_terms", "accept the challenge's terms to submit")
        accept_terms(session, viewer, challenge=challenge, version=data.terms_version)
        owner, stage = challenge.organisation_id, first_stage(challenge.workflow)
    else:
        roles.ensure_insider(viewer, author_org)
        owner, stage = author_org, first_stage(default_workflow())
    idea = Idea(organisation_id=owner, challenge_id=data.challenge, title=data.title,
                description=data.description, tags=tags_value(data.tags), stage=stage,
                created_by_id=viewer.user_id, visibility="private",
                meaning=similar.meaning_of(data.title, data.description))
    session.add(idea)
    session.flush()
    now = utcnow()
    session.add(IdeaAuthor(idea_id=idea.id, user_id=viewer.user_id, organisation_id=author_org,
                           confirmed_at=now, created_at=now))
    session.add(Follow(idea_id=idea.id, user_id=viewer.user_id))
    session.add(IdeaEvent(idea_id=idea.id, user_id=viewer.user_id, kind="submitted", to_stage=stage))
    session.flush()
    if data.co_authors:
        _invite_co_authors(session, viewer, idea=idea, emails=data.co_authors)
    audit(session, viewer, action="create", items=[idea])
    if challenge is not None:
        emit(session, challenge, "idea.created", idea=idea)
        # The challenge's team, in their inbox and digest; never who wrote it (blind evaluation).
        team = set(accounts.writing_members(session, organisation_id=challenge.organisation_id)) - {viewer.user_id}
        accounts.notify_people(session, user_ids=team, kind="idea_submitted", link=f"/ideas/{idea.id}",
                               message=f"A new idea for “{challenge.title}”: “{idea.title}”.")
    return idea


def _invite_co_authors(session: Session, viewer: Viewer, *, idea: Idea, emails: list[str]) -> None:
    """Ask people who may read the idea to co-author it; each confirms on the idea's page."""
    addresses = [accounts.normalise_email(e, field="co_authors") for e in emails]
    users = accounts.users_by_email(session, emails=addresses)
    for email in addresses:
        user = users.get(email)
        if user is None or not may_read_idea(session, user.id, idea, viewer.today):
            raise InvalidInput.for_field("co_authors", f"{email} has no account that may see this idea")
    existing = set(session.scalars(select(IdeaAuthor.user_id).where(IdeaAuthor.idea_id == idea.id)))
    for email in dict.fromkeys(addresses):
        user = users[email]
        if user.id in existing:
            continue
        role_of = accounts.roles_of(session, user_id=user.id)
        session.add(IdeaAuthor(idea_id=idea.id, user_id=user.id, invited_by_id=viewer.user_id,
                               organisation_id=sorted(role_of)[0]))
        accounts.notify_people(session, user_ids=[user.id], kind="co_author", link=f"/ideas/{idea.id}",
                               message=f"You are asked to co-author the idea “{idea.title}”: confirm on its page.")
    session.flush()


def may_read_idea(session: Session, user_id: int, idea: Idea, today: date) -> bool:
    """Whether a person (not the viewer) may read the idea, by the same rule."""
    person = accounts.viewer_of(session, user_id=user_id, today=today, channel="page")
    return bool(session.scalar(select(exists().where(Idea.id == idea.id, idea_condition(person)))))


def confirm_co_author(session: Session, viewer: Viewer, *, idea_id: int) -> Idea:
    """The invited person confirms they co-author the idea."""
    idea = get_idea(session, viewer, idea_id=idea_id, log=False)
    roles.ensure_can_write(viewer)
    changed = session.execute(update(IdeaAuthor).where(
        IdeaAuthor.idea_id == idea.id, IdeaAuthor.user_id == viewer.user_id,
        IdeaAuthor.confirmed_at.is_(None)).values(confirmed_at=utcnow()))
    if not rows_changed(changed):
        raise Conflict("You were not asked to co-author this idea, or already confirmed.")
    record_follow(session, idea.id, viewer.user_id)
    return idea


def _is_author(session: Session, viewer: Viewer, idea: Idea) -> bool:
    return viewer.user_id is not None and bool(session.scalar(select(exists().where(
        IdeaAuthor.idea_id == idea.id, IdeaAuthor.user_id == viewer.user_id,
        IdeaAuthor.confirmed_at.is_not(None)))))


def ensure_author(session: Session, viewer: Viewer, idea: Idea) -> None:
    roles.ensure_can_write(viewer)
    if not _is_author(session, viewer, idea):
        raise Forbidden("Only the idea's authors may edit it.")


def update_idea(session: Session, viewer: Viewer, *, idea_id: int, changes: IdeaPatch) -> Idea:
    """Its confirmed authors edit an idea; the page then says "edited"."""
    idea = get_idea(session, viewer, idea_id=idea_id, log=False)
    ensure_author(session, viewer, idea)
    if idea.merged_into_id is not None:
        raise Conflict(f"This idea was merged into idea {idea.merged_into_id}: edit that one.")
    values = changes.model_dump(exclude_unset=True)
    sharing_changes = {k: values.pop(k) for k in list(values) if k in SharingFields.model_fields}
    for name in ("title", "description"):
        if name in values and values[name] is None:
            raise InvalidInput.for_field(name, "may not be empty")
    if "tags" in values:
        values["tags"] = tags_value(values["tags"])
    if sharing_changes:
        if idea.challenge_id is not None:
            raise InvalidInput.for_field("visibility", "an idea in a challenge is read as its challenge says")
        roles.ensure_insider(viewer, idea.organisation_id)
        sharing.change_sharing(session, viewer, item=idea, changes=sharing_changes)
    changed = [n for n, v in values.items() if getattr(idea, n) != v]
    if changed:
        for name in changed:
            setattr(idea, name, values[name])
        idea.edited_at = utcnow()
        if {"title", "description"} & set(changed):
            idea.meaning = similar.meaning_of(idea.title, idea.description)
            idea.text_version = new_text_version()
        session.add(IdeaEvent(idea_id=idea.id, user_id=viewer.user_id, kind="edited",
                              reason=", ".join(changed)))
        session.flush()
        audit(session, viewer, action="update", items=[idea], detail=f"edited: {', '.join(changed)}")
    return idea


def list_ideas(session: Session, viewer: Viewer, *, challenge_id: int | None = None,
               organisation_id: int | None = None, stage: str | None = None, tag: str | None = None,
               order: str = "newest", limit: int = 50, offset: int = 0) -> tuple[list[Idea], int]:
    """Ideas the viewer may read (merged ones aside), and how many there are in all.
    ``order``: newest, supported (most supporters first) or discussed."""
    conditions: list[ColumnElement[bool]] = [Idea.merged_into_id.is_(None)]
    if challenge_id is not None:
        conditions += [Idea.challenge_id == challenge_id, readable_in(session, viewer, [challenge_id])]
    else:
        conditions.append(idea_condition(viewer))
    if organisation_id is not None:
        conditions.append(and_(Idea.challenge_id.is_(None), Idea.organisation_id == organisation_id))
    if stage is not None:
        conditions.append(Idea.stage == stage)
    if tag:
        conditions.append(Idea.tags.contains(f",{tag.casefold()},", autoescape=True))
    total = session.scalar(select(func.count()).select_from(Idea).where(*conditions)) or 0
    query = select(Idea).where(*conditions)
    if order == "supported":
        query = query.order_by(Idea.supporters.desc())
    elif order == "discussed":
        query = query.order_by(Idea.comments.desc())
    ideas = list(session.scalars(query.order_by(Idea.created_at.desc(), Idea.id.desc())
                                 .limit(limit).offset(offset)))
    return ideas, total


def similar_to(session: Session, viewer: Viewer, *, text: str, challenge_id: int | None = None,
               exclude: int | None = None, limit: int = 5) -> list[SimilarOut]:
    """The ideas the viewer may read that are most similar to ``text`` (in the challenge,
    when one is named)."""
    candidates = select(Idea.id, Idea.text_version).where(Idea.merged_into_id.is_(None))
    if challenge_id is not None:
        candidates = candidates.where(Idea.challenge_id == challenge_id, readable_in(session, viewer, [challenge_id]))
    else:
        candidates = candidates.where(idea_condition(viewer))
    if exclude is not None:
        candidates = candidates.where(Idea.id != exclude)
    found = similar.similar_ideas(session, text=text, candidates=candidates, limit=limit)
    if not found:
        return []
    ideas = {i.id: i for i in session.scalars(select(Idea).where(Idea.id.in_([i for i, _ in found])))}
    summaries = {s.id: s for s in idea_summaries(session, viewer, ideas=list(ideas.values()))}
    return [SimilarOut(id=i, title=summaries[i].title, stage_name=summaries[i].stage_name,
                       supporters=summaries[i].supporters, similarity=round(score, 3)) for i, score in found]


def count_per_idea(session: Session, model: type[Follow | Vote], idea_ids: list[int]) -> dict[int, int]:
    return dict(session.execute(select(model.idea_id, func.count()).where(
        model.idea_id.in_(idea_ids)).group_by(model.idea_id)).all())


def idea_summaries(session: Session, viewer: Viewer, *, ideas: list[Idea]) -> list[IdeaSummary]:
    """Ideas in a line each, with their support and discussion counted."""
    workflows = {c.id: c.workflow for c in session.scalars(select(Challenge).where(
        Challenge.id.in_({i.challenge_id for i in ideas if i.challenge_id})))}
    return [IdeaSummary(id=i.id, title=i.title, challenge=i.challenge_id, stage=i.stage,
                        stage_name=stage_name(workflows.get(i.challenge_id or 0), i.stage),
                        tags=tags_list(i.tags), supporters=i.supporters, comments=i.comments,
                        created_at=i.created_at) for i in ideas]


def authors_hidden(session: Session, viewer: Viewer, idea: Idea, challenge: Challenge | None) -> bool:
    """Blind evaluation: whoever is or was on the challenge's evaluator team does not learn
    who wrote an idea (name, e-mail or organisation) on any page, route, notification or
    mail, unless they wrote it or decide (gatekeepers know)."""
    if challenge is None or not challenge.blind or viewer.user_id is None:
        return False
    evaluates = session.scalar(select(or_(
        exists().where(Evaluator.challenge_id == challenge.id, Evaluator.user_id == viewer.user_id),
        exists().where(Assignment.user_id == viewer.user_id, Assignment.idea_id.in_(
            select(Idea.id).where(Idea.challenge_id == challenge.id))))))
    return bool(evaluates) and not _is_author(session, viewer, idea) and not may_decide(session, viewer, challenge)


def conflicts_of_interest(session: Session, challenge: Challenge, *, idea_ids: Iterable[int],
                          user_ids: Iterable[int]) -> set[tuple[int, int]]:
    """The (idea, person) pairs where the person may not evaluate the idea: they wrote it or
    were asked to co-write it, or, under blind evaluation, they belong to an organisation
    that submitted it (a colleague knows, or learns, whose idea it is)."""
    ideas, people = list(idea_ids), list(user_ids)
    if not ideas or not people:
        return set()
    found = {(i, u) for i, u in session.execute(select(IdeaAuthor.idea_id, IdeaAuthor.user_id).where(
        IdeaAuthor.idea_id.in_(ideas), IdeaAuthor.user_id.in_(people)))}
    if challenge.blind:  # the authors' organisations submitted it (the idea belongs to the challenge's owner)
        found |= {(i, u) for i, u in session.execute(
            select(IdeaAuthor.idea_id, Membership.user_id).join(
                Membership, Membership.organisation_id == IdeaAuthor.organisation_id).where(
                IdeaAuthor.idea_id.in_(ideas), Membership.user_id.in_(people)))}
    return found


def _blind_to_authors(session: Session, idea: Idea, user_ids: Iterable[int], today: date) -> set[int]:
    """Those of these people from whom blind evaluation hides the idea's authors."""
    challenge = challenge_of(session, idea)
    if challenge is None or not challenge.blind:
        return set()
    return {u for u in user_ids if authors_hidden(
        session, accounts.viewer_of(session, user_id=u, today=today, channel="page"), idea, challenge)}


def tell_of_author(session: Session, viewer: Viewer, idea: Idea, *, user_ids: Iterable[int], kind: str, link: str,
                    message: Callable[[str], str]) -> None:
    """Tell people what the viewer did, in ``message(who)``; those from whom blind evaluation
    hides the authors read "An author" when the viewer is one."""
    people = set(user_ids)
    blind = _blind_to_authors(session, idea, people, viewer.today) if _is_author(session, viewer, idea) else set()
    for group, who in ((people - blind, _name_of(session, viewer)), (blind, "An author")):
        if group:
            accounts.notify_people(session, user_ids=sorted(group), kind=kind, link=link, message=message(who))


def is_evaluator(session: Session, viewer: Viewer, challenge: Challenge, *, stage: str | None = None) -> bool:
    """On the challenge's evaluator team (of ``stage``, if given) and reading its brief today."""
    team = [Evaluator.challenge_id == challenge.id, Evaluator.user_id == viewer.user_id]
    if stage is not None:
        team.append(Evaluator.stage == stage)
    return viewer.user_id is not None and bool(session.scalar(select(exists().where(*team)))) \
        and may_read_brief(session, viewer, challenge)


def idea_authors(session: Session, *, idea_ids: list[int]) -> dict[int, list[AuthorView]]:
    rows = session.scalars(select(IdeaAuthor).where(IdeaAuthor.idea_id.in_(idea_ids))
                           .order_by(IdeaAuthor.id)).all()
    by_id = organisations.organisations_by_id(session, ids=[a.organisation_id for a in rows])
    people = accounts.people_by_id(session, ids=[a.user_id for a in rows])
    out: dict[int, list[AuthorView]] = defaultdict(list)
    for author in rows:
        name, email = people[author.user_id]
        out[author.idea_id].append(AuthorView(
            user_id=author.user_id, name=name or email, email=email, confirmed=author.confirmed_at is not None,
            organisation=OrganisationSummary.model_validate(by_id[author.organisation_id])))
    return out


def idea_view(session: Session, viewer: Viewer, *, idea: Idea) -> IdeaView:
    """One idea, with what the viewer did and may do."""
    challenge = challenge_of(session, idea)
    workflow = challenge.workflow if challenge is not None else default_workflow()
    summary = idea_summaries(session, viewer, ideas=[idea])[0]
    criteria = criteria_of(session, challenge_ids=[idea.challenge_id]).get(idea.challenge_id or 0, []) \
        if idea.challenge_id else []
    public = [c for c in criteria if c.stage is None]
    means: dict[int, float] = dict(session.execute(select(Rating.criterion_id, func.avg(Rating.value)).where(
        Rating.idea_id == idea.id, Rating.criterion_id.in_([c.id for c in public]))
        .group_by(Rating.criterion_id)).all())
    mine = dict(session.execute(select(Rating.criterion_id, Rating.value).where(
        Rating.idea_id == idea.id, Rating.user_id == viewer.user_id)).all()) if viewer.user_id else {}
    hidden = authors_hidden(session, viewer, idea, challenge)
    authors = idea_authors(session, idea_ids=[idea.id])[idea.id]
    manage = may_manage_idea(viewer, idea, challenge)
    owner = organisations.organisations_by_id(session, ids=[idea.organisation_id])[idea.organisation_id]
    return IdeaView(
        **dict(summary), description=idea.description,
        organisation=None if hidden else OrganisationSummary.model_validate(owner),
        authors=None if hidden else list(authors),
        followers=count_per_idea(session, Follow, [idea.id]).get(idea.id, 0),
        ratings={c.name: (round(float(means[c.id]), 2) if c.id in means else None) for c in public},
        criteria=[CriterionOut.model_validate(c) for c in public],
        supported=_has(session, Vote, idea.id, viewer.user_id),
        following=_has(session, Follow, idea.id, viewer.user_id),
        your_ratings={c.name: mine[c.id] for c in public if c.id in mine},
        merged_into=idea.merged_into_id, edited_at=idea.edited_at,
        next_stages=next_stages(workflow, idea.stage) if manage and idea.merged_into_id is None else [],
        workflow=workflow, may_manage=manage,
        may_decide=may_decide_idea(session, viewer, idea, challenge),
        is_author=_is_author(session, viewer, idea),
        asked_to_co_author=viewer.user_id is not None and any(
            a.user_id == viewer.user_id and not a.confirmed for a in authors),
        challenge_title=challenge.title if challenge else None)


def _has(session: Session, model: type[Follow | Vote], idea_id: int, user_id: int | None) -> bool:
    return user_id is not None and bool(session.scalar(select(exists().where(
        model.idea_id == idea_id, model.user_id == user_id))))


def set_counters(session: Session, idea_id: int, **values: object) -> None:
    """Change an idea's counters in the database, as one statement (no lost update)."""
    session.execute(update(Idea).where(Idea.id == idea_id).values(**values).execution_options(
        synchronize_session="fetch"))


def record_follow(session: Session, idea_id: int, user_id: int | None) -> bool:
    return user_id is not None and insert_once(session, Follow(idea_id=idea_id, user_id=user_id))


def _name_of(session: Session, viewer: Viewer) -> str:
    name = accounts.display_name(session, user_id=viewer.user_id) if viewer.user_id else None
    return name or viewer.actor
