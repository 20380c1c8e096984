"""The authorisation matrix extended from routes to fields.

A world of four organisations in which every private field of the newer kinds of record
holds a marker of its own: check-in comments, narrowed project items (one changed, one
deleted since), the author of an idea under blind evaluation and the text of that idea,
the title of an NDA, the note that an organisation's export ZIP carries, and a cluster
figure that one member alone would make. Then every GET route of the application (API and
pages, with CSV, HTML and PDF reports, job files unpacked, the calendar feed) is read as
every role, and every daily digest mail is written: no marker may reach a role that may not
read its field. The roles are restated here on their own, not taken from the policy.
"""

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta

from pypdf import PdfReader

from innonet import digests
from innonet.accounts import service as accounts
from innonet.config import Settings
from innonet.jobs.service import JobContext
from innonet.projects import service as projecting
from innonet.sharing import service as sharing
from innonet.web import SESSION_COOKIE
from tests.accounts.test_mail import smtp  # noqa: F401 (fixture)
from tests.factories import OPERATOR, bearer, make_organisation, make_user
from tests.test_authorization import route_table

TODAY = date.today()
ROLES = ("visitor", "a_admin", "a_member", "a_guest", "b_admin", "b_member", "b_author", "b_guest",
         "c_member", "c_removed", "d_admin", "cluster_manager", "platform_admin")
A_INSIDERS = {"a_admin", "a_member"}
B_INSIDERS = {"b_admin", "b_member", "b_author"}
# Marker -> the roles that may read the field it is planted in.
MAY_READ = {
    # Check-ins: the members of the party that wrote one and, once it answered the same
    # quarter, the other party's members; never guests, other parties or readers of the project.
    "CHECKIN-A-7f3": A_INSIDERS | B_INSIDERS,
    "CHECKIN-B-7f3": A_INSIDERS | B_INSIDERS,
    # A decision narrowed to B by A, and a risk narrowed to B that A deleted since.
    "NARROWED-9c1": A_INSIDERS | B_INSIDERS,
    "NARROWED-GONE-9c1": A_INSIDERS | B_INSIDERS,
    # The author of an idea under blind evaluation: colleagues, the challenge's team, and the
    # platform admin who reads organisations' member lists; never an evaluator.
    "Ada Author-5e2": A_INSIDERS | B_INSIDERS | {"platform_admin"},
    "author-5e2@example.org": A_INSIDERS | B_INSIDERS | {"platform_admin"},
    # The idea's text, under confidential submissions: the team, its organisation and the
    # evaluator on the team; not the evaluator who was removed from it.
    "IDEA-TEXT-4d8": A_INSIDERS | B_INSIDERS | {"c_member"},
    # The NDA between A and B linked to the project: the insiders of its parties only.
    "NDA-TITLE-2b6": A_INSIDERS | B_INSIDERS,
    # A's private relationship note, which A's export ZIP carries too.
    "JOBFILE-NOTE-8a0": A_INSIDERS,
}


@dataclass
class World:
    ids: dict = field(default_factory=dict)       # what fills the routes' path parameters
    users: dict = field(default_factory=dict)     # role -> user
    tokens: dict = field(default_factory=dict)    # role -> API headers
    cookies: dict = field(default_factory=dict)   # role -> session cookie
    calendars: dict = field(default_factory=dict)  # role -> calendar token
    jobs: dict = field(default_factory=dict)      # which job -> id


def _ok(answer, status=(200, 201, 204)):
    assert answer.status_code in status, (answer.request.url, answer.status_code, answer.text[:500])
    return answer.json() if answer.content and answer.headers.get("content-type", "").startswith(
        "application/json") else None


