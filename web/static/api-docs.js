/* The API documentation page: Swagger UI (served by the app from node_modules) on our
 * OpenAPI document. "Try it out" calls go with the user's session; POSTs carry the page's CSRF
 * token, as the API requires for session-authenticated changes. */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = meta ? meta.getAttribute("content") : "";
  root.textContent = "";
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    validatorUrl: null, // never call an online validator: the site may be on an isolated network
    tryItOutEnabled: false,
    defaultModelsExpandDepth: 0,
    docExpansion: "list",
    requestInterceptor: function (req) {
      var method = (req.method || "GET").toUpperCase();
      if (method !== "GET" && method !== "HEAD" && csrfToken) {
        req.headers["X-CSRFToken"] = csrfToken;
      }
      req.credentials = "same-origin";
      return req;
    },
  });
})();
