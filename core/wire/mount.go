package wire

import (
	"fmt"
	"strings"

	"github.com/authguard/authguard/core"
)

// RoutesUnder returns Routes as a router group or sub-router whose own path
// is base registers them ("" or "/" is the root): every Path relative to
// base. A route outside base (the JWKS document at /.well-known/jwks.json,
// unless base is the root) is left out, for the caller to serve on the root
// router. It returns an error wrapping core.ErrConfig when the configured
// mount prefix is not under base: the endpoints would be served at
// base+prefix while the refresh cookie's Path is the prefix alone, which
// browsers never send back to the refresh endpoint.
func (s *Server) RoutesUnder(base string) ([]Route, error) {
	base = strings.TrimSuffix(base, "/")
	if base != "" && !strings.HasPrefix(s.prefix+"/", base+"/") {
		return nil, fmt.Errorf("%w: mounted under %s, the endpoints would be served at %s%s while the refresh cookie's Path is %s: "+
			"set core.Config.MountPrefix = %q", core.ErrConfig, base, base, s.prefix, s.prefix, base+s.prefix)
	}
	var out []Route
	for _, rt := range s.Routes() {
		if p, ok := strings.CutPrefix(rt.Path, base); ok && strings.HasPrefix(p, "/") {
			rt.Path = p
			out = append(out, rt)
		}
	}
	return out, nil
}