def _build(client, session) -> World:
    world = World()
    orgs = {n: make_organisation(session, name=f"Org {n}", country=c) for n, c in
            (("A", "DE"), ("B", "FI"), ("C", "PT"), ("D", "FR"), ("E", "IT"), ("F", "ES"))}
    u = world.users
    u["a_admin"], u["a_member"] = make_user(session, orgs["A"], "admin"), make_user(session, orgs["A"])
    u["a_guest"] = make_user(session, orgs["A"], "guest")
    u["b_admin"], u["b_member"] = make_user(session, orgs["B"], "admin"), make_user(session, orgs["B"])
    u["b_author"] = accounts.create_user(session, email="author-5e2@example.org", password="x" * 12,
                                         name="Ada Author-5e2")
    accounts.set_membership(session, user=u["b_author"], organisation_id=orgs["B"].id, role="member")
    u["b_guest"] = make_user(session, orgs["B"], "guest")
    u["c_member"], u["c_removed"] = make_user(session, orgs["C"]), make_user(session, orgs["C"])
    u["d_admin"] = make_user(session, orgs["D"], "admin")
    u["cluster_manager"] = make_user(session, is_cluster_manager=True)
    u["platform_admin"] = make_user(session, is_platform_admin=True)
    e_member, f_member = make_user(session, orgs["E"]), make_user(session, orgs["F"])
    for role, user in u.items():
        world.tokens[role] = bearer(session, user)
        world.cookies[role] = accounts.start_session(session, user=user)
    h = world.tokens
    for name in ("A", "E", "F"):
        sharing.set_cluster_consent(session, OPERATOR, organisation=orgs[name], consent=True)
    session.commit()
    ext = {n: o.external_id for n, o in orgs.items()}

    # The NDA and the joint projects: P public (A leads; B and C are parties), Q on which
    # B's guest is named.
    nda = _ok(client.post("/api/v1/agreements", headers=h["a_admin"], json={
        "owner": ext["A"], "parties": [ext["B"]], "kind": "nda", "title": "NDA-TITLE-2b6", "status": "in_force"}))
    project = _ok(client.post("/api/v1/joint-projects", headers=h["a_member"], json={
        "organisation": ext["A"], "title": "Coating pilot", "visibility": "public",
        "start_date": str(TODAY - timedelta(days=30)), "agreements": [nda["id"]],
        "parties": [{"organisation": ext["B"], "role": "partner"}, {"organisation": ext["C"], "role": "advisor"}]}))
    other = _ok(client.post("/api/v1/joint-projects", headers=h["a_member"], json={
        "organisation": ext["A"], "title": "Second pilot", "start_date": str(TODAY - timedelta(days=30)),
        "parties": [{"organisation": ext["B"], "role": "partner"}]}))
    _ok(client.post(f"/api/v1/joint-projects/{other['id']}/people", headers=h["b_admin"], json={
        "email": u["b_guest"].email, "organisation": ext["B"]}))
    base = f"/api/v1/joint-projects/{project['id']}"
    decision = _ok(client.post(f"{base}/decisions", headers=h["a_member"], json={
        "title": "NARROWED-9c1 price floor", "decided_on": str(TODAY), "audience": [ext["B"]]}))
    _ok(client.post(f"{base}/milestones", headers=h["a_member"], json={
        "title": "NARROWED-9c1 pilot line", "due_on": str(TODAY + timedelta(days=20)), "audience": [ext["B"]]}))
    risk = _ok(client.post(f"{base}/risks", headers=h["a_member"], json={
        "title": "NARROWED-GONE-9c1 supplier", "audience": [ext["B"]]}))
    _ok(client.patch(f"{base}/risks/{risk['id']}", headers=h["a_member"], json={"title": "NARROWED-GONE-9c1 x"}))
    _ok(client.delete(f"{base}/risks/{risk['id']}", headers=h["a_member"]))
    for role, comment in (("a_member", "CHECKIN-A-7f3"), ("b_member", "CHECKIN-B-7f3")):
        _ok(client.post(f"{base}/check-ins", headers=h[role], json={
            "value": 2, "trust": 2, "communication": 3, "fairness": 3, "comment": comment}))

    # A blind challenge with confidential submissions; C's member evaluates, a second C
    # member was assigned and then taken off the team.
    challenge = _ok(client.post("/api/v1/challenges", headers=h["a_member"], json={
        "organisation": ext["A"], "title": "Lighter pallets", "problem": "Too heavy", "visibility": "partners",
        "shared_with": [ext["B"], ext["C"]], "blind": True, "submissions": "confidential",
        "criteria": [{"name": "Feasibility", "stage": "evaluation"}]}))
    curl = f"/api/v1/challenges/{challenge['id']}"
    _ok(client.patch(curl, headers=h["a_member"], json={"state": "open"}))
    idea = _ok(client.post("/api/v1/ideas", headers=h["b_author"], json={
        "challenge": challenge["id"], "title": "Flax pallet", "description": "IDEA-TEXT-4d8 flax fibre",
        "accept_terms": True}))
    _ok(client.put(f"{curl}/team", headers=h["a_member"], json={"evaluators": {"evaluation": [
        u["c_member"].email, u["c_removed"].email]}}))
    for stage in ("screening", "evaluation"):
        _ok(client.post(f"/api/v1/ideas/{idea['id']}/stage", headers=h["a_member"], json={"stage": stage}))
    _ok(client.post(f"{curl}/assignments", headers=h["a_member"], json={"stage": "evaluation"}))
    _ok(client.put(f"/api/v1/ideas/{idea['id']}/follow", headers=h["c_member"]))
    _ok(client.put(f"/api/v1/ideas/{idea['id']}/follow", headers=h["c_removed"]))
    _ok(client.put(f"{curl}/team", headers=h["a_member"], json={"evaluators": {"evaluation": [u["c_member"].email]}}))
    _ok(client.patch(f"/api/v1/ideas/{idea['id']}", headers=h["b_author"], json={"title": "Flax fibre pallet"}))
    _ok(client.post(f"/api/v1/ideas/{idea['id']}/comments", headers=h["b_author"], json={
        "body": f"@{u['c_member'].email} @{u['c_removed'].email} the flax data is in"}))

    # A's private relationship with its note, its export ZIP (started by A's admin) and its
    # quarterly report PDF (started by A's member); the cluster's one-member figure.
    relationship = _ok(client.post("/api/v1/relationships", headers=h["a_member"], json={
        "organisation": ext["A"], "partner": ext["D"], "kind": "supplier", "notes": "JOBFILE-NOTE-8a0"}))
    world.jobs["export"] = _ok(client.post(f"/api/v1/orgs/{ext['A']}/export", headers=h["a_admin"]), (202,))["id"]
    report = client.get(f"/api/v1/orgs/{ext['A']}/report", params={"format": "pdf", "period": str(TODAY.year)},
                        headers=h["a_member"], follow_redirects=False)
    world.jobs["report"] = int(report.headers["location"].split("/")[-2])
    for n in range(7):
        _ok(client.post("/api/v1/ideas", headers=h["a_member"], json={"title": f"Free idea {n}",
                                                                       "description": "Pallets"}))
    del e_member, f_member  # members of E and F, who consent and write nothing

    for role, user in u.items():
        viewer = accounts.viewer_of(session, user_id=user.id, today=TODAY, channel="page")
        world.calendars[role] = projecting.create_calendar_feed(session, viewer)
    session.commit()
    world.ids = {"external_id": [ext["A"], ext["B"], ext["C"]], "partner": [ext["B"], ext["A"]],
                 "project_id": [project["id"], other["id"]], "idea_id": [idea["id"]],
                 "challenge_id": [challenge["id"]], "agreement_id": [nda["id"]],
                 "job_id": [world.jobs["export"], world.jobs["report"]], "relationship_id": [relationship["id"]],
                 "item_id": [decision["id"]], "kind": ["decision"], "attachment_id": [1], "need_id": [1],
                 "request_id": [1]}
    return world


