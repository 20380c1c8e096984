"""The authorisation matrix, generated from the application's own route table.

Every route × every role × the viewer's own or another organisation × every visibility is
requested, and the answer must be what RULES says: allowed (2xx/3xx) or denied (401, 403,
404, or a redirect to the sign-in page). A route without a rule fails the test, so a new
route cannot ship without deciding who may use it.

Every allowed read is also searched for the notes of relationships the role may not see:
none may leak through any page, JSON document, CSV export or graph.
"""

import io
import json
from dataclasses import dataclass, field
from typing import Any
from datetime import date

import pytest
from starlette.routing import Mount

from innonet.accounts import service as accounts
from innonet.challenges import evaluation as evaluating
from innonet.challenges import service as challenging
from innonet.challenges.schemas import ChallengeIn, CommentIn, IdeaIn
from innonet.introductions import service as introducing
from innonet.introductions.schemas import IntroductionIn
from innonet.jobs.models import Job
from innonet.matching import service as matching
from innonet.matching.schemas import NeedIn
from innonet.knowledge import service as knowing
from innonet.knowledge.schemas import KnowledgeIn
from innonet.knowledge.storage import receive, storage_of
from innonet.kpis.models import Alert
from innonet.projects import service as projecting
from innonet.projects.api import ITEM_PATHS
from innonet.projects.schemas import ITEM_INPUTS, PersonIn, ProjectIn
from innonet.sharing import service as sharing
from innonet.sharing.schemas import AgreementIn
from innonet.webhooks import service as hooks
from tests.factories import (
    OPERATOR,
    PASSWORD,
    make_organisation,
    make_project,
    make_relationship,
    make_user,
)

# Each kind of project item by its path, and the body that adds one.
PROJECT_ITEMS = {
    "work-packages": {"code": "WP9", "title": "Pilot", "responsible": ["W-THIRD"]},
    "milestones": {"title": "Pilot runs", "due_on": "2026-06-01"},
    "risks": {"title": "Supply"},
    "decisions": {"title": "Go", "decided_on": "2026-02-01"},
    "background-ip": {"title": "Binder patent"},
    "results": {"title": "Prototype", "owners": ["W-THIRD", "{lead}"]},
}
ROLES = ("anonymous", "guest", "member", "admin", "cluster_manager", "platform_admin", "read_token")
SIDES = ("own", "other")
VISIBILITIES = ("private", "partners", "network", "public")
INSIDERS = {"member", "admin", "read_token"}
NETWORK = INSIDERS | {"cluster_manager", "platform_admin"}
WRITERS = {"member", "admin"}


def can_read(role: str, side: str, visibility: str) -> bool:
    """The policy, restated independently: may ``role`` read a relationship of ``side``?"""
    if visibility == "public":
        return True
    if visibility == "network":
        return role in NETWORK
    if side == "own":
        return role in INSIDERS
    # "partners" records of the other organisation are shared with ours; private ones never.
    return visibility == "partners" and role in INSIDERS


def everyone(role, side, visibility):
    return True


def signed_in(role, side, visibility):
    return role != "anonymous"


def item_reader(role, side, visibility):
    return can_read(role, side, visibility)


def item_writer(role, side, visibility):
    return role in WRITERS and side == "own"


def network_writer(role, side, visibility):
    return role in WRITERS | {"cluster_manager", "platform_admin"}


def org_writer(role, side, visibility):
    return role in WRITERS and side == "own"


def org_admin(role, side, visibility):
    return role == "admin" and side == "own"


def org_admin_or_platform_admin(role, side, visibility):
    return org_admin(role, side, visibility) or role == "platform_admin"


def party_insider(role, side, visibility):
    return role in INSIDERS and side == "own"


def party_insider_api(role, side, visibility):
    return role in INSIDERS


def cluster_manager(role, side, visibility):
    return role == "cluster_manager"


def page_writer(role, side, visibility):
    """Page forms that only need a signed-in browser (its own account)."""
    return role != "anonymous"


def own_token(role, side, visibility):
    return role != "anonymous" and side == "own"


def job_viewer(role, side, visibility):
    """The member who started the job (own side) and the admins of its organisation."""
    return side == "own" and role in INSIDERS or role == "platform_admin"


def job_starter(role, side, visibility):
    """A job's file: the member who started it (their read token too), nobody else."""
    return side == "own" and role in {"member", "read_token"}


def agreement_admin(role, side, visibility):
    return role == "admin" and side == "own"


def idea_submitter(role, side, visibility):
    """Whoever reads a challenge's brief and belongs to an organisation (a guest too, to a
    public challenge)."""
    return can_read(role, side, visibility) and role in WRITERS | {"guest"}


def reactor(role, side, visibility):
    """Support, follow, rate, comment: any account that may read the idea."""
    return can_read(role, side, visibility) and role != "anonymous"


def project_party(role, side, visibility):
    """The world's projects of our side are led by us; of the other side, we are a party
    only to the one shared with partners."""
    return role in WRITERS and (side == "own" or visibility == "partners")


def idea_author(role, side, visibility):
    """The world's ideas and comments of our side are written by our member."""
    return role == "member" and side == "own"


