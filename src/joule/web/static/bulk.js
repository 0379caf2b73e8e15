// Bulk actions on the overview: start a job over the ticked stations (or a site), then poll it
// and show progress and each station's result as they come. textContent only.
(function () {
  "use strict";
  var form = document.getElementById("bulk");
  if (!form) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var box = document.getElementById("bulk-progress");
  var bar = document.getElementById("bulk-bar");
  var count = document.getElementById("bulk-count");
  var tbody = document.querySelector("#bulk-results tbody");
  var error = document.getElementById("bulk-error");
  var all = document.getElementById("bulk-all");
  if (all) {
    all.addEventListener("change", function () {
      Array.prototype.forEach.call(document.querySelectorAll('input[name="station_id"][form="bulk"]'), function (box) { box.checked = all.checked; });
    });
  }

  function show(job) {
    box.hidden = false;
    var done = job.results.filter(function (r) { return r.state === "done"; }).length;
    bar.max = Math.max(job.total, 1);
    bar.value = done;
    count.textContent = job.command + ": " + done + " of " + job.total + " done" + (job.state === "done" ? " ✓" : "…");
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    job.results.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.dataset.bulkStation = r.station_id;
      [r.station_id, r.state, r.outcome || "", r.response ? JSON.stringify(r.response) : (r.error || "")].forEach(function (text) {
        var td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
  }

  function poll(id) {
    fetch("/ui/bulk/" + encodeURIComponent(id), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        if (!job.results) { error.textContent = job.detail || "the job is gone"; return; }
        show(job);
        if (job.state !== "done") { setTimeout(function () { poll(id); }, 300); }
      })
      .catch(function (e) { error.textContent = "progress failed: " + e; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.textContent = "";
    var data = new FormData(form);
    var command = data.get("command");
    data.delete("command");
    fetch("/ui/bulk/" + encodeURIComponent(command), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
      body: new URLSearchParams(data),
    })
      .then(function (r) { return r.json().then(function (body) { return [r.status, body]; }); })
      .then(function (result) {
        var body = result[1];
        if (!body.ok) { error.textContent = "HTTP " + result[0] + ": " + (body.detail || ""); return; }
        show(body.job);
        poll(body.job.id);
      })
      .catch(function (e) { error.textContent = "failed: " + e; });
  });
})();
