package adaptertest

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
)

// testCase is one row of the suite.
type testCase struct {
	name string
	// alg is the fixture's signing algorithm ("" = EdDSA).
	alg string
	// config edits the service configuration.
	config func(*core.Config)
	// faults wraps the fixture's store in a fault injector (H.faults).
	faults bool
	// realTime marks cases that wait in real time: not recorded.
	realTime bool
	// policy makes the suite's policy (RoleAdmin) the service's Authorizer.
	policy bool
	run    func(h *harness)
}

// harness is the per-case harness: the fixture, the adapter under test, the
// secrets seen so far and the recorded exchanges.
type harness struct {
	t      *testing.T
	f      *authtest.Fixture
	svc    *core.Service
	do     Do
	faults *faultStore
	policy *policy

	// secrets are values never allowed in the log; placeholders are values
	// replaced when recording (secrets included), in registration order.
	secrets      map[string]string
	placeholders []placeholder
	counters     map[string]int

	record   bool
	recorded []rawExchange
	step     int
}

type placeholder struct{ value, name string }

type rawExchange struct {
	label  string
	status int
	header http.Header
	body   []byte
}

func runCase(t *testing.T, f Factory, c testCase, out *[]Exchange) {
	opts := authtest.Options{Alg: c.alg, Config: c.config}
	var fs *faultStore
	if c.faults {
		fs = newFaultStore()
		opts.Store = fs
	}
	pol := &policy{roles: map[string][]string{}}
	if c.policy {
		opts.Config = func(cfg *core.Config) {
			if c.config != nil {
				c.config(cfg)
			}
			cfg.Authorizer = pol
		}
	}
	fx := authtest.New(t, opts)
	pol.users = fx.Store
	pol.roles[fx.UserID] = []string{"user"}
	pol.roles[fx.AdminID] = []string{"admin"}
	policies.Store(fx.Service, pol)
	t.Cleanup(func() { policies.Delete(fx.Service) })
	h := &harness{
		t: t, f: fx, svc: fx.Service, faults: fs, policy: pol,
		secrets:  map[string]string{},
		counters: map[string]int{},
		record:   out != nil,
	}
	h.do = f(t, fx.Service)
	h.addPlaceholder(fx.UserID, "<user-id>")
	h.addPlaceholder(fx.AdminID, "<admin-id>")
	h.secret(authtest.Password, "<password>")
	defer h.checkLogs()
	c.run(h)
	if out != nil && !t.Failed() {
		for _, x := range h.recorded {
			*out = append(*out, h.normalise(c.name, x))
		}
	}
}

// ---- secrets and normalisation ----

func (h *harness) addPlaceholder(value, name string) {
	if value == "" {
		return
	}
	for _, p := range h.placeholders {
		if p.value == value {
			return
		}
	}
	h.placeholders = append(h.placeholders, placeholder{value, name})
}

// secret registers a value that must never appear in the log and is
// replaced by a placeholder of kind when recording.
func (h *harness) secret(value, kind string) {
	if value == "" {
		return
	}
	if _, ok := h.secrets[value]; ok {
		return
	}
	name := kind
	if !strings.HasPrefix(kind, "<") {
		h.counters[kind]++
		name = fmt.Sprintf("<%s:%d>", kind, h.counters[kind])
	}
	h.secrets[value] = name
	h.addPlaceholder(value, name)
}

func (h *harness) named(value, kind string) string {
	for _, p := range h.placeholders {
		if p.value == value {
			return p.name
		}
	}
	h.counters[kind]++
	name := fmt.Sprintf("<%s:%d>", kind, h.counters[kind])
	h.addPlaceholder(value, name)
	return name
}

// checkLogs fails the case if the captured log contains any secret the case
// saw, or any segment of a JWT it saw (payload or signature).
func (h *harness) checkLogs() {
	logs := h.f.Logs.String()
	for v, name := range h.secrets {
		if strings.Contains(logs, v) {
			h.t.Errorf("the log contains secret %s", name)
		}
		if strings.Count(v, ".") == 2 {
			parts := strings.Split(v, ".")
			for _, p := range parts[1:] {
				if len(p) >= 16 && strings.Contains(logs, p) {
					h.t.Errorf("the log contains a segment of JWT %s", name)
				}
			}
		}
	}
}

var (
	timeRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`)
	keyRE  = regexp.MustCompile(`"(kid|x|y|n)":"[^"]*"`)
	ipRE   = regexp.MustCompile(`"ip":"[^"]*"`)
)

func (h *harness) replace(s string) string {
	// Longest values first so that no value is replaced inside another.
	ps := slices.Clone(h.placeholders)
	slices.SortStableFunc(ps, func(a, b placeholder) int { return len(b.value) - len(a.value) })
	for _, p := range ps {
		s = strings.ReplaceAll(s, p.value, p.name)
	}
	s = timeRE.ReplaceAllString(s, "<time>")
	s = keyRE.ReplaceAllString(s, `"$1":"<key>"`)
	s = ipRE.ReplaceAllString(s, `"ip":"<ip>"`)
	return s
}

func (h *harness) normalise(caseName string, x rawExchange) Exchange {
	hdr := http.Header{}
	for _, k := range recordedHeaders {
		for _, v := range x.header.Values(k) {
			hdr.Add(k, h.replace(v))
		}
	}
	return Exchange{Case: caseName + x.label, Status: x.status, Header: hdr, Body: h.replace(string(x.body))}
}
