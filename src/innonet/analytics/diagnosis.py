"""Diagnosis of one organisation's network, in figures and plain-language findings.

The rules and thresholds are documented in docs/methods.md; each finding names the figure
it rests on, so the reader can check it.
"""

from collections import Counter
from collections.abc import Iterable
from typing import Any

import igraph as ig
import numpy as np

# The cooperation-partner types of the Community Innovation Survey, plus the project kinds.
PARTNER_CATEGORIES = {
    "customers": "Customers",
    "suppliers": "Suppliers",
    "competitors": "Competitors",
    "universities": "Universities and higher education",
    "research_organisations": "Research organisations",
    "consultants": "Consultants and private R&D",
    "public_bodies": "Public bodies",
    "companies": "Other companies",
    "other": "Other",
}
# What a recorded relationship kind says the partner is (research partners depend on the
# partner's own kind; kinds not listed fall back to the partner's kind).
CATEGORY_OF_RELATIONSHIP = {
    "customer": "customers",
    "distributor": "customers",
    "supplier": "suppliers",
    "competitor": "competitors",
    "consultant": "consultants",
    "licensing": "consultants",
    "public_funder": "public_bodies",
}
CATEGORY_OF_KIND = {
    "company": "companies",
    "higher_education": "universities",
    "research_organisation": "research_organisations",
    "public_body": "public_bodies",
    "other": "other",
}
KNOWLEDGE_CATEGORIES = ("universities", "research_organisations")
SUPPLY_CHAIN = ("customers", "suppliers")
# Herfindahl–Hirschman thresholds of the US merger guidelines (2010), on a 0–1 scale.
CONCENTRATION_HIGH = 0.25
CONCENTRATION_MODERATE = 0.15
DOMINANT_PARTNER_SHARE = 0.4
BROKER_PERCENTILE = 75.0


def partner_category(relationship_kinds: Iterable[str], partner_kind: str | None) -> str:
    """The survey category of one partner, from the recorded relationship if any.

    Examples
    --------
    >>> partner_category(["supplier"], "company")
    'suppliers'
    >>> partner_category(["research_partner"], "higher_education")
    'universities'
    >>> partner_category([], "research_organisation")
    'research_organisations'
    """
    for kind in relationship_kinds:
        if kind in CATEGORY_OF_RELATIONSHIP:
            return CATEGORY_OF_RELATIONSHIP[kind]
    return CATEGORY_OF_KIND.get(partner_kind or "", "other")


def blau_index(counts: Iterable[float]) -> float:
    """Blau's diversity index 1 - Σ p², 0 when all partners are of one kind.

    Examples
    --------
    >>> blau_index([5, 5])
    0.5
    >>> blau_index([3])
    0.0
    """
    total = sum(counts)
    if total == 0:
        return 0.0
    return 1.0 - sum((c / total) ** 2 for c in counts)


def herfindahl(counts: Iterable[float]) -> float:
    """Herfindahl–Hirschman index Σ s² of shares, from 1/N (even) to 1 (all in one).

    Examples
    --------
    >>> herfindahl([1, 1, 1, 1])
    0.25
    """
    total = sum(counts)
    return sum((c / total) ** 2 for c in counts) if total else 0.0


def concentration_level(hhi: float) -> str:
    """'high' from 0.25, 'moderate' from 0.15, else 'low' (merger-guideline thresholds).

    Examples
    --------
    >>> concentration_level(0.3), concentration_level(0.2), concentration_level(0.1)
    ('high', 'moderate', 'low')
    """
    if hhi >= CONCENTRATION_HIGH:
        return "high"
    if hhi >= CONCENTRATION_MODERATE:
        return "moderate"
    return "low"


