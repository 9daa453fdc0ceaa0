package rbac

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/authguard/authguard/core"
	"github.com/casbin/casbin/v2/model"
)

// Enforcer is the part of a casbin enforcer the Authorizer uses. casbin's
// *Enforcer, *SyncedEnforcer and *CachedEnforcer all implement it. A plain
// *Enforcer is not safe while its policy changes: when policies change
// live, use a *SyncedEnforcer (NewEnforcer returns one).
type Enforcer interface {
	// Enforce decides a request (subject, object, action), or (subject,
	// domain, object, action) with ModelDomains.
	Enforce(rvals ...any) (bool, error)
	// GetImplicitRolesForUser returns the roles name holds, inherited ones
	// included, in the domain if one is given.
	GetImplicitRolesForUser(name string, domain ...string) ([]string, error)
	// LoadPolicy reloads the whole policy from the enforcer's adapter.
	LoadPolicy() error
}

// DomainFunc names the domain (tenant) of a request for ModelDomains, from
// the principal, the request context (see ContextWithDomain) and the object
// asked for ("" for a role check). ok=false denies the request. Name only
// tenants that exist: casbin remembers the answer for every tenant its
// matcher is asked about until the policy next loads, so a tenant taken
// as the caller wrote it lets callers grow memory without bound.
type DomainFunc func(ctx context.Context, p *core.Principal, object string) (domain string, ok bool)

// DefaultCacheSize is how many decisions an Authorizer remembers unless
// WithCacheSize says otherwise. A decision whose subject, domain, object
// and action together are longer than 512 bytes is never remembered, so
// that callers who choose a name (a tenant in the path) cannot make the
// cache hold more than about size times that.
const DefaultCacheSize = 65536

// Option configures New.
type Option func(*options) error

type options struct {
	domain    DomainFunc
	cacheSize int
}

// WithDomain makes the Authorizer enforce requests with a domain (for
// ModelDomains): f names each request's domain, and a request it names none
// for is denied. Without it, requests have no domain (ModelRBAC).
func WithDomain(f DomainFunc) Option {
	return func(o *options) error {
		if f == nil {
			return errors.New("rbac: WithDomain(nil)")
		}
		o.domain = f
		return nil
	}
}

// WithCacheSize bounds the decision cache to n decisions (default
// DefaultCacheSize); 0 turns the cache off, so that every request asks the
// enforcer. Negative sizes are refused.
func WithCacheSize(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("rbac: WithCacheSize(%d): want 0 or more", n)
		}
		o.cacheSize = n
		return nil
	}
}

// Authorizer is a core.Authorizer and core.RoleChecker over a casbin
// enforcer. It is safe for concurrent use when its enforcer is. Every change
// of the policy must reach it through its own methods (Reload, the role
// administration) or PolicyChanged, so that no cached decision outlives it.
type Authorizer struct {
	e     Enforcer
	opts  options
	cache *decisionCache // nil when off

	// edit serialises Reload with the changes made through the Authorizer
	// (the role administration): a reload that read the stored policy
	// before a change was stored must not apply it after the change.
	edit sync.Mutex

	fresh   atomic.Pointer[freshness] // set by a Watcher (see Watch)
	watched atomic.Bool               // a Watcher is running
}

var (
	_ core.Authorizer  = (*Authorizer)(nil)
	_ core.RoleChecker = (*Authorizer)(nil)
)

