package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/password"
	"github.com/authguard/authguard/core/store"
	"github.com/authguard/authguard/core/token"
	"github.com/authguard/authguard/rbac"
	sqlitestore "github.com/authguard/authguard/stores/sqlite"
)

// DemoUser is an account created when the user store is empty.
type DemoUser struct {
	Email string
	Roles []string
}

// DemoUsers are the contract's demo accounts; both get the demo password.
var DemoUsers = []DemoUser{
	{Email: "admin@example.com", Roles: []string{"admin"}},
	{Email: "user@example.com", Roles: []string{"user"}},
}

// KeyFileSuffix is appended to a SQLite database path to name the file that
// keeps the generated signing key.
const KeyFileSuffix = ".signing-key.pem"

// maxKeyFileBytes bounds what is read from a key file.
const maxKeyFileBytes = 1 << 20

// Key sources reported in the start line.
const (
	KeyFromEnv   = "file"      // AUTHGUARD_SIGNING_KEY
	KeyLoaded    = "loaded"    // kept next to the store by an earlier start
	KeyGenerated = "generated" // created now and kept next to the store
	KeyEphemeral = "ephemeral" // memory, redis or postgres store: a new key every start
)

// keyCreateRetries bounds the read-or-create loop when another process
// creates the key file at the same moment.
const keyCreateRetries = 20

// App is an opened example server: the authguard service over the
// configured store, with the demo users in place.
type App struct {
	// Service is the authguard engine the adapters mount.
	Service *core.Service
	// Config is the configuration the App was opened with.
	Config Config
	// Logger receives the start line, the audit events and the shutdown lines.
	Logger *slog.Logger
	// KeySource tells where the signing key came from (Key* constants), and
	// KeyFile the file it was read from or written to ("" for ephemeral).
	KeySource string
	KeyFile   string
	// DemoUsersCreated is true when this Open created the demo users.
	DemoUsersCreated bool
	// Authorizer enforces the demo's casbin policy (rbac.DefaultPolicy and
	// the users' roles): the service's Authorizer, so RequireRole and
	// RequirePermission ask it.
	Authorizer *rbac.Authorizer
	// Roles is the role administration over that policy, mounted by every
	// example (MountRoleAdmin).
	Roles *rbac.RoleAdmin
	// PolicySource tells where the policy lives (Policy* constants).
	PolicySource string

	store     store.Store
	policy    policyBackend // where the store keeps the policy, if it does
	watcher   *rbac.Watcher // keeps the policy in step with the store's
	release   func() error  // closes the client or pool under the store, if any
	metrics   *metrics      // nil unless AUTHGUARD_METRICS=1
	started   time.Time
	closeOnce sync.Once
	closeErr  error
}

// Open opens the store named by cfg.Store, loads or creates the signing
// key, creates the demo users when the user store is empty, and starts the
// authguard service. Close releases everything. A nil logger discards.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*App, error) {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	st, keyFile, release, pdb, err := openStore(ctx, cfg.Store, logger)
	if err != nil {
		return nil, err
	}
	if pdb.db != nil {
		rel := release
		release = func() error {
			err := pdb.db.Close()
			if rel != nil {
				err = errors.Join(err, rel())
			}
			return err
		}
	}
	app := &App{Config: cfg, Logger: logger, store: st, policy: pdb, release: release, started: time.Now()}
	if err := app.init(ctx, keyFile); err != nil {
		if app.watcher != nil {
			_ = app.watcher.Close()
		}
		_ = app.metrics.shutdown(ctx)
		_ = st.Close()
		if release != nil {
			_ = release()
		}
		return nil, err
	}
	return app, nil
}

