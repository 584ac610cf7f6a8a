// build.mjs bundles Reach's browser code with esbuild: ES modules, no
// external imports, nothing fetched at run time.
//   dist/                    session client and e2e test page (source maps)
//   ../console/webui/assets/ technician console, embedded by console/webui
//   ../agent/enduser/assets/ end-user pages, embedded by agent/enduser
// The embedded bundles are committed so that `go build` works without
// Node; e2e checks that they match their sources. `node build.mjs --out DIR`
// writes the embedded bundles under DIR instead (for that check).
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";

const common = { bundle: true, format: "esm", target: "es2022", sourcemap: true, logLevel: "warning" };
await mkdir("dist", { recursive: true });
await build({ ...common, entryPoints: ["client/index.ts"], outfile: "dist/reach-client.js" });
await build({ ...common, entryPoints: ["testpage/testpage.ts"], outfile: "dist/testpage.js" });
await copyFile("testpage/index.html", "dist/index.html");

// Embedded apps: minified, no source maps (they would ship the sources
// twice), deterministic output so the committed copy can be checked.
const outIdx = process.argv.indexOf("--out");
const root = outIdx > 0 ? process.argv[outIdx + 1] : "..";
const embedded = { bundle: true, format: "esm", target: "es2022", minify: true, legalComments: "none", logLevel: "warning", charset: "utf8" };
const apps = [
  { src: "console", entry: "console/main.ts", name: "console", out: join(root, "console/webui/assets") },
  { src: "enduser", entry: "enduser/enduser.ts", name: "enduser", out: join(root, "agent/enduser/assets") },
];
for (const app of apps) {
  await mkdir(app.out, { recursive: true });
  await build({ ...embedded, entryPoints: [app.entry], outfile: join(app.out, app.name + ".js") });
  await build({ ...embedded, entryPoints: [`${app.src}/${app.name}.css`], outfile: join(app.out, app.name + ".css") });
  await copyFile(`${app.src}/index.html`, join(app.out, "index.html"));
}
