package password

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/store"
)

// bcryptOf returns a bcrypt hash of pw at cost with the given variant prefix
// ("2a", "2b" or "2y"); the variants differ only in their name.
func bcryptOf(t *testing.T, pw string, cost int, variant string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		t.Fatal(err)
	}
	return "$" + variant + string(h[3:])
}

func TestBcryptVerifiesAndMigratesToArgon2id(t *testing.T) {
	ctx := context.Background()
	for _, variant := range []string{"2a", "2b", "2y"} {
		t.Run(variant, func(t *testing.T) {
			a, users := newTestAuthenticator(t, Options{MaxConcurrent: 2})
			legacy := bcryptOf(t, "legacy pässword", bcrypt.MinCost, variant)
			u := store.User{ID: "u1", Email: "lee@example.com", PasswordHash: legacy, Roles: []string{"editor"}}
			if err := users.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			a.v.hashes.Store(0)
			_, err := a.Authenticate(ctx, "lee@example.com", "legacy Pässword")
			wantReason(t, err, core.ErrInvalidCredentials, "wrong_password")
			if got, _ := users.UserByID(ctx, "u1"); got.PasswordHash != legacy || a.v.hashes.Load() != 1 {
				t.Fatalf("a failed login cost %d hashes or changed the hash", a.v.hashes.Load())
			}

			a.v.hashes.Store(0)
			id, err := a.Authenticate(ctx, "lee@example.com", "legacy pässword")
			if err != nil || id.Subject != "u1" || !slices.Equal(id.Roles, []string{"editor"}) {
				t.Fatalf("login with a $%s$ hash = %+v, %v", variant, id, err)
			}
			if n := a.v.hashes.Load(); n != 2 {
				t.Fatalf("%d hashes, want the bcrypt verification and the Argon2id rehash", n)
			}
			got, _ := users.UserByID(ctx, "u1")
			if !strings.HasPrefix(got.PasswordHash, defaultPHCPrefix) {
				t.Fatalf("the bcrypt hash was not migrated: %.30q", got.PasswordHash)
			}
			if !slices.Equal(got.Roles, []string{"editor"}) || got.Email != "lee@example.com" {
				t.Fatalf("the migration changed other fields: %+v", got)
			}
			a.v.hashes.Store(0)
			if _, err := a.Authenticate(ctx, "lee@example.com", "legacy pässword"); err != nil {
				t.Fatalf("login after the migration: %v", err)
			}
			if n := a.v.hashes.Load(); n != 1 {
				t.Fatalf("%d hashes after the migration, want 1 (no second rehash)", n)
			}
		})
	}
}

// TestBcryptRefusesPasswordsOver72Bytes: bcrypt reads only 72 bytes, so a
// hash of a 72-byte password would otherwise accept that password followed
// by anything. Such a login is refused after the same bcrypt work.
func TestBcryptRefusesPasswordsOver72Bytes(t *testing.T) {
	ctx := context.Background()
	pw72 := strings.Repeat("p", MaxBcryptPasswordBytes)
	legacy := bcryptOf(t, pw72, bcrypt.MinCost, "2b")
	if err := bcrypt.CompareHashAndPassword([]byte(legacy), []byte(pw72+"anything")); err != nil {
		t.Fatalf("precondition: bcrypt itself no longer ignores bytes past 72 (%v); revisit this rule", err)
	}
	a, users := newTestAuthenticator(t, Options{})
	if err := users.CreateUser(ctx, store.User{ID: "u1", Email: "long@example.com", PasswordHash: legacy}); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{pw72 + "anything", pw72 + "p", pw72 + strings.Repeat("x", 900)} {
		a.v.hashes.Store(0)
		_, err := a.Authenticate(ctx, "long@example.com", pw)
		wantReason(t, err, core.ErrInvalidCredentials, "wrong_password")
		if n := a.v.hashes.Load(); n != 1 {
			t.Fatalf("%d hashes for a %d-byte password, want one", n, len(pw))
		}
		wantReason(t, a.v.Verify(ctx, legacy, pw), core.ErrInvalidCredentials, "wrong_password")
	}
	if got, _ := users.UserByID(ctx, "u1"); got.PasswordHash != legacy {
		t.Fatal("a refused login changed the hash")
	}
	if _, err := a.Authenticate(ctx, "long@example.com", pw72); err != nil {
		t.Fatalf("the 72-byte password itself: %v", err)
	}
	// Multi-byte characters: the limit is in bytes, not characters.
	ü := strings.Repeat("ü", 36) // 72 bytes
	if err := a.v.Verify(ctx, bcryptOf(t, ü, bcrypt.MinCost, "2a"), ü+"ü"); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Fatalf("a 74-byte password matched a bcrypt hash of its prefix: %v", err)
	}
}

