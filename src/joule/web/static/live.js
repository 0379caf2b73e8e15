// Live updates for the overview and station pages: bus events over SSE patch the page in place.
// Everything is written with textContent (never innerHTML): station data is untrusted input.
(function () {
  "use strict";
  var body = document.body;
  var mode = body.dataset.live;
  if (!mode) { return; }
  var stationId = body.dataset.stationId || null;
  var indicator = document.getElementById("live-state");
  if (indicator) { indicator.classList.add("shown"); }
  var CLASSES = { Available: "ok", Preparing: "busy", Charging: "busy", Occupied: "busy",
    SuspendedEV: "busy", SuspendedEVSE: "busy", Finishing: "busy", Reserved: "reserved",
    Unavailable: "off", Faulted: "fault" };

  function setLive(on, text) {
    if (!indicator) { return; }
    indicator.classList.toggle("on", on);
    indicator.querySelector("span").textContent = text;
  }

  function statusClass(status) { return "st-" + (CLASSES[status] || "unknown"); }

  function restyle(el, prefix, cls) {
    Array.prototype.slice.call(el.classList).forEach(function (c) {
      if (c.indexOf(prefix) === 0) { el.classList.remove(c); }
    });
    el.classList.add(cls);
    el.classList.remove("flash"); void el.offsetWidth; el.classList.add("flash");
  }

  function field(el, name) { return el.querySelector('[data-field="' + name + '"]'); }

  function newConnector(sid, evse, connector) {
    if (mode === "station") {
      var tbody = document.querySelector("#connectors tbody");
      if (!tbody) { return null; }
      var tr = document.createElement("tr");
      var cells = [String(evse) + (evse === 0 ? " (station)" : ""), String(connector), "", "", "", ""];
      cells.forEach(function (text, i) {
        var td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
        if (i === 2) { var s = document.createElement("span"); s.className = "pill"; s.dataset.field = "status"; td.appendChild(s); }
        if (i === 3) { td.dataset.field = "error"; }
        if (i === 5) { td.dataset.field = "since"; }
      });
      tbody.appendChild(tr);
      tr.dataset.connector = sid + ":" + evse + ":" + connector;
      return [tr];
    }
    var row = document.querySelector('tr[data-station="' + CSS.escape(sid) + '"] .connectors');
    if (!row) { return null; }
    var pill = document.createElement("span");
    pill.className = "pill";
    pill.dataset.connector = sid + ":" + evse + ":" + connector;
    pill.appendChild(document.createTextNode(evse + "/" + connector + " "));
    var b = document.createElement("b"); b.dataset.field = "status"; pill.appendChild(b);
    var i = document.createElement("i"); i.dataset.field = "error"; pill.appendChild(i);
    row.appendChild(pill);
    return [pill];
  }

  function patchConnector(sid, evse, connector, status, errorCode, at) {
    var key = sid + ":" + evse + ":" + connector;
    var els = document.querySelectorAll('[data-connector="' + CSS.escape(key) + '"]');
    if (!els.length) { els = newConnector(sid, evse, connector) || []; }
    Array.prototype.forEach.call(els, function (el) {
      var st = field(el, "status");
      if (st) { st.textContent = status || "?"; }
      var target = el.classList.contains("pill") ? el : st;
      if (target && target.dataset.shown !== status) { restyle(target, "st-", statusClass(status)); target.dataset.shown = status; }
      var err = field(el, "error");
      if (err) { err.textContent = errorCode && errorCode !== "NoError" ? errorCode : ""; }
      var since = field(el, "since");
      if (since && at) { since.textContent = at.replace("T", " ").replace(/\.\d+/, "").replace("+00:00", "Z"); }
    });
  }

  function patchStation(sid, data) {
    var row = document.querySelector('tr[data-station="' + CSS.escape(sid) + '"]');
    if (row) {
      var pill = field(row, "state");
      if (pill && pill.textContent !== data.state) { pill.textContent = data.state; restyle(pill, "state-", "state-" + data.state); }
    }
    Array.prototype.forEach.call(document.querySelectorAll('circle[data-marker="' + CSS.escape(sid) + '"]'), function (marker) {
      marker.setAttribute("class", "marker state-" + data.state);
    });
    if (mode === "station" && sid === stationId) { patchConnection(data.online); }
    (data.connectors || []).forEach(function (c) {
      patchConnector(sid, c.evse_id, c.connector_id, c.status, c.error_code, null);
    });
  }

  function patchConnection(online) {
    var el = document.getElementById("connection");
    if (!el) { return; }
    var text = online ? "connected" : "disconnected";
    if (el.textContent !== text) { el.textContent = text; restyle(el, "state-", online ? "state-online" : "state-offline"); }
  }

  function applySnapshot(snap) {
    Object.keys(snap.counts || {}).forEach(function (name) {
      var el = document.querySelector('[data-count="' + name + '"]');
      if (el) { el.textContent = String(snap.counts[name]); }
    });
    Object.keys(snap.stations || {}).forEach(function (sid) { patchStation(sid, snap.stations[sid]); });
  }

  var pending = null;
  function refresh() {
    pending = null;
    var url = "/ui/live/snapshot" + (stationId ? "?station_id=" + encodeURIComponent(stationId) : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401) { window.location.assign("/ui/login?next=" + encodeURIComponent(location.pathname)); }
        return r.ok ? r.json() : null;
      })
      .then(function (snap) { if (snap) { applySnapshot(snap); } })
      .catch(function () { /* the next event or reconnect tries again */ });
  }
  // Counts need a read of the fleet: coalesce bursts of events into one read.
  // (The alerts page shows no counts or stations: it follows AlertChanged only.)
  function scheduleRefresh() { if (!pending && mode !== "alerts") { pending = setTimeout(refresh, 300); } }

  var url = "/ui/live/events" + (stationId ? "?station_id=" + encodeURIComponent(stationId) : "");
  var source = new EventSource(url);
  var hellos = 0;
  source.addEventListener("hello", function () {
    setLive(true, "live");
    // After a reconnect, events may have been missed: read the current state once.
    if (hellos++ > 0) { refresh(); }
  });
  source.addEventListener("ConnectorStatusChanged", function (e) {
    var d = JSON.parse(e.data);
    patchConnector(d.station_id, d.evse_id, d.connector_id, d.status, d.error_code, d.at);
    scheduleRefresh();
  });
  source.addEventListener("StationConnected", function (e) {
    if (JSON.parse(e.data).station_id === stationId) { patchConnection(true); }
    scheduleRefresh();
  });
  source.addEventListener("StationDisconnected", function (e) {
    if (JSON.parse(e.data).station_id === stationId) { patchConnection(false); }
    scheduleRefresh();
  });
  ["StationBooted", "TransactionStarted", "TransactionUpdated", "TransactionEnded",
   "SecurityEventReceived", "MeterValuesReceived", "AlertChanged", "resync"].forEach(function (name) {
    source.addEventListener(name, scheduleRefresh);
  });
  // The station page's live chart: each MeterValuesReceived adds its power / energy point and the
  // lines are redrawn with the server's arithmetic (web/live_chart.py). No reload, no library.
  var chart = document.getElementById("live-chart");
  var SVG = "http://www.w3.org/2000/svg";
  var GEOM = { left: 10, top: 24, w: 700, h: 154, height: 200 };
  function redraw(points) {
    var times = points.map(function (p) { return p[0]; });
    var t0 = Math.min.apply(null, times), t1 = Math.max.apply(null, times), spanT = (t1 - t0) || 1;
    var group = chart.querySelector("g.lines");
    var lines = {};
    ["power", "energy"].forEach(function (kind) {
      var values = points.filter(function (p) { return p[1] === kind; }).map(function (p) { return parseFloat(p[3]); });
      if (!values.length) { return; }
      var lo = kind === "power" ? 0 : Math.min.apply(null, values), hi = Math.max.apply(null, values);
      var spanV = (hi - lo) || 1;
      points.forEach(function (p) {
        if (p[1] !== kind) { return; }
        var x = GEOM.left + (p[0] - t0) / spanT * GEOM.w;
        var y = GEOM.top + (hi - parseFloat(p[3])) / spanV * GEOM.h;
        var key = kind + "-" + p[2];
        (lines[key] = lines[key] || []).push(x.toFixed(1) + "," + y.toFixed(1));
      });
    });
    Object.keys(lines).forEach(function (key) {
      var line = group.querySelector('polyline[data-line="' + key + '"]');
      if (!line) {
        line = document.createElementNS(SVG, "polyline");
        line.setAttribute("class", "line-" + key.split("-")[0]);
        line.setAttribute("fill", "none");
        line.dataset.line = key;
        group.appendChild(line);
      }
      line.setAttribute("points", lines[key].join(" "));
    });
    chart.dataset.samples = String(points.length);
    var counter = document.getElementById("chart-samples");
    if (counter) { counter.textContent = points.length + " samples"; }
    var fmt = function (ms) { return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z"); };
    chart.querySelector('[data-axis="start"]').textContent = fmt(t0);
    chart.querySelector('[data-axis="end"]').textContent = fmt(t1);
  }
  if (chart && mode === "station") {
    source.addEventListener("MeterValuesReceived", function (e) {
      var d = JSON.parse(e.data);
      var points = JSON.parse(chart.dataset.points || "[]");
      var at = Date.parse(d.at);
      if (d.power_w !== null) {
        var kw = (parseFloat(d.power_w) / 1000).toString();
        points.push([at, "power", d.evse_id, kw]);
        chart.querySelector('[data-legend="power"]').textContent = "power " + kw + " kW";
      }
      if (d.energy_wh !== null) {
        var kwh = (parseFloat(d.energy_wh) / 1000).toString();
        points.push([at, "energy", d.evse_id, kwh]);
        chart.querySelector('[data-legend="energy"]').textContent = "energy register " + kwh + " kWh";
      }
      points.sort(function (a, b) { return a[0] - b[0]; });
      chart.dataset.points = JSON.stringify(points);
      redraw(points);
    });
  }
  // Other page scripts (alerts.js) follow alerts through a DOM event: one stream per page.
  source.addEventListener("AlertChanged", function (e) {
    document.dispatchEvent(new CustomEvent("joule:AlertChanged", { detail: JSON.parse(e.data) }));
  });
  // The station page's sessions table is server-rendered (escaped) HTML: swap it after a change.
  var sessions = document.getElementById("sessions");
  var sessionsPending = null;
  function reloadSessions() {
    sessionsPending = null;
    fetch(sessions.dataset.fragment, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { sessions.innerHTML = html; } })
      .catch(function () { /* the next event tries again */ });
  }
  if (sessions) {
    ["TransactionStarted", "TransactionUpdated", "TransactionEnded", "resync"].forEach(function (name) {
      source.addEventListener(name, function () {
        if (!sessionsPending) { sessionsPending = setTimeout(reloadSessions, 300); }
      });
    });
  }
  source.onerror = function () {
    setLive(false, source.readyState === EventSource.CLOSED ? "offline" : "reconnecting");
    if (source.readyState === EventSource.CLOSED) { refresh(); }
  };
})();
