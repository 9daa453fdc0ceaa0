package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
	"github.com/authguard/authguard/core/store"
)

// Bounds of the fault tests. The store timeout is short so the tests are
// fast; the margin absorbs a loaded machine running under -race.
const (
	FaultStoreTimeout = 300 * time.Millisecond
	FaultStaleness    = 1500 * time.Millisecond
	faultPoll         = 50 * time.Millisecond
	faultMargin       = 500 * time.Millisecond
)

// Fault is one way a real store can fail while a service uses it. Begin
// starts the outage and End ends it (the server then answers again, with
// every write it acknowledged). LoseAnswer, when set, starts an outage in
// which a write about to be sent reaches the server (or may reach it later)
// but its answer never comes back; End ends that one too.
type Fault struct {
	Name       string
	Begin      func(t *testing.T)
	End        func(t *testing.T)
	LoseAnswer func(t *testing.T)
}

// ProxyFaults are the faults a Proxy injects: paused, slower than
// FaultStoreTimeout, cut, and answers dropped.
func ProxyFaults(p *Proxy) []Fault {
	heal := func(*testing.T) { p.Heal() }
	return []Fault{
		{Name: "paused", Begin: func(*testing.T) { p.Pause() }, End: heal, LoseAnswer: func(*testing.T) { p.Pause() }},
		{Name: "slow", Begin: func(*testing.T) { p.Slow(2 * FaultStoreTimeout) }, End: heal},
		{Name: "cut", Begin: func(*testing.T) { p.Cut() }, End: heal},
		{Name: "answers_dropped", Begin: func(*testing.T) { p.DropResponses() }, End: heal,
			LoseAnswer: func(*testing.T) { p.DropResponses() }},
	}
}

// RunFaults runs RunFault for every ProxyFaults fault, each over a fresh
// store from newStore whose client connects through the returned proxy.
func RunFaults(t *testing.T, newStore func(t *testing.T) (store.Store, *Proxy)) {
	t.Helper()
	for i := range ProxyFaults(nil) {
		name := ProxyFaults(nil)[i].Name
		t.Run(name, func(t *testing.T) {
			st, p := newStore(t)
			RunFault(t, st, ProxyFaults(p)[i])
		})
	}
}

