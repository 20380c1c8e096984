"""Test data built through innonet's own services."""

import itertools

from innonet.collaborations import service as collaborations
from innonet.collaborations.schemas import RelationshipIn
from innonet.organisations import service as organisations
from innonet.organisations.schemas import OrganisationIn

_numbers = itertools.count(1)


def make_organisation(session, **fields):
    n = next(_numbers)
    data = {"name": f"Organisation {n}", "external_id": f"T-{n}", "kind": "company",
            "country": "DE"} | fields
    return organisations.create_organisation(session, data=OrganisationIn(**data))


def make_project(session, *members, external_id=None, **fields):
    """A project in which every member takes part (the first as coordinator)."""
    external_id = external_id or f"P-{next(_numbers)}"
    collaborations.upsert_projects(session, records=[{"external_id": external_id, **fields}])
    project_id = collaborations.project_ids(session)[external_id]
    collaborations.upsert_participations(session, records=[
        {"project_id": project_id, "organisation_id": m.id,
         "role": "coordinator" if i == 0 else "participant", "contribution": 1000.0}
        for i, m in enumerate(members)])
    return collaborations.get_project(session, external_id=external_id)


def make_relationship(session, organisation, partner, **fields):
    data = {"organisation": organisation.external_id, "partner": partner.external_id,
            "kind": "supplier"} | fields
    return collaborations.create_relationship(session, data=RelationshipIn(**data))