// New returns an Authorizer over e. When e exposes its model (casbin's
// enforcers do), New checks that its requests have three fields (subject,
// object, action), or four with WithDomain. When e is one of casbin's
// cached enforcers, New turns its cache off: casbin does not empty it when
// a role rule changes (a role taken away would keep allowing), and the
// Authorizer's own cache, which is emptied on every change, takes its
// place.
func New(e Enforcer, opts ...Option) (*Authorizer, error) {
	if e == nil {
		return nil, errors.New("rbac: nil enforcer")
	}
	o := options{cacheSize: DefaultCacheSize}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if m, ok := e.(interface{ GetModel() model.Model }); ok {
		want := 3
		if o.domain != nil {
			want = 4
		}
		if r, ok := m.GetModel()["r"]["r"]; !ok || len(r.Tokens) != want {
			return nil, fmt.Errorf("rbac: the model's request definition must have %d fields (%s)", want,
				map[bool]string{false: "sub, obj, act; WithDomain for sub, dom, obj, act", true: "sub, dom, obj, act"}[o.domain != nil])
		}
	}
	if c, ok := e.(casbinCache); ok {
		c.EnableCache(false)
	}
	a := &Authorizer{e: e, opts: o}
	if o.cacheSize > 0 {
		a.cache = newDecisionCache(o.cacheSize)
	}
	return a, nil
}

// Enforcer returns the enforcer the Authorizer asks.
func (a *Authorizer) Enforcer() Enforcer { return a.e }

// stale returns ErrPolicyStale when a Watcher has not checked the policy
// for longer than it allows.
func (a *Authorizer) stale() error {
	if f := a.fresh.Load(); f != nil {
		return f.check()
	}
	return nil
}

// Authorize implements core.Authorizer: it reports whether the policy
// allows p's subject action on object (in the request's domain with
// WithDomain). No principal, no subject or no domain denies; an enforcer
// error, or ErrPolicyStale from a Watcher cut off from the stored policy,
// is returned (the core answers 503).
func (a *Authorizer) Authorize(ctx context.Context, p *core.Principal, object, action string) (bool, error) {
	if p == nil || p.Subject == "" {
		return false, nil
	}
	if err := a.stale(); err != nil {
		return false, err
	}
	dom, ok := a.domainOf(ctx, p, object)
	if !ok {
		return false, nil
	}
	k := cacheKey{sub: p.Subject, dom: dom, obj: object, act: action}
	gen := uint64(0)
	if a.cache != nil {
		var allow, hit bool
		if allow, hit, gen = a.cache.get(k); hit {
			return allow, nil
		}
	}
	var allow bool
	var err error
	if a.opts.domain != nil {
		allow, err = a.e.Enforce(p.Subject, dom, object, action)
	} else {
		allow, err = a.e.Enforce(p.Subject, object, action)
	}
	if err != nil {
		return false, fmt.Errorf("rbac: enforce: %w", err)
	}
	if a.cache != nil {
		a.cache.put(k, gen, allow)
	}
	return allow, nil
}

// HasAnyRole implements core.RoleChecker: it reports whether the policy
// gives p's subject at least one of roles, directly or by inheritance (in
// the request's domain with WithDomain). The token's roles claim is not
// read. Errors are as for Authorize.
func (a *Authorizer) HasAnyRole(ctx context.Context, p *core.Principal, roles ...string) (bool, error) {
	if p == nil || p.Subject == "" || len(roles) == 0 {
		return false, nil
	}
	if err := a.stale(); err != nil {
		return false, err
	}
	dom, ok := a.domainOf(ctx, p, "")
	if !ok {
		return false, nil
	}
	gen := uint64(0)
	if a.cache != nil {
		var has, known bool
		if has, known, gen = a.cachedAnyRole(p.Subject, dom, roles); known {
			return has, nil
		}
	}
	held, err := a.impliedRoles(p.Subject, dom)
	if err != nil {
		return false, err
	}
	found := false
	for _, r := range roles {
		found = found || held[r]
		if a.cache != nil {
			a.cache.put(cacheKey{role: true, sub: p.Subject, dom: dom, obj: r}, gen, held[r])
		}
	}
	return found, nil
}

