// Configuration keys (1.6) / variables (2.x) of the station page, read and edited in place.
// The station's own answer (Accepted, Rejected, RebootRequired, NotSupported …) is shown on the
// row, then the value the station reports after the change. textContent only: station data.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var stationId = document.body.dataset.stationId;
  var table = document.getElementById("config-table");
  var readButton = document.getElementById("config-read");
  var state = document.getElementById("config-state");
  if (!table) { return; }
  var tbody = table.querySelector("tbody");
  var GOOD = { Accepted: "good", RebootRequired: "warn" };

  function send(kind, fields) {
    return fetch("/ui/stations/" + encodeURIComponent(stationId) + "/commands/" + kind, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
      body: new URLSearchParams(fields),
    }).then(function (r) { return r.json().then(function (body) { return [r.status, body]; }); });
  }

  function cell(tr, text) { var td = document.createElement("td"); if (text !== undefined) { td.textContent = text; } tr.appendChild(td); return td; }

  function row(item) {
    var tr = document.createElement("tr");
    tr.dataset.key = item.key;
    var code = document.createElement("code"); code.textContent = item.key; cell(tr).appendChild(code);
    var valueCell = cell(tr);
    if (item.readonly) {
      var span = document.createElement("span"); span.dataset.field = "value";
      span.textContent = item.value === null || item.value === undefined ? "" : item.value;
      valueCell.appendChild(span);
      if (item.status && item.status !== "Accepted") { span.textContent += " (" + item.status + ")"; }
      span.title = "read-only";
    } else {
      var form = document.createElement("form"); form.className = "config-edit";
      var input = document.createElement("input"); input.name = "value"; input.value = item.value || "";
      input.setAttribute("aria-label", "value of " + item.key);
      var button = document.createElement("button"); button.type = "submit"; button.textContent = "Save";
      form.appendChild(input); form.appendChild(button); valueCell.appendChild(form);
    }
    cell(tr).dataset.field = "answer";
    return tr;
  }

  function render(rows) {
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    rows.forEach(function (item) { tbody.appendChild(row(item)); });
  }

  if (readButton) {
    readButton.addEventListener("click", function () {
      readButton.disabled = true;
      state.textContent = "reading from " + stationId + "…";
      send("config_read", {}).then(function (result) {
        var status = result[0], body = result[1];
        if (!body.ok) { state.textContent = "read failed (HTTP " + status + "): " + (body.detail || ""); return; }
        render(body.answer.rows);
        state.textContent = body.answer.rows.length + " read from the station" +
          (body.answer.unknown.length ? "; unknown: " + body.answer.unknown.join(", ") : "");
      }).catch(function (error) { state.textContent = "read failed: " + error; })
        .finally(function () { readButton.disabled = false; });
    });
  }

  table.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("config-edit")) { return; }
    event.preventDefault();
    var tr = form.closest("tr");
    var key = tr.dataset.key;
    var input = form.querySelector("input");
    var button = form.querySelector("button");
    var answer = tr.querySelector('[data-field="answer"]');
    button.disabled = true;
    answer.className = "";
    answer.textContent = "waiting for " + stationId + "…";
    send("config_set", { key: key, value: input.value }).then(function (result) {
      var status = result[0], body = result[1];
      if (!body.ok) {
        answer.className = "answer-bad";
        answer.textContent = "failed (HTTP " + status + "): " + (body.detail || "");
        return;
      }
      var said = body.answer.status;
      answer.className = "answer-" + (GOOD[said] || "bad");
      answer.textContent = said;
      if (body.answer.row) { input.value = body.answer.row.value === null ? "" : body.answer.row.value; }
      tr.classList.remove("flash"); void tr.offsetWidth; tr.classList.add("flash");
    }).catch(function (error) { answer.className = "answer-bad"; answer.textContent = "failed: " + error; })
      .finally(function () { button.disabled = false; });
  });
})();
