package adaptertest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/wire"
)

// LargeBodySizes are the body sizes CheckLargeBodies sends: just over the
// contract's limit, then sizes over the usual limits of the routers' own
// servers (fiber refuses over 4 MiB before any handler runs).
var LargeBodySizes = []int64{65 << 10, 1 << 20, 10 << 20, 100 << 20}

// CheckLargeBodies sends login bodies of every LargeBodySizes size to a server
// listening on a real socket at baseURL ("http://127.0.0.1:port"): with a
// Content-Length and chunked, fast and, up to 10 MiB, slowly (in 256 KiB
// pieces, a millisecond apart), runs times over. Every one must get the
// contract's 413 answer, byte for byte, whatever the router's own limits.
func CheckLargeBodies(t *testing.T, svc *core.Service, baseURL string, runs int) {
	t.Helper()
	want := wire.New(svc).ErrorResponse(core.ErrBodyTooLarge)
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	url := baseURL + svc.Config().MountPrefix + "/login"
	for run := range runs {
		for _, n := range LargeBodySizes {
			for _, chunked := range []bool{false, true} {
				for _, slow := range []bool{false, true} {
					if slow && n > 10<<20 {
						continue
					}
					name := fmt.Sprintf("run %d, %d bytes, chunked %v, slow %v", run, n, chunked, slow)
					req, err := http.NewRequest("POST", url, bigLogin(n, slow))
					if err != nil {
						t.Fatal(err)
					}
					req.Header.Set("Content-Type", "application/json")
					if req.ContentLength = n; chunked {
						req.ContentLength = -1
					}
					checkAnswer(t, name, client, req, want)
				}
			}
		}
	}
}

func checkAnswer(t *testing.T, name string, client *http.Client, req *http.Request, want *wire.Response) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Errorf("%s: no answer: %v", name, err)
		return
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != want.Status || !bytes.Equal(b, want.Body) ||
		resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: %d %v %q, want the contract's %d %s", name, resp.StatusCode, resp.Header, b, want.Status, want.Body)
	}
}

// bigLogin is a login body of n bytes, made as it is read.
func bigLogin(n int64, slow bool) io.Reader {
	head := `{"email":"` + authtest.UserEmail + `","password":"`
	var r io.Reader = io.MultiReader(strings.NewReader(head), io.LimitReader(repeat('p'), n-int64(len(head))-2), strings.NewReader(`"}`))
	if slow {
		r = &slowReader{r: r}
	}
	return r
}

type repeat byte

func (c repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

// slowReader hands out at most 256 KiB per Read, a millisecond apart.
type slowReader struct{ r io.Reader }

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	return s.r.Read(p[:min(len(p), 256<<10)])
}
