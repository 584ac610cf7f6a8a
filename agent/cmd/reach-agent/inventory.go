package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/reachdesk/reach/agent/inventory"
	"github.com/reachdesk/reach/agent/inventory/glpi"
)

// runInventory collects the inventory and prints it.
func runInventory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inventory", "[-format json|table|glpi]", stderr)
	format := fs.String("format", "json", "output format: json (Reach schema), table (for people) or glpi (GLPI native inventory)")
	glpiTag := fs.String("glpi-tag", "", "GLPI agent tag to send with -format glpi (used by GLPI entity rules)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := oneOf(fs, "format", *format, "json", "table", "glpi"); err != nil {
		return err
	}
	r, err := inventory.New(inventory.Options{Logger: logger(stderr)}).Collect(ctx)
	if err != nil {
		return err
	}
	switch *format {
	case "table":
		return inventory.WriteTable(stdout, r)
	case "glpi":
		return writeJSON(stdout, glpi.Convert(r, glpi.Options{Tag: *glpiTag}))
	}
	return writeJSON(stdout, r)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
