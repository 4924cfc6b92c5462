/* Recovery codes page: a Print button (shown only when scripts run). Loaded as a file (CSP). */
(function () {
  "use strict";

  // js/academy.js (loaded first on every page) provides ready().
  window.Academy.ready(function () {
    var button = document.querySelector("[data-print]");
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
