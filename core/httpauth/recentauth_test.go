package httpauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/httpauth"
)

// R46: the step-up guard wants a recent password login; refreshes do not
// count as one.
func TestRequireRecentAuth(t *testing.T) {
	f := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	h := httpauth.RequireRecentAuth(f.Service, 5*time.Minute)(ok)
	call := func(access string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/account/password", nil)
		if access != "" {
			req.Header.Set("Authorization", "Bearer "+access)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	tr, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	if rec := call(tr.AccessToken); rec.Code != 204 {
		t.Fatalf("fresh login: %d, want 204", rec.Code)
	}
	f.Clock.Advance(6 * time.Minute)
	next, err := f.Service.Refresh(ctx, tr.RefreshToken, core.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	rec := call(next.AccessToken)
	if rec.Code != 403 || rec.Header().Get("WWW-Authenticate") != `Bearer realm="authguard", error="insufficient_scope"` {
		t.Fatalf("stale login after a refresh: %d %q, want 403 insufficient_scope", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	if rec := call(""); rec.Code != 401 {
		t.Fatalf("no credential: %d, want 401", rec.Code)
	}
	again, err := f.Service.Login(ctx, core.LoginInput{Email: authtest.UserEmail, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	if rec := call(again.AccessToken); rec.Code != 204 {
		t.Fatalf("after a new login: %d, want 204", rec.Code)
	}
}