func TestBcryptBadHashes(t *testing.T) {
	ctx := context.Background()
	good := bcryptOf(t, "pw", bcrypt.MinCost, "2b")
	a, users := newTestAuthenticator(t, Options{})
	for i, bad := range []string{
		"$2x$" + good[4:],           // the crypt_blowfish bug variant
		"$2$" + good[4:],            // the original variant
		"$2b$03" + good[6:],         // cost below bcrypt.MinCost
		"$2b$16" + good[6:],         // cost above MaxBcryptCost
		"$2b$31" + good[6:],         // hostile cost
		"$2b$1a" + good[6:],         // non-decimal cost
		good[:59],                   // truncated
		good + "A",                  // too long
		good[:30] + "!" + good[31:], // outside the alphabet
		good[:6] + "x" + good[7:],   // missing separator
	} {
		u := store.User{ID: string(rune('a' + i)), Email: string(rune('a'+i)) + "@example.com", PasswordHash: bad}
		if err := users.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		a.v.hashes.Store(0)
		_, err := a.Authenticate(ctx, u.Email, "pw")
		wantReason(t, err, core.ErrInvalidCredentials, "bad_hash")
		if a.v.hashes.Load() != 1 {
			t.Fatalf("%q: the dummy verification did not run", bad)
		}
		if strings.Contains(err.Error(), good[7:20]) {
			t.Fatal("error text contains the stored hash")
		}
		if a.v.NeedsRehash(bad) {
			t.Fatalf("NeedsRehash(%q) = true for an unusable hash", bad)
		}
	}
}

func TestBcryptUsesTheHashingSlot(t *testing.T) {
	ctx := context.Background()
	a, users := newTestAuthenticator(t, Options{MaxConcurrent: 1})
	if err := users.CreateUser(ctx, store.User{ID: "u1", Email: "b@example.com", PasswordHash: bcryptOf(t, "pw", bcrypt.MinCost, "2a")}); err != nil {
		t.Fatal(err)
	}
	a.v.sem <- struct{}{} // occupy the only slot
	tctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	_, err := a.Authenticate(tctx, "b@example.com", "pw")
	wantReason(t, err, core.ErrUnavailable, "hash_busy")
	<-a.v.sem
	if a.v.hashes.Load() != 0 {
		t.Fatal("a bcrypt verification ran without a slot")
	}
}

