"""A challenge's figures: one definition for the API, the CSV and the dashboard."""

import csv
import io

from tests.challenges.test_challenges import _challenge, _idea, circle  # noqa: F401 (fixture)
from tests.factories import sign_in


def test_the_figures_count_ideas_people_stages_and_agreement_the_same_everywhere(client, session, circle):  # noqa: F811
    users, h = circle["users"], circle["h"]
    challenge = _challenge(client, circle, criteria=[
        {"name": "Impact"}, {"name": "Feasibility", "stage": "evaluation", "scale": 5}])
    url = f"/api/v1/challenges/{challenge['id']}"
    first = _idea(client, circle, "partner", challenge, title="One")
    second = _idea(client, circle, "second", challenge, title="Two")
    duplicate = _idea(client, circle, "second", challenge, title="Two again")
    client.put(f"/api/v1/ideas/{first['id']}/support", headers=h["partner2"])
    client.put(f"/api/v1/ideas/{second['id']}/support", headers=h["partner2"])
    client.put(f"/api/v1/ideas/{second['id']}/support", headers=h["owner"])
    client.post(f"/api/v1/ideas/{first['id']}/comments", headers=h["admin"], json={"body": "Nice"})
    client.post(f"/api/v1/ideas/{second['id']}/merge", headers=h["owner"], json={"duplicate": duplicate["id"]})
    for stage in ("screening", "evaluation"):
        client.post(f"/api/v1/ideas/{first['id']}/stage", headers=h["owner"], json={"stage": stage})
    client.post(f"/api/v1/ideas/{second['id']}/stage", headers=h["owner"], json={"stage": "screening"})
    client.put(f"{url}/team", headers=h["owner"], json={"evaluators": {"evaluation": [
        users["owner"].email, users["admin"].email]}})
    client.post(f"{url}/assignments", headers=h["owner"], json={"stage": "evaluation"})
    feasibility = next(c["id"] for c in challenge["criteria"] if c["stage"] == "evaluation")
    for who, value in (("owner", 5), ("admin", 2)):
        client.put(f"/api/v1/ideas/{first['id']}/ratings", headers=h[who],
                   json={"criterion": feasibility, "value": value})

    figures = client.get(f"{url}/metrics", headers=h["owner"])
    assert figures.status_code == 200, figures.text
    m = figures.json()
    assert (m["ideas"], m["supporters"], m["supports"], m["comments"]) == (2, 2, 3, 1)
    # partner (author), second (author), partner2 and owner (supporters, evaluators), admin
    # (comment, evaluator); organisations: Partner and Second (authors), Owner.
    assert (m["participants"], m["organisations"]) == (5, 3)
    assert sum(w["ideas"] for w in m["ideas_by_week"]) == 2
    stages = {s["stage"]: s for s in m["stages"]}
    assert [stages[s]["reached"] for s in ("submitted", "screening", "evaluation", "selected")] == [2, 2, 1, 0]
    assert (stages["screening"]["conversion"], stages["evaluation"]["conversion"]) == (1.0, 0.5)
    assert (stages["screening"]["now"], stages["evaluation"]["now"]) == (1, 1)
    assert stages["submitted"]["median_days"] == 0.0 and stages["evaluation"]["median_days"] is None
    # Totals 100 and 25: one idea scored twice, 75 points apart: they do not agree.
    assert m["evaluator_agreement"] == {"ideas": 1, "mean_spread": 75.0, "agreeing_share": 0.0}

    sign_in(client, session, users["owner"])
    session.commit()
    rows = list(csv.DictReader(io.StringIO(client.get(f"/challenges/{challenge['id']}/metrics.csv").text)))
    value = {(r["metric"], r["stage"], r["week"]): r["value"] for r in rows}
    assert value["ideas", "", ""] == "2" and value["participants", "", ""] == "5"
    assert value["stage_conversion", "evaluation", ""] == "0.5"
    assert value["evaluator_agreement_mean_spread", "", ""] == "75.0"
    page = client.get(f"/challenges/{challenge['id']}/dashboard")
    assert page.status_code == 200 and "75.0 points" in page.text and "How far ideas got" in page.text
    client.cookies.clear()
    # Not the team's: no figures.
    assert client.get(f"{url}/metrics", headers=h["partner"]).status_code == 403
