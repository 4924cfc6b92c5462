/* The exam attempt page: save each answer the moment it is given, keep a
 * local queue while offline, show the server's countdown, navigator state,
 * flags, and confirm before submitting.
 *
 * Loaded as a file (CSP: script-src 'self'); its data comes from the
 * json_script block "attempt-config". The server decides the deadline; the
 * countdown here is a display only. The queue lives in localStorage, keyed by
 * attempt, one entry per question (latest change wins), so a reload or a lost
 * connection never loses an answer given on this device.
 *
 * Rest breaks: during a break the page has no questions, only the break's
 * countdown; the queue is left as it is (never sent, never dropped) and the
 * page reloads when the break's time is up. A save answered 409
 * `attempt_paused` (a break started in another tab) keeps its answer queued
 * and reloads the page, which shows the break; after the break the queue is
 * sent again. */
(function () {
  "use strict";

  // The break's countdown (display only: the server ends the break at its
  // planned end); at zero the page reloads and shows the questions again.
  function breakCountdown(config) {
    var node = document.getElementById("break-countdown");
    var status = document.getElementById("break-status");
    var ends = Date.parse(config.breakEndsAt);
    var offset = Date.parse(config.serverTime) - Date.now();
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    function tick() {
      var left = Math.max(0, Math.floor((ends - (Date.now() + offset)) / 1000));
      if (node) node.textContent = Math.floor(left / 60) + ":" + pad(left % 60);
      if (left === 60 && status) status.textContent = "One minute of your break left.";
      if (left <= 0) {
        window.clearInterval(timer);
        if (status) status.textContent = "Your break is over.";
        window.setTimeout(function () { window.location.assign(config.pageUrl); }, 1000);
      }
    }
    var timer = window.setInterval(tick, 1000);
    tick();
  }

  // js/academy.js (loaded first on every page) provides ready().
  window.Academy.ready(function () {
    var configNode = document.getElementById("attempt-config");
    if (!configNode) return;
    var config = JSON.parse(configNode.textContent);
    if (config.onBreak) { breakCountdown(config); return; }
    var form = document.getElementById("attempt-form");
    if (!form) return;
    var csrfInput = form.querySelector("input[name=csrfmiddlewaretoken]");
    var csrf = csrfInput ? csrfInput.value : "";
    var storeKey = "academy.exam-attempt." + config.attemptId + ".pending";
    var offlineBanner = document.getElementById("exam-offline");
    var errorBox = document.getElementById("exam-error");
    var statusLine = document.getElementById("exam-save-status");
    var countdown = document.getElementById("exam-countdown");
    var timerAlert = document.getElementById("exam-timer-alert");
    var fieldsets = Array.prototype.slice.call(form.querySelectorAll("fieldset[data-item]"));
    var pending = loadPending();
    var sending = false;
    var closed = false;
    var paused = false; // a break started elsewhere: keep queueing, send nothing
    var submitting = false;
    var retryTimer = null;

    // --- local queue ------------------------------------------------------

    function loadPending() {
      try {
        var value = JSON.parse(window.localStorage.getItem(storeKey) || "{}");
        return value && typeof value === "object" ? value : {};
      } catch (e) {
        return {};
      }
    }

    function savePending() {
      try {
        if (Object.keys(pending).length) window.localStorage.setItem(storeKey, JSON.stringify(pending));
        else window.localStorage.removeItem(storeKey);
      } catch (e) {
        /* storage full or disabled: the in-memory queue still works */
      }
    }

    function enqueue(itemId, change) {
      var entry = pending[itemId] || { rev: 0 };
      Object.keys(change).forEach(function (key) { entry[key] = change[key]; });
      entry.rev += 1;
      pending[itemId] = entry;
      savePending();
      updateStatus();
      flush();
    }

    function pendingCount() { return Object.keys(pending).length; }

    // --- form state -------------------------------------------------------

    function fieldsetFor(itemId) { return form.querySelector('fieldset[data-item="' + itemId + '"]'); }

    function selectionOf(fieldset) {
      return Array.prototype.map.call(fieldset.querySelectorAll("input:checked"), function (input) {
        return parseInt(input.value, 10);
      });
    }

    function isFlagged(fieldset) {
      var button = fieldset.querySelector("[data-flag]");
      return !!button && button.getAttribute("aria-pressed") === "true";
    }

    function setFlag(fieldset, flagged) {
      var button = fieldset.querySelector("[data-flag]");
      if (button) {
        button.setAttribute("aria-pressed", flagged ? "true" : "false");
        button.textContent = flagged ? "Flagged for review" : "Flag for review";
      }
      fieldset.classList.toggle("is-flagged", flagged);
    }

    function applyEntry(fieldset, entry) {
      if (entry.choice_ids) {
        Array.prototype.forEach.call(fieldset.querySelectorAll("input"), function (input) {
          input.checked = entry.choice_ids.indexOf(parseInt(input.value, 10)) !== -1;
        });
      }
      if (typeof entry.flagged === "boolean") setFlag(fieldset, entry.flagged);
    }

    function refreshNav(fieldset) {
      var itemId = fieldset.getAttribute("data-item");
      var link = document.querySelector('[data-nav="' + itemId + '"]');
      if (!link) return;
      var answered = selectionOf(fieldset).length > 0;
      var flagged = isFlagged(fieldset);
      link.classList.toggle("is-answered", answered);
      link.classList.toggle("is-flagged", flagged);
      var state = link.querySelector("[data-nav-state]");
      if (state) state.textContent = (answered ? ", answered" : ", not answered") + (flagged ? ", flagged" : "");
    }

    function answeredCount() {
      return fieldsets.filter(function (fs) { return selectionOf(fs).length > 0; }).length;
    }

    function flaggedCount() { return fieldsets.filter(isFlagged).length; }

    function updateStatus(message) {
      if (!statusLine) return;
      var text = answeredCount() + " of " + fieldsets.length + " answered";
      var waiting = pendingCount();
      if (message) text += ". " + message;
      else if (waiting) text += ". " + waiting + " change" + (waiting === 1 ? "" : "s") + " waiting to be saved.";
      else text += ". All answers saved.";
      statusLine.textContent = text;
    }

    function showOffline(offline) { if (offlineBanner) offlineBanner.hidden = !offline; }

    function showError(message) {
      if (!errorBox) return;
      errorBox.textContent = message || "";
      errorBox.hidden = !message;
    }

    // --- sending ----------------------------------------------------------

    function retryLater(ms) {
      if (retryTimer) return;
      retryTimer = window.setTimeout(function () { retryTimer = null; flush(); }, ms || 3000);
    }

    // 503 (the server is full) and 429 (too many requests) mean "not now",
    // not "no": wait as long as Retry-After says (seconds or a date; 3 s when
    // absent, at most a minute), plus up to half again at random so a whole
    // room that was turned away does not come back in the same second.
    function retryAfterMs(response) {
      var value = (response.headers.get("Retry-After") || "").trim();
      var seconds = /^\d+$/.test(value) ? parseInt(value, 10) : (Date.parse(value) - Date.now()) / 1000;
      if (!(seconds >= 0)) seconds = 3;
      seconds = Math.max(1, Math.min(seconds, 60));
      return Math.round(seconds * 1000 * (1 + Math.random() * 0.5));
    }

    function waitingText() {
      var waiting = pendingCount();
      return waiting + " change" + (waiting === 1 ? "" : "s") + " waiting to be saved";
    }

    function flush() {
      if (sending || closed || paused) return;
      var ids = Object.keys(pending);
      if (!ids.length) { updateStatus(); return; }
      if (navigator.onLine === false) { showOffline(true); updateStatus(); return; }
      sending = true;
      var itemId = ids[0];
      var entry = pending[itemId];
      var rev = entry.rev;
      var body = {};
      if (entry.choice_ids) body.choice_ids = entry.choice_ids;
      if (typeof entry.flagged === "boolean") body.flagged = entry.flagged;
      fetch(config.itemUrl + itemId, {
        method: "PUT",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(body),
      }).then(function (response) {
        sending = false;
        showOffline(false);
        if (response.ok || response.status === 404 || response.status === 422) {
          if (pending[itemId] && pending[itemId].rev === rev) delete pending[itemId];
          savePending();
          var fieldset = fieldsetFor(itemId);
          if (fieldset) fieldset.classList.toggle("has-error", !response.ok);
          if (!response.ok) showError("One answer could not be saved: please choose again.");
          updateStatus();
          flush();
        } else if (response.status === 409) {
          paused = true; // nothing is sent until we know why
          response.json().catch(function () { return {}; }).then(function (body) {
            if (body && body.code === "attempt_paused") {
              // A break is running: keep every queued answer (this one too),
              // show the break; they are sent again after it.
              savePending();
              window.location.assign(config.pageUrl);
              return;
            }
            // Submitted elsewhere or past the deadline: nothing more can be saved.
            closed = true;
            pending = {};
            savePending();
            window.location.assign(config.resultUrl);
          });
        } else if (response.status === 401 || response.status === 403) {
          showError("Your session has ended. Sign in again in another tab; your answers are kept here.");
          retryLater(10000);
        } else if (response.status === 503 || response.status === 429) {
          var wait = retryAfterMs(response);
          updateStatus("The server is busy: " + waitingText() + ", trying again in " + Math.ceil(wait / 1000) + " s.");
          retryLater(wait);
        } else {
          // Another server error: keep the answer, show it is not saved yet, try again.
          updateStatus("Saving… " + waitingText() + ".");
          retryLater(3000);
        }
      }).catch(function () {
        sending = false;
        showOffline(true);
        updateStatus();
        retryLater(3000);
      });
    }

    // --- events -----------------------------------------------------------

    form.addEventListener("change", function (event) {
      var fieldset = event.target.closest("fieldset[data-item]");
      if (!fieldset || closed) return;
      refreshNav(fieldset);
      enqueue(fieldset.getAttribute("data-item"), { choice_ids: selectionOf(fieldset) });
    });

    form.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-flag], button[data-clear]");
      if (!button || closed) return;
      var fieldset = button.closest("fieldset[data-item]");
      if (button.hasAttribute("data-flag")) {
        var flagged = !isFlagged(fieldset);
        setFlag(fieldset, flagged);
        refreshNav(fieldset);
        enqueue(fieldset.getAttribute("data-item"), { flagged: flagged });
      } else {
        Array.prototype.forEach.call(fieldset.querySelectorAll("input"), function (input) { input.checked = false; });
        refreshNav(fieldset);
        enqueue(fieldset.getAttribute("data-item"), { choice_ids: [] });
      }
    });

    window.addEventListener("online", function () { showOffline(false); flush(); });
    window.addEventListener("offline", function () { showOffline(true); });

    function whenSaved(timeoutMs, done) {
      var started = Date.now();
      (function check() {
        if (!pendingCount() || Date.now() - started > timeoutMs) done();
        else window.setTimeout(check, 150);
      })();
    }

    form.addEventListener("submit", function (event) {
      if (submitting) return;
      event.preventDefault();
      if (pendingCount() && navigator.onLine === false) {
        window.alert("You are offline and some answers are not saved yet. Submit when the connection is back.");
        return;
      }
      var unanswered = fieldsets.length - answeredCount();
      var flagged = flaggedCount();
      var message = "Submit your answers now? You cannot change them afterwards.";
      if (unanswered) message += "\n" + unanswered + " question" + (unanswered === 1 ? " is" : "s are") + " not answered.";
      if (flagged) message += "\n" + flagged + " question" + (flagged === 1 ? " is" : "s are") + " flagged for review.";
      if (!window.confirm(message)) return;
      submitNow();
    });

    function submitNow() {
      submitting = true;
      flush();
      whenSaved(8000, function () { form.submit(); });
    }

    // Taking a break: send what is queued first (what is not sent stays queued).
    var breakForm = document.getElementById("break-form");
    var breaking = false;
    if (breakForm) {
      breakForm.addEventListener("submit", function (event) {
        if (breaking) return;
        event.preventDefault();
        breaking = true;
        flush();
        whenSaved(5000, function () { closed = true; breakForm.submit(); });
      });
    }

    // --- countdown (display only; the server enforces the deadline) --------

    var deadline = Date.parse(config.deadline);
    var clockOffset = Date.parse(config.serverTime) - Date.now();
    var warned = false;

    function pad(n) { return (n < 10 ? "0" : "") + n; }

    function tick() {
      var left = Math.max(0, Math.floor((deadline - (Date.now() + clockOffset)) / 1000));
      var h = Math.floor(left / 3600);
      var m = Math.floor((left % 3600) / 60);
      var s = left % 60;
      if (countdown) countdown.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(s);
      if (left <= 300 && !warned) {
        warned = true;
        if (countdown) countdown.parentNode.classList.add("is-low");
        if (timerAlert) timerAlert.textContent = "Five minutes left.";
      }
      if (left <= 0) {
        window.clearInterval(timer);
        if (timerAlert) timerAlert.textContent = "Time is up. Your saved answers are being submitted.";
        if (!submitting && !closed) submitNow();
      }
    }

    // --- start ------------------------------------------------------------

    // Changes queued before a reload are newer than the page: show them, resend them.
    Object.keys(pending).forEach(function (itemId) {
      var fieldset = fieldsetFor(itemId);
      if (fieldset) applyEntry(fieldset, pending[itemId]);
      else delete pending[itemId];
    });
    savePending();
    fieldsets.forEach(function (fs) { setFlag(fs, isFlagged(fs)); refreshNav(fs); });
    updateStatus();
    if (navigator.onLine === false) showOffline(true);
    var timer = window.setInterval(tick, 1000);
    tick();
    flush();
  });
})();
