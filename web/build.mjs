// build.mjs bundles the session client and the test page into dist/ with
// esbuild: ES modules, no external imports, source maps for debugging.
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";

const common = { bundle: true, format: "esm", target: "es2022", sourcemap: true, logLevel: "warning" };
await mkdir("dist", { recursive: true });
await build({ ...common, entryPoints: ["client/index.ts"], outfile: "dist/reach-client.js" });
await build({ ...common, entryPoints: ["testpage/testpage.ts"], outfile: "dist/testpage.js" });
await copyFile("testpage/index.html", "dist/index.html");
