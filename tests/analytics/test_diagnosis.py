"""Findings a manager acts on: each says only what the data can show."""

from innonet.analytics.diagnosis import diagnose
from innonet.analytics.graph import collaboration_graph
from innonet.analytics.metrics import node_metrics


def star(first_years, last_years):
    """Organisation 0 and one partner per tie, with the ties' years."""
    n = len(first_years) + 1
    return collaboration_graph(n, [0] * (n - 1), list(range(1, n)), vertices={
        "kind": ["company"] * n, "country": ["DE"] * n},
        edges={"projects": [1] * (n - 1), "first_year": first_years, "last_year": last_years})


def codes(G, **options):
    found = diagnose(G, 0, node_metrics(G, seed=0), this_year=2026, **options)
    return {f["code"]: f for f in found["findings"]}


def test_ties_that_end_after_the_data_stops_are_not_called_a_shrinking_network():
    # The newest ties in the data began in 2018; all five ties end with their projects in
    # 2018-2021, so none is seen from the year after its end on.
    G = star([2015, 2016, 2017, 2018, 2018], [2018, 2019, 2020, 2020, 2021])
    found = codes(G, data_until=2018)
    assert "shrinking" not in found
    assert found["data_ends"]["figure"] == 2018
    assert "5 of yours ended after that" in found["data_ends"]["text"]
    # Without knowing where the data stops, the same years read as a shrinking network.
    assert "shrinking" in codes(G)


def test_a_network_that_lost_more_than_it_gained_in_the_years_the_data_holds_is_shrinking():
    G = star([2010, 2011, 2012, 2013, 2020], [2019, 2019, 2020, 2021, None])
    found = codes(G, data_until=2022)
    assert "2020-2022" in found["shrinking"]["text"] and "data_ends" not in found
