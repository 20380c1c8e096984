// The network explorer: draws /api/v1/network/graph (positions computed on the server) and
// redraws when the filters change. A community node drills down into its members.
(function () {
  const box = document.getElementById("explorer");
  const form = document.getElementById("explorer-filters");
  const status = document.getElementById("explorer-status");
  if (!box || !form || typeof cytoscape === "undefined") return;
  const communityColour = (c) => "hsl(" + ((c || 0) * 47 % 360) + ", 60%, 45%)";
  let cy = null;

  function query() {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form).entries()) if (value !== "") params.set(key, value);
    return params;
  }

  function draw(graph) {
    const maxWeight = Math.max(1, ...graph.links.map((l) => l.weight));
    const biggest = Math.max(1, ...graph.nodes.map((n) => n.organisations || n.degree || 1));
    const elements = [
      ...graph.nodes.map((n) => ({ data: { ...n, colour: communityColour(n.community),
        size: 8 + 40 * Math.sqrt((n.organisations || n.degree || 1) / biggest) },
        position: { x: n.x, y: n.y } })),
      ...graph.links.map((l, i) => ({ data: { id: "l" + i, ...l, width: 0.5 + 4 * l.weight / maxWeight } })),
    ];
    if (cy) cy.destroy();
    cy = cytoscape({
      container: box, elements, layout: { name: "preset" }, wheelSensitivity: 0.3,
      textureOnViewport: true, hideEdgesOnViewport: graph.links.length > 3000,
      style: [
        { selector: "node", style: { "background-color": "data(colour)", width: "data(size)", height: "data(size)",
          label: "data(label)", "font-size": graph.view === "communities" ? 16 : 10,
          // Few communities: always labelled; many organisations: names appear as you zoom in.
          "min-zoomed-font-size": graph.view === "communities" ? 0 : 12,
          "text-wrap": "ellipsis", "text-max-width": 160 } },
        { selector: "edge", style: { width: "data(width)", "line-color": "#b6c0ca", opacity: 0.6 } },
      ],
    });
    cy.fit(undefined, 20);
    cy.on("tap", "node", (evt) => {
      const node = evt.target.data();
      if (graph.view === "communities") {
        document.getElementById("f-community").value = node.community;
        document.getElementById("f-view").value = "organisations";
        load();
      } else {
        window.location.href = "/orgs/" + encodeURIComponent(node.id) + "/diagnosis";
      }
    });
    box.dataset.view = graph.view;
    box.dataset.nodeCount = String(graph.nodes.length);
    status.textContent = graph.view === "communities"
      ? graph.matched.toLocaleString() + " organisations match, drawn as " + graph.nodes.length + " communities"
      : graph.nodes.length.toLocaleString() + " of " + graph.matched.toLocaleString() + " matching organisations drawn (the most central first)";
    window.innonetExplorer = cy;
  }

  function load() {
    status.textContent = "Loading…";
    fetch(form.dataset.graphUrl + "?" + query().toString())
      .then((r) => r.ok ? r.json() : r.json().then((e) => Promise.reject(e)))
      .then(draw)
      .catch((e) => { status.textContent = (e && e.detail) || "Could not load the network."; });
  }

  form.addEventListener("submit", (evt) => {
    evt.preventDefault();
    document.getElementById("f-community").value = "";
    load();
  });
  load();
})();
