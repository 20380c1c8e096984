"""Test data built through innonet's own services."""

import itertools
from datetime import date

from innonet.accounts import service as accounts
from innonet.collaborations import service as collaborations
from innonet.collaborations.schemas import RelationshipIn
from innonet.organisations import service as organisations
from innonet.organisations.schemas import OrganisationIn
from innonet.roles import operator
from innonet.web import CSRF_COOKIE, SESSION_COOKIE

_numbers = itertools.count(1)
# Test data is written as the operator (the command line), who may write everything.
OPERATOR = operator(date.today())
PASSWORD = "correct horse battery staple"


def make_organisation(session, **fields):
    n = next(_numbers)
    data = {"name": f"Organisation {n}", "external_id": f"T-{n}", "kind": "company",
            "country": "DE"} | fields
    return organisations.create_organisation(session, OPERATOR, data=OrganisationIn(**data))


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
    return collaborations.create_relationship(session, OPERATOR, data=RelationshipIn(**data))


def make_user(session, organisation=None, role="member", **flags):
    """A user with a password, optionally ``role`` of ``organisation``; flags as on User."""
    user = accounts.create_user(session, email=f"user{next(_numbers)}@example.org",
                                password=PASSWORD, **flags)
    if organisation is not None:
        accounts.set_membership(session, user=user, organisation_id=organisation.id, role=role)
    return user


def bearer(session, user, scope="write") -> dict:
    """Request headers carrying a new API token of the user."""
    _, secret = accounts.create_token(session, user=user, name="test", scope=scope)
    return {"Authorization": f"Bearer {secret}"}


def sign_in(client, session, user) -> str:
    """Sign the test browser in as ``user``; returns the form token to post with."""
    client.cookies.set(SESSION_COOKIE, accounts.start_session(session, user=user))
    return form_token(client)


def form_token(client) -> str:
    """The browser's CSRF form token (a page visit sets its cookie)."""
    if CSRF_COOKIE not in client.cookies:
        client.get("/login")
    return client.cookies[CSRF_COOKIE]
