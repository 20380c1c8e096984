"""JSON shapes of the network diagnosis, report and graph (docs/methods.md explains each)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Freshness(BaseModel):
    as_of: datetime = Field(description="When the analysis shown was computed.")
    up_to_date: bool = Field(description="False while a newer analysis, for data changed since "
                                         "as_of, is being computed.")
    private_relationships: int = Field(description=(
        "Relationships that are not public which this analysis includes (those the viewer may "
        "see, or a cluster manager may count). They count in the links and in the measures of "
        "each organisation's own partners; network-wide measures (PageRank, eigenvector, "
        "betweenness, closeness, communities, cores) come from public data and public "
        "relationships."))


class OrganisationMetrics(BaseModel):
    external_id: str
    name: str | None
    degree: int
    strength: float
    pagerank: float
    eigenvector: float
    betweenness: float
    closeness: float
    clustering: float
    constraint: float | None
    effective_size: float | None
    efficiency: float | None
    hierarchy: float | None
    core_number: int
    community: int


class Finding(BaseModel):
    code: str
    text: str
    figure: float | int


class Diagnosis(Freshness):
    organisation: dict[str, Any]
    metrics: OrganisationMetrics
    partners: int
    portfolio: dict[str, Any]
    geography: dict[str, Any]
    network_type: dict[str, Any]
    brokerage: dict[str, Any]
    dynamics: dict[str, Any]
    findings: list[Finding]


class NetworkReport(Freshness):
    since: int | None
    until: int | None
    size: dict[str, Any]
    components: dict[str, Any]
    degree_distribution: list[dict[str, int]]
    communities: dict[str, Any]
    hubs: list[dict[str, Any]]
    brokers: list[dict[str, Any]]
    bridges: dict[str, Any]
    core_periphery: dict[str, Any]
    country_links: dict[str, Any]
    kind_links: dict[str, Any]


class GraphNode(BaseModel):
    id: str
    label: str | None
    x: float
    y: float
    kind: str | None = None
    country: str | None = None
    is_sme: bool | None = None
    community: int | None = None
    organisations: int | None = None
    degree: int | None = None
    pagerank: float | None = None


class GraphLink(BaseModel):
    source: str
    target: str
    weight: float


class Drawing(BaseModel):
    """Nodes placed on a plane and the links between them, ready to draw."""

    view: str
    nodes: list[GraphNode]
    links: list[GraphLink]


class GraphView(Freshness, Drawing):
    matched: int
    total: int
    # The communities view: how many communities of two or more organisations the matches
    # are in (at most 100 of them are drawn, the largest).
    communities: int | None = None
