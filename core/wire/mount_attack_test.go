package wire_test

import (
	"errors"
	"path"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/wire"
)

// FAILS: "/" (and "//") is accepted as "/" and gives routes at "//login";
// "/api//auth", "/api/./auth" and "/api/../auth" are kept as they are.
// Whatever MountPrefix is configured, the service either refuses it
// (ErrConfig) or serves its routes at clean paths under a prefix that is
// one: a prefix of "/" would put the endpoints at "//login", which
// ServeMux redirects, gin and chi never match, and under which
// httpauth.ExactPaths guards nothing (no cleaned path starts with "//").
func TestAttackMountPrefixShapes(t *testing.T) {
	for _, p := range []string{"/", "//", "auth", "/auth/", "//auth", "/api//auth", "/api/./auth", "/api/../auth", "/a b", "/auth?x", "/auth#x", "/auth%2F"} {
		var svc *core.Service
		err := func() (err error) {
			defer func() {
				if v := recover(); v != nil {
					err, _ = v.(error)
				}
			}()
			f := authtest.New(&refuseTB{T: t}, authtest.Options{Config: func(c *core.Config) { c.MountPrefix = p }})
			svc = f.Service
			return nil
		}()
		if err != nil || svc == nil {
			continue // refused
		}
		for _, rt := range wire.New(svc).Routes() {
			clean := path.Clean(rt.Path)
			if rt.Param != "" {
				clean += "/"
			}
			if clean != rt.Path {
				t.Errorf("MountPrefix %q: accepted as %q, route %s %s is not a clean path", p, svc.Config().MountPrefix, rt.Method, rt.Path)
			}
		}
	}
}

// refuseTB turns the fixture's Fatalf (core.New refusing the config) into a
// panic the test recovers.
type refuseTB struct{ *testing.T }

func (r *refuseTB) Fatalf(format string, args ...any) { panic(errors.New("refused")) }
