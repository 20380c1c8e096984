"""The knowledge base: items shared like every record, their versions and diffs, links,
attachments, search and related items. Services flush, never commit.

Who reads what: an item follows the sharing policy (``policy.visible_condition``) like
every shareable record; its owner's members change it. Reads of items that are not public
are written to the owner's audit log. Lists, counts, search and related items all filter
with the same condition.
"""

import difflib
from collections import defaultdict
from datetime import date

import numpy as np
from pydantic import ValidationError
from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.orm import Session

from innonet import roles
from innonet.accounts import service as accounts
from innonet.analytics import embeddings
from innonet.challenges import service as challenges
from innonet.challenges.service import tags_list, tags_value
from innonet.db import rows_changed, utcnow
from innonet.errors import EditConflict, InvalidInput, NotFound, Problem
from innonet.jobs.queue import queue_of
from innonet.jobs.service import JobContext, job_kind
from innonet.knowledge import search
from innonet.knowledge.models import LINK_TYPES, Attachment, KnowledgeItem, KnowledgeLink, KnowledgeVersion
from innonet.knowledge.schemas import (
    AttachmentOut,
    DiffLine,
    DiffOut,
    KnowledgeFields,
    KnowledgeIn,
    KnowledgeOut,
    KnowledgePatch,
    LinkIn,
    LinkOut,
    RelatedOut,
    SearchHit,
    SearchView,
    VersionOut,
)
from innonet.knowledge.storage import Stored, type_name
from innonet.organisations import service as organisations
from innonet.organisations.schemas import OrganisationSummary
from innonet.projects import service as projects
from innonet.roles import Viewer
from innonet.sharing import policy
from innonet.sharing import service as sharing
from innonet.text import excerpt, plain_text

EXTRACT_JOB = "knowledge.extract_text"
# How much of all of an item's attachments' text is searched.
MAX_ATTACHMENT_TEXT = 200_000
SEARCH_PAGE = 20
COUNT_LIMIT = 1000
RELATED = 5


