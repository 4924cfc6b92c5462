// Partner profile page: the "Copy the embed code" button copies the badge
// snippet from its textarea. No inline script (CSP); the button stays hidden
// without JavaScript (the textarea can still be selected by hand).
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-copy-target]");
  Array.prototype.forEach.call(buttons, function (button) {
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    var status = button.parentNode.querySelector("[data-copy-status]");
    if (!source) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      function done(message) { if (status) status.textContent = message; }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(source.value).then(
          function () { done("Copied."); },
          function () { source.select(); done("Press Ctrl+C (or Cmd+C) to copy."); }
        );
      } else {
        source.select();
        done("Press Ctrl+C (or Cmd+C) to copy.");
      }
    });
  });
})();