def network_type(features: dict) -> tuple[str | None, str]:
    """Classify an ego network by the documented rule, returning (type, reason).

    Rule, first match wins: *value chain* when at least 3 partners are customers or
    suppliers and they are at least half of the partners with a recorded relationship;
    *peer-to-peer* when at least half of all partner pairs work together (ego density ≥
    0.5); *open ecosystem* when the partners belong to 3 or more communities and no
    community holds half of them; otherwise *hub-and-spoke*: the organisation is the
    link between partners who mostly do not work with each other.

    Examples
    --------
    >>> network_type({"partners": 4, "ego_density": 0.8, "supply_chain_partners": 0,
    ...               "typed_partners": 0, "communities_reached": 1,
    ...               "largest_community_share": 1.0})[0]
    'peer-to-peer'
    """
    if features["partners"] < 2:
        return None, "fewer than two partners: no network to classify"
    if features["supply_chain_partners"] >= 3 and \
            features["supply_chain_partners"] >= 0.5 * features["typed_partners"]:
        return "value chain", (f"{features['supply_chain_partners']} of "
                               f"{features['typed_partners']} recorded relationships are "
                               "with customers or suppliers")
    if features["ego_density"] >= 0.5:
        return "peer-to-peer", (f"{features['ego_density']:.0%} of your partners' possible "
                                "ties to each other exist (≥ 50%)")
    if features["communities_reached"] >= 3 and features["largest_community_share"] < 0.5:
        return "open ecosystem", (f"your partners belong to {features['communities_reached']} "
                                  "communities and none holds half of them")
    return "hub-and-spoke", (f"only {features['ego_density']:.0%} of your partners' possible "
                             "ties to each other exist: you are the link between them")


def diagnose(G: ig.Graph, v: int, metrics: dict[str, np.ndarray], *, this_year: int,
             vertices: list[int] | np.ndarray | None = None, data_until: int | None = None) -> dict:
    """Diagnose vertex ``v``: portfolio, geography, network type, brokerage, dynamics.

    ``G`` may carry a graph attribute ``partner_kinds``: a dict from (v, partner) to the
    relationship kinds v records for that partner (what the partner is to v). Edges may
    carry ``first_year`` and ``last_year``. ``G`` may be only the part of a larger network
    around ``v`` (v, its partners and the links among them): ``vertices`` then gives each of
    its vertices' number in that network, which ``metrics`` is indexed by. ``data_until``
    is the last year in which the data holds a tie beginning (in the whole network): ties
    that end after it may go on in projects the data does not hold, so no year after it
    is judged.

    Examples
    --------
    >>> from innonet.analytics.graph import collaboration_graph
    >>> from innonet.analytics.metrics import node_metrics
    >>> G = collaboration_graph(3, [0, 0], [1, 2], vertices={
    ...     "kind": ["company", "higher_education", "company"],
    ...     "country": ["DE", "DE", "FR"]})
    >>> d = diagnose(G, 0, node_metrics(G), this_year=2026)
    >>> d["portfolio"]["breadth"], d["geography"]["domestic_share"]
    (2, 0.5)
    """
    attributes = G.vs.attributes()
    index = np.arange(G.vcount()) if vertices is None else np.asarray(vertices)
    # The organisation's ties, once: each partner with the edge that links them.
    ties = [(edge.target if edge.source == v else edge.source, edge)
            for edge in G.es[G.incident(v)]]
    partners = [u for u, _ in ties]
    partner_kinds = G["partner_kinds"] if "partner_kinds" in G.attributes() else {}

    def attribute(name: str, vertex: int) -> Any:
        return G.vs[vertex][name] if name in attributes else None

    categories = {u: partner_category(partner_kinds.get((v, u), ()), attribute("kind", u))
                  for u in partners}
    countries = Counter(attribute("country", u) or "unknown" for u in partners)
    membership = metrics["community"]
    partner_communities = Counter(int(membership[index[u]]) for u in partners)
    features = _structure(G, v, metrics["constraint"][index[v]], partners, categories,
                          partner_kinds, partner_communities)
    kind, reason = network_type(features)
    diagnosis = {
        "partners": len(partners),
        "portfolio": _portfolio(categories, [edge["weight"] for _, edge in ties]),
        "geography": _geography(countries, attribute("country", v), len(partners)),
        "network_type": {"type": kind, "reason": reason, "evidence": features},
        "brokerage": _brokerage(int(index[v]), metrics, partner_communities,
                                int(membership[index[v]])),
        "dynamics": _dynamics(G, ties, this_year) | {"data_until": data_until},
    }
    diagnosis["findings"] = findings(diagnosis)
    return diagnosis


