// The signed-in user's account: two-factor authentication (enroll with a
// QR code, confirm, recovery codes shown once; disable) and password.

import { get, post } from "../api.js";
import type { Me } from "../api.js";
import { h, replace } from "../dom.js";
import { field, form, input, toast } from "../ui.js";

/** accountPage is /account. */
export async function accountPage(main: HTMLElement): Promise<void> {
  const me = await get<Me & { recovery_codes_left?: number }>("/auth/me");
  const twoFactor = h("section", { class: "panel", "aria-labelledby": "tfa-title" }, h("h2", { id: "tfa-title" }, "Two-factor authentication"));
  const paint = (enabled: boolean) => {
    if (enabled) {
      const f = form([
        h("p", {}, "Two-factor authentication is on. ", `${me.recovery_codes_left ?? 0} recovery codes left.`),
        field("Password", input("password", { type: "password", autocomplete: "current-password", required: true })),
        field("Authentication code", input("code", { inputmode: "numeric", autocomplete: "one-time-code", required: true, maxlength: 20 })),
      ], "Turn off two-factor authentication", async (d) => {
        await post("/auth/totp/disable", { password: d.get("password"), code: d.get("code") });
        toast("Two-factor authentication is off");
        paint(false);
      });
      replace(twoFactor, h("h2", { id: "tfa-title" }, "Two-factor authentication"), f);
      return;
    }
    const start = h("button", { type: "button", class: "primary", id: "totp-start" }, "Set up two-factor authentication");
    start.addEventListener("click", async () => {
      const en = await post<{ secret: string; otpauth_url: string; qr_png: string; state: string }>("/auth/totp/enroll");
      const f = form([
        h("p", {}, "Scan the code with an authenticator app, or type the key, then enter the 6-digit code it shows."),
        en.qr_png.startsWith("data:image/png;base64,") ? h("img", { src: en.qr_png, alt: "QR code for your authenticator app", width: 200, height: 200 }) : null,
        h("p", {}, "Key: ", h("code", { id: "totp-secret" }, en.secret)),
        field("Code", input("code", { inputmode: "numeric", autocomplete: "one-time-code", required: true, pattern: "[0-9]{6}", maxlength: 6, id: "totp-code" })),
      ], "Turn on", async (d) => {
        const r = await post<{ recovery_codes: string[] }>("/auth/totp/confirm", { state: en.state, code: d.get("code") });
        replace(twoFactor, h("h2", { id: "tfa-title" }, "Two-factor authentication is on"),
          h("p", { role: "alert" }, "Keep these recovery codes somewhere safe. Each signs you in once if you lose your device; they are not shown again."),
          h("pre", { class: "raw", id: "recovery-codes" }, r.recovery_codes.join("\n")));
      });
      replace(twoFactor, h("h2", { id: "tfa-title" }, "Two-factor authentication"), f);
      (f.querySelector("#totp-code") as HTMLInputElement | null)?.focus();
    });
    replace(twoFactor, h("h2", { id: "tfa-title" }, "Two-factor authentication"), h("p", {}, "Two-factor authentication is off."), start);
  };
  paint(me.user.totp_enabled ?? false);
  const pw = form([
    field("Current password", input("current", { type: "password", autocomplete: "current-password", required: true })),
    field("New password", input("new", { type: "password", autocomplete: "new-password", required: true, minlength: 12 })),
  ], "Change password", async (d) => {
    await post("/auth/password", { current_password: d.get("current"), new_password: d.get("new") });
    toast("Password changed");
  });
  replace(main, h("h1", {}, "Your account"), h("div", { class: "grid2" }, twoFactor,
    h("section", { class: "panel", "aria-labelledby": "pw-title" }, h("h2", { id: "pw-title" }, "Password"), pw)));
}
