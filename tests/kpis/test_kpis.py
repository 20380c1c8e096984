"""KPIs through the API: the network figures by year stored by the daily job, figures
entered (sales, project costs and revenues) with bad input refused, periods without data,
targets and thresholds, the survey comparison, and who may read what."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from innonet.analytics.network_years import network_years
from innonet.kpis import network_figures
from innonet.kpis.models import NetworkYear
from tests.factories import bearer, make_organisation, make_project, make_relationship, make_user

THIS_YEAR = date.today().year


@pytest.fixture
def orgs(session):
    """Acme (company, DE) with an admin and a member; Uni (FI) and Lab (FR) work with it;
    Rival is an outsider with an admin of its own."""
    made = {"acme": make_organisation(session, name="Acme", country="DE"),
            "uni": make_organisation(session, name="Uni", country="FI", kind="higher_education"),
            "lab": make_organisation(session, name="Lab", country="FR", kind="research_organisation"),
            "rival": make_organisation(session, name="Rival", country="DE")}
    people = {"admin": make_user(session, made["acme"], role="admin"), "member": make_user(session, made["acme"]),
              "rival": make_user(session, made["rival"], role="admin")}
    made["h"] = {k: bearer(session, u) for k, u in people.items()}
    session.commit()
    return made


def _kpi(found, key):
    return next(k for k in found["kpis"] if k["kpi"] == key)


def test_network_figures_by_year_are_stored_for_every_organisation_and_read_back(client, session, orgs):
    acme, uni, lab = orgs["acme"], orgs["uni"], orgs["lab"]
    make_project(session, acme, uni, start_date=date(2019, 3, 1), end_date=date(2020, 6, 30))
    make_project(session, acme, lab, start_date=date(2020, 1, 1), end_date=date(2020, 12, 31))
    make_project(session, uni, lab, start_date=date(2021, 1, 1), end_date=None)
    result = network_figures.refresh(session, this_year=2021)
    assert result["years"] == "2019-2021"
    stored = {(r.organisation_id, r.year): r for r in session.scalars(select(NetworkYear))}
    assert (stored[acme.id, 2019].partners, stored[acme.id, 2020].partners) == (1, 2)
    assert stored[acme.id, 2020].new_partners == 1 and stored[acme.id, 2019].new_partners is None
    assert stored[acme.id, 2020].by_country == {"FI": 1, "FR": 1} and stored[acme.id, 2020].country_hhi == 0.5
    assert stored[acme.id, 2020].by_category == {"universities": 1, "research_organisations": 1}
    # 2021: Acme worked with nobody, and lost both partners of 2020.
    assert stored[acme.id, 2021].partners == 0 and stored[acme.id, 2021].lost_partners == 2
    found = client.get(f"/api/v1/orgs/{acme.external_id}/kpis?period=2020Q2", headers=orgs["h"]["member"]).json()
    partners = _kpi(found, "partners")
    assert partners["period"] == "2020" and partners["value"] == 2
    assert [p["value"] for p in partners["trend"]] == [1, 2]
    assert _kpi(found, "country_hhi")["value"] == 0.5
    assert _kpi(found, "partner_diversity")["value"] == pytest.approx(0.5)


def test_the_stored_figures_equal_the_analytics_on_the_same_arrays(session, orgs):
    acme, uni, lab = orgs["acme"], orgs["uni"], orgs["lab"]
    make_project(session, acme, uni, lab, start_date=date(2018, 1, 1), end_date=date(2019, 12, 31))
    make_relationship(session, acme, uni, kind="supplier", visibility="public", strength=5,
                      start_date=date(2019, 1, 1))
    network = network_figures.public_network(session)
    years = network_figures.years_held(network, this_year=2019)
    expected = network_years(network.project, network.organisation, network.project_start,
                             network.project_end, n=network.organisation_ids.size, years=years,
                             category=network.category, country=network.country, ties=network.ties)
    network_figures.refresh(session, this_year=2019)
    v = list(network.organisation_ids).index(acme.id)
    row = session.get(NetworkYear, (acme.id, 2019))
    # The relationship adds weight to Acme-Uni: Uni holds 2 of Acme's 3 units of joint work.
    assert row.largest_partner_share == pytest.approx(expected["largest_partner_share"][1, v])
    assert row.largest_partner_share == pytest.approx(2 / 3)
    assert row.constraint == pytest.approx(expected["constraint"][1, v])


def test_sales_are_entered_checked_and_give_the_share_of_innovative_sales(client, orgs):
    url = f"/api/v1/orgs/{orgs['acme'].external_id}/sales"
    h = orgs["h"]["member"]
    made = client.put(url, json={"year": 2025, "turnover": 2_000_000, "new_to_market": 300_000,
                                 "new_to_firm": 200_000}, headers=h)
    assert made.status_code == 200, made.text
    assert made.json()["innovative_sales_share"] == 0.25
    found = client.get(f"/api/v1/orgs/{orgs['acme'].external_id}/kpis?period=2025Q4", headers=h).json()
    assert _kpi(found, "innovative_sales_share")["value"] == 0.25
    assert _kpi(found, "new_to_market_share")["value"] == 0.15
    # A year without sales entered shows no data, never 0 %.
    other = client.get(f"/api/v1/orgs/{orgs['acme'].external_id}/kpis?period=2024", headers=h).json()
    assert _kpi(other, "innovative_sales_share")["value"] is None
    for body, field in (({"turnover": -5}, "turnover"), ({"new_to_market": "lots"}, "new_to_market"),
                        ({"new_to_firm": 1_900_000}, "new_to_firm"), ({"year": THIS_YEAR + 1}, "year"),
                        ({"turnover": "NaN"}, "turnover")):
        bad = client.put(url, json={"year": 2025, "turnover": 2_000_000, "new_to_market": 300_000,
                                    "new_to_firm": 200_000} | body, headers=h)
        assert bad.status_code == 422, (body, bad.text)
        assert field in bad.text, (body, bad.text)
    assert client.get(url, headers=h).json()[0]["turnover"] == 2_000_000  # nothing half-written
    assert client.delete(f"{url}/2025", headers=h).status_code == 204
    assert client.get(url, headers=h).json() == []


def test_only_members_read_or_enter_an_organisations_kpis(client, orgs):
    base = f"/api/v1/orgs/{orgs['acme'].external_id}"
    assert client.get(f"{base}/kpis", headers=orgs["h"]["rival"]).status_code == 403
    assert client.get(f"{base}/kpis").status_code == 401
    assert client.put(f"{base}/sales", json={"year": 2025, "turnover": 1, "new_to_market": 0, "new_to_firm": 0},
                      headers=orgs["h"]["rival"]).status_code == 403
    assert client.get(f"{base}/sales", headers=orgs["h"]["rival"]).status_code == 403
    assert client.get("/api/v1/orgs/NO-SUCH/kpis", headers=orgs["h"]["member"]).status_code == 404


def test_a_bad_period_is_refused_naming_the_field(client, orgs):
    base = f"/api/v1/orgs/{orgs['acme'].external_id}/kpis"
    for period in ("2026Q5", "last year", "26", "2026-03"):
        bad = client.get(base, params={"period": period}, headers=orgs["h"]["member"])
        assert bad.status_code == 422 and "period" in bad.text, bad.text
    assert client.get(base, params={"period": "2026q1"}, headers=orgs["h"]["member"]).json()["period"] == "2026Q1"


def test_joint_project_costs_and_revenues_give_the_return_on_investment(client, session, orgs):
    h = orgs["h"]
    made = client.post("/api/v1/joint-projects", headers=h["admin"], json={
        "organisation": orgs["acme"].external_id, "title": "Coating pilot",
        "start_date": str(date.today() - timedelta(days=10)),
        "parties": [{"organisation": orgs["uni"].external_id, "role": "partner"}]})
    assert made.status_code == 201, made.text
    url = f"/api/v1/joint-projects/{made.json()['id']}/finance"
    entered = client.put(url, json={"estimated_cost": 100_000, "estimated_revenue": 250_000}, headers=h["member"])
    assert entered.status_code == 200, entered.text
    assert entered.json()[0]["organisation"] == orgs["acme"].external_id
    found = client.get(f"/api/v1/orgs/{orgs['acme'].external_id}/kpis", headers=h["member"]).json()
    assert _kpi(found, "roi_estimated")["value"] == 1.5
    assert _kpi(found, "roi_realised")["value"] is None  # not closed: no data, no division by zero
    for body, field in (({"estimated_cost": -1}, "estimated_cost"), ({"realised_revenue": "ten"}, "realised_revenue"),
                        ({"realised_cost": 1e13}, "realised_cost")):
        bad = client.put(url, json=body, headers=h["member"])
        assert bad.status_code == 422 and field in bad.text, bad.text
    assert client.get(url, headers=h["member"]).json()[0]["estimated_cost"] == 100_000
    # An outsider does not see the project at all; a party reads only its own figures.
    assert client.get(url, headers=h["rival"]).status_code == 404
    uni_user = make_user(session, orgs["uni"])
    session.commit()
    assert client.get(url, headers=bearer(session, uni_user)).json()[0]["estimated_cost"] is None


def test_targets_and_thresholds_are_checked_against_their_ranges(client, orgs):
    base = f"/api/v1/orgs/{orgs['acme'].external_id}"
    h = orgs["h"]
    assert client.put(f"{base}/kpis/country_hhi/target", json={"target": 0.2}, headers=h["member"]).status_code == 200
    bad = client.put(f"{base}/kpis/country_hhi/target", json={"target": 3}, headers=h["member"])
    assert bad.status_code == 422 and "target" in bad.text
    assert client.put(f"{base}/kpis/nonsense/target", json={"target": 1}, headers=h["member"]).status_code == 404
    found = client.get(f"{base}/kpis", headers=h["member"]).json()
    assert _kpi(found, "country_hhi")["target"] == 0.2
    assert client.get(f"{base}/alert-thresholds", headers=h["member"]).json()["country_hhi"] == 0.25
    assert client.put(f"{base}/alert-thresholds", json={"decay_months": 3}, headers=h["member"]).status_code == 403
    for body, field in (({"decay_months": 0}, "decay_months"), ({"country_hhi": 1.5}, "country_hhi"),
                        ({"checkin_below": 7}, "checkin_below"), ({"largest_partner_share": -0.1},
                                                                   "largest_partner_share")):
        bad = client.put(f"{base}/alert-thresholds", json=body, headers=h["admin"])
        assert bad.status_code == 422 and field in bad.text, bad.text
    assert client.put(f"{base}/alert-thresholds", json={"decay_months": 3}, headers=h["admin"]).status_code == 200
    assert client.get(f"{base}/alert-thresholds", headers=h["member"]).json()["decay_months"] == 3


def test_the_survey_comparison_counts_only_relationships_the_viewer_may_read(client, session, orgs):
    acme, uni, rival = orgs["acme"], orgs["uni"], orgs["rival"]
    make_project(session, acme, uni, start_date=date(THIS_YEAR, 1, 1), end_date=date(THIS_YEAR, 12, 31))
    network_figures.refresh(session, this_year=THIS_YEAR)
    session.commit()
    url = f"/api/v1/orgs/{acme.external_id}/kpis?period={THIS_YEAR}"

    def types():
        survey = client.get(url, headers=orgs["h"]["member"]).json()["survey"]
        return {t["type"]: t["partners"] for t in survey["types"]}, [t["type"] for t in survey["also_work_with"]]

    before, missing = types()
    assert before["universities"] == 1 and before["suppliers"] == 0
    assert missing[0] == "suppliers"  # the commonest type Acme lacks comes first
    # Rival records privately that Acme is its supplier: nothing moves for Acme.
    make_relationship(session, rival, acme, kind="supplier", visibility="private")
    session.commit()
    assert types() == (before, missing)
    # Acme records its own supplier: it counts.
    make_relationship(session, acme, rival, kind="supplier", visibility="private")
    session.commit()
    after, _ = types()
    assert after["suppliers"] == 1 and after["universities"] == 1


def test_the_catalogue_defines_every_kpi(client):
    catalogue = client.get("/api/v1/kpis").json()
    assert {k["group"] for k in catalogue} == {"funnel", "outcomes", "network"}
    assert all(k["formula"] and k["better"] in ("higher", "lower") for k in catalogue)
    assert {"innovative_sales_share", "roi_realised", "country_hhi", "brokerage_percentile"} <= {
        k["kpi"] for k in catalogue}


def test_partners_by_kind_and_country_year_by_year(client, session, orgs):
    acme, uni, lab = orgs["acme"], orgs["uni"], orgs["lab"]
    make_project(session, acme, uni, start_date=date(2019, 3, 1), end_date=date(2020, 6, 30))
    make_project(session, acme, lab, start_date=date(2020, 1, 1), end_date=date(2020, 12, 31))
    network_figures.refresh(session, this_year=2020)
    session.commit()
    found = client.get(f"/api/v1/orgs/{acme.external_id}/kpis?period=2020", headers=orgs["h"]["member"]).json()
    years = {y["year"]: y for y in found["portfolio"]}
    assert sorted(years) == [2019, 2020]
    assert years[2019]["by_country"] == [{"country": "FI", "partners": 1}]
    assert {c["category"]: c["partners"] for c in years[2020]["by_category"]} == {
        "universities": 1, "research_organisations": 1}


def test_the_idea_funnel_per_period_and_per_challenge(client, session, orgs):
    from innonet.accounts import service as accounts
    from innonet.challenges import service as challenging
    from innonet.challenges.schemas import ChallengeIn, IdeaIn

    acme, uni = orgs["acme"], orgs["uni"]
    admin = accounts.viewer_of(session, user_id=make_user(session, acme, role="admin").id, today=date.today(),
                               channel="api")
    author = accounts.viewer_of(session, user_id=make_user(session, uni).id, today=date.today(), channel="api")
    challenge = challenging.create_challenge(session, admin, data=ChallengeIn(
        organisation=acme.external_id, title="Lighter cups", problem="Too heavy.", visibility="network"))
    challenge.state = "open"
    ideas = [challenging.submit_idea(session, author, data=IdeaIn(
        challenge=challenge.id, title=f"Idea {n}", description="Thinner walls.", accept_terms=True)) for n in range(3)]
    for stage in ("screening", "evaluation"):
        challenging.move_idea(session, admin, idea_id=ideas[0].id, stage=stage)
    challenging.move_idea(session, admin, idea_id=ideas[0].id, stage="selected", reason="Lightest.")
    session.commit()
    found = client.get(f"/api/v1/orgs/{acme.external_id}/kpis", headers=orgs["h"]["member"]).json()
    assert _kpi(found, "ideas_received")["value"] == 3
    assert _kpi(found, "idea_selection_rate")["value"] == pytest.approx(1 / 3)
    assert found["challenges"] == [{"challenge": challenge.id, "title": "Lighter cups", "ideas": 3, "selected": 1,
                                    "selection_rate": pytest.approx(1 / 3)}]
    stages = {s["stage"]: s for s in found["funnel"]}
    assert stages["submitted"]["reached"] == 3 and stages["selected"]["reached"] == 1
    assert stages["screening"]["conversion"] == 0.333  # rounded as in the challenge metrics
    # Uni submitted them: they are its ideas submitted; a year before holds none.
    uni_member = bearer(session, make_user(session, uni))
    session.commit()
    theirs = client.get(f"/api/v1/orgs/{uni.external_id}/kpis", headers=uni_member).json()
    assert _kpi(theirs, "ideas_submitted")["value"] == 3
    earlier = client.get(f"/api/v1/orgs/{acme.external_id}/kpis?period={THIS_YEAR - 1}",
                         headers=orgs["h"]["member"]).json()
    assert _kpi(earlier, "ideas_received")["value"] == 0 and _kpi(earlier, "idea_selection_rate")["value"] is None
