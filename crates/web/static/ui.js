// Progressive enhancement only: every page works without this file except
// the security key step, which needs the browser's WebAuthn API.
"use strict";

function b64urlToBytes(s) {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

function bytesToB64url(buf) {
  const b = String.fromCharCode(...new Uint8Array(buf));
  return btoa(b).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function securityKey(form) {
  const options = JSON.parse(form.dataset.webauthnGet);
  const pk = options.publicKey;
  pk.challenge = b64urlToBytes(pk.challenge);
  (pk.allowCredentials || []).forEach((c) => { c.id = b64urlToBytes(c.id); });
  const cred = await navigator.credentials.get({ publicKey: pk });
  const r = cred.response;
  form.querySelector("#webauthn-result").value = JSON.stringify({
    id: cred.id,
    rawId: bytesToB64url(cred.rawId),
    type: cred.type,
    response: {
      authenticatorData: bytesToB64url(r.authenticatorData),
      clientDataJSON: bytesToB64url(r.clientDataJSON),
      signature: bytesToB64url(r.signature),
      userHandle: r.userHandle ? bytesToB64url(r.userHandle) : null,
    },
    extensions: cred.getClientExtensionResults(),
  });
  form.submit();
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-webauthn-get]");
  if (form && window.PublicKeyCredential) {
    form.addEventListener("submit", (e) => {
      if (form.querySelector("#webauthn-result").value) return;
      e.preventDefault();
      securityKey(form).catch(() => { form.querySelector("#webauthn-start").disabled = false; });
    });
  }
  document.querySelectorAll("[data-print]").forEach((b) => {
    b.hidden = false;
    b.addEventListener("click", () => window.print());
  });
});
