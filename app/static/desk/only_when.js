// Fields that apply only under a condition (the rules' `only_when`): 被担保主债权数额 for 一般抵押,
// 最高债权额 for 最高额抵押. A field whose condition fails is hidden and emptied (the server refuses a
// value there); one showing an error stays visible so that the clerk can see what to correct.
(function () {
  "use strict";

  function control(prefix, key) {
    return document.querySelector('[name="' + prefix + key + '"]') ||
      document.querySelector('[name="case__' + key + '"]');
  }

  function holds(box) {
    var condition = JSON.parse(box.getAttribute("data-only-when"));
    var prefix = box.getAttribute("data-prefix") || "";
    return Object.keys(condition).every(function (key) {
      var c = control(prefix, key);
      return c !== null && String(c.value) === String(condition[key]);
    });
  }

  function update() {
    document.querySelectorAll("[data-only-when]").forEach(function (box) {
      if (holds(box)) {
        box.hidden = false;
      } else if (!box.querySelector(".field-error")) {
        box.hidden = true;
        box.querySelectorAll("input, select").forEach(function (el) {
          if (el.value) {
            el.value = "";
            el.dispatchEvent(new Event("input", { bubbles: true }));
          }
        });
      }
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("select, input")) {
      update();
    }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
})();
