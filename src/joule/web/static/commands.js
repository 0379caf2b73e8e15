// Command buttons of the station page: POST with the session's CSRF token, show the station's answer.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var stationId = document.body.dataset.stationId;
  var answer = document.getElementById("command-result");

  Array.prototype.forEach.call(document.querySelectorAll("form[data-command]"), function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var kind = form.dataset.command;
      var button = form.querySelector("button");
      var out = form.dataset.result ? document.querySelector(form.dataset.result) : answer;
      button.disabled = true;
      out.className = "result";
      out.textContent = kind + ": waiting for " + stationId + "…";
      fetch("/ui/stations/" + encodeURIComponent(stationId) + "/commands/" + kind, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
        body: new URLSearchParams(new FormData(form)),
      })
        .then(function (r) { return r.json().then(function (body) { return [r.status, body]; }); })
        .then(function (result) {
          var status = result[0], body = result[1];
          out.className = "result " + (body.ok ? "good" : "bad");
          out.textContent = body.ok
            ? kind + " → " + stationId + " answered:\n" + JSON.stringify(body.answer, null, 2)
            : kind + " failed (HTTP " + status + "): " + (body.detail || JSON.stringify(body));
        })
        .catch(function (error) {
          out.className = "result bad";
          out.textContent = kind + " failed: " + error;
        })
        .finally(function () { button.disabled = false; });
    });
  });
})();
