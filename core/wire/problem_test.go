package wire

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/authguard/authguard/core"
)

// A 400 invalid_request names its cause from the one table; every other
// kind keeps one description whatever its reason, so a failed login or
// refresh, an invalid access token and an outage never say why.
func TestProblemForNamesTheCauseOfInvalidRequestOnly(t *testing.T) {
	generic := map[error]string{}
	for _, k := range []error{core.ErrInvalidGrant, core.ErrInvalidCredentials, core.ErrNoCredential, core.ErrInvalidToken,
		core.ErrInsufficientScope, core.ErrNotFound, core.ErrTooManyRequests, core.ErrUnavailable, core.ErrInternal} {
		generic[k] = ProblemFor(k).Description
	}
	reasons := append([]string{"unknown_user", "wrong_password", "disabled", "reuse", "unknown_token", "kid_unknown"}, keys(requestDescriptions)...)
	for _, reason := range reasons {
		for kind, want := range generic {
			if got := ProblemFor(&core.Error{Kind: kind, Reason: reason}).Description; got != want {
				t.Errorf("%v with reason %q: description %q, want the kind's one %q", kind, reason, got, want)
			}
		}
	}
	for reason, want := range requestDescriptions {
		pr := ProblemFor(&core.Error{Kind: core.ErrInvalidRequest, Reason: reason, Err: errors.New("parser detail")})
		if pr.Status != 400 || pr.Code != CodeInvalidRequest || pr.Description != want {
			t.Errorf("reason %q: %+v, want 400 invalid_request %q", reason, pr, want)
		}
	}
	for _, err := range []error{core.ErrInvalidRequest, &core.Error{Kind: core.ErrInvalidRequest, Reason: "conflict"}} {
		if pr := ProblemFor(err); pr.Description != GenericRequestDescription {
			t.Errorf("%v: description %q, want the fallback %q", err, pr.Description, GenericRequestDescription)
		}
	}
	for _, err := range []error{core.ErrBodyTooLarge, &core.Error{Kind: core.ErrBodyTooLarge, Reason: "body_too_large"}} {
		if pr := ProblemFor(err); pr.Status != 413 || pr.Code != CodeInvalidRequest || pr.Description != "request body too large" {
			t.Errorf("%v: %+v", err, pr)
		}
	}
}

// The descriptions are short fixed texts; reasons that would tell about
// accounts have none.
func TestRequestDescriptionsAreFixedAndSafe(t *testing.T) {
	for reason, d := range RequestDescriptions() {
		if d == "" || len(d) > 80 || strings.ContainsAny(d, "\"<>%\n") || d == GenericRequestDescription {
			t.Errorf("reason %q: description %q is not a short fixed text of its own", reason, d)
		}
	}
	for _, reason := range []string{"conflict", "unknown_user", "wrong_password", "disabled", "locked"} {
		if _, ok := requestDescriptions[reason]; ok {
			t.Errorf("reason %q has a description: it would tell about an account", reason)
		}
	}
	cp := RequestDescriptions()
	cp["content_type"] = "changed"
	if RequestDescription("content_type") == "changed" {
		t.Error("RequestDescriptions returned the table itself, not a copy")
	}
}

// Every invalid_request refusal the contract, the core and the password
// authenticator create has its description (except "conflict", which would
// tell that an address is taken).
func TestEveryInvalidRequestReasonIsDescribed(t *testing.T) {
	re := regexp.MustCompile(`(?:ErrInvalidRequest, |Kind: core\.ErrInvalidRequest, Reason: )"([a-z_]+)"`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../*.go")
	pw, _ := filepath.Glob("../password/*.go")
	seen := 0
	for _, name := range append(append(files, more...), pw...) {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			seen++
			if _, ok := requestDescriptions[m[1]]; !ok && m[1] != "conflict" {
				t.Errorf("%s: invalid_request reason %q has no description", name, m[1])
			}
		}
	}
	for field, reason := range typeReasons {
		seen++
		if _, ok := requestDescriptions[reason]; !ok {
			t.Errorf("type error of %q: reason %q has no description", field, reason)
		}
	}
	if seen < 20 {
		t.Fatalf("found only %d invalid_request reasons in the sources: the pattern is stale", seen)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