def condition(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition true for the items the viewer may read."""
    return policy.visible_condition(viewer, KnowledgeItem)


def _meaning(title: str, body: str) -> bytes:
    return embeddings.embed([f"{title}. {body}"])[0].tobytes()


# ---------------------------------------------------------------- links


def _resolve_links(session: Session, viewer: Viewer, links: list[LinkIn]) -> list[tuple[str, int]]:
    """(type, record id) for each link, refusing what does not exist or the viewer may not see."""
    out = []
    for n, link in enumerate(links):
        field = f"links.{n}"
        if link.type == "organisation":
            found = organisations.ids_by_external_id(session, external_ids=[link.id])
            if link.id not in found:
                raise InvalidInput.for_field(field, f"no organisation with id {link.id[:64]!r}")
            out.append(("organisation", found[link.id]))
            continue
        if not link.id.isdigit() or not 0 < int(link.id) <= 2_147_483_647:
            raise InvalidInput.for_field(field, f"a {LINK_TYPES[link.type].lower()} is named by its number")
        record_id = int(link.id)
        if link.type == "project":
            visible = bool(projects.list_projects_by_id(session, viewer, ids=[record_id]))
        elif link.type == "idea":
            visible = challenges.idea_readable(session, viewer, idea_id=record_id)
        else:
            visible = challenges.challenge_known(session, viewer, challenge_id=record_id)
        if not visible:
            raise InvalidInput.for_field(field, f"no {LINK_TYPES[link.type].lower()} with number {record_id}")
        out.append((link.type, record_id))
    return list(dict.fromkeys(out))


def _set_links(session: Session, item: KnowledgeItem, links: list[tuple[str, int]]) -> None:
    session.execute(delete(KnowledgeLink).where(KnowledgeLink.item_id == item.id))
    if links:
        session.execute(insert(KnowledgeLink), [{"item_id": item.id, "target_type": t, "target_id": i}
                                                for t, i in links])


def links_view(session: Session, viewer: Viewer, *, item_ids: list[int]) -> dict[int, list[LinkOut]]:
    """Item id -> its links the viewer may see, with their titles and pages."""
    rows = session.execute(select(KnowledgeLink.item_id, KnowledgeLink.target_type, KnowledgeLink.target_id)
                           .where(KnowledgeLink.item_id.in_(item_ids)).order_by(KnowledgeLink.id)).all()
    by_type: dict[str, set[int]] = defaultdict(set)
    for _, target_type, target_id in rows:
        by_type[target_type].add(target_id)
    orgs = organisations.organisations_by_id(session, ids=by_type["organisation"])
    found = {("organisation", i): (o.name, f"/orgs/{o.external_id}", o.external_id) for i, o in orgs.items()}
    for p in projects.list_projects_by_id(session, viewer, ids=sorted(by_type["project"])):
        found["project", p.id] = (p.title, f"/joint-projects/{p.id}", str(p.id))
    for idea_id, title in challenges.readable_idea_titles(session, viewer, ids=sorted(by_type["idea"])).items():
        found["idea", idea_id] = (title, f"/ideas/{idea_id}", str(idea_id))
    for challenge_id, title in challenges.known_challenge_titles(session, viewer,
                                                                 ids=sorted(by_type["challenge"])).items():
        found["challenge", challenge_id] = (title, f"/challenges/{challenge_id}", str(challenge_id))
    out: dict[int, list[LinkOut]] = defaultdict(list)
    for item_id, target_type, target_id in rows:
        if (target_type, target_id) in found:
            title, url, shown_id = found[target_type, target_id]
            out[item_id].append(LinkOut(type=target_type, id=shown_id, title=title, url=url))
    return out


# ---------------------------------------------------------------- items


def _add_version(session: Session, viewer: Viewer, item: KnowledgeItem) -> None:
    session.add(KnowledgeVersion(item_id=item.id, version=item.version, kind=item.kind, title=item.title,
                                 body=item.body, tags=item.tags, edited_by_id=viewer.user_id, edited_at=utcnow()))


def create_item(session: Session, viewer: Viewer, *, data: KnowledgeIn) -> KnowledgeItem:
    """Add an item for one of the viewer's organisations; private until shared."""
    owner = organisations.get_organisation(session, external_id=data.organisation)
    roles.ensure_insider(viewer, owner.id)
    links = _resolve_links(session, viewer, data.links)
    now = utcnow()
    item = KnowledgeItem(organisation_id=owner.id, kind=data.kind, title=data.title, body=data.body,
                         tags=tags_value(data.tags), version=1, meaning=_meaning(data.title, data.body),
                         created_by_id=viewer.user_id, updated_by_id=viewer.user_id, created_at=now, updated_at=now)
    sharing.add_item(session, viewer, item=item, data=data)
    _set_links(session, item, links)
    _add_version(session, viewer, item)
    session.flush()
    return item


def get_item(session: Session, viewer: Viewer, *, item_id: int, log: bool = True) -> KnowledgeItem:
    """An item the viewer may read (NotFound otherwise, as if it did not exist); reads of
    items that are not public are logged for the owner's admins."""
    item = session.scalar(select(KnowledgeItem).where(KnowledgeItem.id == item_id, condition(viewer)))
    if item is None:
        raise NotFound(f"No knowledge item with id {item_id}.")
    if log:
        sharing.record(session, viewer, action="read", items=[item])
    return item


def may_edit(viewer: Viewer, item: KnowledgeItem) -> bool:
    return viewer.can_write and (viewer.is_operator or item.organisation_id in viewer.member_of)


def _as_text(kind: str, title: str, body: str, tags: list[str]) -> dict:
    return {"kind": kind, "title": title, "body": body, "tags": tags}


def update_item(session: Session, viewer: Viewer, *, item_id: int, changes: KnowledgePatch) -> KnowledgeItem:
    """Save an edit made on version ``changes.version``; 409 with both texts when a newer
    version was saved meanwhile (compare-and-set: two writers never both win)."""
    item = get_item(session, viewer, item_id=item_id, log=False)
    roles.ensure_insider(viewer, item.organisation_id)
    given = changes.model_dump(exclude_unset=True)
    try:
        fields = KnowledgeFields.model_validate(
            {"kind": item.kind, "title": item.title, "body": item.body, "tags": tags_list(item.tags)}
            | {k: v for k, v in given.items() if k in ("kind", "title", "body", "tags") and v is not None})
    except ValidationError as error:
        raise InvalidInput.from_validation(error.errors()) from None
    yours = _as_text(fields.kind, fields.title, fields.body, fields.tags)
    if changes.version != item.version:
        raise _conflict(item, yours, changes.version)
    links = _resolve_links(session, viewer, changes.links) if changes.links is not None else None
    text_changed = (fields.title, fields.body) != (item.title, item.body)
    values = {"kind": fields.kind, "title": fields.title, "body": fields.body, "tags": tags_value(fields.tags),
              "version": item.version + 1, "updated_by_id": viewer.user_id, "updated_at": utcnow()}
    if text_changed:
        values["meaning"] = _meaning(fields.title, fields.body)
    saved = rows_changed(session.execute(update(KnowledgeItem).where(
        KnowledgeItem.id == item.id, KnowledgeItem.version == changes.version).values(**values)))
    if not saved:  # another edit was saved between our read and our write
        session.refresh(item)
        raise _conflict(item, yours, changes.version)
    session.refresh(item)
    if links is not None:
        _set_links(session, item, links)
    sharing.change_sharing(session, viewer, item=item, changes=given)
    _add_version(session, viewer, item)
    sharing.record(session, viewer, action="update", items=[item], detail=f"version {item.version}")
    session.flush()
    return item


def _conflict(item: KnowledgeItem, yours: dict, based_on: int) -> EditConflict:
    return EditConflict(
        f"Version {item.version} of “{item.title}” was saved after the version {based_on} you edited. "
        "Nothing was overwritten: compare both texts, then save again on version "
        f"{item.version}.", stored=_as_text(item.kind, item.title, item.body, tags_list(item.tags))
        | {"version": item.version}, yours=yours | {"version": based_on})


def delete_item(session: Session, viewer: Viewer, *, item_id: int) -> list[str]:
    """Delete an item with its versions and attachments (its owner's members). Returns the
    storage keys of its files, which the caller deletes once the deletion is committed."""
    item = get_item(session, viewer, item_id=item_id, log=False)
    roles.ensure_insider(viewer, item.organisation_id)
    keys = list(session.scalars(select(Attachment.storage_key).where(Attachment.item_id == item.id)))
    sharing.delete_item(session, viewer, item=item)
    return keys


def item_view(session: Session, viewer: Viewer, *, item: KnowledgeItem) -> KnowledgeOut:
    """One item as the viewer may see it."""
    owner = organisations.organisations_by_id(session, ids=[item.organisation_id])[item.organisation_id]
    files = session.scalars(select(Attachment).where(Attachment.item_id == item.id).order_by(Attachment.id)).all()
    return KnowledgeOut(
        **dict(sharing.sharing_view(session, viewer, items=[item])[item.id]),
        id=item.id, organisation=OrganisationSummary.model_validate(owner), kind=item.kind, title=item.title,
        body=item.body, tags=tags_list(item.tags), version=item.version,
        links=links_view(session, viewer, item_ids=[item.id])[item.id],
        attachments=[attachment_view(a) for a in files],
        may_edit=may_edit(viewer, item), created_at=item.created_at, updated_at=item.updated_at)


def attachment_view(a: Attachment) -> AttachmentOut:
    return AttachmentOut(id=a.id, filename=a.filename, content_type=a.content_type, type_name=type_name(a.content_type),
                         size=a.size, sha256=a.sha256, text_state=a.text_state, uploaded_at=a.uploaded_at,
                         url=f"/knowledge/{a.item_id}/attachments/{a.id}")


# ---------------------------------------------------------------- versions


def versions(session: Session, viewer: Viewer, *, item: KnowledgeItem) -> list[VersionOut]:
    """Every version of the item, newest first."""
    rows = session.scalars(select(KnowledgeVersion).where(KnowledgeVersion.item_id == item.id)
                           .order_by(KnowledgeVersion.version.desc())).all()
    people = accounts.people_by_id(session, ids=[v.edited_by_id for v in rows if v.edited_by_id])
    return [VersionOut(version=v.version, kind=v.kind, title=v.title, body=v.body, tags=tags_list(v.tags),
                       edited_by=(people[v.edited_by_id][0] or people[v.edited_by_id][1])
                       if v.edited_by_id in people else None, edited_at=v.edited_at) for v in rows]


def _line_diff(old: str, new: str) -> list[DiffLine]:
    changes = {"  ": "same", "+ ": "added", "- ": "removed"}
    return [DiffLine(change=changes[line[:2]], text=line[2:])
            for line in difflib.ndiff(old.splitlines(), new.splitlines()) if not line.startswith("? ")]


def diff(session: Session, viewer: Viewer, *, item: KnowledgeItem, old: int, new: int) -> DiffOut:
    """What changed between two versions, line by line."""
    found = {v.version: v for v in session.scalars(select(KnowledgeVersion).where(
        KnowledgeVersion.item_id == item.id, KnowledgeVersion.version.in_([old, new])))}
    for field, number in (("old", old), ("new", new)):
        if number not in found:
            raise InvalidInput.for_field(field, f"the item has versions 1 to {item.version}")
    a, b = found[old], found[new]
    return DiffOut(old=old, new=new, title=_line_diff(a.title, b.title), body=_line_diff(a.body, b.body))


# ---------------------------------------------------------------- attachments


def ensure_may_attach(viewer: Viewer, item: KnowledgeItem) -> None:
    """Only the owner's members attach files (checked before a byte is stored)."""
    roles.ensure_insider(viewer, item.organisation_id)


def add_attachment(session: Session, viewer: Viewer, *, item_id: int, stored: Stored) -> Attachment:
    """Record a file already in storage (see storage.receive); its text is read by a job."""
    item = get_item(session, viewer, item_id=item_id, log=False)
    roles.ensure_insider(viewer, item.organisation_id)
    filename = stored.filename
    attachment = Attachment(item_id=item.id, filename=filename, content_type=stored.content_type, size=stored.size,
                            sha256=stored.sha256, storage_key=stored.key, uploaded_by_id=viewer.user_id,
                            text_state="pending" if _has_text(stored.content_type) else "none")
    session.add(attachment)
    session.flush()
    sharing.record(session, viewer, action="update", items=[item], detail=f"attached {filename}"[:500])
    if attachment.text_state == "pending" and (queue := queue_of(session)) is not None:
        queue.submit_after_commit(session, EXTRACT_JOB, {"attachment": attachment.id}, user_id=viewer.user_id,
                                  organisation_id=item.organisation_id)
    return attachment


def _has_text(content_type: str) -> bool:
    return not content_type.startswith("image/")


def get_attachment(session: Session, viewer: Viewer, *, item_id: int, attachment_id: int) -> Attachment:
    item = get_item(session, viewer, item_id=item_id)  # a download is a read: logged
    attachment = session.scalar(select(Attachment).where(Attachment.id == attachment_id,
                                                         Attachment.item_id == item.id))
    if attachment is None:
        raise NotFound(f"No attachment with id {attachment_id} on this item.")
    return attachment


def delete_attachment(session: Session, viewer: Viewer, *, item_id: int, attachment_id: int) -> str:
    """Remove a file from an item; returns its storage key, to delete once committed."""
    attachment = get_attachment(session, viewer, item_id=item_id, attachment_id=attachment_id)
    item = session.get_one(KnowledgeItem, item_id)
    roles.ensure_insider(viewer, item.organisation_id)
    session.delete(attachment)
    session.flush()
    _refresh_attachment_text(session, item_id)
    return attachment.storage_key


def _refresh_attachment_text(session: Session, item_id: int) -> None:
    texts = session.scalars(select(Attachment.text).where(Attachment.item_id == item_id, Attachment.text.is_not(None))
                            .order_by(Attachment.id))
    session.execute(update(KnowledgeItem).where(KnowledgeItem.id == item_id).values(
        attachment_text="\n\n".join(t for t in texts if t)[:MAX_ATTACHMENT_TEXT]))


def store_text(session: Session, *, attachment_id: int, text: str | None, state: str | None = None) -> None:
    """Keep what the extraction job read, and make it searchable with the item; ``state``
    says why there is none ("failed", "too_large")."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:  # deleted meanwhile
        return
    attachment.text = text[:MAX_ATTACHMENT_TEXT] if text else None
    attachment.text_state = state or ("done" if text else "none")
    session.flush()
    _refresh_attachment_text(session, attachment.item_id)


# ---------------------------------------------------------------- search and lists


def _filters(session: Session, *, kind: str | None, tag: str | None, organisation: str | None,
             project: int | None) -> list:
    where = []
    if kind:
        where.append(KnowledgeItem.kind == kind)
    if tag:
        where.append(KnowledgeItem.tags.contains(f",{tag.casefold()},"))
    if organisation:
        found = organisations.ids_by_external_id(session, external_ids=[organisation])
        organisation_id = found.get(organisation, -1)
        linked = select(KnowledgeLink.item_id).where(KnowledgeLink.target_type == "organisation",
                                                     KnowledgeLink.target_id == organisation_id)
        where.append((KnowledgeItem.organisation_id == organisation_id) | KnowledgeItem.id.in_(linked))
    if project:
        where.append(KnowledgeItem.id.in_(select(KnowledgeLink.item_id).where(
            KnowledgeLink.target_type == "project", KnowledgeLink.target_id == project)))
    return where


def search_items(session: Session, viewer: Viewer, *, query: str, kind: str | None = None, tag: str | None = None,
                 organisation: str | None = None, project: int | None = None, page: int = 1) -> SearchView:
    """Items the viewer may read that hold every word of ``query`` (all such items when it
    has no word), best first, with an excerpt around the words; the count stops at COUNT_LIMIT."""
    words = search.words_of(query)
    where = [condition(viewer), *_filters(session, kind=kind, tag=tag, organisation=organisation, project=project)]
    if words:
        ranked = search.matching(session, words, *where)
    else:
        ranked = select(KnowledgeItem.id).where(*where).order_by(KnowledgeItem.updated_at.desc(),
                                                                 KnowledgeItem.id.desc())
    total = session.scalar(select(func.count()).select_from(
        ranked.with_only_columns(KnowledgeItem.id).order_by(None).limit(COUNT_LIMIT + 1).subquery())) or 0
    ids = list(session.scalars(ranked.with_only_columns(KnowledgeItem.id)
                               .limit(SEARCH_PAGE).offset((page - 1) * SEARCH_PAGE)))
    items = {i.id: i for i in session.scalars(select(KnowledgeItem).where(KnowledgeItem.id.in_(ids)))}
    owners = organisations.organisations_by_id(session, ids=[i.organisation_id for i in items.values()])
    marks = search.highlight_words(words)
    hits = []
    for item_id in ids:
        item = items[item_id]
        body = plain_text(item.body)
        source = body if not marks or _mentions(body, marks) or not item.attachment_text else item.attachment_text
        hits.append(SearchHit(id=item.id, kind=item.kind, title=item.title,
                              organisation=OrganisationSummary.model_validate(owners[item.organisation_id]),
                              tags=tags_list(item.tags), excerpt=excerpt(source, marks, 220),
                              updated_at=item.updated_at))
    return SearchView(query=query, words=marks, total=min(total, COUNT_LIMIT), capped=total > COUNT_LIMIT,
                      hits=hits)


def _mentions(text: str, words: list[str]) -> bool:
    folded = text.casefold()
    return any(w in folded for w in words)


def related(session: Session, viewer: Viewer, *, item: KnowledgeItem, k: int = RELATED) -> list[RelatedOut]:
    """Items the viewer may read that are closest in meaning to this one: candidates that
    share its title's words, ranked by the cosine of their meanings."""
    words = search.words_of(f"{item.title} {' '.join(tags_list(item.tags))}")
    if not words or item.meaning is None:
        return []
    candidates = []
    for word in words:  # any of the words (each search needs them all)
        candidates += list(session.execute(search.matching(session, [word], condition(viewer))
                                           .where(KnowledgeItem.id != item.id).limit(50)).scalars())
    candidates = list(dict.fromkeys(candidates))
    rows = session.execute(select(KnowledgeItem.id, KnowledgeItem.title, KnowledgeItem.kind, KnowledgeItem.meaning)
                           .where(KnowledgeItem.id.in_(candidates), KnowledgeItem.meaning.is_not(None))).all()
    if not rows:
        return []
    mine = np.frombuffer(item.meaning, dtype=np.float32)
    scores = np.stack([np.frombuffer(r.meaning, dtype=np.float32) for r in rows]) @ mine
    best = np.argsort(-scores)[:k]
    return [RelatedOut(id=rows[i].id, title=rows[i].title, kind=rows[i].kind, similarity=round(float(scores[i]), 3))
            for i in best]


def tags_in_use(session: Session, viewer: Viewer, *, limit: int = 30) -> list[str]:
    """The most used tags among the items the viewer may read (for the search filter)."""
    counts: dict[str, int] = defaultdict(int)
    for value in session.scalars(select(KnowledgeItem.tags).where(condition(viewer), KnowledgeItem.tags != "")
                                 .limit(5000)):
        for tag in tags_list(value):
            counts[tag] += 1
    return [t for t, _ in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]]