// cachedAnyRole answers HasAnyRole from the cache when it can (known), and
// returns the generation to cache a computed answer under.
func (a *Authorizer) cachedAnyRole(sub, dom string, roles []string) (has, known bool, gen uint64) {
	known = true
	for i, r := range roles {
		allow, hit, g := a.cache.get(cacheKey{role: true, sub: sub, dom: dom, obj: r})
		if i == 0 {
			gen = g
		}
		if hit && allow {
			return true, true, gen
		}
		known = known && hit
	}
	return false, known, gen
}

// impliedRoles returns the set of roles sub holds, inheritance included.
func (a *Authorizer) impliedRoles(sub, dom string) (map[string]bool, error) {
	var rs []string
	var err error
	if a.opts.domain != nil {
		rs, err = a.e.GetImplicitRolesForUser(sub, dom)
	} else {
		rs, err = a.e.GetImplicitRolesForUser(sub)
	}
	if err != nil {
		return nil, fmt.Errorf("rbac: roles: %w", err)
	}
	held := make(map[string]bool, len(rs))
	for _, r := range rs {
		held[r] = true
	}
	return held, nil
}

// domainOf names the request's domain: "" without WithDomain.
func (a *Authorizer) domainOf(ctx context.Context, p *core.Principal, object string) (string, bool) {
	if a.opts.domain == nil {
		return "", true
	}
	dom, ok := a.opts.domain(ctx, p, object)
	return dom, ok && dom != ""
}

// Reload reads the whole policy again from the enforcer's adapter (a
// watcher's callback calls it when another instance changed the policy) and
// then forgets every cached decision. On error the enforcer keeps the
// policy it had, and the cache is emptied all the same. Changes made
// through the Authorizer (RoleAdmin) wait for a Reload under way, and a
// Reload waits for them, so that a reload never puts back in memory a rule
// that a change removed after the reload had read the stored policy. A
// change made through the enforcer directly during a Reload can be undone
// in memory that way until the next Reload.
func (a *Authorizer) Reload() error {
	a.edit.Lock()
	defer a.edit.Unlock()
	err := a.e.LoadPolicy()
	a.PolicyChanged()
	if err != nil {
		return fmt.Errorf("rbac: reload policy: %w", err)
	}
	return nil
}

// PolicyChanged forgets every cached decision. Call it after changing the
// policy through the enforcer directly; the Authorizer's own methods call it
// themselves. A decision being computed while it runs is not cached.
func (a *Authorizer) PolicyChanged() {
	if a.cache != nil {
		a.cache.invalidate()
	}
}

// casbinCache is the switch of the decision cache of casbin's
// *CachedEnforcer and *SyncedCachedEnforcer.
type casbinCache interface{ EnableCache(enable bool) }

type domainKey struct{}

// ContextWithDomain returns a copy of ctx naming domain as the request's
// domain, for DomainFromContext. A middleware that runs before the guard
// sets it, typically from a route parameter such as "/t/{tenant}/...".
func ContextWithDomain(ctx context.Context, domain string) context.Context {
	return context.WithValue(ctx, domainKey{}, strings.Clone(domain))
}

// DomainFromContext is a DomainFunc that names the domain set by
// ContextWithDomain, and none (deny) when it was not set.
func DomainFromContext(ctx context.Context, _ *core.Principal, _ string) (string, bool) {
	d, ok := ctx.Value(domainKey{}).(string)
	return d, ok && d != ""
}

// DomainFromTenant is a DomainFunc that names the tenant of the principal
// (the access token's "tenant" claim, see core.Identity.Tenant), and none
// (deny) when the token names no tenant. When the request also names a
// domain with ContextWithDomain (a route parameter such as
// "/t/{tenant}/..."), the two must be equal, or the request is denied: a
// user of one tenant never acts in another's domain, whatever the policy
// gives the same subject id there.
func DomainFromTenant(ctx context.Context, p *core.Principal, _ string) (string, bool) {
	if p == nil || p.Tenant == "" {
		return "", false
	}
	if d, set := ctx.Value(domainKey{}).(string); set && d != p.Tenant {
		return "", false
	}
	return p.Tenant, true
}
