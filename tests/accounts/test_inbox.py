"""An organisation is told when something is newly shared with it: in its members' inbox,
and by mail where a mail server is set."""

import io

from fastapi.testclient import TestClient

from innonet.db import transaction
from innonet.imports import template
from tests.accounts.test_mail import app_with_mail, smtp  # noqa: F401 (fixture)
from tests.factories import OPERATOR, bearer, make_organisation, make_relationship, make_user, sign_in


def _share(client, headers, relationship_id, *names):
    return client.patch(f"/api/v1/relationships/{relationship_id}", headers=headers,
                        json={"visibility": "partners", "shared_with": list(names)})


def test_newly_named_partners_are_told_once_and_others_never(client, session):
    alpha, beta, gamma, delta = (make_organisation(session, name=n)
                                 for n in ("Alpha", "Beta", "Gamma", "Delta"))
    rel = make_relationship(session, alpha, delta, kind="customer")
    alpha_admin = make_user(session, alpha, "admin")
    beta_member, gamma_member = make_user(session, beta), make_user(session, gamma)
    beta_guest = make_user(session, beta, "guest")
    headers = bearer(session, alpha_admin)
    session.commit()

    assert _share(client, headers, rel.id, beta.external_id).status_code == 200
    # Saving the same share again, and adding Gamma, tells Beta nothing new.
    assert _share(client, headers, rel.id, beta.external_id, gamma.external_id).status_code == 200

    sign_in(client, session, beta_member)
    session.commit()
    home = client.get("/").text
    assert '<span class="badge">1<span class="visually-hidden"> new</span>' in home
    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    assert inbox.text.count("Alpha shared a relationship with your organisation.") == 1
    assert f'href="/orgs/{alpha.external_id}#relationships"' in inbox.text
    assert "<strong>new</strong>" in inbox.text
    # Opened once, the inbox counts as read.
    assert 'class="badge"' not in client.get("/").text
    assert "<strong>new</strong>" not in client.get("/inbox").text

    for user, expected in ((gamma_member, 1), (beta_guest, 0)):
        client.cookies.clear()
        sign_in(client, session, user)
        session.commit()
        assert client.get("/inbox").text.count("shared a relationship") == expected
    # The organisation that shared is told nothing.
    client.cookies.clear()
    sign_in(client, session, alpha_admin)
    session.commit()
    assert "shared a relationship" not in client.get("/inbox").text


def test_an_import_tells_each_partner_once_per_owner(client, session):
    alpha, beta = make_organisation(session, name="Alpha"), make_organisation(session, name="Beta")
    c, d = make_organisation(session), make_organisation(session)
    beta_member = make_user(session, beta)
    rows = [{"record": "relationship", "external_id": alpha.external_id, "partner": p.external_id,
             "kind": "supplier", "visibility": "partners", "shared_with": beta.external_id}
            for p in (c, d)]
    report = template.import_template(session, OPERATOR, file=io.BytesIO(
        template.template_csv(rows).encode()))
    assert report.skipped == [] and report.counts["relationships"] == (2, 0)
    session.commit()
    sign_in(client, session, beta_member)
    session.commit()
    assert client.get("/inbox").text.count("Alpha shared 2 relationships with your organisation.") == 1


def test_the_members_of_the_partner_get_a_mail_where_a_server_is_set(fresh_sessions, smtp, tmp_path):  # noqa: F811
    port, received = smtp
    with transaction(fresh_sessions) as session:
        alpha, beta = make_organisation(session, name="Alpha"), make_organisation(session, name="Beta")
        rel = make_relationship(session, alpha, make_organisation(session))
        headers = bearer(session, make_user(session, alpha, "admin"))
        beta_email = make_user(session, beta).email
        rel_id, beta_id = rel.id, beta.external_id
    with TestClient(app_with_mail(fresh_sessions, port, tmp_path)) as client:
        assert _share(client, headers, rel_id, beta_id).status_code == 200
    assert [to for to, _ in received.messages] == [[beta_email]]
    assert "Alpha shared a relationship with your organisation." in received.messages[0][1]
