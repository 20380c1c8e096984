"""The KPI pages as people use them: the member's KPIs with alerts and actions, the forms
that enter figures (bad input shown beside its field, nothing saved), a partnership's
health with the check-in form, the report's three formats, the cluster's KPIs."""

from datetime import date

from innonet.kpis.models import Alert
from tests.factories import make_organisation, make_relationship, make_user, sign_in


def _form(client, token, **fields):
    return {"csrf_token": token, **fields}


def test_a_member_reads_the_kpis_page_with_its_alerts_and_enters_sales(client, session):
    acme = make_organisation(session, name="Acme")
    member = make_user(session, acme)
    outsider = make_user(session, make_organisation(session, name="Rival"))
    session.add(Alert(organisation_id=acme.id, kind="country_concentration", subject="network",
                      title="Your partners are concentrated in one country", evidence="HHI 0.62",
                      action_label="Diversify: find partners in other countries",
                      action_link=f"/orgs/{acme.external_id}/partners?preset=new_market&excluded_countries=DE",
                      raised_on=date.today()))
    session.commit()
    token = sign_in(client, session, member)
    page = client.get(f"/orgs/{acme.external_id}/kpis?period=2025")
    assert page.status_code == 200, page.text
    assert "Share of innovative sales" in page.text and "no data" in page.text
    assert "preset=new_market&amp;excluded_countries=DE" in page.text
    assert "Firms like yours also work with" in page.text
    url = f"/orgs/{acme.external_id}/kpis/sales"
    bad = client.post(url, data=_form(client, token, period="2025", year="2025", turnover="1000",
                                      new_to_market="900", new_to_firm="300"))
    assert bad.status_code == 422 and 'id="new_to_firm-error"' in bad.text
    negative = client.post(url, data=_form(client, token, period="2025", year="2025", turnover="-3",
                                           new_to_market="0", new_to_firm="0"))
    assert negative.status_code == 422 and 'id="turnover-error"' in negative.text
    assert "no data" in client.get(f"/orgs/{acme.external_id}/kpis?period=2025").text.split("Share of innovative")[1][:200]
    saved = client.post(url, data=_form(client, token, period="2025", year="2025", turnover="1000",
                                        new_to_market="100", new_to_firm="150"), follow_redirects=True)
    assert saved.status_code == 200 and "25.0 %" in saved.text
    wrong = client.get(f"/orgs/{acme.external_id}/kpis?period=soon")
    assert wrong.status_code == 422 and "period" in wrong.text
    sign_in(client, session, outsider)
    assert client.get(f"/orgs/{acme.external_id}/kpis").status_code == 403


def test_a_partnership_page_takes_a_check_in_and_shows_the_factors(client, session):
    acme, uni = make_organisation(session, name="Acme"), make_organisation(session, name="Uni")
    member = make_user(session, acme)
    make_relationship(session, acme, uni, kind="research_partner", direction="mutual")
    session.commit()
    token = sign_in(client, session, member)
    url = f"/orgs/{acme.external_id}/partnerships/{uni.external_id}"
    page = client.get(url)
    assert page.status_code == 200 and "Recent activity" in page.text and "Both sides contributing" in page.text
    bad = client.post(f"{url}/check-ins", data=_form(client, token, value="9", trust="4", communication="4",
                                                     fairness="4"))
    assert bad.status_code == 422 and 'id="value-error"' in bad.text
    done = client.post(f"{url}/check-ins", data=_form(client, token, value="2", trust="4", communication="4",
                                                      fairness="3", comment="Slow <b>replies</b>"),
                       follow_redirects=True)
    assert done.status_code == 200 and "Slow &lt;b&gt;replies&lt;/b&gt;" in done.text
    assert "You have answered this quarter" in done.text
    again = client.post(f"{url}/check-ins", data=_form(client, token, value="2", trust="4", communication="4",
                                                       fairness="3"))
    assert again.status_code == 409


def test_the_report_pages_and_the_cluster_page(client, session):
    acme = make_organisation(session, name="Acme")
    member = make_user(session, acme)
    manager = make_user(session, is_cluster_manager=True)
    session.commit()
    sign_in(client, session, member)
    html = client.get(f"/orgs/{acme.external_id}/report?period=2026Q1")
    assert html.status_code == 200 and "Acme: quarterly report 2026Q1" in html.text
    csv = client.get(f"/orgs/{acme.external_id}/report?period=2026Q1&format=csv")
    assert csv.headers["content-disposition"].startswith("attachment") and "roi_realised" in csv.text
    pdf = client.get(f"/orgs/{acme.external_id}/report?period=2026Q1&format=pdf", follow_redirects=False)
    assert pdf.status_code == 303 and pdf.headers["location"].startswith("/jobs/")
    assert "Download the PDF report" in client.get(pdf.headers["location"]).text
    sign_in(client, session, manager)
    page = client.get("/cluster/kpis?period=2026")
    assert page.status_code == 200 and "withheld" in page.text.lower()