# ---------------------------------------------------------------- lessons of closed projects


def lessons_from_project(session: Session, viewer: Viewer, *, project_id: int) -> list[KnowledgeItem]:
    """The lessons of a closed project as knowledge items of its lead, shared with its
    other parties and linked to the project (once: a second run adds nothing)."""
    project = projects.get_project(session, viewer, project_id=project_id, log=False)
    already = session.scalar(select(func.count()).select_from(KnowledgeLink).join(
        KnowledgeItem, KnowledgeItem.id == KnowledgeLink.item_id).where(
        KnowledgeLink.target_type == "project", KnowledgeLink.target_id == project.id, KnowledgeItem.kind == "lesson"))
    if already:
        return []
    lead = organisations.organisations_by_id(session, ids=[project.organisation_id])[project.organisation_id]
    others = organisations.organisations_by_id(session, ids=[o for o in projects.party_ids(
        session, project_id=project.id) if o != project.organisation_id])
    made = []
    for n, lesson in enumerate(projects.lessons_of(project.lessons), start=1):
        first_line = lesson.splitlines()[0].strip("#*-_ ")
        title = first_line if len(first_line) <= 120 else first_line[:117].rsplit(" ", 1)[0] + "…"
        made.append(create_item(session, viewer, data=KnowledgeIn(
            organisation=lead.external_id, kind="lesson", title=title or f"Lesson {n} of {project.title}"[:200],
            body=f"{lesson}\n\nFrom the joint project “{project.title}” ({project.outcome}, "
                 f"closed {project.closed_on}).",
            tags=["lesson learned"], links=[LinkIn(type="project", id=str(project.id))],
            visibility="partners" if others else "private",
            shared_with=[o.external_id for o in others.values()])))
    return made


