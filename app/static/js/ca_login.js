/* CA login: read the PKCS#8 private key the user chooses (stand-in for the USB key's driver),
 * sign the server's one-time nonce with WebCrypto and post only the signature. The key never
 * leaves the browser. ECDSA P-256/SHA-256 and RSA PKCS#1 v1.5/SHA-256 keys are accepted. */
(function () {
  "use strict";
  var form = document.getElementById("ca-login-form");
  if (!form) { return; }
  var fileInput = document.getElementById("ca-key-file");
  var status = document.getElementById("ca-key-status");
  var errorBox = document.getElementById("ca-error");

  function showError(message) {
    errorBox.textContent = message;
    errorBox.classList.remove("hidden");
  }

  function pemToDer(pem) {
    var match = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/.exec(pem);
    if (!match) { return null; }
    var binary = atob(match[1].replace(/\s+/g, ""));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  async function importKey(der) {
    var ecdsa = { name: "ECDSA", namedCurve: "P-256" };
    try {
      var key = await crypto.subtle.importKey("pkcs8", der, ecdsa, false, ["sign"]);
      return { key: key, algorithm: { name: "ECDSA", hash: "SHA-256" } };
    } catch (e) {
      var rsa = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
      var rsaKey = await crypto.subtle.importKey("pkcs8", der, rsa, false, ["sign"]);
      return { key: rsaKey, algorithm: rsa };
    }
  }

  function toBase64(buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i++) { text += String.fromCharCode(bytes[i]); }
    return btoa(text);
  }

  fileInput.addEventListener("change", function () {
    errorBox.classList.add("hidden");
    status.textContent = fileInput.files.length ? form.dataset.msgLoaded + " " + fileInput.files[0].name : "";
  });

  form.addEventListener("submit", async function (event) {
    if (form.dataset.signed === "1") { return; }
    event.preventDefault();
    errorBox.classList.add("hidden");
    if (!fileInput.files.length || !window.crypto || !crypto.subtle) {
      showError(form.dataset.msgNoKey);
      return;
    }
    var der = pemToDer(await fileInput.files[0].text());
    if (!der) { showError(form.dataset.msgBadKey); return; }
    status.textContent = form.dataset.msgSigning;
    try {
      var signer = await importKey(der);
      var data = new TextEncoder().encode(form.dataset.nonce);
      var signature = await crypto.subtle.sign(signer.algorithm, signer.key, data);
      document.getElementById("ca-signature").value = toBase64(signature);
    } catch (e) {
      showError(form.dataset.msgBadKey);
      return;
    }
    form.dataset.signed = "1";
    form.submit();
  });
}());