func (a *App) init(ctx context.Context, keyFile string) error {
	cfg := a.Config
	key, err := a.signingKey(keyFile)
	if err != nil {
		return err
	}
	keys, err := token.NewKeySet(key)
	if err != nil {
		return fmt.Errorf("demo: signing key: %w", err)
	}
	var popts password.Options
	if cfg.Metrics {
		if a.metrics, err = newMetrics(); err != nil {
			return err
		}
		popts.MeterProvider = a.metrics.provider
	}
	auth, err := password.NewAuthenticator(a.store, popts)
	if err != nil {
		return fmt.Errorf("demo: password authenticator: %w", err)
	}
	if a.DemoUsersCreated, err = createDemoUsers(ctx, a.store, auth, cfg.DemoPassword); err != nil {
		return err
	}
	if a.Authorizer, err = a.openPolicy(ctx); err != nil {
		return err
	}
	a.Service, err = core.New(core.Config{
		MeterProvider:      popts.MeterProvider, // nil: no metrics
		Issuer:             cfg.Issuer,
		Audience:           cfg.Audience,
		Keys:               keys,
		Store:              a.store,
		Authenticator:      auth,
		Authorizer:         a.Authorizer,
		AccessTTL:          cfg.AccessTTL,
		RefreshIdleTTL:     cfg.RefreshIdleTTL,
		RefreshAbsoluteTTL: cfg.RefreshAbsoluteTTL,
		RefreshGrace:       noneIfZero(cfg.RefreshGrace),
		Leeway:             noneIfZero(cfg.Leeway),
		Cookie:             core.CookieConfig{AllowedOrigins: cfg.AllowedOrigins},
		Logger:             a.Logger,
	})
	if err != nil {
		return fmt.Errorf("demo: starting the authguard service: %w", err)
	}
	if a.Roles, err = rbac.NewRoleAdmin(a.Service, a.Authorizer, rbac.SubjectsFromStore(a.store)); err != nil {
		return fmt.Errorf("demo: role administration: %w", err)
	}
	return nil
}

// Close stops the policy watcher and the service and closes the store. It
// is safe to call twice.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		var errs []error
		if a.watcher != nil {
			errs = append(errs, a.watcher.Close())
		}
		if a.Service != nil {
			errs = append(errs, a.Service.Close())
		}
		errs = append(errs, a.metrics.shutdown(context.Background()))
		errs = append(errs, a.store.Close())
		if a.release != nil {
			errs = append(errs, a.release())
		}
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}

// openStore opens the configured store and returns the file that keeps the
// generated signing key next to it ("" when the key is not to be kept) and
// the function that closes the client or pool under the store (nil if none).
//
// It also returns where the store keeps the casbin policy (SQLite,
// PostgreSQL, Redis; none for the memory store).
func openStore(ctx context.Context, spec StoreSpec, logger *slog.Logger) (st store.Store, keyFile string, release func() error, pdb policyBackend, err error) {
	switch spec.Kind {
	case StoreSQLite:
		// The database holds password hashes: create it readable by its
		// owner only (SQLite gives its -wal and -shm files the same mode).
		if f, err := os.OpenFile(spec.Location, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
			_ = f.Close()
		}
		st, err := sqlitestore.Open(ctx, spec.Location)
		if err != nil {
			return nil, "", nil, pdb, fmt.Errorf("demo: opening %s=%s: %w", EnvStore, spec, err)
		}
		// A second handle on the store's file, with the store's settings, for
		// the policy table its migrations created.
		db, err := sql.Open("sqlite", spec.Location+"?_txlock=immediate&_busy_timeout=5000&_journal_mode=WAL&_foreign_keys=1")
		if err != nil {
			_ = st.Close()
			return nil, "", nil, pdb, fmt.Errorf("demo: opening the policy table of %s=%s: %w", EnvStore, spec, err)
		}
		return st, spec.Location + KeyFileSuffix, nil, policyBackend{db: db, dialect: rbac.SQLite}, nil
	case StoreMemory:
		logger.Warn("MEMORY STORE: single instance only, and every user, session and signing key is forgotten on restart "+
			"(every client must log in again); do not run two instances behind one address; use sqlite:<path> to keep state",
			slog.String("store", spec.String()))
		return memstore.New(), "", nil, pdb, nil
	case StoreRedis:
		st, release, pdb, err = openRedis(ctx, spec, logger)
		return st, "", release, pdb, err
	case StorePostgres:
		st, release, pdb, err = openPostgres(ctx, spec)
		return st, "", release, pdb, err
	}
	return nil, "", nil, pdb, fmt.Errorf("demo: %s: unknown store kind %q", EnvStore, spec.Kind)
}

