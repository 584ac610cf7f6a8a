// Package e2e holds Reach's end-to-end tests and benchmarks: they build the
// real binaries, start Xvfb, the relay and (when needed) the agent as
// processes, serve the browser client from web/dist, and drive Debian's
// headless Chromium through playwright-core (driver.mjs) as the technician.
//
// The tests need `npm ci` in web/ (scripts/setup.sh runs it); without
// web/node_modules they fail and say so, they never skip.
package e2e