def _urls(app, world: World, role: str) -> list[str]:
    """Every GET route with its parameters filled from the world (each value, one at a time),
    and the report formats and periods that the path alone does not say."""
    urls = []
    for method, path in route_table(app):
        if method != "GET" or path in ("/metrics",):
            continue
        names = re.findall(r"{(\w+)}", path)
        fills = [{}]
        for name in names:
            values = [world.calendars.get(role, "x")] if name == "token" and path.startswith("/calendar") else \
                world.ids.get(name, ["x"])
            fills = [f | {name: v} for f in fills for v in values]
        for fill in fills:
            url = path.replace(".ics", "")
            for name, value in fill.items():
                url = url.replace("{" + name + "}", str(value))
            urls.append(url + (".ics" if path.endswith(".ics") else ""))
    year = str(TODAY.year)
    for base in [f"/api/v1/orgs/{e}" for e in world.ids["external_id"]] + ["/api/v1/cluster"]:
        urls += [f"{base}/report?period={year}&format={f}" for f in ("csv", "html", "pdf")]
        urls += [f"{base}/kpis?period={year}"]
    return urls


def _text(answer) -> str:
    """What a reader gets: the body, a ZIP's files unpacked, a PDF's text."""
    content = answer.content
    if content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    if content.startswith(b"%PDF"):
        return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return answer.text


