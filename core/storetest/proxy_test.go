package storetest

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line and waits up to d for its echo.
func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, d time.Duration) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return 0, err
	}
	_ = c.SetReadDeadline(time.Now().Add(d))
	line, err := r.ReadString('\n')
	if err == nil && line != "ping\n" {
		t.Fatalf("echo %q", line)
	}
	return time.Since(start), err
}

// Each fault of the proxy does what it says, and Heal ends it.
func TestProxy(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c, bufio.NewReader(c)
	}
	c, r := dial()
	if _, err := roundTrip(t, c, r, time.Second); err != nil {
		t.Fatalf("healthy: %v", err)
	}

	p.Pause()
	if _, err := roundTrip(t, c, r, 150*time.Millisecond); err == nil {
		t.Fatal("paused: the echo came through")
	}
	p.Resume() // the held line and its echo flow now, on the same connection
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	if line, err := r.ReadString('\n'); err != nil || line != "ping\n" {
		t.Fatalf("resumed: %q %v", line, err)
	}

	p.Slow(100 * time.Millisecond)
	if took, err := roundTrip(t, c, r, time.Second); err != nil || took < 200*time.Millisecond {
		t.Fatalf("slow: %v after %v, want an echo after two delays", err, took)
	}
	p.Heal()

	p.DropResponses()
	if _, err := roundTrip(t, c, r, 150*time.Millisecond); err == nil {
		t.Fatal("answers dropped: the echo came through")
	}
	p.Heal() // the connection that lost bytes is closed
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("healed: a connection that lost bytes stayed open")
	}

	c, r = dial()
	p.Cut()
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("cut: the connection stayed open")
	}
	c2, r2 := dial() // accepted by the kernel, then closed at once
	if _, err := roundTrip(t, c2, r2, time.Second); err == nil {
		t.Fatal("cut: a new connection was served")
	}
	p.Heal()
	c3, r3 := dial()
	if _, err := roundTrip(t, c3, r3, time.Second); err != nil {
		t.Fatalf("healed: %v", err)
	}
}
