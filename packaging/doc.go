// Package packaging holds what the .deb and .rpm packages of reach-agent,
// reach-relay and reach-console are made of: nfpm configurations (nfpm/),
// systemd units (systemd/), default configs (config/) and maintainer
// scripts (scripts/). scripts/package.sh builds the packages (`make
// package`); this package's tests build them and check their contents,
// metadata, scripts and units.
//
// The agent's unit is generated from installer.Unit so that `reach-agent
// install` and the package install the same hardened unit; TestAgentUnit
// fails when they drift (REACH_UPDATE_GOLDEN=1 rewrites it).
package packaging
