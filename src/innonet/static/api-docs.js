// Interactive API reference, served from the vendored Swagger UI (no network needed).
// Without deep links: a link inside each operation's toggle button is a control within a control,
// which screen readers cannot reach.
window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: false });
