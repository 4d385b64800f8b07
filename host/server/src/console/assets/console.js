// Arbiter reviewer console: keyboard resolutions with a few seconds to undo.
// Every form works without this file; it only adds the keys and the undo window.
//   f  fraud      l  legit      e  escalate      n  next case      u  undo (while pending)
// A button or link with data-key="x" is what key x presses; a button with data-undoable
// waits UNDO_MS before its form is really sent, and u cancels it.
(function () {
  "use strict";
  var UNDO_MS = 5000;
  var pending = null;
  var toast = document.getElementById("toast");

  function say(text, forMs) {
    if (!toast) return;
    toast.textContent = text;
    toast.classList.add("show");
    if (forMs) setTimeout(function () { toast.classList.remove("show"); }, forMs);
  }

  // Sends `button`'s form as if it were clicked, after the undo window.
  function later(button) {
    if (pending) clearTimeout(pending);
    var form = button.form;
    pending = setTimeout(function () {
      pending = null;
      form.dataset.confirmed = "1";
      form.requestSubmit(button);
    }, UNDO_MS);
    say(button.dataset.undoable + " in " + UNDO_MS / 1000 + " s \u2014 press u to undo");
  }

  function undo() {
    if (pending === null) return;
    clearTimeout(pending);
    pending = null;
    say("Undone", 1500);
  }

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || button.dataset.undoable === undefined) return;
    if (event.target.dataset.confirmed === "1") return;
    event.preventDefault();
    later(button);
  });

  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (t && /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) return;
    if (event.key === "u") { undo(); return; }
    var target = document.querySelector('[data-key="' + event.key + '"]');
    if (!target) return;
    event.preventDefault();
    if (target.tagName === "A") window.location = target.href;
    else if (target.dataset.undoable !== undefined) later(target);
    else target.form.requestSubmit(target);
  });
})();
