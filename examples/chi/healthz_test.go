package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authguard/authguard/examples/internal/demo"
	"github.com/authguard/authguard/examples/internal/demotest"
	"github.com/go-chi/chi/v5"
)

// TestBaseAnswers pins the raw answers of the base path (CORS, /healthz,
// not found) to testdata/answers.txt.
func TestBaseAnswers(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newRouter(demotest.OpenApp(t)))
	defer srv.Close()
	demotest.PinAnswers(t, srv.URL, "testdata/answers.txt")
}

// bareRouter is the contender's /healthz of the HTTP-level benchmark
// (bench/cmd/peerserver): chi with no middleware, writing {"status":"ok"}
// with encoding/json.
func bareRouter() http.Handler {
	health := map[string]string{"status": "ok"}
	r := chi.NewRouter()
	r.Get(demo.PathHealth, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(health)
	})
	return r
}

// TestHealthzAllocs: the example's whole router allocates no more on
// GET /healthz than the bare router.
func TestHealthzAllocs(t *testing.T) {
	demotest.CheckHealthzAllocs(t, newRouter(demotest.OpenApp(t)), bareRouter())
}

// BenchmarkHealthz serves GET /healthz in process through the example's
// whole router and through the bare router. The instructions per request
// are those of the test binary under valgrind --tool=callgrind
// --toggle-collect='github.com/go-chi/chi/v5.(*Mux).ServeHTTP' for two -test.benchtime=Nx counts, differenced.
func BenchmarkHealthz(b *testing.B) {
	demotest.BenchHealthz(b, func(tb testing.TB) http.Handler { return newRouter(demotest.OpenApp(tb)) }, bareRouter())
}
