package core_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/memstore"
	"github.com/authguard/authguard/core/store"
)

// hangingStore is a memstore whose every call, once hung, waits for its
// context to end: a store that never answers and honours deadlines.
type hangingStore struct {
	*memstore.Store
	hung atomic.Bool
}

func (h *hangingStore) wait(ctx context.Context) error {
	if !h.hung.Load() {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (h *hangingStore) Session(ctx context.Context, id string) (store.Session, error) {
	if err := h.wait(ctx); err != nil {
		return store.Session{}, err
	}
	return h.Store.Session(ctx, id)
}

func (h *hangingStore) UpdateSession(ctx context.Context, u store.Update) error {
	if err := h.wait(ctx); err != nil {
		return err
	}
	return h.Store.UpdateSession(ctx, u)
}

func (h *hangingStore) Peek(ctx context.Context, key string, now time.Time, w time.Duration) (int, time.Time, error) {
	if err := h.wait(ctx); err != nil {
		return 0, time.Time{}, err
	}
	return h.Store.Peek(ctx, key, now, w)
}

// A store that never answers costs login, refresh and logout StoreTimeout,
// answered with ErrUnavailable, even when the caller's context has no
// shorter deadline; nothing is written and the session works afterwards.
func TestStoreTimeoutBoundsEveryCall(t *testing.T) {
	st := &hangingStore{Store: memstore.New()}
	const bound = 100 * time.Millisecond
	f := authtest.New(t, authtest.Options{Store: st, Config: func(c *core.Config) { c.StoreTimeout = bound }})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // without the bound: 5s
	defer cancel()
	tr, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	st.hung.Store(true)
	for name, op := range map[string]func() error{
		"login": func() error {
			_, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
			return err
		},
		"refresh": func() error { _, err := f.Service.Refresh(ctx, tr.RefreshToken, core.ClientInfo{}); return err },
		"logout":  func() error { return f.Service.Logout(ctx, core.LogoutInput{RefreshToken: tr.RefreshToken}) },
	} {
		start := time.Now()
		err := op()
		took := time.Since(start)
		if !errors.Is(err, core.ErrUnavailable) {
			t.Errorf("%s with the store hung: %v, want ErrUnavailable", name, err)
		}
		if took < bound || took > bound+time.Second {
			t.Errorf("%s with the store hung took %v, want about %v", name, took, bound)
		}
	}
	st.hung.Store(false)
	if _, err := f.Service.Refresh(ctx, tr.RefreshToken, core.ClientInfo{}); err != nil {
		t.Fatalf("refresh after the store answers again: %v", err)
	}
}