RULES = {
    ("GET", "/api/openapi.json"): everyone,
    ("GET", "/healthz"): everyone,
    ("GET", "/favicon.ico"): everyone,
    ("GET", "/readyz"): everyone,
    ("GET", "/api/docs"): everyone,
    ("GET", "/methods"): everyone,
    ("GET", "/api/v1/orgs"): everyone,
    ("POST", "/api/v1/orgs"): network_writer,
    ("GET", "/api/v1/orgs/{external_id}"): everyone,
    ("PATCH", "/api/v1/orgs/{external_id}"): org_admin_or_platform_admin,
    ("GET", "/api/v1/orgs/{external_id}/network"): everyone,
    ("GET", "/api/v1/stats"): everyone,
    ("GET", "/api/v1/relationships"): everyone,
    ("POST", "/api/v1/relationships"): org_writer,
    ("GET", "/api/v1/relationships/{relationship_id}"): item_reader,
    ("PATCH", "/api/v1/relationships/{relationship_id}"): item_writer,
    ("DELETE", "/api/v1/relationships/{relationship_id}"): item_writer,
    ("GET", "/api/v1/projects"): everyone,
    ("GET", "/api/v1/projects/{external_id}"): everyone,
    ("GET", "/api/v1/agreements"): everyone,  # the list holds only the viewer's own
    ("POST", "/api/v1/agreements"): agreement_admin,
    ("GET", "/api/v1/agreements/{agreement_id}"): party_insider,
    ("PATCH", "/api/v1/agreements/{agreement_id}"): agreement_admin,
    ("PUT", "/api/v1/orgs/{external_id}/cluster-consent"): org_admin,
    ("GET", "/api/v1/orgs/{external_id}/audit"): org_admin,
    ("GET", "/api/v1/cluster/summary"): cluster_manager,
    ("GET", "/api/v1/me"): signed_in,
    # Network analytics use only what the viewer may see (tests/network checks the counts).
    ("GET", "/api/v1/orgs/{external_id}/diagnosis"): everyone,
    ("GET", "/api/v1/network/report"): everyone,
    ("GET", "/api/v1/network/graph"): everyone,
    ("GET", "/api/v1/network/export"): everyone,
    # Recommendations read public data plus the relationships the viewer may see.
    ("GET", "/api/v1/orgs/{external_id}/recommendations"): everyone,
    ("POST", "/api/v1/orgs/{external_id}/recommendations"): everyone,
    ("GET", "/api/v1/orgs/{external_id}/needs"): everyone,  # holds only what the viewer may see
    ("POST", "/api/v1/needs"): org_writer,
    ("GET", "/api/v1/needs/{need_id}"): item_reader,
    ("PATCH", "/api/v1/needs/{need_id}"): item_writer,
    ("DELETE", "/api/v1/needs/{need_id}"): item_writer,
    ("GET", "/api/v1/needs/{need_id}/recommendations"): item_reader,
    ("GET", "/api/v1/needs/{need_id}/shortlist"): item_reader,
    ("PUT", "/api/v1/needs/{need_id}/shortlist/{external_id}"): item_writer,
    ("DELETE", "/api/v1/needs/{need_id}/shortlist/{external_id}"): item_writer,
    ("POST", "/needs/{need_id}/shortlist"): item_writer,
    ("POST", "/needs/{need_id}/shortlist/{external_id}/remove"): item_writer,
    # Introductions: private to the three organisations; the introducer's members answer.
    ("GET", "/api/v1/introductions"): signed_in,  # holds only the viewer's own
    ("POST", "/api/v1/introductions"): org_writer,
    ("GET", "/api/v1/introductions/{request_id}"): party_insider,
    ("POST", "/api/v1/introductions/{request_id}/accept"): org_writer,
    ("POST", "/api/v1/introductions/{request_id}/decline"): org_writer,
    ("GET", "/introductions"): signed_in,
    ("POST", "/introductions"): org_writer,
    ("GET", "/introductions/{request_id}"): party_insider,
    ("POST", "/introductions/{request_id}/accept"): org_writer,
    ("POST", "/introductions/{request_id}/decline"): org_writer,
    ("GET", "/orgs/{external_id}/diagnosis"): everyone,
    ("GET", "/orgs/{external_id}/partners"): everyone,
    ("POST", "/orgs/{external_id}/needs"): org_writer,
    ("GET", "/network"): everyone,
    ("GET", "/network/report"): everyone,
    ("GET", "/network/report.html"): everyone,
    ("GET", "/"): everyone,
    ("GET", "/orgs"): everyone,
    ("GET", "/orgs/new"): network_writer,
    ("POST", "/orgs/new"): network_writer,
    ("GET", "/orgs/{external_id}"): everyone,
    ("GET", "/orgs/{external_id}/edit"): org_admin_or_platform_admin,
    ("POST", "/orgs/{external_id}/edit"): org_admin_or_platform_admin,
    ("GET", "/orgs/{external_id}/relationships/new"): org_writer,
    ("POST", "/orgs/{external_id}/relationships/new"): org_writer,
    ("GET", "/relationships/{relationship_id}/edit"): item_writer,
    ("POST", "/relationships/{relationship_id}/edit"): item_writer,
    ("POST", "/relationships/{relationship_id}/delete"): item_writer,
    ("GET", "/projects"): everyone,
    ("GET", "/projects/{external_id}"): everyone,
    ("GET", "/orgs/{external_id}/audit"): org_admin,
    ("GET", "/orgs/{external_id}/audit.csv"): org_admin,
    ("POST", "/orgs/{external_id}/export"): org_admin,
    ("POST", "/api/v1/orgs/{external_id}/export"): org_admin,
    ("POST", "/orgs/{external_id}/cluster-consent"): org_admin,
    ("GET", "/orgs/{external_id}/export.csv"): everyone,  # holds only what the viewer may see
    ("GET", "/agreements"): signed_in,
    ("POST", "/agreements"): agreement_admin,
    ("POST", "/agreements/{agreement_id}/status"): agreement_admin,
    ("GET", "/cluster"): cluster_manager,
    ("GET", "/login"): everyone,
    ("POST", "/login"): everyone,
    ("POST", "/logout"): everyone,
    ("GET", "/invitations/{token}"): everyone,  # the secret in the link is the permission
    ("POST", "/invitations/{token}"): everyone,
    ("GET", "/password/forgot"): everyone,
    ("POST", "/password/forgot"): everyone,
    ("GET", "/password/reset/{token}"): everyone,
    ("POST", "/password/reset/{token}"): everyone,
    ("GET", "/account"): signed_in,
    ("GET", "/inbox"): signed_in,
    ("GET", "/jobs"): signed_in,
    ("GET", "/jobs/{job_id}"): job_viewer,
    ("GET", "/api/v1/jobs"): signed_in,
    ("GET", "/api/v1/jobs/{job_id}"): job_viewer,
    ("GET", "/jobs/{job_id}/file"): job_starter,
    ("GET", "/api/v1/jobs/{job_id}/file"): job_starter,
    ("GET", "/network/export"): everyone,
    ("GET", "/imports"): network_writer,
    ("GET", "/imports/template.xlsx"): everyone,
    ("POST", "/imports"): network_writer,  # a template: its rows are then held to the uploader's rights
    ("POST", "/api/v1/imports"): network_writer,
    ("POST", "/imports/{job_id}/import"): job_viewer,
    ("POST", "/account/password"): page_writer,
    ("POST", "/account/tokens"): page_writer,
    ("POST", "/account/tokens/{token_id}/revoke"): own_token,
    ("GET", "/orgs/{external_id}/members"): org_admin_or_platform_admin,
    ("POST", "/orgs/{external_id}/members"): org_admin_or_platform_admin,
    ("POST", "/orgs/{external_id}/members/{membership_id}/remove"): org_admin_or_platform_admin,
    ("POST", "/orgs/{external_id}/invitations/{invitation_id}/resend"): org_admin_or_platform_admin,
    ("POST", "/orgs/{external_id}/invitations/{invitation_id}/revoke"): org_admin_or_platform_admin,
    # Challenges follow the sharing policy; their ideas are read by whoever reads the brief
    # (submissions "shared") and changed by the challenge's team.
    # Joint projects: read by their parties and whom their visibility names, managed by the
    # lead's administrators, contributed to by the parties' members.
    ("GET", "/api/v1/joint-projects"): everyone,  # holds only what the viewer may see
    ("POST", "/api/v1/joint-projects"): org_writer,
    ("GET", "/api/v1/joint-projects/{project_id}"): item_reader,
    ("GET", "/api/v1/joint-projects/{project_id}/activity"): item_reader,
    ("GET", "/api/v1/joint-projects/{project_id}/briefing"): item_reader,
    ("GET", "/joint-projects/{project_id}/briefing"): item_reader,
    ("PATCH", "/api/v1/joint-projects/{project_id}"): org_admin,
    ("DELETE", "/api/v1/joint-projects/{project_id}"): org_admin,
    ("POST", "/api/v1/joint-projects/{project_id}/parties"): org_admin,
    ("DELETE", "/api/v1/joint-projects/{project_id}/parties/{organisation}"): org_admin,
    ("POST", "/api/v1/joint-projects/{project_id}/people"): org_admin,
    ("DELETE", "/api/v1/joint-projects/{project_id}/people/{user_id}"): org_admin,
    ("PUT", "/api/v1/joint-projects/{project_id}/agreements"): org_admin,
    ("PUT", "/api/v1/joint-projects/{project_id}/exit-criteria"): org_admin,
    ("POST", "/api/v1/joint-projects/{project_id}/review"): org_admin,
    ("POST", "/api/v1/joint-projects/{project_id}/close"): org_admin,
    **{(method, f"/api/v1/joint-projects/{{project_id}}/{kind}{suffix}"): project_party
       for kind in PROJECT_ITEMS for method, suffix in (("POST", ""), ("PATCH", "/{item_id}"),
                                                        ("DELETE", "/{item_id}"))},
    ("GET", "/joint-projects"): everyone,
    ("GET", "/joint-projects/new"): lambda role, side, visibility: role in WRITERS,
    ("POST", "/joint-projects/new"): org_writer,  # for the organisation the form names
    ("GET", "/joint-projects/{project_id}"): item_reader,
    ("GET", "/joint-projects/{project_id}/edit"): org_admin,
    ("POST", "/joint-projects/{project_id}/edit"): org_admin,
    ("POST", "/joint-projects/{project_id}/delete"): org_admin,
    ("POST", "/joint-projects/{project_id}/parties"): org_admin,
    ("POST", "/joint-projects/{project_id}/parties/{organisation}/remove"): org_admin,
    ("POST", "/joint-projects/{project_id}/people"): org_admin,
    ("POST", "/joint-projects/{project_id}/people/{user_id}/remove"): org_admin,
    ("POST", "/joint-projects/{project_id}/review"): org_admin,
    ("POST", "/joint-projects/{project_id}/close"): org_admin,
    ("GET", "/joint-projects/{project_id}/items/{kind}/new"): project_party,
    ("POST", "/joint-projects/{project_id}/items/{kind}/new"): project_party,
    ("GET", "/joint-projects/{project_id}/items/{kind}/{item_id}/edit"): project_party,
    ("POST", "/joint-projects/{project_id}/items/{kind}/{item_id}/edit"): project_party,
    ("POST", "/joint-projects/{project_id}/items/{kind}/{item_id}/delete"): project_party,
    ("GET", "/ideas/{idea_id}/projects"): everyone,  # lists only the projects the viewer may see
    # The knowledge base follows the sharing policy; its owner's members change an item.
    ("GET", "/api/v1/knowledge"): everyone,  # finds and counts only what the viewer may see
    ("POST", "/api/v1/knowledge"): org_writer,
    ("GET", "/api/v1/knowledge/{item_id}"): item_reader,
    ("PATCH", "/api/v1/knowledge/{item_id}"): item_writer,
    ("DELETE", "/api/v1/knowledge/{item_id}"): item_writer,
    ("GET", "/api/v1/knowledge/{item_id}/versions"): item_reader,
    ("GET", "/api/v1/knowledge/{item_id}/diff"): item_reader,
    ("GET", "/api/v1/knowledge/{item_id}/related"): item_reader,
    ("POST", "/api/v1/knowledge/{item_id}/attachments"): item_writer,
    ("GET", "/api/v1/knowledge/{item_id}/attachments/{attachment_id}"): item_reader,
    ("DELETE", "/api/v1/knowledge/{item_id}/attachments/{attachment_id}"): item_writer,
    ("POST", "/joint-projects/calendar"): page_writer,
    ("POST", "/joint-projects/calendar/revoke"): page_writer,
    ("GET", "/calendar/{token}.ics"): everyone,  # the secret address is the key
    # An organisation's KPIs and what it enters for them are its members' own.
    ("GET", "/api/v1/kpis"): everyone,
    ("GET", "/api/v1/orgs/{external_id}/kpis"): party_insider,
    ("GET", "/api/v1/orgs/{external_id}/sales"): party_insider,
    ("PUT", "/api/v1/orgs/{external_id}/sales"): org_writer,
    ("DELETE", "/api/v1/orgs/{external_id}/sales/{year}"): org_writer,
    ("PUT", "/api/v1/orgs/{external_id}/kpis/{kpi}/target"): org_writer,
    ("DELETE", "/api/v1/orgs/{external_id}/kpis/{kpi}/target"): org_writer,
    ("GET", "/api/v1/orgs/{external_id}/alert-thresholds"): party_insider,
    ("PUT", "/api/v1/orgs/{external_id}/alert-thresholds"): org_admin,
    ("GET", "/api/v1/joint-projects/{project_id}/finance"): item_reader,  # each party's own figures only
    ("PUT", "/api/v1/joint-projects/{project_id}/finance"): project_party,
    ("GET", "/api/v1/orgs/{external_id}/partnerships"): party_insider,
    ("GET", "/api/v1/orgs/{external_id}/partnerships/{partner}"): party_insider,
    ("POST", "/api/v1/orgs/{external_id}/partnerships/{partner}/check-ins"): org_writer,
    ("GET", "/api/v1/joint-projects/{project_id}/health"): item_reader,
    ("POST", "/api/v1/joint-projects/{project_id}/check-ins"): project_party,
    ("GET", "/api/v1/orgs/{external_id}/alerts"): party_insider,
    ("GET", "/orgs/{external_id}/kpis"): party_insider,
    ("GET", "/api/v1/orgs/{external_id}/report"): party_insider,
    ("GET", "/api/v1/cluster/kpis"): cluster_manager,
    ("GET", "/api/v1/cluster/report"): cluster_manager,
    ("POST", "/orgs/{external_id}/kpis/sales"): org_writer,
    ("POST", "/orgs/{external_id}/kpis/thresholds"): org_admin,
    ("POST", "/orgs/{external_id}/kpis/{kpi}/target"): org_writer,
    ("POST", "/orgs/{external_id}/alerts/{alert_id}/dismiss"): org_writer,
    ("GET", "/orgs/{external_id}/report"): party_insider,
    ("GET", "/cluster/report"): cluster_manager,
    ("GET", "/cluster/kpis"): cluster_manager,
    ("GET", "/orgs/{external_id}/partnerships/{partner}"): party_insider,
    ("POST", "/orgs/{external_id}/partnerships/{partner}/check-ins"): org_writer,
    ("GET", "/joint-projects/{project_id}/health"): item_reader,
    ("POST", "/joint-projects/{project_id}/check-ins"): project_party,
    ("POST", "/api/v1/orgs/{external_id}/alerts/{alert_id}/dismiss"): org_writer,
    ("GET", "/knowledge"): everyone,
    ("GET", "/knowledge/new"): lambda role, side, visibility: role in WRITERS,
    ("POST", "/knowledge/new"): org_writer,
    ("GET", "/knowledge/{item_id}"): item_reader,
    ("GET", "/knowledge/{item_id}/edit"): item_writer,
    ("POST", "/knowledge/{item_id}/edit"): item_writer,
    ("GET", "/knowledge/{item_id}/history"): item_reader,
    ("POST", "/knowledge/{item_id}/delete"): item_writer,
    ("POST", "/knowledge/{item_id}/attachments"): item_writer,
    ("GET", "/knowledge/{item_id}/attachments/{attachment_id}"): item_reader,
    ("POST", "/knowledge/{item_id}/attachments/{attachment_id}/delete"): item_writer,
    ("GET", "/api/v1/challenges"): everyone,  # holds only what the viewer may see
    ("POST", "/api/v1/challenges"): org_writer,
    ("GET", "/api/v1/challenges/{challenge_id}"): item_reader,
    ("PATCH", "/api/v1/challenges/{challenge_id}"): item_writer,
    ("DELETE", "/api/v1/challenges/{challenge_id}"): org_admin,
    ("POST", "/api/v1/challenges/{challenge_id}/invitations"): item_writer,
    ("GET", "/api/v1/ideas"): everyone,
    ("POST", "/api/v1/ideas"): idea_submitter,
    ("POST", "/api/v1/ideas/similar"): everyone,
    ("GET", "/api/v1/ideas/{idea_id}"): item_reader,
    ("PATCH", "/api/v1/ideas/{idea_id}"): idea_author,
    ("POST", "/api/v1/ideas/{idea_id}/co-authorship"): reactor,
    ("PUT", "/api/v1/ideas/{idea_id}/support"): reactor,
    ("DELETE", "/api/v1/ideas/{idea_id}/support"): reactor,
    ("PUT", "/api/v1/ideas/{idea_id}/follow"): reactor,
    ("DELETE", "/api/v1/ideas/{idea_id}/follow"): reactor,
    ("PUT", "/api/v1/ideas/{idea_id}/ratings"): reactor,
    ("GET", "/api/v1/ideas/{idea_id}/comments"): item_reader,
    ("POST", "/api/v1/ideas/{idea_id}/comments"): reactor,
    ("PATCH", "/api/v1/comments/{comment_id}"): idea_author,
    ("POST", "/api/v1/ideas/{idea_id}/stage"): item_writer,
    ("POST", "/api/v1/ideas/{idea_id}/merge"): item_writer,
    ("GET", "/api/v1/ideas/{idea_id}/history"): item_reader,
    ("GET", "/api/v1/challenges/{challenge_id}/team"): item_writer,
    ("PUT", "/api/v1/challenges/{challenge_id}/team"): item_writer,
    ("POST", "/api/v1/challenges/{challenge_id}/assignments"): item_writer,
    ("GET", "/api/v1/challenges/{challenge_id}/evaluation"): party_insider,  # the team (evaluators too)
    ("GET", "/challenges/{challenge_id}/evaluation"): party_insider,
    ("GET", "/api/v1/challenges/{challenge_id}/solvers"): item_writer,
    ("GET", "/challenges/{challenge_id}/solvers"): item_writer,
    ("GET", "/api/v1/orgs/{external_id}/webhooks"): org_admin,
    ("POST", "/api/v1/orgs/{external_id}/webhooks"): org_admin,
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): org_admin,
    ("GET", "/api/v1/orgs/{external_id}/webhook-deliveries"): org_admin,
    ("GET", "/orgs/{external_id}/webhooks"): org_admin,
    ("POST", "/orgs/{external_id}/webhooks"): org_admin,
    ("POST", "/webhooks/{webhook_id}/delete"): org_admin,
    ("GET", "/api/v1/challenges/{challenge_id}/metrics"): party_insider,  # the team and its gatekeepers
    ("GET", "/challenges/{challenge_id}/dashboard"): party_insider,
    ("GET", "/challenges/{challenge_id}/metrics.csv"): party_insider,
    ("GET", "/orgs/{external_id}/ideas"): everyone,  # holds only what the viewer may see
    ("GET", "/orgs/{external_id}/ideas/new"): org_writer,
    ("POST", "/orgs/{external_id}/ideas/new"): org_writer,
    ("POST", "/account/digest"): page_writer,
    ("POST", "/challenges/{challenge_id}/team"): item_writer,
    ("POST", "/challenges/{challenge_id}/assignments"): item_writer,
    ("POST", "/challenges/{challenge_id}/evaluation/{idea_id}"): item_writer,
    ("GET", "/challenges"): everyone,
    ("GET", "/challenges/new"): lambda role, side, visibility: role in WRITERS,
    ("POST", "/challenges/new"): lambda role, side, visibility: role in WRITERS,
    ("GET", "/challenges/{challenge_id}"): item_reader,
    ("GET", "/challenges/{challenge_id}/edit"): item_writer,
    ("POST", "/challenges/{challenge_id}/edit"): item_writer,
    ("POST", "/challenges/{challenge_id}/state"): item_writer,
    ("POST", "/challenges/{challenge_id}/delete"): org_admin,
    ("POST", "/challenges/{challenge_id}/invitations"): item_writer,
    ("GET", "/challenges/{challenge_id}/ideas/new"): reactor,
    ("POST", "/challenges/{challenge_id}/ideas/new"): idea_submitter,
    ("POST", "/ideas/similar"): everyone,
    ("GET", "/ideas/{idea_id}"): item_reader,
    ("POST", "/ideas/{idea_id}/support"): reactor,
    ("POST", "/ideas/{idea_id}/follow"): reactor,
    ("POST", "/ideas/{idea_id}/ratings"): reactor,
    ("POST", "/ideas/{idea_id}/comments"): reactor,
    ("POST", "/ideas/{idea_id}/stage"): item_writer,
    ("POST", "/ideas/{idea_id}/merge"): item_writer,
    ("POST", "/ideas/{idea_id}/co-authorship"): reactor,
    ("GET", "/ideas/{idea_id}/edit"): idea_author,
    ("POST", "/ideas/{idea_id}/edit"): idea_author,
}


