package console

import "context"

// EventDiagnosticsAttached is the ticket event written when a diagnostics
// run is attached to a ticket: RefID is the result the caller named.
const EventDiagnosticsAttached TicketEventKind = "diagnostics_attached"

// DiagnosticRunService attaches diagnostics runs to tickets.
type DiagnosticRunService interface {
	// AttachDiagnosticRun sets ticketID on result resultID and on every
	// result recorded for the same agent command (one run of checks), in
	// one transaction, and returns them in ID order. A result recorded
	// without a command is a run of its own. ErrNotFound if the result or
	// the ticket does not exist.
	AttachDiagnosticRun(ctx context.Context, resultID, ticketID int64) ([]*DiagnosticResult, error)
}
