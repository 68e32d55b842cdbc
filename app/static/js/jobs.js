/* 我的任务: poll a job's status (JSON) and move the progress bar until the job is done or failed,
 * then show the result link or the error. Data comes through data-* attributes (strict CSP: no inline script). */
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.dataset.finished === "yes") { return; }
  var bar = document.getElementById("job-bar");

  function show(s) {
    bar.style.width = s.percent + "%";
    bar.textContent = s.percent + "%";
    bar.setAttribute("aria-valuenow", s.percent);
    document.getElementById("job-state").textContent = s.state_label;
    document.getElementById("job-message").textContent = s.message;
    if (s.state === "failed") {
      bar.classList.add("progress-bar-danger");
      var error = document.getElementById("job-error");
      error.textContent = s.error;
      error.hidden = false;
    }
    if (s.state === "done") {
      bar.classList.add("progress-bar-success");
      if (s.result_url) {
        document.getElementById("job-result-link").href = s.result_url;
        document.getElementById("job-result-name").textContent = s.result_name;
        document.getElementById("job-result").hidden = false;
      }
    }
  }

  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { return; }
        show(s);
        if (!s.finished) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());
