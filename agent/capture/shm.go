//go:build linux

package capture

import (
	"fmt"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/shm"
	"golang.org/x/sys/unix"
)

// segment is a System V shared-memory segment attached both here and in
// the X server, which writes captured pixels into it.
type segment struct {
	id   int
	seg  shm.Seg
	data []byte
}

// newSegment creates a size-byte segment readable only by this user and
// attaches it to conn. The segment is marked for removal at once, so the
// kernel frees it when both sides detach, even if this process crashes.
func newSegment(conn *xgb.Conn, size int) (*segment, error) {
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, size, unix.IPC_CREAT|0o600)
	if err != nil {
		return nil, fmt.Errorf("create %d-byte shared memory: %w", size, err)
	}
	s := &segment{id: id}
	defer func() {
		// Removal takes effect once the last process detaches.
		unix.SysvShmCtl(id, unix.IPC_RMID, nil)
	}()
	if s.data, err = unix.SysvShmAttach(id, 0, 0); err != nil {
		return nil, fmt.Errorf("attach shared memory: %w", err)
	}
	if s.seg, err = shm.NewSegId(conn); err == nil {
		err = shm.AttachChecked(conn, s.seg, uint32(id), false).Check()
	}
	if err != nil {
		unix.SysvShmDetach(s.data)
		return nil, fmt.Errorf("X server attach shared memory: %w", err)
	}
	return s, nil
}

// release detaches the segment from conn (unless conn is nil, as when the
// server is gone) and from this process.
func (s *segment) release(conn *xgb.Conn) {
	if conn != nil {
		shm.Detach(conn, s.seg)
	}
	unix.SysvShmDetach(s.data)
}
