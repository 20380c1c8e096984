// The network explorer: draws /api/v1/network/graph (positions computed on the server) and
// redraws when the filters change. A community node drills down into its members, listed
// below the drawing. The filters are kept in the page's address (Back returns to the last).
(function () {
  const box = document.getElementById("explorer");
  const form = document.getElementById("explorer-filters");
  const status = document.getElementById("explorer-status");
  const members = document.getElementById("community-members");
  const memberList = document.getElementById("member-list");
  if (!box || !form || typeof cytoscape === "undefined") return;
  const communityColour = (c) => "hsl(" + ((c || 0) * 47 % 360) + ", 60%, 45%)";
  let cy = null;

  function query() {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form).entries()) if (value !== "") params.set(key, value);
    return params;
  }

  function fillForm(params) {
    for (const field of form.elements) {
      if (field.name) field.value = params.get(field.name) || (field.name === "view" ? "auto" : "");
    }
  }

  function listMembers(graph) {
    const community = document.getElementById("f-community").value;
    members.hidden = !(community !== "" && graph.view === "organisations");
    if (members.hidden) return;
    memberList.replaceChildren(...[...graph.nodes].sort((a, b) => b.pagerank - a.pagerank).map((n) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = "/orgs/" + encodeURIComponent(n.id) + "/diagnosis";
      link.textContent = n.label || n.id;
      item.append(link, " · " + n.degree.toLocaleString() + (n.degree === 1 ? " partner" : " partners"));
      return item;
    }));
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
      container: box, elements, layout: { name: "preset" },
      textureOnViewport: true, hideEdgesOnViewport: graph.links.length > 3000,
      style: [
        { selector: "node", style: { "background-color": "data(colour)", width: "data(size)", height: "data(size)",
          "font-size": graph.view === "communities" ? 16 : 10,
          "text-wrap": "ellipsis", "text-max-width": 160 } },
        ...window.innonetLabelStyle,
        { selector: "edge", style: { width: "data(width)", "line-color": "#b6c0ca", opacity: 0.6 } },
      ],
    });
    cy.fit(undefined, 20);
    // The largest communities, or the most central organisations, are named first.
    window.innonetLabelWhatFits(cy, (node) => node.data("organisations") || node.data("pagerank") || 0);
    cy.on("tap", "node", (evt) => {
      const node = evt.target.data();
      if (graph.view === "communities") {
        document.getElementById("f-community").value = node.community;
        document.getElementById("f-view").value = "organisations";
        load(true);
      } else {
        window.location.href = "/orgs/" + encodeURIComponent(node.id) + "/diagnosis";
      }
    });
    box.dataset.view = graph.view;
    box.dataset.nodeCount = String(graph.nodes.length);
    status.textContent = graph.view === "communities"
      ? graph.matched.toLocaleString() + " organisations match, in " + graph.communities.toLocaleString() +
        " communities of two or more" + (graph.nodes.length < graph.communities ? " (the " + graph.nodes.length + " largest drawn)" : "")
      : graph.nodes.length.toLocaleString() + " of " + graph.matched.toLocaleString() + " matching organisations drawn (the most central first)";
    listMembers(graph);
    window.innonetExplorer = cy;
  }

  function load(remember) {
    status.textContent = "Loading…";
    if (remember) history.pushState(null, "", "?" + query().toString());
    fetch(form.dataset.graphUrl + "?" + query().toString())
      .then((r) => r.ok ? r.json() : r.json().then((e) => Promise.reject(e)))
      .then(draw)
      .catch((e) => { status.textContent = (e && e.detail) || "Could not load the network."; });
  }

  form.addEventListener("submit", (evt) => {
    evt.preventDefault();
    document.getElementById("f-community").value = "";
    load(true);
  });
  document.getElementById("all-communities").addEventListener("click", () => {
    document.getElementById("f-community").value = "";
    document.getElementById("f-view").value = "communities";
    load(true);
  });
  window.addEventListener("popstate", () => {
    fillForm(new URLSearchParams(window.location.search));
    load(false);
  });
  load(false);
})();
