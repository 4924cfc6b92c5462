// Partner downloads page: poll the bundle's JSON status while it is being
// prepared and update the progress bar; reload once it is ready (or failed)
// so the server renders the download link. No inline script (CSP).
(function () {
  "use strict";
  var section = document.getElementById("bundle");
  if (!section) return;
  var status = section.getAttribute("data-status");
  if (status !== "queued" && status !== "running") return;
  var url = section.getAttribute("data-status-url");
  var bar = section.querySelector("[data-bundle-progress]");
  var label = section.querySelector("[data-bundle-label]");
  var tries = 0;

  function poll() {
    tries += 1;
    if (tries > 600) return; // give up after ~30 minutes; the Refresh link remains
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        if (data.status === "ready" || data.status === "failed") {
          window.location.reload();
          return;
        }
        if (bar) {
          bar.max = Math.max(data.total, 1);
          bar.value = data.done;
          bar.textContent = data.done + " / " + data.total;
        }
        if (label) {
          label.textContent = "Preparing: " + data.done + " of " + data.total + " certificates.";
        }
        window.setTimeout(poll, 3000);
      })
      .catch(function () { window.setTimeout(poll, 10000); });
  }
  window.setTimeout(poll, 2000);
})();
