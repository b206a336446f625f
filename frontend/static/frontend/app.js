// Progressive enhancement only: every page works without it.
(function () {
  "use strict";

  // Language switch submits on change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });

  // Confirmation before consequential actions.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // Repeatable entries (Django formsets): "add" clones the empty form, "remove" ticks DELETE.
  document.querySelectorAll("[data-formset]").forEach(function (box) {
    var prefix = box.getAttribute("data-formset");
    var total = box.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var template = box.querySelector("template");
    var list = box.querySelector("[data-entries]");
    var add = box.querySelector("[data-add]");
    function wireRemove(entry) {
      var button = entry.querySelector("[data-remove]");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var del = entry.querySelector("input[name$='-DELETE']");
        if (del) { del.checked = true; }
        entry.hidden = true;
      });
    }
    list.querySelectorAll(".entry").forEach(wireRemove);
    if (add && template && total) {
      add.addEventListener("click", function () {
        var index = parseInt(total.value, 10);
        var html = template.innerHTML.replace(/__prefix__/g, String(index));
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var entry = holder.firstElementChild;
        list.appendChild(entry);
        total.value = String(index + 1);
        wireRemove(entry);
        var first = entry.querySelector("input, textarea, select");
        if (first) { first.focus(); }
      });
    }
  });

  // A form that leaves the page (a file upload) warns when another form of the page has unsaved changes.
  document.querySelectorAll("form[data-unsaved-form]").forEach(function (form) {
    var other = document.getElementById(form.getAttribute("data-unsaved-form"));
    if (!other) { return; }
    var dirty = false;
    other.addEventListener("input", function () { dirty = true; });
    other.addEventListener("submit", function () { dirty = false; });
    form.addEventListener("submit", function (event) {
      if (dirty && !window.confirm(form.getAttribute("data-unsaved"))) { event.preventDefault(); }
    });
  });

  // One-line text shown wrapped (core.text.TextField wrap): no line breaks typed or pasted into it,
  // and its height follows its content where CSS field-sizing is not supported.
  function fitSingleLine(area) {
    var flat = area.value.replace(/[\r\n]+/g, " ");
    if (flat !== area.value) { area.value = flat; }
    if (!(window.CSS && CSS.supports("field-sizing", "content"))) {
      area.style.height = "auto";
      area.style.height = area.scrollHeight + 2 + "px";
    }
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("textarea[data-single-line]")) {
      event.preventDefault();
    }
  });
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-single-line]")) { fitSingleLine(event.target); }
  });
  document.querySelectorAll("textarea[data-single-line]").forEach(fitSingleLine);

  // Live unread count over WebSocket.
  if (document.body.getAttribute("data-ws") === "1" && "WebSocket" in window) {
    var badge = document.getElementById("unread-count");
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var connect = function (delay) {
      var ws = new WebSocket(scheme + location.host + "/ws/notifications/");
      ws.onmessage = function (msg) {
        var data = JSON.parse(msg.data);
        if (data.type === "unread" && badge) {
          badge.textContent = String(data.count);
          badge.hidden = data.count === 0;
        }
      };
      ws.onclose = function () { setTimeout(function () { connect(Math.min(delay * 2, 60000)); }, delay); };
    };
    connect(2000);
  }
})();
