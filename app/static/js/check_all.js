/* A "select all" box: <input type="checkbox" data-check-all=".selector"> ticks or clears every box
 * the selector matches (no inline onclick: the Content-Security-Policy forbids inline script). */
(function () {
  "use strict";
  document.querySelectorAll("[data-check-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll(box.dataset.checkAll).forEach(function (c) { c.checked = box.checked; });
    });
  });
}());
