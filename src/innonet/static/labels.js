// Labels that fit, for the Cytoscape pictures: the most important nodes first, each one
// labelled only when its label overlaps no label already shown (in the picture's own units,
// so zooming keeps them apart); every other name shows when its node is hovered.
window.innonetLabelWhatFits = function (cy, importance) {
  const shown = [];
  const overlaps = (a, b) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
  // Every label is drawn once, which measures it; then the ones that do not fit go.
  const container = cy.container();
  delete container.dataset.labelled;
  cy.nodes().addClass("labelled");
  cy.one("render", () => {
    const hidden = [];
    cy.nodes().sort((a, b) => importance(b) - importance(a)).forEach((node) => {
      const box = node.boundingBox({ includeNodes: true, includeEdges: false, includeLabels: true });
      if (shown.some((other) => overlaps(box, other))) hidden.push(node);
      else shown.push(box);
    });
    cy.collection(hidden).removeClass("labelled");
    cy.fit(undefined, 12);  // the labels shown fit inside the picture too
    container.dataset.labelled = String(shown.length);
  });
  cy.on("mouseover", "node", (evt) => evt.target.addClass("hovered"));
  cy.on("mouseout", "node", (evt) => evt.target.removeClass("hovered"));
};
// The style that goes with it: no label unless labelled or hovered.
window.innonetLabelStyle = [
  { selector: "node", style: { label: "" } },
  // A label lies on a pale card above the nodes and lines it crosses, so it stays readable.
  { selector: "node.labelled, node.hovered", style: { label: "data(label)", "z-index": 10,
    "text-background-color": "#ffffff", "text-background-opacity": 0.85, "text-background-padding": 2 } },
  { selector: "node.hovered", style: { "z-index": 20, "text-background-opacity": 1 } },
];