def route_table(app) -> list[tuple[str, str]]:
    """(method, path) of every route the application serves (static files aside)."""
    table = []
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            table += [(method, context.path) for method in sorted(context.methods - {"HEAD"})]
    return table


@dataclass
class World:
    own: object
    other: object
    third: object
    users: dict
    credentials: dict  # role -> headers (API) or cookie (pages)
    relationships: dict  # (side, visibility) -> relationship
    needs: dict  # (side, visibility) -> need
    agreements: dict  # side -> agreement
    memberships: dict  # side -> membership id
    tokens: dict  # (role, side) -> token id
    invitation: str
    invitation_ids: dict  # side -> id of a pending invitation of that side's organisation
    reset: str
    jobs: dict  # side -> job id, started by a member of that side's organisation
    # side -> a pending request: "own" asks Own to introduce; "other" is for Own to meet,
    # which Own may not see before the introduction is made.
    introductions: dict
    challenges: dict  # (side, visibility) -> (challenge, criterion id, [idea, duplicate], comment id)
    webhooks: dict  # side -> webhook id
    projects: dict  # (side, visibility) -> (project id, {item path: item id})
    third_person: object  # a member of Third, on every project
    knowledge: dict  # (side, visibility) -> (knowledge item id, attachment id, its file's key)
    calendar: str  # the member's calendar token
    partners: dict = field(default_factory=dict)  # (side, visibility) -> the relationship's partner (external id)
    alerts: dict = field(default_factory=dict)  # side -> an open alert of that side's organisation