def _portfolio(categories: dict, weights: list[float]) -> dict:
    """The partners by category, the portfolio's breadth and diversity, and the share of
    the strongest tie."""
    by_category = Counter(categories.values())
    total_weight = sum(weights)
    return {
        "by_category": [{"category": c, "label": PARTNER_CATEGORIES[c],
                         "partners": by_category.get(c, 0)} for c in PARTNER_CATEGORIES],
        "breadth": len(by_category),
        "diversity": blau_index(by_category.values()),
        "top_partner_share": max(weights) / total_weight if total_weight else 0.0,
    }


def _geography(countries: Counter, home: str | None, partners: int) -> dict:
    """Where the partners are: the home share, concentration (HHI) and the largest country."""
    hhi = herfindahl(countries.values())
    largest_country, largest_count = countries.most_common(1)[0] if countries else (None, 0)
    return {
        "home_country": home,
        "countries": [{"country": c, "partners": k} for c, k in countries.most_common()],
        "domestic_share": countries.get(home, 0) / partners if partners and home else None,
        "hhi": hhi,
        "largest_country": largest_country,
        "largest_country_share": largest_count / partners if partners else 0.0,
        "concentration": concentration_level(hhi) if partners else None,
    }


def _structure(G: ig.Graph, v: int, constraint: float, partners: list[int], categories: dict, partner_kinds: dict,
               partner_communities: Counter) -> dict:
    """The figures the network type is read from (its evidence)."""
    ego = G.induced_subgraph(partners)
    possible = len(partners) * (len(partners) - 1) / 2
    typed = [u for u in partners if partner_kinds.get((v, u))]
    return {
        "partners": len(partners),
        "ego_density": ego.ecount() / possible if possible else 0.0,
        "partners_linked_to_each_other": (
            sum(d > 0 for d in ego.degree()) / len(partners) if partners else 0.0),
        "constraint": _finite(constraint),
        "typed_partners": len(typed),
        "supply_chain_partners": sum(1 for u in typed if categories[u] in SUPPLY_CHAIN),
        "communities_reached": len(partner_communities),
        "largest_community_share": (max(partner_communities.values()) / len(partners)
                                    if partners else 0.0),
    }


