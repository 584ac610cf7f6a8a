package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/reachdesk/reach/console"
)

// AttachDiagnosticRun implements console.DiagnosticRunService.
func (db *DB) AttachDiagnosticRun(ctx context.Context, resultID, ticketID int64) ([]*console.DiagnosticResult, error) {
	var rs []*console.DiagnosticResult
	err := db.write(ctx, func(tx *sql.Tx) error {
		var ok int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM tickets WHERE id = ?`, ticketID).Scan(&ok); errors.Is(err, sql.ErrNoRows) {
			return console.Errorf(console.CodeNotFound, "attach diagnostics: ticket not found")
		} else if err != nil {
			return err
		}
		var cmd sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT command_id FROM diagnostic_results WHERE id = ?`, resultID).Scan(&cmd); errors.Is(err, sql.ErrNoRows) {
			return console.Errorf(console.CodeNotFound, "attach diagnostics: result not found")
		} else if err != nil {
			return err
		}
		run := `id = ?`
		arg := resultID
		if cmd.Valid {
			run, arg = `command_id = ?`, cmd.Int64
		}
		if _, err := tx.ExecContext(ctx, `UPDATE diagnostic_results SET ticket_id = ? WHERE `+run, ticketID, arg); err != nil {
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
