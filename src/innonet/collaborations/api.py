"""JSON endpoints under /api/v1: relationships, projects, an organisation with its partners
and projects, its ego network, counts, and the cluster's aggregates."""

from typing import Annotated

from fastapi import Query, Response
from sqlalchemy.orm import Session

from innonet.collaborations import service
from innonet.collaborations.models import Relationship
from innonet.collaborations.schemas import (
    ClusterSummary,
    EgoNetwork,
    OrganisationDetail,
    ProjectDetail,
    ProjectPage,
    RelationshipIn,
    RelationshipOut,
    RelationshipPatch,
)
from innonet.organisations import service as organisations
from innonet.roles import Viewer
from innonet.web import CurrentViewer, DbSession, RecordId, api_router

router = api_router()


def _out(session: Session, viewer: Viewer, rel: Relationship) -> RelationshipOut:
    return service.relationship_view(session, viewer, relationships=[rel])[0]


@router.get("/relationships", response_model=list[RelationshipOut], tags=["relationships"])
def list_relationships(
    session: Session = DbSession,
    org: Annotated[str | None, Query(description="Only this organisation's (either side)")] = None,
    viewer: Viewer = CurrentViewer,
) -> list[RelationshipOut]:
    """The relationships you may see, all or those of one organisation."""
    organisation_id = organisations.get_organisation(session, external_id=org).id if org else None
    rels = service.list_relationships(session, viewer, organisation_id=organisation_id)
    return service.relationship_view(session, viewer, relationships=rels)


@router.post("/relationships", response_model=RelationshipOut, status_code=201, tags=["relationships"])
def create_relationship(data: RelationshipIn, session: Session = DbSession,
                        viewer: Viewer = CurrentViewer) -> RelationshipOut:
    """Record a tie (members of the organisation, write token): ``kind`` says what the
    partner is to the organisation. New relationships are private unless ``visibility`` says otherwise."""
    return _out(session, viewer, service.create_relationship(session, viewer, data=data))


@router.get("/relationships/{relationship_id}", response_model=RelationshipOut, tags=["relationships"])
def get_relationship(relationship_id: RecordId, session: Session = DbSession,
                     viewer: Viewer = CurrentViewer) -> RelationshipOut:
    """One relationship, if you may see it (404 otherwise)."""
    return _out(session, viewer, service.get_relationship(session, viewer, relationship_id=relationship_id))


@router.patch("/relationships/{relationship_id}", response_model=RelationshipOut, tags=["relationships"])
def update_relationship(relationship_id: RecordId, changes: RelationshipPatch, session: Session = DbSession,
                        viewer: Viewer = CurrentViewer) -> RelationshipOut:
    """Change some fields or the sharing of a relationship (the owner's members)."""
    rel = service.update_relationship(session, viewer, relationship_id=relationship_id,
                                      changes=changes.model_dump(exclude_unset=True))
    return _out(session, viewer, rel)


@router.delete("/relationships/{relationship_id}", status_code=204, tags=["relationships"])
def delete_relationship(relationship_id: RecordId, session: Session = DbSession,
                        viewer: Viewer = CurrentViewer) -> Response:
    """Delete a relationship (the owner's members)."""
    service.delete_relationship(session, viewer, relationship_id=relationship_id)
    return Response(status_code=204)


@router.get("/projects", response_model=ProjectPage, tags=["projects"])
def list_projects(
    session: Session = DbSession,
    q: Annotated[str | None, Query(max_length=200, description="Text in acronym, title, id or topic")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 25,
) -> dict:
    """Projects, newest first, one page at a time."""
    found = service.search_projects(session, q=q, page=page, per_page=per_page)
    return {"items": found.items, "total": found.total, "total_capped": found.capped,
            "page": page, "per_page": per_page}


@router.get("/projects/{external_id}", response_model=ProjectDetail, tags=["projects"])
def get_project(external_id: str, session: Session = DbSession) -> ProjectDetail:
    """A project (by grant number or rcn:N) with its participants, coordinator first."""
    return service.project_detail(session, external_id=external_id)


@router.get("/orgs/{external_id}", response_model=OrganisationDetail, tags=["organisations"])
def get_organisation(
    external_id: str,
    session: Session = DbSession,
    partners_limit: Annotated[int, Query(ge=0, le=10_000)] = 100,
    projects_limit: Annotated[int, Query(ge=0, le=10_000)] = 100,
    viewer: Viewer = CurrentViewer,
) -> OrganisationDetail:
    """An organisation with its partners (strongest first), projects and the relationships
    you may see."""
    return service.organisation_detail(session, viewer, external_id=external_id,
                                      partners_limit=partners_limit,
                                      projects_limit=projects_limit)


@router.get("/cluster/summary", response_model=ClusterSummary, tags=["cluster"])
def cluster_summary(session: Session = DbSession, viewer: Viewer = CurrentViewer) -> ClusterSummary:
    """Aggregates of the networks of organisations that consented (cluster managers only)."""
    return service.cluster_summary(session, viewer)


@router.get("/orgs/{external_id}/network", response_model=EgoNetwork, tags=["organisations"])
def ego_network(
    external_id: str,
    session: Session = DbSession,
    size: Annotated[int, Query(ge=1, le=200, description="How many partners to include")] = 40,
    viewer: Viewer = CurrentViewer,
) -> EgoNetwork:
    """The organisation, its strongest partners and the links among them, for drawing
    (relationships only where you may see them)."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    return service.ego_network(session, viewer, organisation_id=organisation.id, size=size)


@router.get("/stats", tags=["organisations"])
def stats(session: Session = DbSession, viewer: Viewer = CurrentViewer) -> dict:
    """How many organisations, projects, participations and (visible) relationships there are."""
    return {"organisations": organisations.count_organisations(session)} | service.counts(session, viewer)
