// The alerts page: the table follows AlertChanged events (raised, acknowledged, resolved) without
// reload, and the acknowledge buttons POST with the session's CSRF token.
(function () {
  "use strict";
  var box = document.getElementById("alerts");
  if (!box) { return; }
  var meta = document.querySelector('meta[name="csrf-token"]');
  var note = document.getElementById("alerts-note");
  var pending = null;

  function reload() {
    pending = null;
    fetch(box.dataset.fragment, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        box.innerHTML = html;  // server-rendered, escaped HTML
        var total = box.querySelector("[data-alerts-total]");
        var shown = document.getElementById("alerts-total");
        if (total && shown) { shown.textContent = total.dataset.alertsTotal; }
      })
      .catch(function () { /* the next event tries again */ });
  }
  document.addEventListener("joule:AlertChanged", function () {
    if (!pending) { pending = setTimeout(reload, 200); }
  });

  box.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-ack]");
    if (!button || !meta) { return; }
    button.disabled = true;
    fetch("/ui/alerts/" + encodeURIComponent(button.dataset.ack) + "/acknowledge", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": meta.content, Accept: "application/json" },
    })
      .then(function (r) { return r.json().then(function (body) { return [r.status, body]; }); })
      .then(function (result) {
        var body = result[1];
        note.textContent = body.ok
          ? "Alert " + body.alert.id + " acknowledged."
          : "Could not acknowledge (HTTP " + result[0] + "): " + (body.detail || "");
        reload();
      })
      .catch(function (error) { note.textContent = "Could not acknowledge: " + error; button.disabled = false; });
  });
})();