def note(side: str, visibility: str) -> str:
    return f"NOTE-{side}-{visibility}".upper()


@pytest.fixture
def world(session, app):
    own, other, third = (make_organisation(session, name=n, external_id=f"W-{n.upper()}")
                         for n in ("Own", "Other", "Third"))
    users = {
        "guest": make_user(session, own, "guest"),
        "member": make_user(session, own, "member"),
        "admin": make_user(session, own, "admin"),
        "cluster_manager": make_user(session, is_cluster_manager=True),
        "platform_admin": make_user(session, is_platform_admin=True),
    }
    users["read_token"] = users["member"]
    credentials = {}
    for role, user in users.items():
        scope = "read" if role == "read_token" else "write"
        api = {"Authorization": f"Bearer {accounts.create_token(session, user=user, name='t', scope=scope)[1]}"}
        credentials[role] = (api, accounts.start_session(session, user=user))
    relationships, partners = {}, {}
    for side, owner, counterpart in (("own", own, other), ("other", other, own)):
        for visibility in VISIBILITIES:
            partner = make_organisation(session, name=f"Partner {side} {visibility}")
            partners[(side, visibility)] = partner.external_id
            relationships[(side, visibility)] = make_relationship(
                session, owner, partner, notes=note(side, visibility), visibility=visibility,
                shared_with=[counterpart.external_id] if visibility == "partners" else [])
    needs = {
        (side, visibility): matching.create_need(session, OPERATOR, data=NeedIn(
            organisation=owner.external_id, title=f"Need {side} {visibility}",
            description=note(side, visibility), visibility=visibility,
            shared_with=[counterpart.external_id] if visibility == "partners" else []))
        for side, owner, counterpart in (("own", own, other), ("other", other, own))
        for visibility in VISIBILITIES}
    agreements = {
        side: sharing.create_agreement(session, OPERATOR, data=AgreementIn(
            owner=owner.external_id, parties=[third.external_id], kind="nda",
            title=f"NDA {side}", status="in_force"))
        for side, owner in (("own", own), ("other", other))}
    make_project(session, own, other, external_id="W-PROJECT")
    stranger = make_user(session, other, "member")
    memberships = {"own": accounts.set_membership(session, user=users["guest"], organisation_id=own.id,
                                                  role="guest").id,
                   "other": accounts.set_membership(session, user=stranger, organisation_id=other.id,
                                                    role="member").id}
    tokens = {}
    for role, user in users.items():
        tokens[(role, "own")] = accounts.create_token(session, user=user, name="mine")[0].id
        tokens[(role, "other")] = accounts.create_token(session, user=stranger, name="theirs")[0].id
    _, invitation = accounts.invite(session, OPERATOR, organisation_id=own.id,
                                    email="newcomer@example.org", role="member")
    invitation_ids = {side: accounts.invite(session, OPERATOR, organisation_id=organisation.id,
                                            email=f"invited-{side}@example.org", role="guest")[0].id
                      for side, organisation in (("own", own), ("other", other))}
    _, reset = accounts.request_password_reset(session, email=stranger.email)
    jobs = {}
    for side, organisation, starter in (("own", own, users["member"]), ("other", other, stranger)):
        job = Job(kind="network.export", user_id=starter.id, organisation_id=organisation.id, params=json.dumps(
            {"format": "gexf", "since": None, "until": None, "this_year": 2026, "relationships": []}))
        session.add(job)
        session.flush()
        jobs[side] = job.id
    for need in needs.values():
        matching.add_to_shortlist(session, OPERATOR, need_id=need.id, partner=third.external_id)
    make_project(session, other, third)
    make_user(session, third)  # someone who could answer at Third
    introductions = {
        side: introducing.request_introduction(session, OPERATOR, data=IntroductionIn(
            asker=asker.external_id, introducer=introducer.external_id,
            target=target.external_id, note="Please introduce us")).id
        for side, asker, introducer, target in (("own", other, own, third), ("other", other, third, own))}
    challenges = {}
    for side, owner, counterpart, author in (("own", own, other, users["member"]), ("other", other, own, stranger)):
        writer = accounts.viewer_of(session, user_id=author.id, today=OPERATOR.today, channel="api")
        for visibility in VISIBILITIES:
            challenge = challenging.create_challenge(session, writer, data=ChallengeIn(
                organisation=owner.external_id, title=f"Challenge {side} {visibility}",
                problem=note(side, visibility), visibility=visibility, criteria=[{"name": "Impact"}],
                shared_with=[counterpart.external_id] if visibility == "partners" else []))
            challenge.state = "open"
            ideas = [challenging.submit_idea(session, writer, data=IdeaIn(
                challenge=challenge.id, title=title, description=note(side, visibility), accept_terms=True))
                for title in ("Idea", "Duplicate")]
            comment = challenging.add_comment(session, writer, idea_id=ideas[0].id, data=CommentIn(body="First"))
            evaluating.set_team(session, writer, challenge_id=challenge.id, gatekeepers=[],
                                evaluators={"evaluation": [author.email]})
            criterion = challenging.criteria_of(session, challenge_ids=[challenge.id])[challenge.id][0].id
            challenges[(side, visibility)] = (challenge, criterion, ideas, comment.id)
    webhooks = {side: hooks.create_webhook(session, OPERATOR, external_id=organisation.external_id,
                                           url="https://93.184.216.34/hook", events=["idea.created"])[0].id
                for side, organisation in (("own", own), ("other", other))}
    third_person = make_user(session, third, "member")
    projects = {}
    for side, lead, counterpart, starter in (("own", own, other, users["member"]), ("other", other, own, stranger)):
        writer = accounts.viewer_of(session, user_id=starter.id, today=OPERATOR.today, channel="api")
        for visibility in VISIBILITIES:
            # Own is a party to Other's project only where it is shared with partners.
            parties = [{"organisation": third.external_id}] + (
                [{"organisation": counterpart.external_id}] if side == "other" and visibility == "partners" else [])
            project = projecting.create_project(session, writer, data=ProjectIn(
                organisation=lead.external_id, title=f"Project {side} {visibility}", summary=note(side, visibility),
                start_date=date(2026, 1, 1), parties=parties, visibility=visibility,
                shared_with=[third.external_id] if visibility == "partners" else []))
            projecting.add_person(session, OPERATOR, project_id=project.id, data=PersonIn(
                email=third_person.email, organisation=third.external_id))
            items = {}
            for kind, body in PROJECT_ITEMS.items():
                item_type = next(t for t, p in ITEM_PATHS.items() if p == kind)
                data = ITEM_INPUTS[item_type].model_validate(_project_item(body, lead))
                items[kind] = projecting.add_item(session, OPERATOR, project_id=project.id, item_type=item_type,
                                                  data=data).id
            projects[(side, visibility)] = (project.id, items)
    calendar = projecting.create_calendar_feed(session, accounts.viewer_of(
        session, user_id=users["member"].id, today=OPERATOR.today, channel="page"))
    knowledge = {}
    storage = storage_of(app.state.settings)
    for side, owner, counterpart, author in (("own", own, other, users["member"]), ("other", other, own, stranger)):
        writer = accounts.viewer_of(session, user_id=author.id, today=OPERATOR.today, channel="api")
        for visibility in VISIBILITIES:
            item = knowing.create_item(session, writer, data=KnowledgeIn(
                organisation=owner.external_id, title=f"Knowledge {side} {visibility}", body=note(side, visibility),
                visibility=visibility, shared_with=[counterpart.external_id] if visibility == "partners" else []))
            stored = receive(io.BytesIO(b"Trial notes"), filename="notes.txt", storage=storage, max_bytes=1000)
            attachment = knowing.add_attachment(session, writer, item_id=item.id, stored=stored)
            knowledge[(side, visibility)] = (item.id, attachment.id, stored.key)
    alerts = {}
    for side, organisation in (("own", own), ("other", other)):
        alert = Alert(organisation_id=organisation.id, kind="country_concentration", subject="network",
                      title="Concentrated", evidence="HHI 0.5", action_label="Diversify", action_link="/",
                      raised_on=OPERATOR.today)
        session.add(alert)
        session.flush()
        alerts[side] = alert.id
    session.commit()
    return World(own, other, third, users, credentials, relationships, needs, agreements,
                 memberships, tokens, invitation, invitation_ids, reset, jobs, introductions, challenges,
                 webhooks, projects, third_person, knowledge, calendar, partners=partners, alerts=alerts)


