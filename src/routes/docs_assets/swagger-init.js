// Starts Swagger UI on /api/docs. Kept out of the HTML so the Content-Security-Policy can forbid inline scripts.
// A successful "POST /api/auth/login" from the page authorizes the page with its access token, so the next
// "Try it out" call is authenticated; "Authorize" also accepts a pasted token.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  var ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    displayRequestDuration: true,
    tryItOutEnabled: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    responseInterceptor: function (response) {
      var body = response.body;
      if (response.ok && /\/api\/auth\/login$/.test(response.url) && body && body.access_token) {
        ui.preauthorizeApiKey("bearerAuth", body.access_token);
      }
      return response;
    }
  });
  window.ui = ui;
});
