// Behaviour that would otherwise need inline script, which the Content-Security-Policy forbids.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

// A table wider than the screen scrolls sideways in its frame: the frame takes the keyboard
// focus (arrow keys scroll it) and is named after the table, for keyboard and screen-reader users.
function reachableTables(root) {
  root.querySelectorAll(".table-wrap").forEach((frame) => {
    if (frame.scrollWidth > frame.clientWidth) {
      const table = frame.querySelector("table");
      const section = frame.closest("section");
      const heading = section && section.querySelector("h2, h3");
      const caption = table && table.caption;
      frame.tabIndex = 0;
      frame.setAttribute("role", "region");
      frame.setAttribute("aria-label", ((caption || heading) ? (caption || heading).textContent.trim() : "Table") + " (scrolls sideways)");
    } else if (frame.getAttribute("role") === "region") {
      frame.removeAttribute("tabindex");
      frame.removeAttribute("role");
      frame.removeAttribute("aria-label");
    }
  });
}
document.addEventListener("DOMContentLoaded", () => reachableTables(document));
document.addEventListener("htmx:afterSwap", (event) => reachableTables(event.target));
window.addEventListener("resize", () => reachableTables(document));