def _project_item(body: dict, lead) -> dict:
    return {k: [lead.external_id if v == "{lead}" else v for v in value] if isinstance(value, list) else value
            for k, value in body.items()}


def _path(path: str, world: World, role: str, side: str, visibility: str) -> str:
    organisation = world.own if side == "own" else world.other
    token = world.invitation if "invitations" in path else world.reset
    if path.startswith("/calendar/"):
        return path.replace("{token}", world.calendar)
    if path.startswith(("/projects/", "/api/v1/projects/")):
        return path.replace("{external_id}", "W-PROJECT")
    if path == "/api/v1/network/export":
        return path + "?format=graphml"
    if "/shortlist/" in path:  # the organisation every need keeps on its shortlist
        path = path.replace("{external_id}", world.third.external_id)
    challenge, _, ideas, comment = world.challenges[(side, visibility)]
    project, items = world.projects[(side, visibility)]
    path = (path.replace("{kind}", "risks").replace("{kpi}", "partners").replace("{year}", "2025")
            .replace("{partner}", world.partners[(side, "private")]).replace("{alert_id}", str(world.alerts[side])))
    item, attachment, _ = world.knowledge[(side, visibility)]
    if "/knowledge/" in path:
        path = path.replace("{item_id}", str(item)).replace("{attachment_id}", str(attachment))
    if path.endswith("/diff"):
        path += "?old=1&new=1"
    if "{item_id}" in path:
        path = path.replace("{item_id}", str(next(items[part] for part in path.split("/") if part in items)))
    path = (path.replace("{project_id}", str(project)).replace("{organisation}", world.third.external_id)
            .replace("{user_id}", str(world.third_person.id)))
    path = (path.replace("{challenge_id}", str(challenge.id)).replace("{idea_id}", str(ideas[0].id))
            .replace("{webhook_id}", str(world.webhooks[side]))
            .replace("{comment_id}", str(comment)))
    return (path.replace("{external_id}", organisation.external_id)
            .replace("{relationship_id}", str(world.relationships[(side, visibility)].id))
            .replace("{need_id}", str(world.needs[(side, visibility)].id))
            .replace("{agreement_id}", str(world.agreements[side].id))
            .replace("{membership_id}", str(world.memberships[side]))
            .replace("{invitation_id}", str(world.invitation_ids[side]))
            .replace("{token_id}", str(world.tokens.get((role, side), world.tokens[("member", side)])))
            .replace("{job_id}", str(world.jobs[side]))
            .replace("{request_id}", str(world.introductions[side]))
            .replace("{token}", token))

