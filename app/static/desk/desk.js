/* Desk pages: money in 人民币大写 while typing, building-table tick-all, import progress. */
(function () {
  "use strict";
  var DIGITS = "零壹贰叁肆伍陆柒捌玖", UNITS = ["", "拾", "佰", "仟"], BIG = ["", "万", "亿", "万亿"];

  function upper(text) {
    if (!/^\d{1,14}(\.\d{1,2})?$/.test(text)) { return ""; }
    var parts = text.split("."), intPart = parts[0].replace(/^0+/, ""), dec = (parts[1] || "") + "00";
    var out = "", zero = false;
    for (var g = 0, groups = []; intPart.length > 0; g++) { groups.unshift(intPart.slice(-4)); intPart = intPart.slice(0, -4); }
    for (var i = 0; i < groups.length; i++) {
      var grp = groups[i], s = "", any = false;
      for (var j = 0; j < grp.length; j++) {
        var d = +grp[j], pos = grp.length - 1 - j;
        if (d === 0) { zero = zero || any || out !== ""; }
        else { if (zero) { s += "零"; zero = false; } s += DIGITS[d] + UNITS[pos]; any = true; }
      }
      if (any) { out += s + BIG[groups.length - 1 - i]; }
    }
    var jiao = +dec[0], fen = +dec[1];
    if (out) { out += "元"; }
    if (!jiao && !fen) { return out ? out + "整" : "零元整"; }
    if (jiao) { out += DIGITS[jiao] + "角"; } else if (out) { out += "零"; }
    if (fen) { out += DIGITS[fen] + "分"; }
    return out;
  }

  function refreshUpper(input) {
    var help = document.querySelector('.money-upper[data-for="' + input.name + '"]');
    if (help) { help.textContent = upper(input.value.replace(/,/g, "").trim()); }
  }
  document.querySelectorAll(".money-input").forEach(function (input) {
    refreshUpper(input);
    input.addEventListener("input", function () { refreshUpper(input); });
  });

  var tickAll = document.getElementById("tick-all");
  if (tickAll) {
    tickAll.addEventListener("change", function () {
      document.querySelectorAll('#building-table input[name="unit_id"]:not(:disabled)').forEach(function (c) { c.checked = tickAll.checked; });
    });
  }

  /* Large workbooks take a while: show upload progress, then the server's answer page. */
  document.querySelectorAll("form.upload-progress").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.XMLHttpRequest || !window.FormData) { return; }
      ev.preventDefault();
      var bar = form.querySelector(".progress"), inner = form.querySelector(".progress-bar");
      var xhr = new XMLHttpRequest();
      bar.style.display = "block";
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { inner.style.width = Math.round(e.loaded * 90 / e.total) + "%"; }
      });
      xhr.addEventListener("load", function () {
        inner.style.width = "100%";
        if (xhr.status < 400) { window.location.href = xhr.responseURL; }
        else { document.open(); document.write(xhr.responseText); document.close(); }
      });
      xhr.open("POST", form.action);
      xhr.send(new FormData(form));
    });
  });
  window.deskMoneyUpper = upper;
})();
