"""The KPI page as a member reads it: every KPI with its value or "no data", the alerts
with their actions, the survey comparison; outsiders are refused."""

from datetime import date

from innonet.kpis.models import Alert
from tests.factories import make_organisation, make_user, sign_in


def test_a_member_reads_the_kpis_page_with_its_alerts(client, session):
    acme = make_organisation(session, name="Acme")
    member = make_user(session, acme)
    outsider = make_user(session, make_organisation(session, name="Rival"))
    session.add(Alert(organisation_id=acme.id, kind="country_concentration", subject="network",
                      title="Your partners are concentrated in one country", evidence="HHI 0.62",
                      action_label="Diversify: find partners in other countries",
                      action_link=f"/orgs/{acme.external_id}/partners?preset=new_market&excluded_countries=DE",
                      raised_on=date.today()))
    session.commit()
    sign_in(client, session, member)
    page = client.get(f"/orgs/{acme.external_id}/kpis?period=2025")
    assert page.status_code == 200, page.text
    assert "Share of innovative sales" in page.text and "no data" in page.text
    assert "preset=new_market&amp;excluded_countries=DE" in page.text
    assert "Firms like yours also work with" in page.text
    bad = client.get(f"/orgs/{acme.external_id}/kpis?period=soon")
    assert bad.status_code == 422 and "period" in bad.text
    sign_in(client, session, outsider)
    assert client.get(f"/orgs/{acme.external_id}/kpis").status_code == 403
