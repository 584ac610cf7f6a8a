package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/reachdesk/reach/console"
)

// AttachDiagnosticRun implements console.DiagnosticRunService.
func (db *DB) AttachDiagnosticRun(ctx context.Context, resultID, ticketID int64) ([]*console.DiagnosticResult, error) {
	var rs []*console.DiagnosticResult
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var ok int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM tickets WHERE id = $1`, ticketID).Scan(&ok); errors.Is(err, pgx.ErrNoRows) {
			return console.Errorf(console.CodeNotFound, "attach diagnostics: ticket not found")
		} else if err != nil {
			return err
		}
		var cmd *int64
		if err := tx.QueryRow(ctx, `SELECT command_id FROM diagnostic_results WHERE id = $1`, resultID).Scan(&cmd); errors.Is(err, pgx.ErrNoRows) {
			return console.Errorf(console.CodeNotFound, "attach diagnostics: result not found")
		} else if err != nil {
			return err
		}
		run, arg := `id = $1`, resultID
		if cmd != nil {
			run, arg = `command_id = $1`, *cmd
		}
		if _, err := tx.Exec(ctx, `UPDATE diagnostic_results SET ticket_id = $2 WHERE `+run, arg, ticketID); err != nil {
			return err
		}
		var err error
		rs, err = queryAll(ctx, tx, scanDiagnostic, `SELECT `+diagnosticCols+` FROM diagnostic_results WHERE `+run+` ORDER BY id`, arg)
		return err
	})
	if err != nil {
		return nil, wrap("attach diagnostics", err)
	}
	return rs, nil
}
