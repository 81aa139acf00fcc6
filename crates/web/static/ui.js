// Progressive enhancement only: every page works without this file except
// the security key and passkey steps (signing in and registering), which
// need the browser's WebAuthn API. The server's options arrive in a data
// attribute, the browser's answer leaves in a hidden field.
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

async function register(form) {
  const options = JSON.parse(form.dataset.webauthnCreate);
  const pk = options.publicKey;
  pk.challenge = b64urlToBytes(pk.challenge);
  pk.user.id = b64urlToBytes(pk.user.id);
  (pk.excludeCredentials || []).forEach((c) => { c.id = b64urlToBytes(c.id); });
  const cred = await navigator.credentials.create({ publicKey: pk });
  const r = cred.response;
  form.querySelector("#webauthn-result").value = JSON.stringify({
    id: cred.id,
    rawId: bytesToB64url(cred.rawId),
    type: cred.type,
    response: {
      attestationObject: bytesToB64url(r.attestationObject),
      clientDataJSON: bytesToB64url(r.clientDataJSON),
    },
    extensions: cred.getClientExtensionResults(),
  });
  form.submit();
}

// The form's submit runs the ceremony first, then submits with its answer.
function ceremony(selector, run) {
  const form = document.querySelector(selector);
  if (!form || !window.PublicKeyCredential) return;
  form.addEventListener("submit", (e) => {
    if (form.querySelector("#webauthn-result").value) return;
    e.preventDefault();
    run(form).catch((err) => {
      // Kept on the form for diagnosis (the browser tests report it).
      form.dataset.webauthnError = `${err.name}: ${err.message}`;
      form.querySelector("#webauthn-start").disabled = false;
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  ceremony("form[data-webauthn-get]", securityKey);
  ceremony("form[data-webauthn-create]", register);
  document.querySelectorAll("[data-print]").forEach((b) => {
    b.hidden = false;
    b.addEventListener("click", () => window.print());
  });
});
