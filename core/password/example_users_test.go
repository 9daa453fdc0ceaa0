package password_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/password"
)

// teamUsers is a core.Authenticator over a team's own users table: here a
// map guarded by a mutex, in a real service a database/sql query.
type teamUsers struct {
	v    *password.Verifier
	mu   sync.Mutex
	rows map[string]teamUser // by normalised e-mail
}

type teamUser struct {
	id, hash string // hash: bcrypt today, Argon2id after the next login
	roles    []string
}

func (t *teamUsers) Authenticate(ctx context.Context, email, pw string) (core.Identity, error) {
	t.mu.Lock()
	u, ok := t.rows[core.NormalizeEmail(email)]
	t.mu.Unlock()
	if !ok {
		return core.Identity{}, t.v.VerifyUnknown(ctx, pw) // as slow as a wrong password
	}
	if err := t.v.Verify(ctx, u.hash, pw); err != nil {
		return core.Identity{Subject: u.id}, err // invalid credentials (400) or busy (503)
	}
	if t.v.NeedsRehash(u.hash) { // bcrypt: migrate to Argon2id, best effort
		if enc, err := t.v.Hash(ctx, pw); err == nil {
			// UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?
			t.mu.Lock()
			if cur := t.rows[core.NormalizeEmail(email)]; cur.hash == u.hash {
				cur.hash = enc
				t.rows[core.NormalizeEmail(email)] = cur
			}
			t.mu.Unlock()
		}
	}
	return core.Identity{Subject: u.id, Roles: u.roles}, nil
}

func (t *teamUsers) Lookup(ctx context.Context, subject string) (core.Identity, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, u := range t.rows {
		if u.id == subject {
			return core.Identity{Subject: u.id, Roles: u.roles}, nil
		}
	}
	return core.Identity{}, core.ErrInvalidCredentials // the session ends
}

// ExampleVerifier plugs a team's existing users table, with bcrypt hashes,
// into authguard: pass the teamUsers value as core.Config.Authenticator.
func ExampleVerifier() {
	ctx := context.Background()
	legacy, _ := bcrypt.GenerateFromPassword([]byte("hunter2 but longer"), bcrypt.MinCost)
	v, err := password.NewVerifier(password.Options{})
	if err != nil {
		panic(err)
	}
	users := &teamUsers{v: v, rows: map[string]teamUser{
		"ada@example.com": {id: "u-1", hash: string(legacy), roles: []string{"admin"}},
	}}
	var _ core.Authenticator = users

	id, err := users.Authenticate(ctx, "Ada@Example.com", "hunter2 but longer")
	fmt.Println(id.Subject, id.Roles, err)
	fmt.Println(strings.SplitN(users.rows["ada@example.com"].hash, "$", 3)[1])
	_, err = users.Authenticate(ctx, "ada@example.com", "wrong")
	fmt.Println(errors.Is(err, core.ErrInvalidCredentials), core.ReasonOf(err))
	_, err = users.Authenticate(ctx, "bob@example.com", "hunter2 but longer")
	fmt.Println(errors.Is(err, core.ErrInvalidCredentials), core.ReasonOf(err))
	// Output:
	// u-1 [admin] <nil>
	// argon2id
	// true wrong_password
	// true unknown_user
}
