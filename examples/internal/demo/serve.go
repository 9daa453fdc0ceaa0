package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// HTTP server limits shared by the examples (the fiber example applies the
// same numbers to fasthttp).
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 15 * time.Second
	WriteTimeout      = 15 * time.Second
	IdleTimeout       = 60 * time.Second
	MaxHeaderBytes    = 16 << 10
	// ShutdownTimeout bounds the wait for in-flight requests after a signal.
	ShutdownTimeout = 10 * time.Second
)

// Logger returns the servers' logger on stderr: text when stderr is a
// terminal, JSON (one object per line) otherwise.
func Logger() *slog.Logger {
	return NewLogger(os.Stderr, !isTerminal(os.Stderr))
}

// NewLogger returns a JSON or text slog logger writing to w at level Info,
// with every record's time in UTC (audit events carry UTC times).
func NewLogger(w io.Writer, json bool) *slog.Logger {
	opts := &slog.HandlerOptions{ReplaceAttr: utcTime}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func utcTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
		a.Value = slog.TimeValue(a.Value.Time().UTC())
	}
	return a
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// SignalContext returns a context that ends with ctx or on SIGINT or SIGTERM.
// Call stop as soon as shutdown starts, so a second signal ends the process
// at once.
func SignalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

// NewHTTPServer returns an http.Server for h with the shared timeouts and
// header limit; its own error log goes to logger at level Warn.
func NewHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Listen opens the TCP listener of the configured address.
func (a *App) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return nil, fmt.Errorf("demo: %s=%s: %w", EnvAddr, a.Config.Addr, err)
	}
	return ln, nil
}

// Serve serves h (a chi or gin router) on the configured address until ctx
// ends or the process gets SIGINT or SIGTERM, then shuts down cleanly:
// in-flight requests get ShutdownTimeout to finish. router names the
// example in the start line.
func (a *App) Serve(ctx context.Context, router string, h http.Handler) error {
	ln, err := a.Listen()
	if err != nil {
		return err
	}
	return a.ServeListener(ctx, ln, router, h)
}

// ServeListener is Serve on an open listener (tests pass 127.0.0.1:0). It
// closes ln.
func (a *App) ServeListener(ctx context.Context, ln net.Listener, router string, h http.Handler) error {
	srv := NewHTTPServer(h, a.Logger)
	return a.Run(ctx, ln, router,
		func() error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
		srv.Shutdown)
}

// Run is the serve-until-signal loop shared by the net/http and the fiber
// examples: it logs the start line, runs serve (which blocks while the
// server runs), and when ctx ends or a signal arrives calls shutdown with a
// ShutdownTimeout deadline and waits for serve to return.
func (a *App) Run(ctx context.Context, ln net.Listener, router string, serve func() error, shutdown func(context.Context) error) error {
	ctx, stop := SignalContext(ctx)
	defer stop()
	addr := ln.Addr().String()
	// The listener is bound: connections wait in its backlog until serve
	// runs, so the start line can be written first.
	a.LogStart(addr, router)
	errc := make(chan error, 1)
	go func() { errc <- serve() }()

	select {
	case err := <-errc:
		if err == nil {
			err = errors.New("server stopped unexpectedly")
		}
		return fmt.Errorf("demo: serving on %s: %w", addr, err)
	case <-ctx.Done():
	}
	stop()
	a.Logger.Info("shutting down", slog.String("addr", addr), slog.String("timeout", ShutdownTimeout.String()))
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	shutErr := shutdown(sctx)
	serveErr := <-errc
	if err := errors.Join(shutErr, serveErr); err != nil {
		return fmt.Errorf("demo: shutdown: %w", err)
	}
	a.Logger.Info("server stopped", slog.String("addr", addr))
	return nil
}
