"""The network report as a standalone HTML file or Markdown, and its network picture."""

from collections.abc import Callable
from importlib.resources import files

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from innonet import analytics
from innonet.collaborations import service as collaborations
from innonet.network import service
from innonet.network.schemas import Diagnosis, Drawing, GraphLink, GraphNode, NetworkReport
from innonet.organisations import service as organisations
from innonet.organisations.models import KINDS
from innonet.roles import Viewer

PICTURE_SIZE = 1000
PADDING = 160
# Labels in units of the drawing, which a page shows at about a third of its size: 36 is
# read as 12 pixels. A character is about 0.6 of the font size wide.
LABEL_FONT = 36
LABEL_CHARACTER = 0.6 * LABEL_FONT
LABELS = 8  # the largest nodes are named, those whose label has room
# The colours of organisation kinds in static/app.css.
KIND_COLOURS = {"company": "#0b5cad", "higher_education": "#8250df",
                "research_organisation": "#1a7f37", "public_body": "#b35900", "other": "#6e7781"}


def picture(view: Drawing) -> Markup:
    """An SVG drawing of a graph view (nodes with x/y from :func:`service.graph_view`).

    Communities are coloured by community; an ego network (``view == "ego"``) by kind.
    """
    if not view.nodes:
        return Markup("")

    def size(node: GraphNode) -> int:
        return node.organisations or node.degree or 1

    # Room around the drawing for labels of nodes at its edge.
    position = {n.id: (PADDING + n.x, PADDING + n.y) for n in view.nodes}
    heaviest = max((link.weight for link in view.links), default=1) or 1
    biggest = max(size(n) for n in view.nodes)
    parts = [f'<svg viewBox="0 0 {PICTURE_SIZE + 2 * PADDING} {PICTURE_SIZE + 2 * PADDING}" '
             'role="img" '
             f'class="picture" aria-label="Network picture: {len(view.nodes)} '
             f'{"communities" if view.view == "communities" else "organisations"}">']
    for link in view.links:
        (x1, y1), (x2, y2) = position[link.source], position[link.target]
        width = 0.5 + 5 * link.weight / heaviest
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                     f'stroke="#9aa5b1" stroke-opacity="0.6" stroke-width="{width:.2f}"/>')
    radius = {n.id: 6 + 30 * (size(n) / biggest) ** 0.5 for n in view.nodes}
    for node in view.nodes:
        x, y = position[node.id]
        colour = (KIND_COLOURS.get(node.kind or "", "#6e7781") if view.view == "ego"
                  else f"hsl({(node.community or 0) * 47 % 360}, 60%, 45%)")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius[node.id]:.1f}" fill="{colour}" '
                     f'fill-opacity="0.85"><title>{escape(node.label or "")}</title></circle>')
    for node_id, (x, y, text) in _labels(view.nodes, position, radius, size).items():
        # A white halo keeps the label readable where it crosses nodes and links.
        parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{LABEL_FONT}" text-anchor="middle" '
                     f'stroke="#fff" stroke-width="8" paint-order="stroke" '
                     f'data-node="{escape(node_id)}">{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _labels(nodes: list[GraphNode], position: dict[str, tuple[float, float]], radius: dict[str, float],
            size: Callable[[GraphNode], int]) -> dict[str, tuple[float, float, str]]:
    """Node id -> where its label goes (centred under it) and its text: the largest nodes
    first, each only where its label overlaps no label placed before and stays inside the
    drawing, so that every label shown can be read."""
    edge = PICTURE_SIZE + 2 * PADDING
    placed: list[tuple[float, float, float, float]] = []
    out = {}
    for node in sorted(nodes, key=lambda n: -size(n))[:LABELS]:
        text = node.label or ""
        text = text if len(text) <= 30 else text[:29].rstrip() + "…"
        x, y = position[node.id]
        half = len(text) * LABEL_CHARACTER / 2
        box = (x - half, y + radius[node.id] + 4, x + half, y + radius[node.id] + 8 + LABEL_FONT)
        inside = box[0] >= 0 and box[2] <= edge and box[3] <= edge
        if text and inside and all(box[2] <= b[0] or b[2] <= box[0] or box[3] <= b[1] or b[3] <= box[1]
                                   for b in placed):
            placed.append(box)
            out[node.id] = (x, box[3] - 8, text)
    return out