# Uploads: a small template, checked (and on the API imported) by a job.
UPLOADS = {("POST", "/imports"), ("POST", "/api/v1/imports"), ("POST", "/api/v1/knowledge/{item_id}/attachments"),
           ("POST", "/knowledge/{item_id}/attachments")}
TEMPLATE = b"record,external_id,name\norganisation,MATRIX-NEW,Matrix New\n"
# The world's jobs are not checks of uploaded files: importing one is refused with 409,
# which says the role got past the permission check.
CONFLICT_MEANS_ALLOWED = {("POST", "/imports/{job_id}/import"),
                          # a private challenge invites nobody; nobody was asked to co-author
                          ("POST", "/api/v1/challenges/{challenge_id}/invitations"),
                          ("POST", "/challenges/{challenge_id}/invitations"),
                          ("POST", "/api/v1/ideas/{idea_id}/co-authorship"),
                          ("POST", "/ideas/{idea_id}/co-authorship"),
                          # the world's projects have no open exit review
                          ("POST", "/api/v1/joint-projects/{project_id}/review"),
                          ("POST", "/joint-projects/{project_id}/review")}

CHECK_IN = {"value": 4, "trust": 4, "communication": 3, "fairness": 5}
# POSTs that only read (a query too rich for a URL): read tokens may use them.
READING_POSTS = {("POST", "/api/v1/orgs/{external_id}/recommendations"), ("POST", "/api/v1/ideas/similar")}