// signingKey loads AUTHGUARD_SIGNING_KEY, or the key kept in keyFile
// (creating it on first start), or generates an ephemeral key when keyFile
// is "".
func (a *App) signingKey(keyFile string) (*token.Key, error) {
	if f := a.Config.SigningKeyFile; f != "" {
		k, err := readKeyFile(f, a.Logger)
		if err != nil {
			return nil, fmt.Errorf("demo: %s=%s: %w", EnvSigningKey, f, err)
		}
		a.KeySource, a.KeyFile = KeyFromEnv, f
		return k, nil
	}
	if keyFile == "" {
		k, err := token.GenerateKey(token.AlgEdDSA)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		a.KeySource = KeyEphemeral
		if kind := a.Config.Store.Kind; kind == StoreRedis || kind == StorePostgres {
			a.Logger.Warn("EPHEMERAL SIGNING KEY: "+EnvSigningKey+" is not set, so this instance signs with a key generated now; "+
				"every instance sharing this "+kind+" store must set "+EnvSigningKey+" to the same key file: "+
				"otherwise the access tokens of one instance are refused by another, and a restart invalidates every access token",
				slog.String("store", a.Config.Store.String()))
		}
		return k, nil
	}
	a.KeyFile = keyFile
	var lastErr error
	for range keyCreateRetries {
		k, err := readKeptKeyFile(keyFile)
		if err == nil {
			a.KeySource = KeyLoaded
			return k, nil
		}
		if errors.Is(err, errUnsafeKeyFile) {
			return nil, fmt.Errorf("demo: signing key kept next to the store: %w", err)
		}
		if errors.Is(err, fs.ErrNotExist) {
			k, err = createKeyFile(keyFile)
			if err == nil {
				a.KeySource = KeyGenerated
				return k, nil
			}
			if !errors.Is(err, fs.ErrExist) {
				return nil, fmt.Errorf("demo: creating the signing key file: %w", err)
			}
		}
		// Another process created it first, or the file is not whole yet
		// (a writer of an older release): read it again shortly.
		lastErr = err
		time.Sleep(25 * time.Millisecond)
	}
	return nil, fmt.Errorf("demo: signing key kept next to the store: %w (if no other instance is starting, delete the file to generate a new key; tokens issued with the old one stop working)", lastErr)
}

// readKeyFile reads and parses the key file named by AUTHGUARD_SIGNING_KEY;
// weak keys are refused with the core's message. The name may be a symbolic
// link, but what it names must be a regular file (a FIFO or a device is
// refused, without blocking on it). A file readable by group or others is
// used with a warning: the operator chose it.
func readKeyFile(path string, logger *slog.Logger) (*token.Key, error) {
	// O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a regular file: point it at the PEM key file itself", path, fileKind(fi.Mode()))
	}
	k, err := readKeyPEM(f, path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		logger.Warn("signing key file is readable by other users; restrict it with chmod 600",
			slog.String("file", path), slog.String("mode", fi.Mode().Perm().String()))
	}
	return k, nil
}

// errUnsafeKeyFile marks a key file next to the store that is refused for
// what it is (a link, not a regular file, another user's, readable by
// others), not for what it holds: reading it again does not help.
var errUnsafeKeyFile = errors.New("unsafe signing key file")

// readKeptKeyFile reads the key kept next to the store. That file is found,
// not configured, so it is used only if it is a regular file (not a symbolic
// link), owned by the current user and neither readable nor writable by
// group or others, as ssh treats a private key: otherwise whoever planted it
// or can read it could sign any token. A refusal wraps errUnsafeKeyFile and
// says what to do; a missing file is fs.ErrNotExist; a file that does not
// parse (another instance may still be writing it) is a plain error.
func readKeptKeyFile(path string) (*token.Key, error) {
	lfi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if err := checkKeptKeyFile(path, lfi); err != nil {
		return nil, err
	}
	// O_NONBLOCK: if a FIFO replaced the file since Lstat, opening it does
	// not block; SameFile then sees it is not the file checked above (nor is
	// a symbolic link put there meanwhile).
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !os.SameFile(lfi, fi) {
		return nil, fmt.Errorf("%s was replaced while being opened", path)
	}
	if err := checkKeptKeyFile(path, fi); err != nil {
		return nil, err
	}
	return readKeyPEM(f, path)
}