@job_kind(projects.LESSONS_JOB, title="Add a closed project's lessons to the knowledge base")
def _lessons_job(context: JobContext) -> dict:
    from innonet.db import transaction

    with transaction(context.sessions) as session:
        viewer = accounts.viewer_of(session, user_id=context.user_id, today=date.today(), channel="page") \
            if context.user_id else roles.operator(date.today())
        made = lessons_from_project(session, viewer, project_id=int(context.params["project"]))
        return {"lessons": len(made)}


# ---------------------------------------------------------------- a folder of Markdown files

FRONT_MATTER_KEYS = {"title", "kind", "tags", "visibility", "shared_with", "agreement", "links"}


def read_markdown(text: str, *, name: str) -> tuple[dict, list[Problem]]:
    """A Markdown file's item: front matter between "---" lines (title, kind, tags,
    visibility, shared_with, agreement, links as "type:id"), then the body. Without a title,
    the first "# " heading, else the file's name."""
    import yaml

    lines = text.replace("\r\n", "\n").split("\n")
    fields: dict = {}
    problems: list[Problem] = []
    body_start = 0
    if lines and lines[0].strip() == "---":
        end = next((n for n in range(1, len(lines)) if lines[n].strip() == "---"), None)
        if end is None:
            return {}, [Problem("the front matter that starts on line 1 has no closing '---'", field=name, line=1)]
        try:
            fields = yaml.safe_load("\n".join(lines[1:end])) or {}
        except yaml.YAMLError as error:
            line = getattr(getattr(error, "problem_mark", None), "line", 0) + 2
            return {}, [Problem(f"the front matter is not readable: {getattr(error, 'problem', error)}",
                                field=name, line=line)]
        if not isinstance(fields, dict):
            return {}, [Problem("the front matter must be 'key: value' lines", field=name, line=2)]
        for key in fields:
            if key not in FRONT_MATTER_KEYS:
                line = next((n + 1 for n in range(1, end) if lines[n].startswith(f"{key}:")), 2)
                problems.append(Problem(f"unknown key {str(key)[:40]!r}; known: {', '.join(sorted(FRONT_MATTER_KEYS))}",
                                        field=name, line=line))
        body_start = end + 1
    body = "\n".join(lines[body_start:]).strip("\n")
    if not fields.get("title"):
        heading = next((line[2:].strip() for line in body.split("\n") if line.startswith("# ")), None)
        fields["title"] = heading or name.rsplit("/", 1)[-1].removesuffix(".md").replace("-", " ").replace("_", " ")
    if isinstance(fields.get("tags"), str):
        fields["tags"] = [t.strip() for t in fields["tags"].split(",")]
    if isinstance(fields.get("shared_with"), str):
        fields["shared_with"] = fields["shared_with"].replace(",", " ").split()
    links = fields.get("links") or []
    fields["links"] = [{"type": str(link).partition(":")[0].strip(), "id": str(link).partition(":")[2].strip()}
                       for link in (links if isinstance(links, list) else [links])]
    return fields | {"body": body}, problems


