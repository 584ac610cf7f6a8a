//go:build !linux

package pgtest

import "syscall"

// sysProcAttr returns nil: switching users and parent-death signals are
// only wired up on Linux, where the tests run as root in CI.
func sysProcAttr(*syscall.Credential) *syscall.SysProcAttr { return nil }
