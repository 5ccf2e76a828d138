package debitura

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"time"
)

// logAttempt logs the outcome of one attempt: operation, method, route template, status,
// attempt number, the wait before the next attempt (0 when there is none) and the request id.
// It never logs URLs, headers, bodies or credentials.
func (c *Client) logAttempt(ctx context.Context, level slog.Level, st *callState, status int, reqID string, wait time.Duration, err error) {
	msg := "debitura: attempt"
	switch {
	case level == slog.LevelWarn:
		msg = "debitura: retrying"
	case status >= 200 && status <= 299:
		msg = "debitura: done"
	case err != nil || status != 0:
		msg = "debitura: failed"
	}
	c.log(ctx, level, msg, st, status, reqID, wait, err)
}

func (c *Client) log(ctx context.Context, level slog.Level, msg string, st *callState, status int, reqID string, wait time.Duration, err error) {
	l := c.cfg.logger
	if l == nil || !l.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", st.r.op),
		slog.String("method", st.r.method),
		slog.String("route", st.r.route),
		slog.Int("attempt", st.attempts),
	}
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	if wait > 0 {
		attrs = append(attrs, slog.Duration("wait", wait))
	}
	if reqID != "" {
		attrs = append(attrs, slog.String("request_id", redact(reqID, c.cfg.apiKey.Reveal())))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", safeErrorText(err, c.cfg.apiKey.Reveal())))
	}
	l.LogAttrs(ctx, level, msg, attrs...)
}

// safeErrorText is the text of a transport error without the URL a *url.Error carries, with
// secrets removed.
func safeErrorText(err error, secrets ...string) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return redact(err.Error(), secrets...)
}
