package inventory

// SchemaVersion is the version of the report format in every report's
// "schema" field. Adding, removing or changing a field bumps it; the console
// refuses reports with a newer schema with [ErrUnsupportedSchema].
//
// Changelog:
//   - 1 (2026-11-23): first version.
const SchemaVersion = 1

// Size bounds. A document over its Max*Size is refused before it is parsed;
// every string and list has its own bound, checked by Validate.
const (
	MaxReportSize = 8 << 20 // full report or delta, bytes
	MaxDiagSize   = 1 << 20 // diagnostics report, bytes

	// String bounds, in bytes.
	MaxShort = 128  // identifiers, serials, versions, states, addresses
	MaxName  = 256  // names, models, manufacturers, publishers, descriptions
	MaxLong  = 1024 // paths, reasons, summaries, log messages

	// List bounds, in entries.
	MaxPackages    = 20000
	MaxServices    = 4096
	MaxAccounts    = 4096
	MaxSessions    = 1024
	MaxFilesystems = 1024
	MaxUpdates     = 4096
	MaxInterfaces  = 256
	MaxAddresses   = 64 // per interface
	MaxDisks       = 256
	MaxModules     = 256
	MaxDisplays    = 32
	MaxGPUs        = 32
	MaxBatteries   = 8
	MaxResolvers   = 16 // DNS servers, search domains, gateways
	MaxSources     = 16 // package sources
	MaxReasons     = 16
	MaxDiagResults = 32
	MaxDiagItems   = 100 // entries in one diagnostic's details
)
