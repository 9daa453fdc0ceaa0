package core

import (
	"strings"
	"time"

	"github.com/authguard/authguard/core/internal/tokencache"
	"github.com/authguard/authguard/core/token"
)

// verifiedToken is what the token cache keeps for an access token that
// passed every check of Authenticate: the principal it yields (shared by
// every request presenting the token), the entry of the sessions seen live
// that vouched for its session, the key-set generation it was verified
// under, and the times that bound its validity.
type verifiedToken struct {
	p      *Principal
	sess   *seenSession // nil when none vouched
	keyGen uint64
	from   int64 // the later of iat and nbf
	exp    int64
}

// entryOverhead is charged to every cache entry besides the token and
// claim bytes: the principal (160 bytes), the slot (64: the key header and
// the verifiedToken), the slack of the slot slice growing by doubling (up
// to a slot more), the index buckets (8 bytes each, a quarter to a half of
// them used: up to 32), a free-list position (4) and the size-class
// rounding of the key's copy (64; up to 128 for a token of about 1 KiB).
// Measured with 20,000 EdDSA tokens of 485 bytes, an entry costs the heap
// about 295 bytes besides its token and claim bytes.
const entryOverhead = 160 + 64 + 64 + 32 + 4 + 64

// newTokenCache returns the cache of verified tokens, or nil when c turns
// it off.
func newTokenCache(c *Config) *tokencache.Cache[verifiedToken] {
	if c.TokenCacheMaxEntries < 0 {
		return nil
	}
	return tokencache.New[verifiedToken](c.TokenCacheMaxEntries, c.TokenCacheMaxBytes)
}

// cached returns the principal the cache holds for accessToken, when the
// token is still within its lifetime (with leeway, on the service clock)
// and no key of the key set changed since it was verified. Anything else is
// a miss and the token is verified again, which gives the refusal its exact
// reason (a removed key, an expired token).
func (s *Service) cached(accessToken string, now time.Time) (verifiedToken, bool) {
	if s.tokens == nil || len(accessToken) > s.cfg.MaxTokenBytes {
		return verifiedToken{}, false
	}
	e, ok := s.tokens.Get(accessToken)
	if !ok {
		return verifiedToken{}, false
	}
	if e.keyGen != s.keys.Generation() || e.from > now.Add(s.cfg.Leeway).Unix() || now.Add(-s.cfg.Leeway).Unix() >= e.exp {
		s.tokens.Delete(accessToken)
		return verifiedToken{}, false
	}
	return e, true
}

// revouch records that sess now vouches for the session of a cached token,
// whose entry e named another (gone, or past its deadline).
func (s *Service) revouch(accessToken string, e verifiedToken, sess *seenSession) {
	if sess != nil && sess != e.sess {
		e.sess = sess
		s.tokens.Replace(accessToken, e)
	}
}

// admit caches the principal of an access token that passed every check,
// verified while the key set was at generation keyGen, its session vouched
// for by sess.
func (s *Service) admit(accessToken string, c *token.AccessClaims, p *Principal, sess *seenSession, keyGen uint64) {
	if s.tokens == nil {
		return
	}
	// The claim strings share one decoded payload (three quarters of the
	// payload segment); the aud and roles elements share one slice.
	payload := (strings.LastIndexByte(accessToken, '.') - strings.IndexByte(accessToken, '.')) * 3 / 4
	size := len(accessToken) + payload + 16*(len(c.Audience)+len(c.Roles)) + entryOverhead
	e := verifiedToken{p: p, sess: sess, keyGen: keyGen, from: max(c.IssuedAt, c.NotBefore), exp: c.ExpiresAt}
	s.tokens.Put(accessToken, e, size)
}

// forgetToken drops accessToken from the cache: its session was refused.
func (s *Service) forgetToken(accessToken string) {
	if s.tokens != nil {
		s.tokens.Delete(accessToken)
	}
}
