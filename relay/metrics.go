package relay

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the relay's Prometheus series, all prefixed reach_relay_.
type metrics struct {
	connections  *prometheus.GaugeVec   // by kind
	authFailures prometheus.Counter     // hellos refused
	received     *prometheus.CounterVec // messages by type
	errors       *prometheus.CounterVec // errors sent, by code
	rateLimited  prometheus.Counter     // connections closed for flooding
	codes        *prometheus.CounterVec // by result: created, redeemed, invalid, rate_limited
	sessions     *prometheus.CounterVec // by event: started, denied, resumed, ended
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "reach_relay_connections", Help: "Authenticated WebSocket connections, by kind.",
		}, []string{"kind"}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "reach_relay_hello_refused_total", Help: "Connections refused at hello (bad token, old client, malformed).",
		}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reach_relay_messages_received_total", Help: "Valid messages received, by type.",
		}, []string{"type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reach_relay_errors_total", Help: "Error messages sent to clients, by code.",
		}, []string{"code"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "reach_relay_rate_limited_connections_total", Help: "Connections closed for exceeding the message rate.",
		}),
		codes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reach_relay_codes_total", Help: "Session code events, by result.",
		}, []string{"result"}),
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reach_relay_sessions_total", Help: "Session events: started, denied, resumed, ended.",
		}, []string{"event"}),
	}
	if reg != nil {
		reg.MustRegister(m.connections, m.authFailures, m.received, m.errors, m.rateLimited, m.codes, m.sessions)
	}
	return m
}