// checkKeptKeyFile refuses, with what to do, a key file next to the store
// that is not a regular file owned by the current user and private to it.
func checkKeptKeyFile(path string, fi fs.FileInfo) error {
	const fresh = "delete it to generate a new key (tokens signed with the old key stop working)"
	mode := fi.Mode()
	switch {
	case mode&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: %s is a symbolic link; the key kept next to the store must be a regular file private to you, "+
			"not a link to a key others may read: replace the link with a copy of the key (chmod 600), or %s",
			errUnsafeKeyFile, path, fresh)
	case !mode.IsRegular():
		return fmt.Errorf("%w: %s is %s, not a regular key file: %s", errUnsafeKeyFile, path, fileKind(mode), fresh)
	}
	if uid := os.Geteuid(); uid >= 0 { // -1 where files have no Unix owner and mode
		if owner, ok := fileOwner(fi); ok && owner != uid {
			return fmt.Errorf("%w: %s is owned by uid %d, not by you (uid %d): its owner can read the key and sign any token: %s, "+
				"or, if it is your key, chown it to yourself and chmod 600 it",
				errUnsafeKeyFile, path, owner, uid, fresh)
		}
		if mode.Perm()&0o077 != 0 {
			return fmt.Errorf("%w: %s has mode %s: group or others can read or change the signing key and sign any token: "+
				"restrict it with chmod 600 %s, or %s",
				errUnsafeKeyFile, path, mode.Perm(), path, fresh)
		}
	}
	return nil
}

// fileOwner returns the uid that owns the file fi describes, where the
// platform reports one (a Uid field in fi.Sys(), as syscall.Stat_t has).
func fileOwner(fi fs.FileInfo) (int, bool) {
	v := reflect.ValueOf(fi.Sys())
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0, false
	}
	uid := v.FieldByName("Uid")
	if !uid.IsValid() || !uid.CanUint() {
		return 0, false
	}
	return int(uid.Uint()), true
}

// fileKind names what a file that is not a regular file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file (" + m.String() + ")"
}

// readKeyPEM reads and parses the PEM key in f, named path in errors.
func readKeyPEM(f *os.File, path string) (*token.Key, error) {
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a key file", path, maxKeyFileBytes)
	}
	k, err := token.ParseKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// createKeyFile generates an Ed25519 key and puts it at path, readable by its
// owner only, atomically: the key is written whole to a temporary file in the
// same directory, which is then linked to path (never replacing an existing
// file), so a concurrent reader sees no file or the whole key. It returns an
// error wrapping fs.ErrExist when another process created path first.
func createKeyFile(path string) (*token.Key, error) {
	k, err := token.GenerateKey(token.AlgEdDSA)
	if err != nil {
		return nil, err
	}
	pem, err := k.MarshalPEM()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(pem)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if err := os.Link(tmp, path); err != nil {
		return nil, err
	}
	return k, nil
}

