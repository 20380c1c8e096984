// Draws an organisation's ego network with Cytoscape; a click (or Enter) on a node opens it.
(function () {
  const box = document.getElementById("ego-network");
  if (!box || typeof cytoscape === "undefined") return;
  const colours = getComputedStyle(document.documentElement);
  const kindColour = (kind) => colours.getPropertyValue("--" + kind).trim() || "#6e7781";
  fetch(box.dataset.networkUrl).then((r) => r.json()).then((graph) => {
    const maxWeight = Math.max(1, ...graph.edges.map((e) => e.weight));
    const cy = cytoscape({
      container: box,
      elements: [
        ...graph.nodes.map((n) => ({ data: { ...n, colour: kindColour(n.kind) } })),
        ...graph.edges.map((e) => ({ data: { id: e.source + "-" + e.target, ...e,
          width: 1 + 5 * (e.weight / maxWeight), typed: e.relationship_kinds.length > 0 } })),
      ],
      style: [
        { selector: "node", style: { "background-color": "data(colour)",
          "font-size": 10, "text-wrap": "ellipsis", "text-max-width": 110, width: 14, height: 14, color: "#1b1f24" } },
        ...window.innonetLabelStyle,
        { selector: "node[?is_centre]", style: { width: 26, height: 26, "font-size": 12, "font-weight": "bold",
          "border-width": 3, "border-color": "#1b1f24" } },
        { selector: "edge", style: { width: "data(width)", "line-color": "#b6c0ca", opacity: 0.7 } },
        { selector: "edge[?typed]", style: { "line-color": "#b35900", "line-style": "dashed", opacity: 1 } },
      ],
      layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: 9000, idealEdgeLength: 80 },
    });
    // The organisation first, then its strongest ties.
    const tie = (node) => node.data("is_centre") ? Infinity
      : Math.max(0, ...node.connectedEdges().map((e) => e.data("weight")));
    window.innonetLabelWhatFits(cy, tie);
    cy.on("tap", "node", (evt) => {
      if (!evt.target.data("is_centre")) window.location.href = "/orgs/" + encodeURIComponent(evt.target.id());
    });
    box.dataset.nodeCount = String(cy.nodes().length);
    window.innonetNetwork = cy;
  });
})();
