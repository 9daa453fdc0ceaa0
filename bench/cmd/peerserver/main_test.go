package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/token"
)

// TestPeersVerifyAuthguardTokens proves each peer is a real contender: it
// accepts an access token authguard issued with the key file it is given,
// answers the profile from its claims, and refuses the token with an
// altered signature or none at all.
func TestPeersVerifyAuthguardTokens(t *testing.T) {
	for _, alg := range []string{token.AlgEdDSA, token.AlgHS256} {
		t.Run(alg, func(t *testing.T) {
			f := authtest.New(t, authtest.Options{Alg: alg, Config: func(c *core.Config) { c.Now = time.Now }})
			tr, err := f.Service.Login(context.Background(), core.LoginInput{
				Email: authtest.UserEmail, Password: authtest.Password,
				Client: core.ClientInfo{IP: "192.0.2.10", UserAgent: "peer-test"},
			})
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			pemData, err := f.Service.Keys().SigningKey().MarshalPEM()
			if err != nil {
				t.Fatal(err)
			}
			keyFile := filepath.Join(t.TempDir(), "key.pem")
			if err := os.WriteFile(keyFile, pemData, 0o600); err != nil {
				t.Fatal(err)
			}
			gotAlg, key, err := loadKey(keyFile)
			if err != nil || gotAlg != alg {
				t.Fatalf("loadKey: %s, %v; want %s", gotAlg, err, alg)
			}
			ginHandler, err := ginRouter(alg, key)
			if err != nil {
				t.Fatal(err)
			}
			fiber := fiberApp(alg, key)
			handlers := map[string]func(*http.Request) (int, string){
				"chi": recorded(chiRouter(alg, key, authtest.Issuer, authtest.Audience)),
				"gin": recorded(ginHandler),
				"fiber": func(r *http.Request) (int, string) {
					resp, err := fiber.Test(r, -1)
					if err != nil {
						t.Fatalf("fiber: %v", err)
					}
					defer resp.Body.Close()
					b, _ := io.ReadAll(resp.Body)
					return resp.StatusCode, string(b)
				},
			}
			bad := tr.AccessToken[:len(tr.AccessToken)-10] + flip(tr.AccessToken[len(tr.AccessToken)-10]) + tr.AccessToken[len(tr.AccessToken)-9:]
			for name, serve := range handlers {
				if st, body := serve(request(pathHealth, "")); st != http.StatusOK || !strings.Contains(body, `"status":"ok"`) {
					t.Errorf("%s /healthz: %d %s", name, st, body)
				}
				if st, body := serve(request(pathProfile, tr.AccessToken)); st != http.StatusOK || !strings.Contains(body, `"roles":["user"]`) {
					t.Errorf("%s valid token: %d %s", name, st, body)
				}
				if st, _ := serve(request(pathProfile, bad)); st != http.StatusUnauthorized {
					t.Errorf("%s altered signature: %d, want 401", name, st)
				}
				if st, _ := serve(request(pathProfile, "")); st != http.StatusUnauthorized && st != http.StatusBadRequest {
					t.Errorf("%s no token: %d, want 401 or 400", name, st)
				}
			}
		})
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func request(path, tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return r
}

func recorded(h http.Handler) func(*http.Request) (int, string) {
	return func(r *http.Request) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code, rec.Body.String()
	}
}
