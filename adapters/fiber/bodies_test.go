package fiberauth_test

import (
	"net"
	"testing"
	"time"

	fiberauth "github.com/authguard/authguard/adapters/fiber"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/authguard/authguard/core/authtest"
	"github.com/gofiber/fiber/v2"
)

// listen serves app on a loopback port and returns its base URL.
func listen(t *testing.T, app *fiber.App) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Listener(lingering{ln}) }()
	t.Cleanup(func() {
		_ = app.Shutdown()
		<-done
	})
	return "http://" + ln.Addr().String()
}

// Every oversized body gets the contract's 413 over a real socket, also
// those fasthttp refuses before any handler runs (over fiber's BodyLimit),
// once the app's ErrorHandler is fiberauth.ErrorHandler.
func TestLargeBodiesOverSockets(t *testing.T) {
	if testing.Short() {
		t.Skip("sends some 500 MiB over loopback")
	}
	f := authtest.New(t, authtest.Options{})
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ErrorHandler: fiberauth.ErrorHandler(f.Service, nil)})
	fiberauth.Mount(app, f.Service)
	adaptertest.CheckLargeBodies(t, f.Service, listen(t, app), 3)
}

// lingering (as the README recommends) closes a connection as net/http does after refusing a body it
// did not read: the answer is sent and the write side shut, and the socket
// is closed only after a delay, so that the client reads the answer before
// the reset that closing with unread data provokes.
type lingering struct{ net.Listener }

func (l lingering) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return lingerConn{c.(*net.TCPConn)}, nil
}

type lingerConn struct{ *net.TCPConn }

func (c lingerConn) Close() error {
	_ = c.CloseWrite()
	go func() {
		time.Sleep(500 * time.Millisecond)
		_ = c.TCPConn.Close()
	}()
	return nil
}
