// The exam room. The server owns the clock and the answers; this page shows them and delivers changes.
//
// Every change of an answer gets the next client sequence number and goes into a queue kept in
// localStorage; the queue is sent in order and an entry leaves it only when the server acknowledges
// that sequence number (or a newer one). Reloading, closing the browser or losing the network keeps
// the queue; it is resent on reconnect. The timer shows the server's deadline, corrected for the
// offset of the local clock; at the deadline the page asks the server, which finalises the attempt.
(function () {
  "use strict";

  var root = document.getElementById("exam-room");
  if (!root) { return; }
  var T = JSON.parse(document.getElementById("exam-i18n").textContent);
  var urls = {
    state: root.dataset.stateUrl,
    answer: root.dataset.answerUrl,
    events: root.dataset.eventsUrl,
    submit: root.dataset.submitUrl,
    clock: root.dataset.clockUrl,
    result: root.dataset.resultUrl
  };
  var attemptId = root.dataset.attempt;
  var storeKey = "sout-exam-" + attemptId;

  var items = [];          // server state, kept current with local changes
  var current = 0;         // index into items
  var deadline = 0;        // server deadline, ms since epoch
  var offset = 0;          // server time minus local time, ms
  var finished = false;
  var takenOver = false;
  var signedOut = false;   // the server refused the session (401/403): answers wait until it is back
  var online = true;
  var flushing = false;
  var retryDelay = 1000;
  var ws = null;
  var wsDelay = 1000;

  // --- persistent queue -------------------------------------------------------------------------
  function loadStore() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || { seq: 0, pending: {} }; }
    catch (e) { return { seq: 0, pending: {} }; }
  }
  var store = loadStore();
  function saveStore() {
    try { localStorage.setItem(storeKey, JSON.stringify(store)); } catch (e) { /* storage full: the queue still lives in memory */ }
  }
  function nextSeq() { store.seq += 1; saveStore(); return store.seq; }

  // --- HTTP -------------------------------------------------------------------------------------
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function api(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  // --- rendering --------------------------------------------------------------------------------
  function el(id) { return document.getElementById(id); }
  function answered(item) { return item.answer && item.answer.length > 0; }

  function setSaveStatus() {
    var pending = Object.keys(store.pending).length;
    var box = el("save-status");
    if (finished) { box.textContent = ""; return; }
    if (pending === 0) { box.textContent = "✓ " + T.saved; box.className = "save-status saved"; }
    else if (online) { box.textContent = T.saving; box.className = "save-status pending"; }
    else { box.textContent = T.pending + " (" + pending + ")"; box.className = "save-status pending"; }
    box.setAttribute("data-pending", String(pending));
  }

  function setOnline(value) {
    online = value;
    var box = el("conn-status");
    box.textContent = value ? "" : T.offline;
    box.className = "conn-status" + (value ? "" : " offline");
    box.setAttribute("data-online", value ? "1" : "0");
    setSaveStatus();
  }

  function showBanner(text) {
    var banner = el("banner");
    banner.textContent = text;
    banner.hidden = false;
  }

  // The navigation grid: one button per question, made once and updated in place (a button that
  // has the focus is never replaced). Its state is in the text a screen reader reads ("Вопрос 3,
  // отвечен, отмечен") and in aria-current, not only in the colour.
  var cells = [];
  function renderGrid() {
    var grid = el("grid");
    if (cells.length !== items.length) {
      grid.innerHTML = "";
      cells = items.map(function (item, index) {
        var cell = document.createElement("button");
        cell.type = "button";
        cell.textContent = String(item.position);
        cell.setAttribute("data-position", String(item.position));
        cell.addEventListener("click", function () { show(index, true); });
        grid.appendChild(cell);
        return cell;
      });
    }
    items.forEach(function (item, index) {
      var cell = cells[index];
      cell.className = "cell" + (answered(item) ? " answered" : "") + (item.flagged ? " flagged" : "") + (index === current ? " current" : "");
      var label = T.question + " " + item.position + ", " + (answered(item) ? T.cellAnswered : T.cellUnanswered) + (item.flagged ? ", " + T.cellFlagged : "");
      cell.setAttribute("aria-label", label);
      if (index === current) { cell.setAttribute("aria-current", "step"); } else { cell.removeAttribute("aria-current"); }
    });
  }

  // ``focus``: the candidate moved to another question (Далее, Назад, the grid, the start): the
  // focus goes to the question's group, whose name (the legend: number and text) is announced, and
  // the next Tab reaches its first option.
  function show(index, focus) {
    current = Math.max(0, Math.min(items.length - 1, index));
    var item = items[current];
    el("q-number").textContent = T.question + " " + item.position + " " + T.of + " " + items.length;
    el("q-text").textContent = item.text;
    el("q-hint").hidden = !item.multiple;
    el("flag").checked = !!item.flagged;
    var form = el("q-options");
    form.innerHTML = "";
    item.options.forEach(function (option) {
      var label = document.createElement("label");
      var input = document.createElement("input");
      input.type = item.multiple ? "checkbox" : "radio";
      input.name = "option";
      input.value = String(option.id);
      input.checked = item.answer.indexOf(option.id) !== -1;
      input.disabled = finished || takenOver;
      input.addEventListener("change", onChoice);
      label.appendChild(input);
      var span = document.createElement("span");
      span.textContent = option.text;
      label.appendChild(span);
      form.appendChild(label);
    });
    el("prev").disabled = current === 0;
    el("next").disabled = current === items.length - 1;
    renderGrid();
    if (focus) { el("question").focus(); }
  }

  // --- answering --------------------------------------------------------------------------------
  function onChoice() {
    var item = items[current];
    var chosen = [];
    el("q-options").querySelectorAll("input:checked").forEach(function (input) { chosen.push(parseInt(input.value, 10)); });
    chosen.sort(function (a, b) { return a - b; });
    item.answer = chosen;
    queue(item);
  }

  function queue(item) {
    if (finished || takenOver) { return; }
    var seq = nextSeq();
    item.seq = seq;
    store.pending[item.position] = { answer: item.answer.slice(), flagged: !!item.flagged, seq: seq };
    saveStore();
    renderGrid();
    setSaveStatus();
    flush();
  }

  // An answer leaves the queue only when the server has it, or says it can never take it: the
  // answer itself is invalid (400 "invalid_answer"), or the test is over (409 "time_is_up",
  // "attempt_finished"; the result page follows). Anything else keeps it for a later retry: the
  // session expired or was refused (401/403, the candidate is told to sign in again), a timeout, an
  // oversized or throttled request, a server error, no network, or a refusal this page does not
  // expect (that answer waits while the others are sent).
  var DROP_CODES = { 400: ["invalid_answer"] };
  var END_CODES = ["time_is_up", "attempt_finished"];
  var heldUntil = {};      // position -> time before which an unexpectedly refused answer is not resent

  function errorCode(res) { return (res.data && res.data.error && res.data.error.code) || ""; }

  function flush() {
    if (flushing || finished || takenOver) { return; }
    var now = Date.now();
    var positions = Object.keys(store.pending);
    if (positions.length === 0) { setSaveStatus(); return; }
    positions = positions.filter(function (p) { return !(heldUntil[p] > now); });
    if (positions.length === 0) { setSaveStatus(); return; }  // the periodic flush retries them
    positions.sort(function (a, b) { return store.pending[a].seq - store.pending[b].seq; });
    var position = positions[0];
    var entry = store.pending[position];
    flushing = true;
    api("PUT", urls.answer.replace(/0\/$/, position + "/"), entry).then(function (res) {
      flushing = false;
      var code = errorCode(res);
      if (res.status === 200) {
        setOnline(true);
        retryDelay = 1000;
        delete heldUntil[position];
        clearSignedOut();
        var pending = store.pending[position];
        if (pending && res.data.seq >= pending.seq) {
          delete store.pending[position];
          saveStore();
          if (res.data.seq > entry.seq) { adopt(position, res.data); }  // a newer answer from another tab
        }
        setSaveStatus();
        flush();
      } else if (res.status === 409 && code === "taken_over") {
        onTakenOver();
      } else if (res.status === 409 && END_CODES.indexOf(code) !== -1) {
        onFinished();
      } else if ((DROP_CODES[res.status] || []).indexOf(code) !== -1) {
        // The server can never take this answer: drop it, say so, send the rest.
        if (store.pending[position] && store.pending[position].seq === entry.seq) {
          delete store.pending[position];
          saveStore();
        }
        showBanner(T.error + " " + ((res.data && res.data.error && res.data.error.message) || res.status));
        setSaveStatus();
        flush();
      } else if (res.status === 401 || res.status === 403) {
        onSignedOut();
        retryLater(true);
      } else if (res.status === 408 || res.status === 413 || res.status === 429 || res.status >= 500) {
        retryLater();
      } else {
        // Unexpected (another 4xx): keep the answer, show the server's message, try it again later.
        heldUntil[position] = Date.now() + 10000;
        showBanner(T.error + " " + ((res.data && res.data.error && res.data.error.message) || res.status));
        setSaveStatus();
        flush();
      }
    }).catch(function () {
      flushing = false;
      retryLater();
    });
  }

  function onSignedOut() {
    signedOut = true;
    showBanner(T.signedOut);
  }
  function clearSignedOut() {
    if (!signedOut) { return; }
    signedOut = false;
    if (el("banner").textContent === T.signedOut) { el("banner").hidden = true; }
  }

  function retryLater(reachable) {
    // ``reachable``: the server answered (it refused the session), so the network is not the problem.
    if (!reachable) { setOnline(false); } else { setSaveStatus(); }
    setTimeout(flush, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  }

  function adopt(position, data) {
    items.forEach(function (item) {
      if (String(item.position) === String(position)) { item.answer = data.answer; item.flagged = data.flagged; item.seq = data.seq; }
    });
    show(current);
  }

  // --- the clock --------------------------------------------------------------------------------
  function applyClock(data) {
    if (!data || !data.deadline) { return; }
    deadline = Date.parse(data.deadline);
    offset = Date.parse(data.server_time) - Date.now();
    if (data.status && data.status !== "in_progress") { onFinished(); }
  }

  // The visible timer changes every second and is not a live region; a hidden one says the time
  // left when it passes a milestone (every 5 minutes, then each of the last 5: T.milestones, minutes
  // -> words), once, the latest one passed since the previous tick. Nothing is said on load.
  var milestones = Object.keys(T.milestones || {}).map(Number).sort(function (a, b) { return b - a; });
  var lastSeconds = null;
  function announceMilestone(seconds) {
    if (lastSeconds !== null) {
      var passed = milestones.filter(function (m) { return seconds <= m * 60 && m * 60 < lastSeconds; });
      if (passed.length) { el("timer-announce").textContent = T.milestones[String(passed[passed.length - 1])]; }
    }
    lastSeconds = seconds;
  }

  function tick() {
    if (finished) { return; }
    var remaining = Math.max(0, deadline - (Date.now() + offset));
    var seconds = Math.ceil(remaining / 1000);
    var text = String(Math.floor(seconds / 60)).padStart(2, "0") + ":" + String(seconds % 60).padStart(2, "0");
    el("timer").textContent = text;
    el("timer").parentNode.className = "timer" + (seconds <= 300 ? " low" : "");
    if (deadline) { announceMilestone(seconds); }
    if (deadline && remaining <= 0) { onFinished(); }
  }

  function poll() {
    if (finished || takenOver) { return; }
    if (!ws || ws.readyState !== 1) {
      api("GET", urls.clock).then(function (res) {
        if (res.status === 200) { setOnline(true); applyClock(res.data); flush(); }
      }).catch(function () { setOnline(false); });
    }
  }

  function connect() {
    if (!("WebSocket" in window) || finished || takenOver) { return; }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    try { ws = new WebSocket(scheme + location.host + "/ws/exam/attempt/"); } catch (e) { return; }
    ws.onopen = function () { wsDelay = 1000; root.dataset.ws = "open"; report("reconnect", { via: "websocket" }, true); };
    ws.onmessage = function (message) {
      var data = JSON.parse(message.data);
      if (data.type === "clock") { applyClock(data); }
      else if (data.type === "finished") { onFinished(); }
      else if (data.type === "taken_over") { onTakenOver(); }
    };
    ws.onclose = function () {
      ws = null;
      root.dataset.ws = "closed";
      if (!finished && !takenOver) { setTimeout(connect, wsDelay); wsDelay = Math.min(wsDelay * 2, 30000); }
    };
  }

  // --- the end ----------------------------------------------------------------------------------
  function onFinished() {
    if (finished) { return; }
    finished = true;
    el("timer").textContent = "00:00";
    showBanner(T.timeUp);
    show(current);
    // The server finalises an expired attempt on access; then the room shows the result.
    var go = function () { window.location.assign(urls.result); };
    api("GET", urls.state).then(go, go);
  }

  function onTakenOver() {
    if (takenOver) { return; }
    takenOver = true;
    showBanner(T.takenOver);
    show(current);
  }

  function submit() {
    var pending = Object.keys(store.pending).length;
    var missing = items.filter(function (item) { return !answered(item); }).map(function (item) { return item.position; });
    el("confirm-unanswered").textContent = (pending ? T.unsent + " " : "") + (missing.length ? T.unanswered + " " + missing.join(", ") : T.allAnswered);
    var dialog = el("confirm");
    if (dialog.showModal) { dialog.showModal(); } else if (window.confirm(el("confirm-unanswered").textContent)) { doSubmit(); }
  }

  function doSubmit() {
    el("confirm").close && el("confirm").close();
    api("POST", urls.submit).then(function (res) {
      if (res.status === 200 || res.status === 409) { finished = true; window.location.assign(urls.result); }
      else { setOnline(false); }
    }).catch(function () { setOnline(false); });
  }

  // --- integrity events -------------------------------------------------------------------------
  var lastReport = {};
  function report(kind, data, quiet) {
    if (finished || takenOver) { return; }
    var now = Date.now();
    if (!quiet && lastReport[kind] && now - lastReport[kind] < 2000) { return; }
    lastReport[kind] = now;
    api("POST", urls.events, { kind: kind, data: data || {} }).catch(function () { /* best effort */ });
  }
  document.addEventListener("visibilitychange", function () { if (document.hidden) { report("page_hidden"); } });
  window.addEventListener("blur", function () { report("window_blur"); });
  ["copy", "cut"].forEach(function (name) {
    document.addEventListener(name, function (event) { event.preventDefault(); report("copy"); });
  });
  document.addEventListener("paste", function () { report("paste"); });
  document.addEventListener("contextmenu", function (event) { event.preventDefault(); report("context_menu"); });
  window.addEventListener("online", function () { setOnline(true); report("reconnect", { via: "network" }, true); flush(); });
  window.addEventListener("offline", function () { setOnline(false); report("offline"); });

  // --- start ------------------------------------------------------------------------------------
  el("prev").addEventListener("click", function () { show(current - 1, true); });
  el("next").addEventListener("click", function () { show(current + 1, true); });
  el("flag").addEventListener("change", function () { var item = items[current]; item.flagged = el("flag").checked; queue(item); });
  el("submit").addEventListener("click", submit);
  el("confirm-yes").addEventListener("click", doSubmit);
  el("confirm-no").addEventListener("click", function () { el("confirm").close(); });

  function start(data) {
    applyClock(data);
    items = data.items;
    store.seq = Math.max(store.seq, data.max_seq || 0);
    // Answers queued here but never acknowledged (a reload, a closed browser, no network) win over
    // the server's older ones, and are sent again.
    items.forEach(function (item) {
      var pending = store.pending[item.position];
      if (pending && pending.seq > item.seq) { item.answer = pending.answer; item.flagged = pending.flagged; item.seq = pending.seq; }
      else if (pending) { delete store.pending[item.position]; }
    });
    saveStore();
    var firstOpen = items.findIndex(function (item) { return !answered(item); });
    show(firstOpen === -1 ? 0 : firstOpen, !document.activeElement || document.activeElement === document.body);
    setSaveStatus();
    flush();
    setInterval(tick, 250);
    setInterval(poll, 10000);
    setInterval(function () { if (ws && ws.readyState === 1) { ws.send(JSON.stringify({ type: "sync" })); } }, 30000);
    setInterval(flush, 5000);
    tick();
    connect();
  }

  function load() {
    api("GET", urls.state).then(function (res) {
      if (res.status === 200 && res.data.items) { clearSignedOut(); setOnline(true); start(res.data); }
      else if (res.status === 200) { window.location.assign(urls.result); }
      else if (res.status === 409) { onTakenOver(); }
      else if (res.status === 401 || res.status === 403) { onSignedOut(); setTimeout(load, 5000); }
      else { setTimeout(load, 2000); }
    }).catch(function () { setOnline(false); setTimeout(load, 2000); });
  }
  load();
})();
