package consent

// Unanswered is a Prompter's error when nobody could be asked, e.g. no one
// is signed in to the display or their consent window closed mid-question.
// Decide denies with Reason as the answer's reason, so the technician (and
// the session log) learns why instead of a bare "user".
type Unanswered struct {
	Reason string // shown to the technician: "nobody is signed in to answer"
}

// Error implements error.
func (e *Unanswered) Error() string { return "consent: " + e.Reason }
