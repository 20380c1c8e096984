"""Accounts through the real pages, API and command line: invitation, sign-in with rate
limits, reset, password change, API tokens, CSRF and the security headers."""

from datetime import date

from sqlalchemy import select
from typer.testing import CliRunner

from innonet.accounts import service as accounts
from innonet.accounts.models import User
from innonet.cli import app as cli
from innonet.db import make_engine, make_session_factory
from tests.factories import PASSWORD, form_token, make_organisation, make_user, sign_in


def _login(client, email, password, token):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       follow_redirects=False)


def test_invitation_to_sign_in_to_sign_out(client, session):
    acme = make_organisation(session, name="Acme")
    admin = make_user(session, acme, "admin")
    token = sign_in(client, session, admin)
    session.commit()
    invited = client.post(f"/orgs/{acme.external_id}/members",
                          data={"email": "Newcomer@Example.org", "role": "member", "csrf_token": token})
    assert invited.status_code == 201
    link = invited.text.split('id="invitation-link">')[1].split("<")[0]
    client.cookies.clear()

    path = link.removeprefix("http://testserver")
    assert "Join Acme" in client.get(path).text
    token = form_token(client)
    short = client.post(path, data={"password": "short", "password_again": "short", "csrf_token": token})
    assert short.status_code == 422 and "at least 10 characters" in short.text
    joined = client.post(path, data={"name": "New Comer", "password": PASSWORD,
                                     "password_again": PASSWORD, "csrf_token": token},
                         follow_redirects=False)
    assert joined.status_code == 303
    cookie = joined.headers["set-cookie"]
    assert "innonet_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    account = client.get("/account")
    assert "newcomer@example.org" in account.text and "Acme" in account.text
    assert client.get(path).status_code == 404  # an invitation works once

    client.post("/logout", data={"csrf_token": token})
    assert client.get("/account", follow_redirects=False).headers["location"] == "/login?next=%2Faccount"
    assert _login(client, "newcomer@example.org", PASSWORD, token).status_code == 303
    stored = session.scalar(select(User.password_hash).where(User.email == "newcomer@example.org"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def _invitation_link(page) -> str:
    return page.text.split('id="invitation-link">')[1].split("<")[0].removeprefix("http://testserver")


def test_a_platform_admin_lists_resends_and_revokes_pending_invitations(client, session):
    """A new organisation gets its first admin from a platform admin, who reaches its members
    page from the organisation's page; invitations not accepted yet can be sent again (a new
    link, the old one dead) or revoked."""
    acme = make_organisation(session, name="Acme")
    operator = make_user(session, is_platform_admin=True)
    token = sign_in(client, session, operator)
    session.commit()
    assert f'href="/orgs/{acme.external_id}/members"' in client.get(f"/orgs/{acme.external_id}").text
    members = f"/orgs/{acme.external_id}/members"
    first = client.post(members, data={"email": "boss@acme.example", "role": "admin", "csrf_token": token})
    client.post(members, data={"email": "typo@acme.exmple", "role": "member", "csrf_token": token})
    listed = client.get(members).text
    assert "Invitations not accepted yet" in listed
    assert "boss@acme.example" in listed and "typo@acme.exmple" in listed
    pending = {i.email: i.id for i in accounts.pending_invitations(
        session, accounts.viewer_of(session, user_id=operator.id, today=date.today(), channel="web"),
        organisation_id=acme.id)}

    resent = client.post(f"/orgs/{acme.external_id}/invitations/{pending['boss@acme.example']}/resend",
                         data={"csrf_token": token})
    assert resent.status_code == 200
    old_link, new_link = _invitation_link(first), _invitation_link(resent)
    assert old_link != new_link
    revoked = client.post(f"/orgs/{acme.external_id}/invitations/{pending['typo@acme.exmple']}/revoke",
                          data={"csrf_token": token})
    assert revoked.status_code == 200 and "Invitation to typo@acme.exmple revoked" in revoked.text
    assert "typo@acme.exmple" not in client.get(members).text
    again = client.post(f"/orgs/{acme.external_id}/invitations/{pending['typo@acme.exmple']}/revoke",
                        data={"csrf_token": token})
    assert again.status_code == 404

    client.cookies.clear()
    assert client.get(old_link).status_code == 404  # the old link died with the new one
    assert "Join Acme" in client.get(new_link).text


def test_sign_in_is_rate_limited_per_account_and_per_address(client, session):
    user = make_user(session)
    session.commit()
    token = form_token(client)
    for _ in range(accounts.FAILURES_PER_ACCOUNT):
        wrong = _login(client, user.email, "wrong password", token)
        assert wrong.status_code == 401 and "wrong" in wrong.text
    blocked = _login(client, user.email, PASSWORD, token)  # even the right password waits now
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins for this account" in blocked.text

    for n in range(accounts.FAILURES_PER_ADDRESS - accounts.FAILURES_PER_ACCOUNT):
        _login(client, f"nobody{n}@example.org", "guess", token)
    other = make_user(session)
    session.commit()
    assert "your address" in _login(client, other.email, PASSWORD, token).text


def test_every_form_needs_its_csrf_token(client, session):
    user = make_user(session, make_organisation(session))
    token = sign_in(client, session, user)
    session.commit()
    forged = client.post("/account/tokens", data={"name": "x", "scope": "write"})
    assert forged.status_code == 403 and "came from another site" in forged.text
    wrong = client.post("/account/tokens", data={"name": "x", "scope": "write", "csrf_token": token + "x"})
    assert wrong.status_code == 403
    assert client.post("/account/tokens", data={"name": "x", "scope": "write",
                                                "csrf_token": token}).status_code == 201
    assert client.post("/account/tokens", data={"name": "y"}, headers={"X-CSRF-Token": token}).status_code == 201


def test_password_reset_and_change_sign_out_other_sessions(client, session):
    user = make_user(session)
    _, reset = accounts.request_password_reset(session, email=user.email)
    other_browser = accounts.start_session(session, user=user)
    session.commit()
    token = form_token(client)
    assert client.post("/password/forgot", data={"email": "nobody@example.org", "csrf_token": token}
                       ).text == client.post("/password/forgot", data={"email": user.email,
                                                                      "csrf_token": token}).text
    new = "a brand new passphrase"
    done = client.post(f"/password/reset/{reset}", data={"password": new, "password_again": new,
                                                          "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert client.get(f"/password/reset/{reset}").status_code == 404  # used
    assert accounts.user_for_session(session, token=other_browser) is None
    changed = client.post("/account/password", data={"current_password": "not it", "new_password": PASSWORD,
                                                      "csrf_token": token})
    assert changed.status_code == 422 and "not your current password" in changed.text


def test_api_tokens_read_write_and_revoked(client, session):
    acme = make_organisation(session)
    user = make_user(session, acme)
    _, read = accounts.create_token(session, user=user, name="read", scope="read")
    write_token, write = accounts.create_token(session, user=user, name="write", scope="write")
    session.commit()
    assert session.get(type(write_token), write_token.id).token_hash != write
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {read}"}).json()
    assert me["email"] == user.email and me["can_write"] is False
    body = {"name": "Made by API"}
    refused = client.post("/api/v1/orgs", json=body, headers={"Authorization": f"Bearer {read}"})
    assert refused.status_code == 403 and "only reads" in refused.json()["error"]["message"]
    assert client.post("/api/v1/orgs", json=body, headers={"Authorization": f"Bearer {write}"}).status_code == 201
    accounts.revoke_token(session, user_id=user.id, token_id=write_token.id)
    session.commit()
    revoked = client.get("/api/v1/me", headers={"Authorization": f"Bearer {write}"})
    assert revoked.status_code == 401 and revoked.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    # A signed-in browser may read the API but not write to it (writes need a token).
    sign_in(client, session, user)
    session.commit()
    assert client.get("/api/v1/me").status_code == 200
    by_page = client.post("/api/v1/orgs", json=body)
    assert by_page.status_code == 403 and "the sign-in of a page, only reads" in by_page.json()["error"]["message"]
    # The API's document says so: a bearer token, optional where public records are read.
    document = client.get("/api/openapi.json").json()
    assert document["components"]["securitySchemes"]["token"] | {"description": ""} == {
        "type": "http", "scheme": "bearer", "description": ""}
    assert document["security"] == [{"token": []}, {}]


def test_security_headers_on_every_response(client):
    for path in ("/", "/api/v1/orgs", "/api/v1/orgs/NOPE", "/static/app.css", "/login", "/nowhere"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"], path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


def test_search_treats_injection_strings_as_text(client, session):
    make_organisation(session, name="Plain GmbH")
    session.commit()
    for hostile in ("' OR 1=1 --", "%", "_", "\\", "<script>alert(1)</script>", "Plain'; DROP TABLE organisation; --"):
        page = client.get("/api/v1/orgs", params={"q": hostile})
        assert page.status_code == 200 and page.json()["total"] == 0, hostile
        assert "<script>alert(1)</script>" not in client.get("/orgs", params={"q": hostile}).text
    assert client.get("/api/v1/orgs", params={"q": "Plain"}).json()["total"] == 1


def test_users_and_tokens_commands(databases, tmp_path):
    url = databases.new()
    runner = CliRunner()
    created = runner.invoke(cli, ["--db", url, "users", "create-admin", "--email", "root@example.org"],
                            input=f"{PASSWORD}\n{PASSWORD}\n")
    assert created.exit_code == 0, created.output
    manager = runner.invoke(cli, ["--db", url, "users", "create-admin", "--email", "cm@example.org",
                                  "--cluster-manager"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert manager.exit_code == 0 and "Cluster manager cm@example.org" in manager.output, manager.output
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        roles = {u.email: (u.is_platform_admin, u.is_cluster_manager) for u in session.scalars(select(User))}
    engine.dispose()
    assert roles == {"root@example.org": (True, False), "cm@example.org": (False, True)}
    template = tmp_path / "org.csv"
    template.write_text("record,external_id,name\norganisation,ACME,Acme\n")
    assert runner.invoke(cli, ["--db", url, "import", "template", str(template)]).exit_code == 0
    invited = runner.invoke(cli, ["--db", url, "users", "create", "--email", "ann@example.org",
                                  "--org", "ACME", "--role", "admin"])
    assert invited.exit_code == 0 and "/invitations/" in invited.stdout
    bad_role = runner.invoke(cli, ["--db", url, "users", "create", "--email", "bob@example.org",
                                   "--org", "ACME", "--role", "owner"])
    assert bad_role.exit_code == 1 and "role" in bad_role.output
    token = runner.invoke(cli, ["--db", url, "tokens", "create", "--email", "root@example.org",
                                "--scope", "write"])
    assert token.exit_code == 0 and token.stdout.strip().startswith("inn_")
    listed = runner.invoke(cli, ["--db", url, "tokens", "list", "--email", "root@example.org"])
    assert "\twrite\t" in listed.stdout and "active" in listed.stdout
    assert runner.invoke(cli, ["--db", url, "tokens", "revoke", "1"]).exit_code == 0
    assert "revoked" in runner.invoke(cli, ["--db", url, "tokens", "list", "--email", "root@example.org"]).stdout
    missing = runner.invoke(cli, ["--db", url, "tokens", "create", "--email", "nobody@example.org"])
    assert missing.exit_code == 1 and "No user" in missing.output
    link = runner.invoke(cli, ["--db", url, "users", "reset-link", "--email", "root@example.org"])
    assert "/password/reset/" in link.stdout
