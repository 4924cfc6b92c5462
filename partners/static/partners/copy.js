// Copy buttons: a button with data-copy-target="<input id>" copies that
// input's value to the clipboard and says so in the nearby [data-copy-status].
// The button stays hidden without JavaScript (the field can still be
// selected and copied by hand). No inline script (CSP).
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-copy-target]");
  Array.prototype.forEach.call(buttons, function (button) {
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) return;
    var status = button.parentNode.querySelector("[data-copy-status]");
    button.hidden = false;

    function say(text) {
      if (status) status.textContent = text;
    }

    function copiedByHand() {
      source.focus();
      source.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (error) {
        ok = false;
      }
      say(ok ? "Copied." : "Press Ctrl+C (or ⌘+C) to copy the selected key.");
    }

    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(
          function () { say("Copied."); },
          copiedByHand
        );
      } else {
        copiedByHand();
      }
    });
  });
})();
