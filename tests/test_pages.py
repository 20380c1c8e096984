"""Server-rendered pages: content, HTMX fragments, form errors next to fields, escaping."""

from tests.factories import make_organisation, make_project, make_user, sign_in


def test_home_shows_the_network_at_a_glance(client, session):
    make_organisation(session, name="Lab", kind="research_organisation", country="IT")
    session.commit()
    page = client.get("/").text
    assert "The network at a glance" in page
    assert "Research organisation" in page and "Italy" in page


def test_home_says_what_innonet_is_for_and_leads_a_member_to_its_own_next_steps(client, session):
    lab = make_organisation(session, name="Lab", kind="research_organisation", country="IT")
    session.commit()
    visitor = client.get("/").text
    assert "finds partners who fit a need" in visitor
    assert 'action="/orgs"' in visitor and 'href="/network"' in visitor
    member = make_user(session, lab, "member")
    sign_in(client, session, member)
    session.commit()
    page = client.get("/").text
    for step in ("", "/partners", "/diagnosis"):
        assert f'href="/orgs/{lab.external_id}{step}"' in page, step


def test_directory_search_full_page_and_htmx_fragment(client, session):
    make_organisation(session, name="Coating Experts", country="DE")
    make_organisation(session, name="Unrelated", country="FR")
    session.commit()
    page = client.get("/orgs", params={"q": "coating"})
    assert "<html" in page.text and "<mark>Coating</mark> Experts" in page.text and "Unrelated" not in page.text
    fragment = client.get("/orgs", params={"country": "FR"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "Unrelated" in fragment.text


def test_directory_country_filter_follows_new_organisations(client, session):
    make_organisation(session, name="First", country="DE")
    session.commit()
    assert '<option value="IT"' not in client.get("/orgs").text  # the counts are now cached
    make_organisation(session, name="Second", country="IT")
    session.commit()
    assert '<option value="IT"' in client.get("/orgs").text
    assert "Italy" in client.get("/").text


def test_organisation_page_shows_partners_projects_and_network(client, session):
    a, b = make_organisation(session, name="Alpha"), make_organisation(session, name="Beta")
    make_project(session, a, b, acronym="JOINT")
    session.commit()
    page = client.get(f"/orgs/{a.external_id}").text
    assert "Beta" in page and "JOINT" in page
    assert f'data-network-url="/api/v1/orgs/{a.external_id}/network"' in page


def test_hostile_names_are_shown_as_text(client, session):
    make_organisation(session, name="<script>alert(1)</script> Evil")
    session.commit()
    page = client.get("/orgs", params={"q": "evil"}).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Evil</mark>" in page
    assert "<script>alert(1)</script>" not in page


def test_organisation_form_shows_errors_next_to_fields_and_keeps_input(client, session):
    token = sign_in(client, session, make_user(session, make_organisation(session)))
    session.commit()
    response = client.post("/orgs/new", data={"name": "", "country": "ZZ", "city": "Graz",
                                              "website": "nope", "csrf_token": token})
    assert response.status_code == 422
    assert 'id="name-error"' in response.text and 'id="website-error"' in response.text
    assert 'aria-invalid="true"' in response.text and 'value="Graz"' in response.text

    created = client.post("/orgs/new", data={"name": "Graz Sensors", "kind": "company",
                                             "country": "AT", "is_sme": "yes", "csrf_token": token},
                          follow_redirects=False)
    assert created.status_code == 303
    page = client.get(created.headers["location"])
    assert "Graz Sensors was added." in page.text and "SME" in page.text


def test_relationship_form_rejects_then_accepts(client, session):
    a, b = make_organisation(session, name="Alpha"), make_organisation(session, name="Beta")
    token = sign_in(client, session, make_user(session, a))
    session.commit()
    url = f"/orgs/{a.external_id}/relationships/new"
    bad = client.post(url, data={"partner": b.external_id, "kind": "supplier", "direction": "mutual",
                                 "start_date": "2024-01-01", "end_date": "2023-01-01", "strength": "3",
                                 "csrf_token": token})
    assert bad.status_code == 422 and 'id="end_date-error"' in bad.text
    good = client.post(url, data={"partner": b.external_id, "kind": "supplier", "direction": "mutual",
                                  "start_date": "2023-01-01", "strength": "3", "csrf_token": token},
                       follow_redirects=True)
    assert "Relationship added" in good.text and "Supplier" in good.text


def test_unknown_pages_get_a_page_not_json(client):
    response = client.get("/orgs/DOES-NOT-EXIST")
    assert response.status_code == 404 and "No organisation with id" in response.text
    assert "<html" in response.text


def test_jargon_is_explained_where_it_is_used_and_on_the_methods_page_the_app_serves(client, session):
    from innonet.glossary import GLOSSARY

    alpha, beta, gamma = (make_organisation(session, name=n) for n in ("Alpha", "Beta", "Gamma"))
    make_project(session, alpha, beta, gamma)
    session.commit()
    methods = client.get("/methods")
    assert methods.status_code == 200
    for key, (name, _) in GLOSSARY.items():
        assert f'<dt id="{key.replace("_", "-")}">{name}</dt>' in methods.text
    assert '<h2 id="one-organisation-s-diagnosis">' in methods.text  # the methods themselves
    assert "security.md" not in methods.text  # links to other files are kept as words

    diagnosis = client.get(f"/orgs/{alpha.external_id}/diagnosis").text
    for key in ("blau", "hhi", "constraint", "effective-size", "pagerank", "k-core"):
        assert f'href="/methods#{key}" aria-describedby="tip-' in diagnosis, key
    assert diagnosis.count('role="tooltip"') >= 6
    report = client.get("/network/report").text
    assert 'href="/methods#modularity"' in report and 'href="/methods#betweenness"' in report
    # The standalone report is read without a server: explained, but linking nowhere.
    standalone = client.get("/network/report.html").text
    assert 'role="tooltip"' in standalone and 'href="/methods#' not in standalone


def test_a_download_keeps_any_file_name_whole_and_cannot_break_its_header():
    from innonet.web import download

    answer = download(b"x", 'Bericht "Q3" für\r\nSet-Cookie: a=b.csv', "text/csv")
    disposition = answer.headers["content-disposition"]
    assert disposition == ("attachment; filename*=UTF-8''Bericht%20%22Q3%22%20f%C3%BCr%0D%0A"
                           "Set-Cookie%3A%20a%3Db.csv")
    assert "set-cookie" not in answer.headers
    shown = download("BEGIN:VCALENDAR", "innonet-milestones.ics", "text/calendar", inline=True,
                     headers={"Cache-Control": "private"})
    assert shown.headers["content-disposition"].startswith("inline; ")
    assert shown.headers["cache-control"] == "private"
