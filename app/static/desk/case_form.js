/* The case form of the desk (desk/case.html): one form, one state.
 * - Typed changes are autosaved, debounced, to the form's own save route (X-Autosave: 1, JSON answer);
 *   the bar shows "已保存 hh:mm".
 * - Every other button of the form posts the whole form (formaction), so a party save, an upload, an
 *   SMS send or 提交 carries whatever was typed elsewhere; before it goes, a running autosave is awaited
 *   so the version posted is the current one.
 * - Leaving with unsaved changes asks first (beforeunload).
 * - Choosing or dropping files uploads them at once (the drop zone files each by its name).
 */
(function () {
  "use strict";
  var form = document.getElementById("case-form");
  if (!form) { return; }
  var status = document.getElementById("autosave-status");
  var url = form.getAttribute("data-autosave");
  var DELAY = 800;
  var dirty = false, timer = null, inflight = null, leaving = false, stale = false;

  function show(text, cls) {
    if (!status) { return; }
    status.textContent = text;
    status.className = "autosave-status " + (cls || "text-muted");
  }

  function body() {
    var out = new FormData();
    new FormData(form).forEach(function (value, key) {
      if (typeof value === "string" && key !== "event") { out.append(key, value); }
    });
    return out;
  }

  function save() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!url || stale || !dirty) { return inflight || Promise.resolve(); }
    var previous = inflight || Promise.resolve();
    dirty = false;
    show(form.getAttribute("data-saving"), "autosave-dirty");
    var p = previous.then(function () {
      return fetch(url, { method: "POST", body: body(), credentials: "same-origin",
                          headers: { "X-Autosave": "1", "Accept": "application/json" } });
    }).then(function (resp) {
      return resp.json().then(function (data) {
        if (data.ok) {
          form.elements.version.value = data.version;
          if (!dirty) { show(form.getAttribute("data-saved") + " " + data.saved_at); }
        } else {
          stale = resp.status === 409;
          dirty = true;
          show(data.message, "autosave-failed");
        }
      });
    }).catch(function () {
      dirty = true;
      show(form.getAttribute("data-failed"), "autosave-failed");
      timer = setTimeout(save, 5000);   // the connection may come back: try again
    });
    var done = p.then(function () { if (inflight === done) { inflight = null; } });
    inflight = done;
    return done;
  }

  function changed(ev) {
    var t = ev.target;
    if (!url || !t.name || t.type === "file" || t.name.indexOf("code__") === 0) { return; }
    dirty = true;
    show(form.getAttribute("data-unsaved"), "autosave-dirty");
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, DELAY);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);

  form.addEventListener("submit", function (ev) {
    var submitter = ev.submitter;
    var question = submitter && submitter.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { ev.preventDefault(); return; }
    if (timer) { clearTimeout(timer); timer = null; }
    // The post carries every field; only a running autosave must land first (it moves the version on).
    if (inflight) {
      ev.preventDefault();
      inflight.then(function () { leaving = true; form.requestSubmit(submitter || undefined); });
      return;
    }
    leaving = true;
  });

  window.addEventListener("beforeunload", function (ev) {
    if (leaving || !(dirty || inflight)) { return; }
    ev.preventDefault();
    ev.returnValue = "";
  });

  /* Other forms of the page (Excel import, extract) save the case form first. */
  document.querySelectorAll("form").forEach(function (other) {
    if (other === form) { return; }
    other.addEventListener("submit", function (ev) {
      if (!dirty && !inflight) { leaving = true; return; }
      if (ev.defaultPrevented) { save(); return; }   // sent by script (upload progress): save alongside
      ev.preventDefault();
      save().then(function () { leaving = true; other.submit(); });
    });
  });

  /* The "same as" tick changes who the parties are: the page is saved and shown again at once. */
  form.querySelectorAll("input[type=checkbox][name^='same__']").forEach(function (tick) {
    tick.addEventListener("change", function () {
      if (timer) { clearTimeout(timer); timer = null; }
      form.requestSubmit(document.getElementById("save-btn"));
    });
  });

  /* Choosing files uploads them at once. */
  form.querySelectorAll("input[type=file][data-submit]").forEach(function (input) {
    input.addEventListener("change", function () {
      if (input.files && input.files.length) {
        form.requestSubmit(document.getElementById(input.getAttribute("data-submit")));
      }
    });
  });
  var zone = document.getElementById("drop-zone"), dropInput = document.getElementById("drop-files");
  if (zone && dropInput) {
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (ev) { ev.preventDefault(); zone.classList.add("drop-over"); });
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("drop-over"); });
    zone.addEventListener("drop", function (ev) {
      ev.preventDefault();
      zone.classList.remove("drop-over");
      if (ev.dataTransfer && ev.dataTransfer.files.length) {
        dropInput.files = ev.dataTransfer.files;
        dropInput.dispatchEvent(new Event("change"));
      }
    });
  }

  /* Enter in a code box confirms that party, not the form's first button. */
  form.querySelectorAll(".code-input").forEach(function (input) {
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") {
        ev.preventDefault();
        var button = input.parentNode.querySelector(".confirm-code");
        if (button) { form.requestSubmit(button); }
      }
    });
  });
})();
