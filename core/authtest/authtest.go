// Package authtest provides fixtures for testing code built on authguard: a
// settable clock, generated keys, a log capture and a ready Service over the
// reference memory store (or any store.Store) with two known users.
package authtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/password"
	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/token"
)

// Clock is a settable clock for core.Config.Now. The zero value is not
// usable; create it with NewClock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set to t (UTC).
func NewClock(t time.Time) *Clock { return &Clock{t: t.UTC()} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set sets the clock.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t.UTC()
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// LogBuffer captures log output for assertions (safe for concurrent use).
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Test users created by New.
const (
	AdminEmail = "admin@example.com"
	UserEmail  = "user@example.com"
	Password   = "correct horse battery staple"
	Issuer     = "https://auth.example.test"
	Audience   = "authguard-test"
	// Origin is the allowed origin for cookie transport (the issuer's origin).
	Origin = "https://auth.example.test"
)

// Epoch is where the fixture clock starts.
var Epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Fixture is a ready Service with its parts exposed.
type Fixture struct {
	Service *core.Service
	Store   store.Store
	Clock   *Clock
	Auth    *password.Authenticator
	Logs    *LogBuffer
	// AdminID and UserID are the subjects of the two users.
	AdminID, UserID string
}

// Options tune New.
type Options struct {
	// Store is the backend (default: a fresh memstore).
	Store store.Store
	// Alg is the signing algorithm (default EdDSA).
	Alg string
	// Config edits the configuration before core.New.
	Config func(*core.Config)
	// Tenant, when set, names the tenant of each account (core.Identity.
	// Tenant) at every login and refresh, as an app's own Authenticator
	// wrapping the password authenticator would. It may be called
	// concurrently.
	Tenant func(subject string) string
}

// tenantAuth is the password authenticator with the tenant of Options.Tenant.
type tenantAuth struct {
	*password.Authenticator
	tenant func(subject string) string
}

func (a tenantAuth) Authenticate(ctx context.Context, email, pw string) (core.Identity, error) {
	id, err := a.Authenticator.Authenticate(ctx, email, pw)
	if err == nil {
		id.Tenant = a.tenant(id.Subject)
	}
	return id, err
}

func (a tenantAuth) Lookup(ctx context.Context, subject string) (core.Identity, error) {
	id, err := a.Authenticator.Lookup(ctx, subject)
	if err == nil {
		id.Tenant = a.tenant(id.Subject)
	}
	return id, err
}

// New builds a fixture and registers its cleanup with t. The service uses a
// settable clock starting at Epoch, logs JSON into Logs at debug level, and
// authorises "reports:read" for roles user and admin and "reports:delete"
// for admin.
func New(t testing.TB, o Options) *Fixture {
	t.Helper()
	if o.Store == nil {
		o.Store = memstore.New()
	}
	if o.Alg == "" {
		o.Alg = token.AlgEdDSA
	}
	key, err := token.GenerateKey(o.Alg)
	if err != nil {
		t.Fatalf("authtest: generate key: %v", err)
	}
	ks, err := token.NewKeySet(key)
	if err != nil {
		t.Fatalf("authtest: key set: %v", err)
	}
	auth, err := password.NewAuthenticator(o.Store, password.Options{})
	if err != nil {
		t.Fatalf("authtest: authenticator: %v", err)
	}
	ctx := context.Background()
	f := &Fixture{Store: o.Store, Clock: NewClock(Epoch), Auth: auth, Logs: &LogBuffer{}}
	f.AdminID = createUser(t, ctx, o.Store, AdminEmail, "admin")
	f.UserID = createUser(t, ctx, o.Store, UserEmail, "user")
	var authn core.Authenticator = auth
	if o.Tenant != nil {
		authn = tenantAuth{Authenticator: auth, tenant: o.Tenant}
	}
	cfg := core.Config{
		Issuer:        Issuer,
		Audience:      Audience,
		Keys:          ks,
		Store:         o.Store,
		Authenticator: authn,
		Authorizer: core.StaticAuthorizer{
			"user":  {"reports:read"},
			"admin": {"reports:read", "reports:delete"},
		},
		Logger: slog.New(slog.NewJSONHandler(f.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    f.Clock.Now,
	}
	if o.Config != nil {
		o.Config(&cfg)
	}
	svc, err := core.New(cfg)
	if err != nil {
		t.Fatalf("authtest: core.New: %v", err)
	}
	f.Service = svc
	t.Cleanup(func() { _ = svc.Close() })
	return f
}

var passwordHash = sync.OnceValues(func() (string, error) {
	return password.Hash(Password, password.DefaultParams)
})

// createUser stores a user whose password is Password. The Argon2id hash is
// computed once per process (with the default parameters, so logins cost
// exactly what they cost in production), which keeps suites that build
// hundreds of fixtures fast.
func createUser(t testing.TB, ctx context.Context, st store.Users, email, role string) string {
	t.Helper()
	hash, err := passwordHash()
	if err != nil {
		t.Fatalf("authtest: hash password: %v", err)
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		t.Fatal(err)
	}
	u := store.User{ID: hex.EncodeToString(id[:]), Email: core.NormalizeEmail(email), PasswordHash: hash,
		Roles: []string{role}, CreatedAt: time.Now().UTC()}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatalf("authtest: create %s: %v", email, err)
	}
	return u.ID
}
