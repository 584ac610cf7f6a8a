// driver.mjs runs headless Chromium (Debian's, never a downloaded one) under
// playwright-core for the Go e2e harness. It reads one JSON command per line
// on stdin and answers each with one JSON line on stdout:
//   {"id":1,"op":"goto","url":"http://…"}     → {"id":1,"ok":true}
//   {"id":2,"op":"eval","expr":"1+1"}         → {"id":2,"ok":true,"value":2}
//   {"id":3,"op":"click","x":10,"y":20}       (also "move", "type", "press", "screenshot")
// A failed command answers {"id":n,"ok":false,"error":"…"}. Page console
// messages and errors go to stderr. Environment: REACH_WEB_DIR (where
// node_modules is), REACH_CHROMIUM (default /usr/bin/chromium),
// REACH_USER_DATA_DIR (a fresh directory).
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const webDir = process.env.REACH_WEB_DIR;
const require = createRequire(webDir + "/package.json");
const { chromium } = require("playwright-core");

const context = await chromium.launchPersistentContext(process.env.REACH_USER_DATA_DIR, {
  executablePath: process.env.REACH_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1000, height: 720 },
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
  ],
});
const page = context.pages()[0] ?? (await context.newPage());
page.on("console", (m) => process.stderr.write(`page ${m.type()}: ${m.text()}\n`));
page.on("pageerror", (e) => process.stderr.write(`page error: ${e.message}\n`));

async function run(cmd) {
  switch (cmd.op) {
    case "goto":
      await page.goto(cmd.url, { waitUntil: "load" });
      return null;
    case "eval":
      return await page.evaluate(cmd.expr);
    case "click":
      await page.mouse.click(cmd.x, cmd.y, { button: cmd.button ?? "left" });
      return null;
    case "move":
      await page.mouse.move(cmd.x, cmd.y, { steps: cmd.steps ?? 1 });
      return null;
    case "type":
      await page.keyboard.type(cmd.text, { delay: cmd.delay ?? 0 });
      return null;
    case "press":
      await page.keyboard.press(cmd.key);
      return null;
    case "screenshot":
      await page.screenshot({ path: cmd.path });
      return null;
    default:
      throw new Error("unknown op " + cmd.op);
  }
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const cmd = JSON.parse(line);
  let reply;
  try {
    reply = { id: cmd.id, ok: true, value: (await run(cmd)) ?? null };
  } catch (err) {
    reply = { id: cmd.id, ok: false, error: String(err?.message ?? err) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
}
await context.close();
