package turnsrv

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/logging"
)

// Log attribute keys.
const (
	keyClient     = "client"
	keyPeer       = "peer"
	keyRelay      = "relay"
	keyUser       = "user"
	keyReason     = "reason"
	keyMethod     = "method"
	keyPionScope  = "pion"
	keySuppressed = "suppressed"
)

// levelTrace is pion's trace level, below slog.LevelDebug.
const levelTrace = slog.LevelDebug - 4

// Log budget for paths a remote party can trigger at will (refused
// requests, pion's per-packet complaints).
const (
	logBurst    = 10
	logInterval = time.Second
)

// logLimiter lets at most logBurst records through per logInterval and
// counts the rest, so that a flood of bad requests cannot flood the log.
// The zero value is ready to use.
type logLimiter struct {
	mu          sync.Mutex
	windowStart time.Time // guarded by mu
	passed      int       // records let through since windowStart; guarded by mu
	dropped     int       // records dropped since windowStart; guarded by mu
}

// allow reports whether a record may be written at now, and how many were
// dropped in the previous window (reported once, with the first record of
// the next one).
func (l *logLimiter) allow(now time.Time) (ok bool, droppedBefore int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.windowStart) >= logInterval {
		droppedBefore = l.dropped
		l.windowStart, l.passed, l.dropped = now, 0, 0
	}
	if l.passed >= logBurst {
		l.dropped++
		return false, 0
	}
	l.passed++
	return true, droppedBefore
}

// log writes a record through lim if log is enabled at level.
func (l *logLimiter) log(log *slog.Logger, level slog.Level, msg string, args ...any) {
	ctx := context.Background()
	if !log.Enabled(ctx, level) {
		return
	}
	ok, dropped := l.allow(time.Now())
	if !ok {
		return
	}
	if dropped > 0 {
		args = append(args, slog.Int(keySuppressed, dropped))
	}
	log.Log(ctx, level, msg, args...)
}

// pionLoggerFactory bridges pion's logging to slog. Records at Info and
// above share one logLimiter, because pion logs some of them per packet
// (e.g. for every datagram from a peer without permission); Debug and Trace,
// enabled only when someone is debugging, pass unthrottled.
type pionLoggerFactory struct {
	log *slog.Logger
	lim *logLimiter
}

// NewLogger implements logging.LoggerFactory.
func (f pionLoggerFactory) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With(slog.String(keyPionScope, scope)), lim: f.lim}
}

// pionLogger implements logging.LeveledLogger on slog.
type pionLogger struct {
	log *slog.Logger
	lim *logLimiter
}

// write logs msg at level.
func (l pionLogger) write(level slog.Level, msg string) {
	if level >= slog.LevelInfo {
		l.lim.log(l.log, level, msg)
		return
	}
	l.log.Log(context.Background(), level, msg)
}

// logf formats only if level is enabled: pion calls Debugf per packet.
func (l pionLogger) logf(level slog.Level, format string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.write(level, fmt.Sprintf(format, args...))
	}
}

func (l pionLogger) Trace(msg string)                  { l.write(levelTrace, msg) }
func (l pionLogger) Tracef(format string, args ...any) { l.logf(levelTrace, format, args...) }
func (l pionLogger) Debug(msg string)                  { l.write(slog.LevelDebug, msg) }
func (l pionLogger) Debugf(format string, args ...any) { l.logf(slog.LevelDebug, format, args...) }
func (l pionLogger) Info(msg string)                   { l.write(slog.LevelInfo, msg) }
func (l pionLogger) Infof(format string, args ...any)  { l.logf(slog.LevelInfo, format, args...) }
func (l pionLogger) Warn(msg string)                   { l.write(slog.LevelWarn, msg) }
func (l pionLogger) Warnf(format string, args ...any)  { l.logf(slog.LevelWarn, format, args...) }
func (l pionLogger) Error(msg string)                  { l.write(slog.LevelError, msg) }
func (l pionLogger) Errorf(format string, args ...any) { l.logf(slog.LevelError, format, args...) }