// RunFault drives a Service over st through the HTTP contract while f is in
// force, and proves that nobody is logged out by it: login, refresh and
// logout answer 503 temporarily_unavailable within FaultStoreTimeout plus a
// margin (never 400 or 401); the guard keeps serving a session seen live
// until the staleness bound, then answers 503; once f ends, the session
// refreshes on one lineage, the logout refused during the outage succeeds,
// and (with f.LoseAnswer) a refresh whose answer was lost succeeds when
// retried with the same token. Every session stays in st: nothing is kept
// in memory instead. Measured times are logged.
func RunFault(t *testing.T, st store.Store, f Fault) {
	h := &loseHook{Store: st}
	fx := authtest.New(t, authtest.Options{Store: h, Config: func(c *core.Config) {
		c.StoreTimeout = FaultStoreTimeout
		c.RevocationPollInterval = faultPoll
		c.RevocationMaxStaleness = FaultStaleness
	}})
	c := newFaultClient(t, fx.Service)
	live := c.login(t)
	other := c.login(t)
	c.wantGuard(t, "guard before the outage", live.AccessToken)

	f.Begin(t)
	watch := c.watchGuard(live.AccessToken)
	for _, op := range []struct {
		name string
		do   func() (int, string)
	}{
		{"login", func() (int, string) { return c.post("login", loginBody) }},
		{"refresh", func() (int, string) { return c.post("refresh", refreshBody(live.RefreshToken)) }},
		{"logout", func() (int, string) { return c.post("logout", refreshBody(other.RefreshToken)) }},
	} {
		start := time.Now()
		status, code := op.do()
		took := time.Since(start)
		t.Logf("%s: %s answered %d %s in %v", f.Name, op.name, status, code, took.Round(time.Millisecond))
		if status != http.StatusServiceUnavailable || code != "temporarily_unavailable" {
			t.Errorf("%s during the outage: %d %s, want 503 temporarily_unavailable", op.name, status, code)
		}
		if took > FaultStoreTimeout+faultMargin {
			t.Errorf("%s took %v during the outage, over the bound %v plus %v", op.name, took, FaultStoreTimeout, faultMargin)
		}
	}
	served, flip, flipStatus := watch()
	t.Logf("%s: guard served the live session for %v, then answered %d", f.Name, flip.Round(time.Millisecond), flipStatus)
	if flipStatus != http.StatusServiceUnavailable {
		t.Errorf("guard during the outage answered %d, want 200 then 503 (never 401)", flipStatus)
	}
	if served == 0 || flip < FaultStaleness/2 || flip > FaultStaleness+faultMargin {
		t.Errorf("guard served %d requests for %v, want about %v of service, then 503", served, flip, FaultStaleness)
	}
	f.End(t)
	back := c.waitGuard(t, live.AccessToken)
	t.Logf("%s: guard back %v after the store", f.Name, back.Round(time.Millisecond))

	next := c.tokens(t, "refresh after the outage", func() (int, string, []byte) { return c.postBody("refresh", refreshBody(live.RefreshToken)) })
	c.wantGuard(t, "guard with the refreshed token", next.AccessToken)
	c.tokens(t, "second refresh after the outage", func() (int, string, []byte) { return c.postBody("refresh", refreshBody(next.RefreshToken)) })
	if status, code := c.retry(t, func() (int, string) { return c.post("logout", refreshBody(other.RefreshToken)) }); status != http.StatusNoContent {
		t.Fatalf("logout refused during the outage, retried: %d %s, want 204", status, code)
	}
	logins := 3
	c.tokens(t, "login after the outage", func() (int, string, []byte) { return c.postBody("login", loginBody) })

	wantGen := map[string]int64{live.SessionID: 2}
	if f.LoseAnswer != nil {
		logins++
		lost := c.login(t)
		h.arm(func() { f.LoseAnswer(t) })
		start := time.Now()
		status, code := c.post("refresh", refreshBody(lost.RefreshToken))
		took := time.Since(start)
		t.Logf("%s: refresh whose answer is lost answered %d %s in %v", f.Name, status, code, took.Round(time.Millisecond))
		if status != http.StatusServiceUnavailable || code != "temporarily_unavailable" {
			t.Errorf("refresh whose answer is lost: %d %s, want 503 temporarily_unavailable", status, code)
		}
		if took > 2*FaultStoreTimeout+faultMargin { // the write, then one read-back
			t.Errorf("refresh whose answer is lost took %v, over twice the bound %v plus %v", took, FaultStoreTimeout, faultMargin)
		}
		f.End(t)
		c.waitGuard(t, lost.AccessToken)
		if s, err := st.Session(context.Background(), lost.SessionID); err == nil {
			t.Logf("%s: the write whose answer was lost landed: %v", f.Name, s.Generation == 1)
		}
		retried := c.tokens(t, "retried refresh of the lost answer", func() (int, string, []byte) {
			return c.postBody("refresh", refreshBody(lost.RefreshToken))
		})
		c.wantGuard(t, "guard with the retried refresh's token", retried.AccessToken)
		c.tokens(t, "refresh of the retried successor", func() (int, string, []byte) { return c.postBody("refresh", refreshBody(retried.RefreshToken)) })
		wantGen[lost.SessionID] = 2
	}
	checkStored(t, st, fx.Clock.Now(), fx.UserID, other.SessionID, wantGen, logins)
}

// checkStored reads st itself: the user's live sessions are exactly those
// of the successful logins but the one logged out, which is revoked, and each
// of wantGen is live at its generation (one lineage, nothing forked, nothing
// lost).
func checkStored(t *testing.T, st store.Store, now time.Time, subject, loggedOut string, wantGen map[string]int64, logins int) {
	t.Helper()
	ctx := context.Background()
	list, err := st.ListSessions(ctx, subject, now)
	if err != nil {
		t.Fatalf("ListSessions after the outage: %v", err)
	}
	if len(list) != logins-1 {
		t.Errorf("the store holds %d live sessions of the user, want %d (one per successful login, but the one logged out)", len(list), logins-1)
	}
	if s, err := st.Session(ctx, loggedOut); err != nil || s.RevokedAt.IsZero() {
		t.Errorf("the session logged out after the outage is not revoked in the store (%v)", err)
	}
	for id, gen := range wantGen {
		s, err := st.Session(ctx, id)
		if err != nil || !s.RevokedAt.IsZero() || s.Generation != gen {
			t.Errorf("session %s: %v, revoked %v, generation %d; want live at generation %d", id, err, s.RevokedAt, s.Generation, gen)
		}
	}
}

// loseHook runs an armed function once, right before a session write.
type loseHook struct {
	store.Store
	fn atomic.Pointer[func()]
}

func (h *loseHook) arm(fn func()) { h.fn.Store(&fn) }

