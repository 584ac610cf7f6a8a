// screenshots.mjs signs in to a running console with Debian's Chromium
// (playwright-core, no browser download), visits pages at a laptop's
// 1366x768, checks each one and saves a PNG of it. The e2e test
// TestConsoleTour runs it against a seeded console; `REACH_SCREENSHOTS=1`
// there writes the PNGs to docs/screenshots/.
//
// Environment: REACH_URL (console), REACH_EMAIL, REACH_PASSWORD,
// REACH_PAGES (JSON list of {name, path, wait, click?}), REACH_OUT (folder),
// REACH_CHROMIUM (default /usr/bin/chromium), REACH_USER_DATA_DIR.
// Prints one JSON line: {pages: [{name, overflowX, unlabelled, cspViolations, errors}]}.
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

const env = (k, d) => process.env[k] ?? d;
const base = env("REACH_URL");
const pages = JSON.parse(env("REACH_PAGES", "[]"));
const out = env("REACH_OUT", ".");

const context = await chromium.launchPersistentContext(env("REACH_USER_DATA_DIR", ""), {
  executablePath: env("REACH_CHROMIUM", "/usr/bin/chromium"),
  headless: true,
  viewport: { width: 1366, height: 768 },
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] ?? (await context.newPage());
const errors = [];
page.on("pageerror", (e) => errors.push(e.message));
page.on("console", (m) => {
  if (m.type() === "error") errors.push(m.text());
});
await page.addInitScript(() => {
  window.__csp = 0;
  document.addEventListener("securitypolicyviolation", () => window.__csp++);
});

await page.goto(base + "/tickets");
await page.locator("#login-email").fill(env("REACH_EMAIL"));
await page.locator("#login-password").fill(env("REACH_PASSWORD"));
await page.keyboard.press("Enter");
await page.locator("#me-name").waitFor();

const report = [];
for (const p of pages) {
  errors.length = 0;
  await page.goto(base + p.path);
  await page.locator(p.wait).first().waitFor({ timeout: 20000 });
  if (p.click) {
    await page.locator(p.click).click();
    if (p.waitAfter) await page.locator(p.waitAfter).first().waitFor({ timeout: 20000 });
  }
  await page.waitForTimeout(300); // let charts and countdowns paint
  const checks = await page.evaluate(() => {
    // Every form control needs an accessible name.
    const unlabelled = [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
      .filter((el) => !(el.labels?.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")))
      .map((el) => el.outerHTML.slice(0, 120));
    return {
      overflowX: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      unlabelled,
      cspViolations: window.__csp,
    };
  });
  await page.screenshot({ path: join(out, p.name + ".png") });
  report.push({ name: p.name, ...checks, errors: [...errors] });
}
await context.close();
process.stdout.write(JSON.stringify({ pages: report }) + "\n");