// createDemoUsers creates DemoUsers when the user store is empty and
// reports whether it did. A user another instance created meanwhile is not
// an error.
func createDemoUsers(ctx context.Context, users store.Users, auth *password.Authenticator, demoPassword string) (bool, error) {
	n, err := countUsers(ctx, users)
	if err != nil {
		return false, fmt.Errorf("demo: counting users: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	for _, u := range DemoUsers {
		if _, err := auth.CreateUser(ctx, u.Email, demoPassword, u.Roles); err != nil && !errors.Is(err, store.ErrConflict) {
			return false, fmt.Errorf("demo: creating demo user %s: %w", u.Email, err)
		}
	}
	return true, nil
}

// Uptime is how long ago the App was opened.
func (a *App) Uptime() time.Duration { return time.Since(a.started) }

// LogStart writes the one start line: where the server listens, the store
// (credentials redacted), issuer, audience, allowed origins, the signing
// key (algorithm and kid only) and the demo users. The demo password is
// printed only when it is the built-in default, never when it came from
// AUTHGUARD_DEMO_PASSWORD.
func (a *App) LogStart(addr, router string) {
	cfg := a.Config
	demoUsers := "existing"
	if a.DemoUsersCreated {
		demoUsers = "created"
	}
	emails := make([]string, len(DemoUsers))
	for i, u := range DemoUsers {
		emails[i] = u.Email
	}
	password := "(set by " + EnvDemoPassword + ", not shown)"
	if !cfg.DemoPasswordFromEnv {
		password = DefaultDemoPassword + " (the default; set " + EnvDemoPassword + " to change it)"
	}
	if !a.DemoUsersCreated {
		password += "; the demo users already existed, so their password is the one they were created with"
	}
	attrs := []slog.Attr{
		slog.String("router", router),
		slog.String("addr", addr),
		slog.String("url", "http://"+addr),
		slog.String("store_kind", cfg.Store.Kind),
		slog.String("store", cfg.Store.String()),
		slog.String("issuer", cfg.Issuer),
		slog.String("audience", cfg.Audience),
		slog.Any("allowed_origins", cfg.AllowedOrigins),
		slog.String("signing_key_source", a.KeySource),
	}
	if a.KeyFile != "" {
		attrs = append(attrs, slog.String("signing_key_file", a.KeyFile))
	}
	attrs = append(attrs,
		slog.Any("signing_key", a.Service.Keys().SigningKey()),
		slog.String("access_ttl", cfg.AccessTTL.String()),
		slog.String("policy", a.PolicySource),
		slog.String("demo_users", demoUsers),
		slog.Any("demo_accounts", emails),
		slog.String("demo_password", password),
	)
	a.Logger.LogAttrs(context.Background(), slog.LevelInfo, "authguard example server started", attrs...)
}

// Start is LoadConfig(getenv) followed by Open: what every example's main
// does first.
func Start(ctx context.Context, getenv func(string) string, logger *slog.Logger) (*App, error) {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	return Open(ctx, cfg, logger)
}

// Usage is printed when an example is given arguments: it takes none.
const Usage = `usage: go run ./examples/<chi|gin|fiber>

The example servers take no arguments or flags; they read the environment:

  AUTHGUARD_ADDR                  listen address (default 127.0.0.1:8080)
  AUTHGUARD_STORE                 sqlite:<path>, memory:, redis://host:port/db, postgres://...
                                  (default sqlite:authguard-demo.db)
  AUTHGUARD_ACCESS_TTL            access-token lifetime, Go duration (default 10m)
  AUTHGUARD_REFRESH_IDLE_TTL      idle timeout (default 336h)
  AUTHGUARD_REFRESH_ABSOLUTE_TTL  absolute session lifetime (default 720h)
  AUTHGUARD_REFRESH_GRACE         grace window for refresh-token replays (default 10s)
  AUTHGUARD_LEEWAY                clock leeway for exp, nbf, iat; at most 60s (default 5s)
  AUTHGUARD_ALLOWED_ORIGINS       comma-separated origins for cookie transport and CORS
                                  (default the issuer's origin)
  AUTHGUARD_ISSUER                iss claim (default http://<addr>)
  AUTHGUARD_AUDIENCE              aud claim (default authguard-demo)
  AUTHGUARD_SIGNING_KEY           PEM file of the signing key (default: an Ed25519 key
                                  generated on first start and kept next to a sqlite store;
                                  with memory, redis or postgres a new key every start:
                                  instances sharing a store must share this key file)
  AUTHGUARD_DEMO_PASSWORD         password of the demo users (default demo-password)
  AUTHGUARD_METRICS               1 serves OpenTelemetry metrics at /metrics in the
                                  Prometheus text format (default 0: no /metrics)

See examples/README.md.
`

// Main runs an example: run gets the process environment and the stderr
// logger, and an error is logged and ends the process with status 1. Any
// command-line argument prints Usage and exits with status 2.
func Main(run func(ctx context.Context, getenv func(string) string, logger *slog.Logger) error) {
	if len(os.Args) > 1 {
		fmt.Fprint(os.Stderr, Usage)
		os.Exit(2)
	}
	logger := Logger()
	if err := run(context.Background(), os.Getenv, logger); err != nil {
		logger.Error("authguard example server failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

// noneIfZero maps an explicit zero duration to core's "none" (a negative
// value); core reads zero as "use the default".
func noneIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// countUsers counts the store's users through the optional
// store.UserCounter, with a clear error when the store does not offer it.
func countUsers(ctx context.Context, st any) (int, error) {
	uc, ok := st.(store.UserCounter)
	if !ok {
		return 0, fmt.Errorf("the store (%T) cannot count users: it does not implement store.UserCounter", st)
	}
	return uc.CountUsers(ctx)
}
