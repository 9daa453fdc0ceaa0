package rbac_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/authguard/authguard/core"
	"github.com/authguard/authguard/core/authtest"
	"github.com/authguard/authguard/core/wire"
	"github.com/authguard/authguard/rbac"
)

// adminFixture is a service whose Authorizer enforces the default policy
// stored in SQLite, with the role administration over the fixture's users.
type adminFixture struct {
	f     *authtest.Fixture
	a     *rbac.Authorizer
	admin *rbac.RoleAdmin
	ad    *rbac.SQLAdapter
	close func() error
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	db, d, table := sqliteDB(t)
	ad, err := rbac.NewSQLAdapter(db, d, table)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := rbac.NewEnforcer(rbac.ModelRBAC, rbac.PolicyFromString(rbac.DefaultPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if err := ad.SavePolicy(seed.GetModel()); err != nil {
		t.Fatal(err)
	}
	e, err := rbac.NewEnforcer(rbac.ModelRBAC, ad)
	if err != nil {
		t.Fatal(err)
	}
	a, err := rbac.New(e)
	if err != nil {
		t.Fatal(err)
	}
	f := authtest.New(t, authtest.Options{Config: func(c *core.Config) { c.Authorizer = a }})
	admin, err := rbac.NewRoleAdmin(f.Service, a, rbac.SubjectsFromStore(f.Store))
	if err != nil {
		t.Fatal(err)
	}
	return &adminFixture{f: f, a: a, admin: admin, ad: ad, close: db.Close}
}

func (x *adminFixture) change(subject, role string) rbac.RoleChange {
	return rbac.RoleChange{
		Actor:   &core.Principal{Subject: x.f.AdminID, SessionID: "s-admin"},
		Client:  core.ClientInfo{IP: "192.0.2.1", UserAgent: "test"},
		Subject: subject,
		Role:    role,
	}
}

// Listing, giving and taking roles: idempotent, persisted, audited, and a
// role taken away denies the subject's next request although its token
// still lists the role.
func TestRoleAdmin(t *testing.T) {
	ctx := context.Background()
	x := newAdminFixture(t)
	svc, uid := x.f.Service, x.f.UserID
	if roles, err := x.admin.Roles(ctx, uid); err != nil || roles == nil || len(roles) != 0 {
		t.Fatalf("Roles of a subject without roles = %#v, %v; want an empty list", roles, err)
	}
	for i := 0; i < 2; i++ {
		if err := x.admin.Grant(ctx, x.change(uid, "admin")); err != nil {
			t.Fatalf("Grant #%d: %v", i, err)
		}
	}
	if err := x.admin.Grant(ctx, x.change(uid, "user")); err != nil {
		t.Fatal(err)
	}
	if roles, err := x.admin.Roles(ctx, uid); err != nil || !slices.Equal(roles, []string{"admin", "user"}) {
		t.Fatalf("Roles = %v, %v; want [admin user]", roles, err)
	}
	token := &core.Principal{Subject: uid, Roles: []string{"admin"}} // what the token says, now and later
	if err := svc.CheckRole(ctx, token, "admin"); err != nil {
		t.Fatalf("CheckRole(admin) after the grant = %v", err)
	}
	if err := svc.Authorize(ctx, token, "reports", "delete"); err != nil {
		t.Fatalf("Authorize(reports, delete) after the grant = %v", err)
	}
	for i := 0; i < 2; i++ {
		if err := x.admin.Revoke(ctx, x.change(uid, "admin")); err != nil {
			t.Fatalf("Revoke #%d: %v", i, err)
		}
	}
	if err := svc.CheckRole(ctx, token, "admin"); !errors.Is(err, core.ErrInsufficientScope) {
		t.Errorf("CheckRole(admin) right after the revocation = %v, want ErrInsufficientScope", err)
	}
	if err := svc.Authorize(ctx, token, "reports", "delete"); !errors.Is(err, core.ErrInsufficientScope) {
		t.Errorf("Authorize(reports, delete) right after the revocation = %v, want ErrInsufficientScope", err)
	}
	if err := svc.Authorize(ctx, token, "reports", "read"); err != nil {
		t.Errorf("Authorize(reports, read) with role user = %v", err)
	}
	// The change is in the database: a fresh instance sees it.
	e2, err := rbac.NewEnforcer(rbac.ModelRBAC, x.ad)
	if err != nil {
		t.Fatal(err)
	}
	if roles, _ := e2.GetRolesForUser(uid); !slices.Equal(roles, []string{"user"}) {
		t.Errorf("stored roles = %v, want [user]", roles)
	}

	// Refusals: unknown subject (404), unknown role (400); nothing changes.
	for _, c := range []struct {
		subject, role string
		want          error
	}{
		{"no-such-user", "user", core.ErrNotFound},
		{"", "user", core.ErrNotFound},
		{"admin", "user", core.ErrNotFound}, // a role is no account
		{uid, "superuser", core.ErrInvalidRequest},
		{uid, "", core.ErrInvalidRequest},
	} {
		if err := x.admin.Grant(ctx, x.change(c.subject, c.role)); !errors.Is(err, c.want) {
			t.Errorf("Grant(%q, %q) = %v, want %v", c.subject, c.role, err, c.want)
		}
		if err := x.admin.Revoke(ctx, x.change(c.subject, c.role)); !errors.Is(err, c.want) {
			t.Errorf("Revoke(%q, %q) = %v, want %v", c.subject, c.role, err, c.want)
		}
	}
	if _, err := x.admin.Roles(ctx, "no-such-user"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("Roles(unknown) = %v, want ErrNotFound", err)
	}

	logs := x.f.Logs.String()
	for _, want := range []string{`"event":"role_granted"`, `"event":"role_revoked"`, `"event":"role_change_refused"`,
		`"reason":"unknown_role"`, `"reason":"unknown_subject"`, `"target":"` + uid + `"`, `"subject":"` + x.f.AdminID + `"`, `"ip":"192.0.2.1"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
}

// A database or directory that fails is 503, audited at error level, and
// changes nothing.
func TestRoleAdminOutages(t *testing.T) {
	ctx := context.Background()
	x := newAdminFixture(t)
	uid := x.f.UserID
	if err := x.admin.Grant(ctx, x.change(uid, "user")); err != nil {
		t.Fatal(err)
	}
	if err := x.close(); err != nil {
		t.Fatal(err)
	}
	if err := x.admin.Grant(ctx, x.change(uid, "admin")); !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("Grant over a closed database = %v, want ErrUnavailable", err)
	}
	if err := x.f.Service.CheckRole(ctx, &core.Principal{Subject: uid}, "admin"); !errors.Is(err, core.ErrInsufficientScope) {
		t.Errorf("a grant the database refused took effect: CheckRole = %v", err)
	}
	if !strings.Contains(x.f.Logs.String(), `"level":"ERROR","msg":"authguard: role_change_refused"`) {
		t.Error("no error-level audit line for the failed change")
	}
	down := errors.New("directory down")
	admin, err := rbac.NewRoleAdmin(x.f.Service, x.a, func(context.Context, string) (bool, error) { return false, down })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Roles(ctx, uid); !errors.Is(err, core.ErrUnavailable) || !errors.Is(err, down) {
		t.Errorf("Roles with the directory down = %v, want ErrUnavailable", err)
	}
	if _, err := rbac.NewRoleAdmin(x.f.Service, x.a, nil); err == nil {
		t.Error("NewRoleAdmin without a subject function succeeded")
	}
}

// Many administrators give and take one role at once while requests are
// decided: no error, and the last word holds in memory and in the database.
func TestRoleAdminConcurrent(t *testing.T) {
	ctx := context.Background()
	x := newAdminFixture(t)
	uid := x.f.UserID
	var start, wg sync.WaitGroup
	start.Add(1)
	errs := make(chan error, 8*20)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			for range 10 {
				if g%2 == 0 {
					errs <- x.admin.Grant(ctx, x.change(uid, "admin"))
				} else {
					errs <- x.admin.Revoke(ctx, x.change(uid, "admin"))
				}
				err := x.f.Service.CheckRole(ctx, &core.Principal{Subject: uid}, "admin")
				if err != nil && !errors.Is(err, core.ErrInsufficientScope) {
					errs <- err
				}
			}
		}()
	}
	start.Done()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := x.admin.Grant(ctx, x.change(uid, "admin")); err != nil {
		t.Fatal(err)
	}
	if err := x.f.Service.CheckRole(ctx, &core.Principal{Subject: uid}, "admin"); err != nil {
		t.Errorf("after the last grant: CheckRole = %v", err)
	}
	e2, err := rbac.NewEnforcer(rbac.ModelRBAC, x.ad)
	if err != nil {
		t.Fatal(err)
	}
	if roles, _ := e2.GetRolesForUser(uid); !slices.Equal(roles, []string{"admin"}) {
		t.Errorf("stored roles = %v, want [admin] once", roles)
	}
}

// RoleAdmin is the engine the adapters' MountRoleAdmin serves.
var _ wire.RoleAdmin = (*rbac.RoleAdmin)(nil)