func (h *loseHook) UpdateSession(ctx context.Context, u store.Update) error {
	if fn := h.fn.Swap(nil); fn != nil {
		(*fn)()
	}
	return h.Store.UpdateSession(ctx, u)
}

var loginBody = `{"email":"` + authtest.UserEmail + `","password":"` + authtest.Password + `"}`

func refreshBody(rt string) string {
	b, _ := json.Marshal(map[string]string{"refreshToken": rt})
	return string(b)
}

// faultClient talks HTTP to the contract mounted over a Service.
type faultClient struct {
	srv *httptest.Server
	hc  *http.Client
}

func newFaultClient(t *testing.T, svc *core.Service) *faultClient {
	mux := http.NewServeMux()
	httpauth.Mount(mux, svc)
	mux.Handle("GET /api/me", httpauth.Require(svc)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &faultClient{srv: srv, hc: &http.Client{Timeout: 10 * time.Second}}
}

// postBody posts a JSON body to an endpoint under /auth and returns the
// status, the error code (if any) and the body.
func (c *faultClient) postBody(endpoint, body string) (int, string, []byte) {
	resp, err := c.hc.Post(c.srv.URL+"/auth/"+endpoint, "application/json", bytes.NewBufferString(body))
	if err != nil {
		return 0, "transport: " + err.Error(), nil
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	var p struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(buf.Bytes(), &p)
	return resp.StatusCode, p.Error, buf.Bytes()
}

func (c *faultClient) post(endpoint, body string) (int, string) {
	status, code, _ := c.postBody(endpoint, body)
	return status, code
}

// guard calls a route behind httpauth.Require with an access token.
func (c *faultClient) guard(access string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, c.srv.URL+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, "transport: " + err.Error()
	}
	defer resp.Body.Close()
	var p struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&p)
	return resp.StatusCode, p.Error
}

func (c *faultClient) wantGuard(t *testing.T, what, access string) {
	t.Helper()
	if status, code := c.guard(access); status != http.StatusOK {
		t.Fatalf("%s: %d %s, want 200", what, status, code)
	}
}

// retry repeats op while it answers 503, as a client does, for a few
// seconds; any other answer ends it.
func (c *faultClient) retry(t *testing.T, op func() (int, string)) (int, string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, code := op()
		if status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			return status, code
		}
		t.Logf("503 %s after the outage; retrying", code)
		time.Sleep(faultPoll)
	}
}

// tokens runs op, retrying on 503 as a client does, and wants 200 with a
// token response.
func (c *faultClient) tokens(t *testing.T, what string, op func() (int, string, []byte)) *core.TokenResponse {
	t.Helper()
	var body []byte
	status, code := c.retry(t, func() (int, string) {
		var s int
		var e string
		s, e, body = op()
		return s, e
	})
	if status != http.StatusOK {
		t.Fatalf("%s: %d %s, want 200", what, status, code)
	}
	var tr core.TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" || tr.RefreshToken == "" {
		t.Fatalf("%s: bad token response (%v)", what, err)
	}
	return &tr
}

func (c *faultClient) login(t *testing.T) *core.TokenResponse {
	t.Helper()
	return c.tokens(t, "login", func() (int, string, []byte) { return c.postBody("login", loginBody) })
}

// watchGuard calls the guard with access in a loop until it stops
// answering 200; the returned function waits for that and reports how many
// requests were served, for how long, and the status that ended it.
func (c *faultClient) watchGuard(access string) func() (served int, after time.Duration, status int) {
	var wg sync.WaitGroup
	start := time.Now()
	var served, status int
	var after time.Duration
	wg.Go(func() {
		for time.Since(start) < 3*FaultStaleness {
			s, _ := c.guard(access)
			if s != http.StatusOK {
				status, after = s, time.Since(start)
				return
			}
			served++
			time.Sleep(faultPoll / 2)
		}
		status, after = http.StatusOK, time.Since(start)
	})
	return func() (int, time.Duration, int) {
		wg.Wait()
		return served, after, status
	}
}

// waitGuard waits until the guard accepts access again (the feed is read
// again) and returns how long that took.
func (c *faultClient) waitGuard(t *testing.T, access string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		status, code := c.guard(access)
		switch {
		case status == http.StatusOK:
			return time.Since(start)
		case status != http.StatusServiceUnavailable:
			t.Fatalf("guard after the outage: %d %s, want 503 then 200 (never 401)", status, code)
		case time.Since(start) > 10*time.Second:
			t.Fatalf("guard still answers 503 %v after the store came back", time.Since(start))
		}
		time.Sleep(faultPoll / 2)
	}
}