def _body(method: str, path: str, world: World, side: str, visibility: str) -> dict:
    organisation = world.own if side == "own" else world.other
    challenge, criterion, ideas, _ = world.challenges[(side, visibility)]
    # The side's organisation asks the other one, its partner in W-PROJECT, to introduce it.
    introduction = {"asker": organisation.external_id, "target": world.third.external_id,
                    "introducer": (world.other if side == "own" else world.own).external_id,
                    "note": "We make coatings"}
    lead = organisation
    bodies = {
        ("POST", "/api/v1/joint-projects"): {"organisation": organisation.external_id, "title": "P",
                                             "start_date": "2026-03-01"},
        ("PATCH", "/api/v1/joint-projects/{project_id}"): {"title": "Renamed"},
        ("POST", "/api/v1/joint-projects/{project_id}/parties"): {"organisation": world.other.external_id
                                                                  if side == "own" else world.own.external_id},
        ("POST", "/api/v1/joint-projects/{project_id}/people"): {"email": world.users["member"].email,
                                                                 "organisation": world.own.external_id}
        if side == "own" else {"email": world.third_person.email, "organisation": world.third.external_id},
        ("PUT", "/api/v1/joint-projects/{project_id}/agreements"): {"agreements": [world.agreements[side].id]},
        ("PUT", "/api/v1/joint-projects/{project_id}/exit-criteria"): {"exit_criteria": [{"kind": "inactive",
                                                                                          "days": 30}]},
        ("POST", "/api/v1/joint-projects/{project_id}/review"): {"decision": "continue"},
        ("POST", "/api/v1/joint-projects/{project_id}/close"): {"outcome": "succeeded"},
        **{("POST", f"/api/v1/joint-projects/{{project_id}}/{kind}"): _project_item(body, lead)
           for kind, body in PROJECT_ITEMS.items()},
        **{("PATCH", f"/api/v1/joint-projects/{{project_id}}/{kind}/{{item_id}}"): {"title": "Renamed"}
           for kind in PROJECT_ITEMS},
        ("POST", "/joint-projects/new"): {"organisation": organisation.external_id, "title": "P",
                                          "start_date": "2026-03-01"},
        ("POST", "/joint-projects/{project_id}/edit"): {"title": "Renamed", "start_date": "2026-01-01",
                                                        "foreground_rule": "joint", "visibility": "private"},
        ("POST", "/joint-projects/{project_id}/parties"): {"organisation": world.other.external_id
                                                           if side == "own" else world.own.external_id},
        ("POST", "/joint-projects/{project_id}/people"): {"email": world.users["member"].email,
                                                          "organisation": world.own.external_id}
        if side == "own" else {"email": world.third_person.email, "organisation": world.third.external_id},
        ("POST", "/joint-projects/{project_id}/review"): {"decision": "continue"},
        ("POST", "/joint-projects/{project_id}/close"): {"outcome": "succeeded"},
        ("POST", "/joint-projects/{project_id}/items/{kind}/new"): {"title": "Supply"},
        ("POST", "/joint-projects/{project_id}/items/{kind}/{item_id}/edit"): {
            "title": "Renamed", "likelihood": "3", "impact": "3", "status": "open"},
        ("POST", "/api/v1/knowledge"): {"organisation": organisation.external_id, "title": "K"},
        ("PUT", "/api/v1/orgs/{external_id}/sales"): {"year": 2025, "turnover": 100, "new_to_market": 10,
                                                     "new_to_firm": 5},
        ("PUT", "/api/v1/orgs/{external_id}/kpis/{kpi}/target"): {"target": 12},
        ("POST", "/api/v1/orgs/{external_id}/partnerships/{partner}/check-ins"): CHECK_IN,
        ("POST", "/orgs/{external_id}/partnerships/{partner}/check-ins"): CHECK_IN,
        ("POST", "/joint-projects/{project_id}/check-ins"): CHECK_IN,
        ("POST", "/orgs/{external_id}/kpis/sales"): {"year": "2025", "turnover": "100", "new_to_market": "10",
                                                     "new_to_firm": "5"},
        ("POST", "/orgs/{external_id}/kpis/thresholds"): {"decay_months": "4"},
        ("POST", "/orgs/{external_id}/kpis/{kpi}/target"): {"target": "12"},
        ("POST", "/api/v1/joint-projects/{project_id}/check-ins"): CHECK_IN,
        ("PUT", "/api/v1/orgs/{external_id}/alert-thresholds"): {"decay_months": 4},
        ("PUT", "/api/v1/joint-projects/{project_id}/finance"): {"estimated_cost": 1000, "estimated_revenue": 1500},
        ("POST", "/knowledge/new"): {"organisation": organisation.external_id, "title": "K", "kind": "how_to",
                                     "visibility": "private"},
        ("POST", "/knowledge/{item_id}/edit"): {"version": "1", "title": "Renamed", "kind": "how_to"},
        ("PATCH", "/api/v1/knowledge/{item_id}"): {"version": 1, "title": "Renamed"},
        ("POST", "/api/v1/orgs"): {"name": "New organisation"},
        ("PATCH", "/api/v1/orgs/{external_id}"): {"city": "Graz"},
        ("POST", "/api/v1/relationships"): {"organisation": organisation.external_id,
                                            "partner": world.third.external_id, "kind": "customer"},
        ("PATCH", "/api/v1/relationships/{relationship_id}"): {"strength": 5},
        ("POST", "/api/v1/agreements"): {"owner": organisation.external_id, "kind": "licence",
                                         "title": "Licence", "parties": [world.third.external_id]},
        ("PATCH", "/api/v1/agreements/{agreement_id}"): {"status": "terminated"},
        ("PUT", "/api/v1/orgs/{external_id}/cluster-consent"): {"consent": True},
        ("POST", "/api/v1/orgs/{external_id}/recommendations"): {"need": "a partner", "k": 5},
        ("POST", "/api/v1/needs"): {"organisation": organisation.external_id, "title": "Coating"},
        ("PATCH", "/api/v1/needs/{need_id}"): {"title": "Barrier coating"},
        ("POST", "/orgs/{external_id}/needs"): {"title": "Coating", "need": "barrier coating"},
        ("POST", "/orgs/new"): {"name": "New organisation", "kind": "company"},
        ("POST", "/orgs/{external_id}/edit"): {"name": organisation.name, "kind": "company", "city": "Graz"},
        ("POST", "/orgs/{external_id}/relationships/new"): {
            "partner": world.third.external_id, "kind": "customer", "direction": "mutual",
            "strength": "3", "visibility": "private"},
        ("POST", "/relationships/{relationship_id}/edit"): {
            "kind": "supplier", "direction": "mutual", "strength": "2", "visibility": "private"},
        ("POST", "/orgs/{external_id}/cluster-consent"): {"consent": "yes"},
        ("POST", "/agreements"): {"owner": organisation.external_id, "kind": "nda", "title": "NDA",
                                  "parties": world.third.external_id, "status": "draft"},
        ("POST", "/agreements/{agreement_id}/status"): {"status": "terminated"},
        ("POST", "/login"): {"email": world.users["member"].email, "password": PASSWORD},
        ("POST", "/invitations/{token}"): {"password": PASSWORD, "password_again": PASSWORD},
        ("POST", "/password/forgot"): {"email": world.users["member"].email},
        ("POST", "/password/reset/{token}"): {"password": PASSWORD, "password_again": PASSWORD},
        ("POST", "/account/password"): {"current_password": PASSWORD, "new_password": PASSWORD + "!"},
        ("POST", "/account/tokens"): {"name": "script", "scope": "read"},
        ("POST", "/orgs/{external_id}/members"): {"email": "someone@example.org", "role": "member"},
        ("POST", "/needs/{need_id}/shortlist"): {"partner": world.third.external_id},
        ("POST", "/api/v1/introductions"): introduction,
        ("POST", "/introductions"): introduction,
        ("POST", "/api/v1/introductions/{request_id}/accept"): {"contact": "Ada <ada@example.org>"},
        ("POST", "/introductions/{request_id}/accept"): {"contact": "Ada <ada@example.org>"},
        ("POST", "/api/v1/challenges"): {"organisation": organisation.external_id, "title": "C", "problem": "P"},
        ("PATCH", "/api/v1/challenges/{challenge_id}"): {"title": "Renamed"},
        ("POST", "/api/v1/challenges/{challenge_id}/invitations"): {"organisations": [world.third.external_id]},
        ("POST", "/challenges/{challenge_id}/invitations"): {"organisations": world.third.external_id},
        ("POST", "/api/v1/ideas"): {"challenge": challenge.id, "title": "I", "description": "D", "accept_terms": True},
        ("POST", "/challenges/{challenge_id}/ideas/new"): {"title": "I", "description": "D", "accept_terms": "on"},
        ("POST", "/api/v1/ideas/similar"): {"text": "an idea"},
        ("POST", "/ideas/similar"): {"title": "an idea"},
        ("PATCH", "/api/v1/ideas/{idea_id}"): {"title": "Renamed"},
        ("POST", "/ideas/{idea_id}/edit"): {"title": "Renamed", "description": "D"},
        ("PUT", "/api/v1/ideas/{idea_id}/ratings"): {"criterion": criterion, "value": 3},
        ("POST", "/ideas/{idea_id}/ratings"): {f"criterion-{criterion}": "3"},
        ("POST", "/api/v1/ideas/{idea_id}/comments"): {"body": "Hello"},
        ("POST", "/ideas/{idea_id}/comments"): {"body": "Hello"},
        ("PATCH", "/api/v1/comments/{comment_id}"): {"body": "Edited"},
        ("POST", "/api/v1/ideas/{idea_id}/stage"): {"stage": "screening"},
        ("POST", "/ideas/{idea_id}/stage"): {"stage": "screening"},
        ("POST", "/api/v1/ideas/{idea_id}/merge"): {"duplicate": ideas[1].id},
        ("POST", "/ideas/{idea_id}/merge"): {"duplicate": str(ideas[1].id)},
        ("POST", "/challenges/new"): {"title": "C", "problem": "P", "visibility": "private",
                                      "submissions": "shared", "ip_terms": "licence"},
        ("POST", "/challenges/{challenge_id}/edit"): {"title": "Renamed", "problem": "P", "visibility": "private"},
        ("POST", "/challenges/{challenge_id}/state"): {"state": "closed"},
        ("PUT", "/api/v1/challenges/{challenge_id}/team"): {"evaluators": {"evaluation": []}},
        ("POST", "/api/v1/challenges/{challenge_id}/assignments"): {"stage": "evaluation"},
        ("POST", "/api/v1/orgs/{external_id}/webhooks"): {"url": "https://93.184.216.34/h", "events": ["idea.created"]},
        ("POST", "/orgs/{external_id}/webhooks"): {"url": "https://93.184.216.34/h", "events": "idea.created"},
        ("POST", "/orgs/{external_id}/ideas/new"): {"title": "Free", "description": "An idea", "visibility": "private"},
    }
    return bodies.get((method, path), {})


