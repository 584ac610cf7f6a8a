// Sign-in: password, then the TOTP code when two-factor is on.

import { post, setCSRF } from "../api.js";
import type { LoginResult, Me } from "../api.js";
import { h, replace } from "../dom.js";
import { field, form, input } from "../ui.js";

/** login renders the sign-in form and calls done once fully signed in. */
export function login(main: HTMLElement, done: (me: Me) => void): void {
  const email = input("email", { type: "email", autocomplete: "username", required: true, id: "login-email" });
  const password = input("password", { type: "password", autocomplete: "current-password", required: true, id: "login-password" });
  const f = form([field("Email", email), field("Password", password)], "Sign in", async (data) => {
    const r = await post<LoginResult>("/auth/login", { email: data.get("email"), password: data.get("password") });
    if (r.csrf_token) setCSRF(r.csrf_token);
    if (r.mfa_required) {
      totp(main, done);
      return;
    }
    if (r.user && r.csrf_token) done({ user: r.user, csrf_token: r.csrf_token });
  }, { id: "login-form", "aria-labelledby": "login-title" });
  replace(main, h("section", { class: "panel login" }, h("h1", { id: "login-title" }, "Sign in to Reach"), f));
  email.focus();
}

function totp(main: HTMLElement, done: (me: Me) => void): void {
  const code = input("code", { inputmode: "numeric", autocomplete: "one-time-code", required: true, pattern: "[0-9]{6}|[A-Za-z0-9-]{8,}", id: "login-totp", maxlength: 20 });
  const f = form([field("Authentication code", code, "The 6-digit code from your authenticator app, or a recovery code.")], "Verify", async (data) => {
    const code = String(data.get("code") ?? "").replace(/\s/g, "");
    // Six digits are a TOTP code; anything else is a recovery code.
    const r = await post<LoginResult>("/auth/login/totp", /^[0-9]{6}$/.test(code) ? { code } : { recovery_code: code });
    if (r.csrf_token) setCSRF(r.csrf_token);
    if (r.user && r.csrf_token) done({ user: r.user, csrf_token: r.csrf_token });
  }, { id: "totp-form", "aria-labelledby": "totp-title" });
  replace(main, h("section", { class: "panel login" }, h("h1", { id: "totp-title" }, "Two-factor authentication"), f));
  code.focus();
}
