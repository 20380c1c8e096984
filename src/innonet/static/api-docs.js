// Interactive API reference, served from the vendored Swagger UI (no network needed).
// Without deep links: a link inside each operation's toggle button is a control within a control,
// which screen readers cannot reach.
// The token given to Authorize stays for the next visit of this browser tab's site.
window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: false,
                              persistAuthorization: true });
