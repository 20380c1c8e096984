"""The KPI write paths under many people at once, on a real server and each database: no
freeze, no 500, nothing lost, one answer per side and quarter."""

import httpx
from sqlalchemy import func, select

from innonet.kpis.models import CheckIn, InnovativeSales, KpiTarget
from tests.test_concurrency import TIMEOUT, live, run_together  # noqa: F401 (fixture)


def test_sales_targets_thresholds_and_check_ins_written_at_once_all_land(live):  # noqa: F811
    admin = live.token(live.users[0])
    members = [live.token(email) for email in live.users[2:7]]
    org, partner = live.orgs[0], live.orgs[3]
    base = f"{live.url}/api/v1/orgs/{org}"
    # A partnership to check in on: a relationship Org 0 records with Org 3.
    assert httpx.post(f"{live.url}/api/v1/relationships", headers=admin, timeout=TIMEOUT, json={
        "organisation": org, "partner": partner, "kind": "supplier"}).status_code == 201

    def put(path, body, headers):
        return lambda: httpx.put(f"{base}/{path}", json=body, headers=headers, timeout=TIMEOUT).status_code

    def check_in(headers):
        return lambda: httpx.post(f"{base}/partnerships/{partner}/check-ins", headers=headers, timeout=TIMEOUT,
                                  json={"value": 4, "trust": 4, "communication": 3, "fairness": 4}).status_code

    calls = [put("sales", {"year": 2020 + n, "turnover": 1000 + n, "new_to_market": 10, "new_to_firm": n},
                 members[n % 5]) for n in range(5)]
    calls += [put("sales", {"year": 2025, "turnover": 2000, "new_to_market": 100 + n, "new_to_firm": 0},
                  members[n]) for n in range(5)]  # the same year, five times: one row, the last word
    calls += [put(f"kpis/{kpi}/target", {"target": 0.5}, admin)
              for kpi in ("country_hhi", "partner_diversity", "largest_partner_share")]
    calls += [put("alert-thresholds", {"decay_months": 3 + n}, admin) for n in range(3)]
    calls += [check_in(headers) for headers in members]
    statuses = run_together(calls)
    assert statuses[:16] == [200] * 16
    assert sorted(statuses[16:]) == [201] + [409] * 4  # one answer for the side and quarter
    assert live.count(select(func.count()).select_from(InnovativeSales)) == 6
    assert live.count(select(func.count()).select_from(KpiTarget)) == 3
    assert live.count(select(func.count()).select_from(CheckIn)) == 1
    sales = httpx.get(f"{base}/sales", headers=admin, timeout=TIMEOUT).json()
    assert next(s for s in sales if s["year"] == 2025)["new_to_market"] in {100, 101, 102, 103, 104}