def _request(client, world, method, path, role, side, visibility, form_token):
    url = _path(path, world, role, side, visibility)
    body = _body(method, path, world, side, visibility)
    client.cookies.clear()
    headers = {}
    if role != "anonymous":
        api_headers, cookie = world.credentials[role]
        if path.startswith("/api/"):
            headers = api_headers
        else:
            client.cookies.set("innonet_session", cookie)
    files = {"file": ("network.csv", TEMPLATE)} if (method, path) in UPLOADS else None
    if path.startswith("/api/"):
        if files:
            return client.request(method, url, data={"format": "template"}, files=files,
                                  headers=headers, follow_redirects=False)
        return client.request(method, url, json=body or None, headers=headers, follow_redirects=False)
    client.cookies.set("innonet_csrf", form_token)
    if method == "GET":
        return client.get(url, headers=headers, follow_redirects=False)
    if files:
        body = body | {"format": "template"}
    return client.request(method, url, data=body | {"csrf_token": form_token}, headers=headers,
                          files=files, follow_redirects=False)


def _allowed(response) -> bool:
    if response.status_code in (401, 403, 404):
        return False
    if response.status_code in (302, 303) and response.headers["location"].startswith("/login"):
        return False
    assert response.status_code < 400, (response.status_code, str(response.request.url), response.text[-3000:])
    return True


def test_every_route_has_a_rule(app):
    missing = [route for route in route_table(app) if route not in RULES]
    assert missing == [], f"routes without an authorisation rule: {missing}"
    stale = [route for route in RULES if route not in route_table(app)]
    assert stale == [], f"rules for routes that no longer exist: {stale}"


# The routes are checked in parts, each in a world of its own: PostgreSQL keeps a lock for
# every request's committed savepoint until the test's outer transaction ends, and one
# transaction for all of them would fill its lock table.
PARTS = 8


@pytest.mark.parametrize("part", range(PARTS))
def test_authorisation_matrix(app, client, sessions, world, part):
    connection = sessions.kw["bind"]
    client.get("/login")
    form_token = client.cookies["innonet_csrf"]
    failures, checked = [], 0
    # Every request starts from the same world, so the same request by the same role gets the
    # same answer: it is sent once and its answer checked against each expectation it meets
    # (a route without a record in its address is the same request for every visibility).
    answers: dict[tuple, Any] = {}
    for method, path in route_table(app)[part::PARTS]:
        rule = RULES[(method, path)]
        for role in ROLES:
            if role == "read_token" and not path.startswith("/api/"):
                continue  # tokens work only on the API
            for side in SIDES:
                for visibility in VISIBILITIES:
                    key = (method, _path(path, world, role, side, visibility), role,
                           json.dumps(_body(method, path, world, side, visibility), sort_keys=True, default=str))
                    if key in answers:
                        response = answers[key]
                    else:
                        savepoint = connection.begin_nested()
                        try:
                            response = answers[key] = _request(client, world, method, path, role, side,
                                                               visibility, form_token)
                        finally:
                            savepoint.rollback()
                            _restore_files(app, world)
                    expected = rule(role, side, visibility)
                    reads = method == "GET" or (method, path) in READING_POSTS
                    if role == "read_token" and not reads:
                        expected = False
                    allowed = _allowed(response) if (method, path) not in CONFLICT_MEANS_ALLOWED \
                        else response.status_code == 409 or _allowed(response)
                    if allowed != expected:
                        failures.append((method, path, role, side, visibility, response.status_code))
                    elif reads and expected:
                        failures += _leaks(response, method, path, role, side, visibility)
                    checked += 1
    routes = sorted({(f[0], f[1]) for f in failures})
    assert failures == [], f"{len(failures)} of {checked} answers differ on {routes}: {failures[:30]}"
    assert checked > 2000 // PARTS and len(answers) > checked // 4


def _restore_files(app, world) -> None:
    """A deletion that was rolled back with its savepoint had deleted its files once committed."""
    storage = storage_of(app.state.settings)
    for _, _, key in world.knowledge.values():
        path = storage.folder / key[:2] / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"Trial notes")


def _leaks(response, method, path, role, side, visibility) -> list:
    """Notes of relationships the role may not read must not appear in an answer."""
    return [(method, path, role, side, visibility, f"leaks {note(s, v)}")
            for s in SIDES for v in VISIBILITIES
            if not can_read(role, s, v) and note(s, v) in response.text]
