/* API reference page: Swagger UI (from npm, served locally) reading the API's /openapi.json. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    window.SwaggerUIBundle({
      url: window.Marquee.apiUrl("/openapi.json"),
      dom_id: "#swagger-ui",
      deepLinking: false,
      tryItOutEnabled: false,
    });
  });
})();
