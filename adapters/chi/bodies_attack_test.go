package chiauth_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	chiauth "github.com/authguard/authguard/adapters/chi"
	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/adaptertest"
	"github.com/authguard/authguard/core/authtest"
)

// The lying bodies on chi (net/http) with a 1 s ReadTimeout: every answer
// is the contract's JSON or a clean close, and the server still logs in
// afterwards.
func TestAttackLyingBodies(t *testing.T) {
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.LoginThrottle.DisabledUnsafe = true }})
	r := chi.NewRouter()
	chiauth.Mount(r, f.Service)
	srv := httptest.NewUnstartedServer(r)
	srv.Config.ReadTimeout = time.Second
	srv.Start()
	defer srv.Close()
	adaptertest.CheckLyingBodies(t, strings.TrimPrefix(srv.URL, "http://"), "/auth", nil)
}
