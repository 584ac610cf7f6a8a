package api

import (
	"context"

	"github.com/reachdesk/reach/console/webhook"
)

// Events receives the API's ticket and session events (implemented by
// *webhook.Dispatcher).
type Events interface {
	Publish(ctx context.Context, e webhook.Event) error
}

// publish hands an event to Options.Events, if any; a failure is logged,
// never the request's failure (the change is already stored).
func (s *Server) publish(ctx context.Context, typ string, data any) {
	if s.opts.Events == nil {
		return
	}
	if err := s.opts.Events.Publish(ctx, webhook.Event{Type: typ, At: s.now(), Data: data}); err != nil {
		s.log.WarnContext(ctx, "api: publish event", "type", typ, "err", err)
	}
}
