// Live monitor of a sitting: the server sends a snapshot every few seconds and on every event.
(function () {
  "use strict";
  var status = document.getElementById("monitor-status");
  var table = document.getElementById("monitor");
  if (!status || !table || !("WebSocket" in window)) { return; }
  var sitting = status.getAttribute("data-sitting");
  function fmt(seconds) { return String(Math.floor(seconds / 60)).padStart(2, "0") + ":" + String(seconds % 60).padStart(2, "0"); }
  function update(rows) {
    rows.forEach(function (row) {
      if (!row.attempt) { return; }
      var tr = table.querySelector("tr[data-attempt='" + row.attempt + "']");
      if (!tr) { window.location.reload(); return; }  // a new attempt started: redraw with its form
      tr.children[1].textContent = row.status_label;
      tr.querySelector("[data-answered]").textContent = row.answered + " / " + row.questions;
      tr.querySelector("[data-remaining]").textContent = fmt(row.remaining_s);
      tr.children[4].textContent = row.events + " " + row.latest_events.join(", ");
      tr.children[5].textContent = row.score === null ? "" : String(row.score);
    });
  }
  function connect(delay) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + "/ws/exam/monitor/" + sitting + "/");
    ws.onmessage = function (message) { var data = JSON.parse(message.data); if (data.type === "snapshot") { update(data.rows); } };
    ws.onclose = function () { setTimeout(function () { connect(Math.min(delay * 2, 30000)); }, delay); };
  }
  connect(2000);
})();
