// Interactive API reference, served from the vendored Swagger UI (no network needed).
window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
