package api

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/reachdesk/reach/console"
)

// EventRecordingAttached is the ticket event written when a recording
// arrives after its session's log was attached: RefID is the session.
const EventRecordingAttached console.TicketEventKind = "recording_attached"

// recordingTypes are the recording formats accepted, by content type: the
// file suffix stored in the blob key and a check of the file's first bytes.
var recordingTypes = map[string]struct {
	suffix string
	magic  func([]byte) bool
}{
	// WebM is Matroska: an EBML header.
	"video/webm": {".webm", func(b []byte) bool { return bytes.HasPrefix(b, []byte{0x1A, 0x45, 0xDF, 0xA3}) }},
	// MP4 starts with a box whose type is ftyp.
	"video/mp4": {".mp4", func(b []byte) bool { return len(b) >= 8 && string(b[4:8]) == "ftyp" }},
}

// recordingType returns the content type of a recording's blob key.
func recordingType(key string) string {
	switch filepath.Ext(key) {
	case ".webm":
		return "video/webm"
	case ".mp4":
		return "video/mp4"
	}
	return "application/octet-stream"
}

// putRecording stores the session's recording: the raw video as body.
// Recordings are immutable: a second upload is refused until an admin
// deletes the first.
func (s *Server) putRecording(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.session(r, p, true)
	if err != nil {
		return err
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	kind, ok := recordingTypes[mt]
	if err != nil || !ok {
		return &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			msg: "a recording must be video/webm or video/mp4"}
	}
	if ss.RecordingKey != "" {
		return errConflict("the session already has a recording")
	}
	max := s.opts.MaxRecordingBytes
	tooLarge := &apiError{status: http.StatusRequestEntityTooLarge, code: "too_large",
		msg: fmt.Sprintf("recordings are limited to %d bytes", max)}
	if r.ContentLength > max {
		return tooLarge
	}
	body := http.MaxBytesReader(w, r.Body, max)
	head := make([]byte, 12)
	n, err := io.ReadFull(body, head)
	var tooL *http.MaxBytesError
	switch {
	case errors.As(err, &tooL):
		return tooLarge
	case n == 0:
		return errBadRequest("the recording is empty")
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return err
	case !kind.magic(head[:n]):
		return errBadRequest("the body is not a %s file", mt)
	}
	key, sum, size, err := s.saveBlob("recordings", kind.suffix, io.MultiReader(bytes.NewReader(head[:n]), body))
	if errors.As(err, &tooL) {
		return tooLarge
	} else if err != nil {
		return err
	}
	ctx := r.Context()
	ss, err = s.store.UpdateSession(ctx, ss.ID, console.SessionUpdate{RecordingKey: &key})
	if err != nil {
		s.removeBlob(ctx, key)
		return err
	}
	detail, _ := json.Marshal(map[string]any{"content_type": mt, "size": size, "sha256": hex.EncodeToString(sum),
		"uploaded_by": p.user.ID})
	if err := s.store.AppendSessionEvents(ctx, []*console.SessionEvent{{SessionID: ss.ID, Source: console.SourceConsole,
		Type: "recording_stored", Detail: detail}}); err != nil {
		return err
	}
	// A session's log is attached to its ticket when it ends; a recording
	// uploaded after that gets its own note on the ticket.
	if !ss.EndedAt.IsZero() && ss.TicketID != 0 {
		c := &console.Comment{TicketID: ss.TicketID, AuthorID: p.user.ID, Internal: true,
			Body: fmt.Sprintf("Recording of remote session #%d (%s, %d bytes): /api/v1/sessions/%d/recording\n", ss.ID, mt, size, ss.ID)}
		if err := s.store.AddComment(ctx, c); err != nil {
			return err
		}
		if err := s.store.AddTicketEvent(ctx, &console.TicketEvent{TicketID: ss.TicketID, ActorID: p.user.ID,
			Kind: EventRecordingAttached, RefID: ss.ID}); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"session": toSession(ss),
		"recording": map[string]any{"content_type": mt, "size": size, "sha256": hex.EncodeToString(sum)}})
	return nil
}

// getRecording serves the session's recording as a download, with byte
// ranges for seeking.
func (s *Server) getRecording(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.session(r, p, false)
	if err != nil {
		return err
	}
	if ss.RecordingKey == "" {
		return errNotFound("recording")
	}
	file, err := s.blobPath(ss.RecordingKey)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return errNotFound("recording file")
	} else if err != nil {
		return err
	}
	defer f.Close()
	var mod time.Time
	if fi, err := f.Stat(); err == nil {
		mod = fi.ModTime()
	}
	w.Header().Set("Content-Type", recordingType(ss.RecordingKey))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="session-%d%s"`, ss.ID, filepath.Ext(ss.RecordingKey)))
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", mod, f)
	return nil
}

// deleteRecording removes the session's recording (admins: retention,
// or a recording that should not have been made).
func (s *Server) deleteRecording(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.session(r, p, false)
	if err != nil {
		return err
	}
	if ss.RecordingKey == "" {
		return errNotFound("recording")
	}
	ctx := r.Context()
	empty := ""
	if _, err := s.store.UpdateSession(ctx, ss.ID, console.SessionUpdate{RecordingKey: &empty}); err != nil {
		return err
	}
	s.removeBlob(ctx, ss.RecordingKey)
	detail, _ := json.Marshal(map[string]any{"deleted_by": p.user.ID})
	if err := s.store.AppendSessionEvents(ctx, []*console.SessionEvent{{SessionID: ss.ID, Source: console.SourceConsole,
		Type: "recording_deleted", Detail: detail}}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