def percentile_rank(values: np.ndarray, value: Any) -> float:
    """Share of the finite ``values`` at or below ``value``, in percent (NaN if none).

    Examples
    --------
    >>> percentile_rank(np.array([1.0, 2.0, 3.0, np.nan]), 2.0)
    66.66666666666667
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0 or not np.isfinite(value):
        return float("nan")
    return float(np.count_nonzero(finite <= value) * 100 / finite.size)


def _finite(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _brokerage(v: int, metrics: dict[str, np.ndarray], partner_communities: Counter, own_community: int) -> dict:
    has_partners = metrics["degree"] > 0
    constraint = metrics["constraint"][has_partners]
    effective = metrics["effective_size"][has_partners]
    return {
        "constraint": _finite(metrics["constraint"][v]),
        # Low constraint means more brokerage: the share of organisations more constrained.
        "less_constrained_than": _finite(
            100.0 * np.count_nonzero(constraint > metrics["constraint"][v]) / constraint.size
            if constraint.size and np.isfinite(metrics["constraint"][v]) else np.nan),
        "effective_size": _finite(metrics["effective_size"][v]),
        "effective_size_percentile": _finite(percentile_rank(
            effective, metrics["effective_size"][v])),
        "betweenness": _finite(metrics["betweenness"][v]),
        "community": own_community,
        "communities_bridged": [
            {"community": c, "partners": k}
            for c, k in sorted(partner_communities.items(), key=lambda x: (-x[1], x[0]))
            if c != own_community],
    }


def _dynamics(G: ig.Graph, ties: list, this_year: int) -> dict:
    if "first_year" not in G.es.attributes() or not ties:
        return {"years": [], "new_total": 0, "lost_total": 0}
    new: Counter[int] = Counter()
    lost: Counter[int] = Counter()
    for _, edge in ties:
        if edge["first_year"] is not None:
            new[edge["first_year"]] += 1
        if edge["last_year"] is not None and edge["last_year"] < this_year:
            lost[edge["last_year"] + 1] += 1
    years = sorted(set(new) | set(lost))
    span = range(years[0], min(max(years), this_year) + 1) if years else range(0)
    return {"years": [{"year": y, "new": new.get(y, 0), "lost": lost.get(y, 0)} for y in span],
            "new_total": sum(new.values()), "lost_total": sum(lost.values())}


def findings(diagnosis: dict) -> list[dict]:
    """Plain-language findings, each tied to the figure it rests on.

    Examples
    --------
    >>> findings({"partners": 0})
    [{'code': 'no_partners', 'text': 'You have no recorded partners yet. Record your relationships or import your projects to see your network.', 'figure': 0}]
    """
    found = []

    def add(code: str, text: str, figure: float) -> None:
        found.append({"code": code, "text": text, "figure": figure})

    partners = diagnosis["partners"]
    if partners == 0:
        add("no_partners", "You have no recorded partners yet. Record your relationships or "
            "import your projects to see your network.", 0)
        return found
    geography = diagnosis["geography"]
    share = geography["largest_country_share"]
    if geography["concentration"] == "high" and partners >= 3:
        add("country_concentration",
            f"{share:.0%} of your partners are in one country ({geography['largest_country']}): "
            "a disruption there reaches most of your network.", round(share, 3))
    if geography["domestic_share"] == 1.0 and partners >= 3:
        add("no_foreign_partners", "All your partners are in your own country; foreign "
            "partners bring markets and knowledge your home network cannot.", 1.0)
    portfolio = {c["category"]: c["partners"] for c in diagnosis["portfolio"]["by_category"]}
    if not any(portfolio[c] for c in KNOWLEDGE_CATEGORIES):
        add("no_research_partners", "You have no university or research-organisation "
            "partners; firms that cooperate with several kinds of partner innovate more.", 0)
    breadth = diagnosis["portfolio"]["breadth"]
    if breadth <= 2 and partners >= 3:
        add("narrow_portfolio", f"Your partners are of only {breadth} kind(s); a broader mix "
            "(customers, suppliers, research, public bodies) widens what you can learn.",
            breadth)
    top = diagnosis["portfolio"]["top_partner_share"]
    if top >= DOMINANT_PARTNER_SHARE and partners >= 3:
        add("dominant_partner", f"One partner carries {top:.0%} of your collaboration: "
            "losing it would cut much of your network.", round(top, 3))
    brokerage = diagnosis["brokerage"]
    percentile = brokerage["effective_size_percentile"]
    if percentile is not None and percentile >= BROKER_PERCENTILE and partners >= 3:
        rank = ("among the most open in the data" if percentile >= 99 else
                f"more open than {percentile:.0f}% of the organisations in the data")
        groups = len(brokerage["communities_bridged"])
        add("broker", f"Your network is {rank}: your partners seldom work with each other, "
            f"so you link {groups} other group{'' if groups == 1 else 's'} and hear news "
            "early.", round(percentile, 1))
    density = diagnosis["network_type"]["evidence"]["ego_density"]
    if density >= 0.5 and partners >= 3:
        add("closed_network", f"{density:.0%} of your partners work with each other: you "
            "mostly hear what they all hear. A partner outside this circle would bring new "
            "information.", round(density, 3))
    dynamics = diagnosis["dynamics"]
    until = dynamics.get("data_until")
    judged = [y for y in dynamics["years"] if until is None or y["year"] <= until]
    recent = judged[-3:]
    gained = sum(y["new"] for y in recent)
    lost = sum(y["lost"] for y in recent)
    if recent and lost > gained:
        add("shrinking", f"{lost} partnerships ended and {gained} began in "
            f"{_years(recent)}: your network is shrinking. Check which ties you want to "
            "renew.", lost - gained)
    unjudged = sum(y["lost"] for y in dynamics["years"][len(judged):])
    if unjudged:
        add("data_ends", f"The newest ties in the data began in {until}: {unjudged} of "
            "yours ended after that with their projects, and may go on in newer projects the "
            "data does not hold.", until)
    return found


def _years(years: list[dict]) -> str:
    first, last = years[0]["year"], years[-1]["year"]
    return str(first) if first == last else f"{first}-{last}"
