package fiberauth_test

import (
	"strings"
	"testing"
	"time"

	fiberauth "github.com/authguard/authguard/adapters/fiber"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/authguard/authguard/core/authtest"
	"github.com/gofiber/fiber/v2"
)

// Bodies that lie about their length, huge chunk sizes and gzip, over a
// raw socket to a fiber app set up as the README says (ErrorHandler,
// lingering close) with a 1 s ReadTimeout: every answer is the contract's
// JSON or a clean close, never a plain-text error or a hang past the read
// timeout, and the server still logs in afterwards. The cases fiber cannot
// pass are named with the reason (a documented limit of fasthttp).
func TestAttackLyingBodies(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.LoginThrottle.DisabledUnsafe = true }})
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadTimeout: time.Second, ErrorHandler: fiberauth.ErrorHandler(f.Service, nil)})
	fiberauth.Mount(app, f.Service)
	timeout := "fasthttp waits for the declared body and answers its own plain-text 408 when the ReadTimeout ends (net/http refuses at once or closes)"
	adaptertest.CheckLyingBodies(t, strings.TrimPrefix(listen(t, app), "http://"), "/auth", map[string]string{
		"declares 100000, sends 10, stalls": timeout,
		"declares 1000, sends 10, stalls":   timeout,
		"chunk of 70 KiB, stalls":           timeout,
		"chunk of 2^64-1 bytes":             "fasthttp answers its own plain-text 400 \"too large hex number\" before any handler runs",
	})
}