def ego_view(session: Session, viewer: Viewer, *, external_id: str) -> Drawing:
    """The organisation's ego network (as its page draws it), laid out for :func:`picture`."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    ego = collaborations.ego_network(session, viewer, organisation_id=organisation.id)
    index = {node.id: i for i, node in enumerate(ego.nodes)}
    # A link from a relationship alone has no shared project; draw it as one.
    weights = [max(edge.weight, 1) for edge in ego.edges]
    G = analytics.collaboration_graph(
        len(index), [index[e.source] for e in ego.edges], [index[e.target] for e in ego.edges], weight=weights)
    nodes = [GraphNode(id=node.id, label=node.label, kind=node.kind, country=node.country,
                       degree=4 if node.is_centre else 1, x=float(x), y=float(y))
             for node, (x, y) in zip(ego.nodes, analytics.layout(G))]
    links = [GraphLink(source=edge.source, target=edge.target, weight=w) for edge, w in zip(ego.edges, weights)]
    return Drawing(view="ego", nodes=nodes, links=links)


def standalone_report(session: Session, viewer: Viewer, *, organisation: str | None = None,
                      since: int | None = None, until: int | None = None) -> str:
    """The network report (or one organisation's diagnosis) as one self-contained page."""
    # Imported here: the web layer (FastAPI) is not loaded by the commands that print text.
    from innonet.web import templates

    context = {"css": Markup(files("innonet").joinpath("static/app.css").read_text()),
               "standalone": True, "KINDS": KINDS}
    if organisation:
        context["d"] = service.diagnosis(session, viewer, external_id=organisation,
                                         since=since, until=until)
        context["picture"] = picture(ego_view(session, viewer, external_id=organisation))
        return templates.get_template("diagnosis_standalone.html").render(context)
    context["report"] = service.network_report(session, viewer, since=since, until=until)
    context["picture"] = picture(service.graph_view(session, viewer, view="communities",
                                                    limit=40))
    return templates.get_template("report_standalone.html").render(context)


def markdown_report(report: NetworkReport) -> str:
    """The network report as Markdown."""
    size, comps, comms = report.size, report.components, report.communities
    lines = ["# Network report", "",
             f"- Organisations: {size['organisations']:,}; links: {size['links']:,}; "
             f"density: {size['density']:.5f}; isolated: {size['isolated']:,}",
             f"- Components: {comps['count']:,}; the largest holds "
             f"{comps['largest_share']:.1%} of organisations",
             f"- Communities: {comms['count']:,}; modularity {comms['modularity']:.3f}",
             f"- Core: {report.core_periphery['core_size']:,} organisations in the "
             f"{report.core_periphery['max_core']}-core", "",
             "## Hubs (most partners)", "", "| Organisation | Country | Partners | PageRank |",
             "|---|---|---:|---:|"]
    lines += [f"| {h.get('name') or h['external_id']} | {h.get('country') or ''} | "
              f"{h['degree']} | {h['pagerank']:.5f} |" for h in report.hubs]
    lines += ["", "## Brokers (betweenness)", "",
              "| Organisation | Country | Betweenness | Effective size |", "|---|---|---:|---:|"]
    lines += [f"| {b.get('name') or b['external_id']} | {b.get('country') or ''} | "
              f"{b['betweenness']:.5f} | {(b['effective_size'] or 0):.1f} |"
              for b in report.brokers]
    lines += ["", "## Largest communities", "", "| Community | Organisations | Led by |",
              "|---:|---:|---|"]
    lines += [f"| {c['community']} | {c['organisations']:,} | "
              f"{(c['leading_members'][0].get('name') if c['leading_members'] else '')} |"
              for c in comms["largest"]]
    return "\n".join(lines) + "\n"


def markdown_diagnosis(d: Diagnosis) -> str:
    """One organisation's diagnosis as Markdown."""
    org, geo = d.organisation, d.geography
    lines = [f"# Network diagnosis: {org['name']}", "",
             f"- Partners: {d.partners:,}; network type: "
             f"{d.network_type['type'] or 'not classified'} ({d.network_type['reason']})",
             f"- Portfolio breadth: {d.portfolio['breadth']} kinds; diversity (Blau) "
             f"{d.portfolio['diversity']:.2f}",
             f"- Countries: {len(geo['countries'])}; largest {geo['largest_country']} "
             f"({geo['largest_country_share']:.0%}); HHI {geo['hhi']:.2f} "
             f"({geo['concentration']} concentration)", "", "## Findings", ""]
    lines += [f"- {f.text}" for f in d.findings] or ["- No findings."]
    return "\n".join(lines) + "\n"
