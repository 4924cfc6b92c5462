/* Progressive enhancements for Partner Academy pages. Everything works without it.
 * Loaded as a file (CSP: script-src 'self'); never inline. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // Shared with the pages' own scripts, which load after this one (all deferred).
  window.Academy = window.Academy || {};
  window.Academy.ready = ready;

  ready(function () {
    // Move focus to a form's error summary so keyboard and screen-reader users hear it first.
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();

    // Live preview of the name printed on certificates (profile page).
    var source = document.querySelector("[data-preview-source]");
    var target = document.querySelector("[data-preview-target]");
    if (source && target) {
      var fallback = target.textContent;
      source.addEventListener("input", function () {
        var value = source.value.replace(/\s+/g, " ").trim();
        target.textContent = value || fallback;
      });
    }

    // Sign-up: propose the browser's time zone (the server keeps only a zone it knows).
    var zoneField = document.querySelector("[data-browser-time-zone]");
    if (zoneField && !zoneField.value && window.Intl && Intl.DateTimeFormat) {
      try {
        zoneField.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
      } catch (error) {
        zoneField.value = "";
      }
    }
  });
})();
