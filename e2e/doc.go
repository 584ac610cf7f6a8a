// Package e2e holds Reach's end-to-end tests and benchmarks: they build the
// real binaries, start Xvfb, the relay and (when needed) the agent as
// processes, serve the browser client from web/dist, and drive Debian's
// headless Chromium through playwright-core (driver.mjs) as the technician.
// A pion stand-in agent (peer_test.go) checks the client's conformance on
// its own; the TestAgent tests run the real reach-agent.
//
// The tests need `npm ci` in web/ (scripts/setup.sh runs it); without
// web/node_modules they fail and say so, they never skip. Set
// REACH_E2E_VERBOSE=1 to see the processes' and the page's logs.
//
// The session benchmark (latency, fps, bandwidth) prints a table:
//
//	go test ./e2e -run '^$' -bench BenchmarkSession -benchtime 1x
package e2e