def _read(client, world: World, role: str, url: str):
    client.cookies.clear()
    headers = {}
    if role != "visitor":
        if url.startswith("/api/"):
            headers = world.tokens[role]
        else:
            client.cookies.set(SESSION_COOKIE, world.cookies[role])
    return client.get(url, headers=headers)


def test_no_private_field_reaches_a_role_that_may_not_read_it(app, client, session, sessions, smtp):  # noqa: F811
    world = _build(client, session)
    leaks, reads, server_errors = [], 0, []
    for role in ROLES:
        for url in _urls(app, world, role):
            answer = _read(client, world, role, url)
            reads += 1
            if answer.status_code >= 500:
                server_errors.append((role, url, answer.status_code))
                continue
            text = _text(answer)
            leaks += [(marker, role, url) for marker, readers in MAY_READ.items()
                      if role not in readers and marker in text]
    client.cookies.clear()
    # Every daily digest mail, as its reader gets it.
    port, inbox = smtp
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, data_dir=str(app.state.settings
                                                                                                     .data_dir))
    digests._daily_digest(JobContext(job_id=0, params={}, sessions=sessions, settings=settings))
    role_of = {user.email: role for role, user in world.users.items()}
    mails = len(inbox.messages)
    for to, content in inbox.messages:
        role = role_of[to[0]]
        leaks += [(marker, role, "digest mail") for marker, readers in MAY_READ.items()
                  if role not in readers and marker in content]
    routes = len({path for method, path in route_table(app) if method == "GET"})
    print(f"field matrix: {len(MAY_READ)} markers, {len(ROLES)} roles, {routes} GET routes, {reads} reads "
          f"and {mails} digest mails, {len(leaks)} leaks")
    assert server_errors == []
    assert leaks == [], f"{len(leaks)} leaks in {reads} reads: {leaks[:40]}"
    assert mails >= 2 and reads > 1500
    # The sanity side: each marker does reach a role that may read it (the world is real).
    seen = {m for m in MAY_READ if any(m in _text(_read(client, world, r, u)) for r, u in (
        ("a_member", f"/api/v1/joint-projects/{world.ids['project_id'][0]}/health"),
        ("a_member", f"/api/v1/joint-projects/{world.ids['project_id'][0]}/activity"),
        ("a_member", f"/api/v1/joint-projects/{world.ids['project_id'][0]}"),
        ("a_member", f"/api/v1/ideas/{world.ids['idea_id'][0]}"),
        ("a_admin", f"/api/v1/jobs/{world.jobs['export']}/file")))}
    assert seen == set(MAY_READ), set(MAY_READ) - seen


def test_a_cluster_figure_of_one_member_is_withheld_on_every_route(client, session):
    """With A, E and F consenting, only A's people wrote ideas: the cluster's ideas submitted
    would be A's own count. Withheld in the JSON, the CSV, the HTML and the PDF."""
    world = _build(client, session)
    h = world.tokens["cluster_manager"]
    quarter = f"{TODAY.year}Q{(TODAY.month - 1) // 3 + 1}"
    kpis = client.get("/api/v1/cluster/kpis", params={"period": quarter}, headers=h).json()
    ideas = next(k for k in kpis["kpis"] if k["kpi"] == "ideas_submitted")
    assert ideas["value"] is None and ideas["withheld"] and all(t["value"] is None for t in ideas["trend"])
    csv_text = client.get("/api/v1/cluster/report", params={"period": quarter, "format": "csv"}, headers=h).text
    row = next(line for line in csv_text.splitlines() if ",ideas_submitted," in line)
    assert ",7" not in row, row
    for format in ("html", "pdf"):
        answer = client.get("/api/v1/cluster/report", params={"period": quarter, "format": format}, headers=h)
        assert answer.status_code == 200, answer.text[:300]
        text = " ".join(re.sub(r"<[^>]+>", " ", _text(answer)).split())
        assert re.search(r"Ideas submitted \S+ withheld", text), text[:2000]
