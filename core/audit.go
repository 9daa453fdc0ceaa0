package core

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// audit emits one structured authentication event. It never receives token
// material, passwords, cookies or keys: callers pass only ids and reasons.
// User-supplied fields are cleaned of control characters and bounded.
func (s *Service) audit(ctx context.Context, level slog.Level, event string, c ClientInfo, subject, sid, reason string, extra ...slog.Attr) {
	s.countEvent(ctx, event)
	if !s.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 8+len(extra))
	attrs = append(attrs, slog.String("event", event))
	if subject != "" {
		attrs = append(attrs, slog.String("subject", cleanLogField(subject, 128)))
	}
	if sid != "" {
		attrs = append(attrs, slog.String("session_id", cleanLogField(sid, 64)))
	}
	if reason != "" {
		attrs = append(attrs, slog.String("reason", cleanLogField(reason, 256)))
	}
	attrs = append(attrs,
		slog.String("ip", cleanLogField(c.IP, 64)),
		slog.String("user_agent", cleanLogField(c.UserAgent, 256)),
	)
	if c.RequestID != "" {
		attrs = append(attrs, slog.String("request_id", cleanLogField(c.RequestID, 128)))
	}
	attrs = append(attrs, extra...)
	s.log.LogAttrs(ctx, level, "authguard: "+event, attrs...)
}

// cleanLogField escapes control characters (CR, LF, and the rest), replaces
// invalid UTF-8 and bounds the length, so a client cannot forge log lines.
func cleanLogField(v string, max int) string {
	clean := len(v) <= max && utf8.ValidString(v)
	if clean {
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] == 0x7f {
				clean = false
				break
			}
		}
	}
	if clean {
		return v
	}
	var b strings.Builder
	for i, r := range v {
		if i >= max {
			b.WriteString("...")
			break
		}
		switch {
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case r < 0x20 || r == 0x7f:
			const hex = "0123456789abcdef"
			b.WriteString(`\x`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// levelFor picks the log level of a refused request: store or policy
// outages are errors, everything a client can cause is informational.
func levelFor(err error) slog.Level {
	switch {
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrInternal):
		return slog.LevelError
	case errors.Is(err, ErrInsufficientScope):
		return slog.LevelWarn
	default:
		return slog.LevelInfo
	}
}

// Audit emits one structured event caused by err, for the HTTP layer: the
// level follows the error's kind (outages are errors, refused permissions
// warnings, the rest informational) and the reason is ReasonOf(err). String
// attributes in extra are cleaned like every client-supplied field. Never
// pass token material, passwords, cookies or keys.
func (s *Service) Audit(ctx context.Context, event string, err error, c ClientInfo, subject, sid string, extra ...slog.Attr) {
	level := levelFor(err)
	if !s.log.Enabled(ctx, level) {
		return
	}
	extra = append([]slog.Attr(nil), extra...)
	for i, a := range extra {
		if a.Value.Kind() == slog.KindString {
			extra[i] = slog.String(a.Key, cleanLogField(a.Value.String(), 256))
		}
	}
	s.audit(ctx, level, event, c, subject, sid, ReasonOf(err), extra...)
}