func TestVerifierAPI(t *testing.T) {
	ctx := context.Background()
	if _, err := NewVerifier(Options{MaxConcurrent: -1}); !errors.Is(err, core.ErrConfig) {
		t.Fatalf("negative MaxConcurrent: %v", err)
	}
	if _, err := NewVerifier(Options{Params: Params{Memory: 1024, Time: 1}}); !errors.Is(err, core.ErrConfig) {
		t.Fatalf("weak params: %v", err)
	}
	v, err := NewVerifier(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Params() != DefaultParams {
		t.Fatalf("Params() = %+v", v.Params())
	}
	enc, err := v.Hash(ctx, "pw")
	if err != nil || !strings.HasPrefix(enc, defaultPHCPrefix) {
		t.Fatalf("Hash = %.30q, %v", enc, err)
	}
	_, err = v.Hash(ctx, "")
	wantReason(t, err, core.ErrInvalidRequest, "password_empty")
	if err := v.Verify(ctx, enc, "pw"); err != nil {
		t.Fatalf("Verify(right password): %v", err)
	}
	wantReason(t, v.Verify(ctx, enc, "Pw"), core.ErrInvalidCredentials, "wrong_password")
	wantReason(t, v.Verify(ctx, "not a hash", "pw"), core.ErrInvalidCredentials, "bad_hash")
	wantReason(t, v.VerifyUnknown(ctx, "pw"), core.ErrInvalidCredentials, "unknown_user")
	if v.NeedsRehash(enc) || !v.NeedsRehash(bcryptOf(t, "pw", bcrypt.MinCost, "2b")) {
		t.Fatal("NeedsRehash: want false for the configured Argon2id, true for bcrypt")
	}
	raised, err := NewVerifier(Options{Params: Params{Memory: 2 * DefaultParams.Memory}})
	if err != nil {
		t.Fatal(err)
	}
	if !raised.NeedsRehash(enc) {
		t.Fatal("NeedsRehash: want true for a hash below the configured parameters")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	wantReason(t, v.VerifyUnknown(cctx, "pw"), core.ErrUnavailable, "hash_busy")
	if n := v.hashes.Load(); n != 5 {
		t.Fatalf("%d hash computations, want 5 (one Hash, four verifications)", n)
	}
}

// TestVerifyUnknownCostsAWrongPassword: VerifyUnknown does the work of one
// real verification at the configured parameters. Checked twice: by the work
// done (one Argon2id computation at the same parameters, as counted by the
// semaphore), and by the clock with a wide tolerance (medians of a few runs
// within a factor of 3).
func TestVerifyUnknownCostsAWrongPassword(t *testing.T) {
	ctx := context.Background()
	v, err := NewVerifier(Options{MaxConcurrent: 1})
	if err != nil {
		t.Fatal(err)
	}
	if v.dummy.params != v.params {
		t.Fatalf("dummy hash parameters %+v differ from the configured %+v", v.dummy.params, v.params)
	}
	enc, err := v.Hash(ctx, "the real password")
	if err != nil {
		t.Fatal(err)
	}
	median := func(f func()) time.Duration {
		var d [5]time.Duration
		for i := range d {
			start := time.Now()
			f()
			d[i] = time.Since(start)
		}
		slices.Sort(d[:])
		return d[len(d)/2]
	}
	v.hashes.Store(0)
	unknown := median(func() { _ = v.VerifyUnknown(ctx, "a guess") })
	wrong := median(func() { _ = v.Verify(ctx, enc, "a guess") })
	if n := v.hashes.Load(); n != 10 {
		t.Fatalf("%d computations for 5 unknown and 5 wrong, want one each", n)
	}
	// The count above is the proof; the times are a coarse second opinion
	// with a wide margin (machines running tests are noisy).
	if unknown*5 < wrong || wrong*5 < unknown {
		t.Fatalf("median unknown-user check %v vs wrong password %v: not within a factor of 5", unknown, wrong)
	}
}

// TestSetPasswordRetriesALostSwap: an explicit password change that loses
// the compare-and-swap to a concurrent rehash (or password change) reads
// the hash again and retries, so it still takes effect; one that keeps
// losing gives up with core.ErrUnavailable wrapping store.ErrStale.
func TestSetPasswordRetriesALostSwap(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	if err := mem.CreateUser(ctx, store.User{ID: "u1", Email: "s@example.com", PasswordHash: "h0", Roles: []string{"r"}}); err != nil {
		t.Fatal(err)
	}
	racing := &racingUsers{Users: mem, races: 2}
	a, err := NewAuthenticator(racing, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetPassword(ctx, "u1", "new password"); err != nil {
		t.Fatalf("SetPassword after two lost swaps: %v", err)
	}
	if _, err := a.Authenticate(ctx, "s@example.com", "new password"); err != nil {
		t.Fatalf("the new password does not verify: %v", err)
	}
	racing.races = 100
	err = a.SetPassword(ctx, "u1", "another password")
	wantReason(t, err, core.ErrUnavailable, "user_store")
	if !errors.Is(err, store.ErrStale) {
		t.Fatalf("error %v does not wrap store.ErrStale", err)
	}
	if racing.swaps != 2+1+setPasswordTries {
		t.Fatalf("%d swaps, want %d", racing.swaps, 2+1+setPasswordTries)
	}
}

// racingUsers changes the stored hash right before each of the next races
// calls of UpdatePasswordHash, as a concurrent writer would.
type racingUsers struct {
	store.Users
	races, swaps int
}

func (r *racingUsers) UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error {
	r.swaps++
	if r.races > 0 {
		r.races--
		u, err := r.UserByID(ctx, id)
		if err != nil {
			return err
		}
		if err := r.Users.UpdatePasswordHash(ctx, id, u.PasswordHash, u.PasswordHash+"'"); err != nil {
			return err
		}
	}
	return r.Users.UpdatePasswordHash(ctx, id, oldHash, newHash)
}
