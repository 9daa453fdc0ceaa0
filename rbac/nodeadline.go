package rbac

import (
	"context"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
)

// noDeadline gives an adapter with casbin's context methods
// (persist.ContextBatchAdapter) the methods without a context that
// casbin's Adapter and BatchAdapter also ask for: each calls its context
// form with context.Background(). SQLAdapter and RedisAdapter embed it.
type noDeadline struct{ a persist.ContextBatchAdapter }

// LoadPolicy is LoadPolicyCtx without a deadline (casbin's Adapter).
func (n noDeadline) LoadPolicy(m model.Model) error {
	return n.a.LoadPolicyCtx(context.Background(), m)
}

// SavePolicy is SavePolicyCtx without a deadline (casbin's Adapter).
func (n noDeadline) SavePolicy(m model.Model) error {
	return n.a.SavePolicyCtx(context.Background(), m)
}

// AddPolicy is AddPolicyCtx without a deadline (casbin's Adapter).
func (n noDeadline) AddPolicy(sec, ptype string, rule []string) error {
	return n.a.AddPolicyCtx(context.Background(), sec, ptype, rule)
}

// RemovePolicy is RemovePolicyCtx without a deadline (casbin's Adapter).
func (n noDeadline) RemovePolicy(sec, ptype string, rule []string) error {
	return n.a.RemovePolicyCtx(context.Background(), sec, ptype, rule)
}

// RemoveFilteredPolicy is RemoveFilteredPolicyCtx without a deadline
// (casbin's Adapter).
func (n noDeadline) RemoveFilteredPolicy(sec, ptype string, fieldIndex int, fieldValues ...string) error {
	return n.a.RemoveFilteredPolicyCtx(context.Background(), sec, ptype, fieldIndex, fieldValues...)
}

// AddPolicies is AddPoliciesCtx without a deadline (casbin's BatchAdapter).
func (n noDeadline) AddPolicies(sec, ptype string, rules [][]string) error {
	return n.a.AddPoliciesCtx(context.Background(), sec, ptype, rules)
}

// RemovePolicies is RemovePoliciesCtx without a deadline (casbin's
// BatchAdapter).
func (n noDeadline) RemovePolicies(sec, ptype string, rules [][]string) error {
	return n.a.RemovePoliciesCtx(context.Background(), sec, ptype, rules)
}