def import_folder(session: Session, viewer: Viewer, *, files: list[tuple[str, str]], organisation: str,
                  visibility: str = "private") -> list[KnowledgeItem]:
    """Add one item per Markdown file, all or nothing: every file is checked first, and any
    problem (naming the file and line) adds none."""
    problems: list[Problem] = []
    wanted = []
    for name, text in files:
        fields, found = read_markdown(text, name=name)
        problems += found
        if not fields:  # its front matter could not be read
            continue
        fields = {k: v for k, v in fields.items() if k in FRONT_MATTER_KEYS | {"body"}}
        try:
            wanted.append((name, KnowledgeIn.model_validate(
                {"organisation": organisation, "visibility": visibility} | fields)))
        except ValidationError as error:
            problems += [Problem(p.message, field=f"{name}: {p.field}" if p.field else name)
                         for p in InvalidInput.from_validation(error.errors()).problems]
    if problems:
        raise InvalidInput(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in the folder; "
                           "nothing was imported.", problems)
    made = []
    for name, data in wanted:
        try:
            with session.begin_nested():
                made.append(create_item(session, viewer, data=data))
        except InvalidInput as error:
            problems += [Problem(p.message, field=f"{name}: {p.field}" if p.field else name) for p in error.problems]
    if problems:
        raise InvalidInput(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in the folder; "
                           "nothing was imported.", problems)
    return made
