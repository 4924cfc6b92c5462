/* Self-check questions: immediate feedback when an option is picked.
 * Practice only; without JavaScript the "Show the answer" disclosure works. */
(function () {
  "use strict";

  // js/academy.js (loaded first on every page) provides ready().
  var ready = window.Academy.ready;

  // Reaching the end of a lesson (after scrolling to it) marks it complete through
  // the API; the "Mark complete" button stays the way to do it without JavaScript.
  function completeOnEnd() {
    var sentinel = document.querySelector("[data-complete-on-end]");
    var form = document.querySelector("[data-complete-form]");
    if (!sentinel || !form || !("IntersectionObserver" in window)) return;
    var scrolled = false;
    var done = false;
    window.addEventListener("scroll", function () { scrolled = true; }, { passive: true, once: true });
    var observer = new IntersectionObserver(function (entries) {
      if (done || !scrolled || !entries.some(function (e) { return e.isIntersecting; })) return;
      done = true;
      observer.disconnect();
      var token = form.querySelector("input[name=csrfmiddlewaretoken]");
      fetch(sentinel.getAttribute("data-complete-on-end"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "", "Accept": "application/json" }
      }).then(function (response) {
        if (!response.ok) { done = false; return; }
        form.hidden = true;
        var message = document.querySelector("[data-completed-message]");
        if (message) message.hidden = false;
      }).catch(function () { done = false; });
    });
    observer.observe(sentinel);
  }

  ready(function () {
    completeOnEnd();
    document.querySelectorAll("[data-self-check]").forEach(function (form) {
      var status = form.querySelector("[data-status]");
      form.addEventListener("submit", function (event) { event.preventDefault(); });
      form.addEventListener("change", function (event) {
        var input = event.target;
        if (!input.matches("input[type=radio]")) return;
        form.querySelectorAll("[data-feedback]").forEach(function (el) { el.hidden = true; });
        var feedback = input.closest("li").querySelector("[data-feedback]");
        if (feedback) feedback.hidden = false;
        var correct = input.getAttribute("data-correct") === "true";
        form.classList.toggle("is-correct", correct);
        form.classList.toggle("is-wrong", !correct);
        if (status) status.textContent = correct ? "Correct." : "Not quite, try again.";
      });
    });
  });
})();
