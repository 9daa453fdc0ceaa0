package rbac_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/rbac"
	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

const (
	benchUsers   = 1000
	benchObjects = 16
)

// benchPolicy is 50 policy lines (three roles, each inheriting the one
// below, with 48 permissions) and one role line for each of 1,000 users.
func benchPolicy() string {
	var b strings.Builder
	for i := range benchObjects {
		fmt.Fprintf(&b, "p, viewer, obj%d, read\np, editor, obj%d, write\np, owner, obj%d, delete\n", i, i, i)
	}
	b.WriteString("g, editor, viewer\ng, owner, editor\n")
	for i := range benchUsers {
		fmt.Fprintf(&b, "g, u%d, %s\n", i, [...]string{"viewer", "editor", "owner"}[i%3])
	}
	return b.String()
}

// benchRequests are the requests every benchmark cycles through: each user
// reads each object once in 16,000 requests.
func benchRequests() []*core.Principal {
	ps := make([]*core.Principal, benchUsers)
	for i := range ps {
		ps[i] = &core.Principal{Subject: fmt.Sprintf("u%d", i)}
	}
	return ps
}

var benchObjectNames = func() []string {
	s := make([]string, benchObjects)
	for i := range s {
		s[i] = fmt.Sprintf("obj%d", i)
	}
	return s
}()

// BenchmarkDecision sets one permission decision side by side: casbin's
// own Enforce (plain and synced enforcer), the Authorizer without its cache,
// and the Authorizer answering from its decision cache.
func BenchmarkDecision(b *testing.B) {
	m, err := model.NewModelFromString(rbac.ModelRBAC)
	if err != nil {
		b.Fatal(err)
	}
	plain, err := casbin.NewEnforcer(m, rbac.PolicyFromString(benchPolicy()))
	if err != nil {
		b.Fatal(err)
	}
	synced, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(benchPolicy()))
	if err != nil {
		b.Fatal(err)
	}
	ps := benchRequests()
	b.Run("casbin_Enforce", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := plain.Enforce(ps[i%benchUsers].Subject, benchObjectNames[i%benchObjects], "read"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("casbin_SyncedEnforce", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := synced.Enforce(ps[i%benchUsers].Subject, benchObjectNames[i%benchObjects], "read"); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name    string
		size    int
		watched bool
	}{{"rbac_uncached", 0, false}, {"rbac_cached", rbac.DefaultCacheSize, false}, {"rbac_cached_watched", rbac.DefaultCacheSize, true}} {
		a, err := rbac.New(synced, rbac.WithCacheSize(c.size))
		if err != nil {
			b.Fatal(err)
		}
		if c.watched { // the staleness check on every decision
			w, err := rbac.Watch(a, constVersion(1))
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
		}
		ctx := context.Background()
		for i := range benchUsers * benchObjects { // warm the cache
			_, _ = a.Authorize(ctx, ps[i%benchUsers], benchObjectNames[i%benchObjects], "read")
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := a.Authorize(ctx, ps[i%benchUsers], benchObjectNames[i%benchObjects], "read"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// constVersion is a policy version that never moves.
type constVersion int64

func (v constVersion) PolicyVersion(context.Context) (int64, error) { return int64(v), nil }
