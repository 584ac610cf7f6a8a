package pgtest

import "syscall"

// sysProcAttr runs a server process as cred (if not nil) in its own process
// group, and kills it if the test binary dies without stopping it.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
