package report

// SetLimits lowers the outbox's bounds for tests.
func (o *Outbox) SetLimits(events, eventBytes, diagnostics int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.maxEvents, o.maxEventBytes, o.maxDiagnostics = events, eventBytes, diagnostics
}
