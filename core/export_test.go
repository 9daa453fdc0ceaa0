package core

import "unsafe"

// VerifiedTokenSize is the size of a token cache value: with it, a slot
// of the cache is one 64-byte cache line.
const VerifiedTokenSize = unsafe.Sizeof(verifiedToken{})

// TokenCacheStats returns the entries and the bytes charged in s's token
// cache (0, 0 when it is off).
func TokenCacheStats(s *Service) (entries, bytes int) {
	if s.tokens == nil {
		return 0, 0
	}
	return s.tokens.Len(), s.tokens.Bytes()
}

// TokenCacheVouched reports whether s's token cache holds tok with an entry
// of the sessions seen live that still vouches for its session at now: a
// hit then needs no session lookup.
func TokenCacheVouched(s *Service, tok string) bool {
	if s.tokens == nil {
		return false
	}
	e, ok := s.tokens.Get(tok)
	return ok && e.sess != nil && e.sess.vouches(s.now())
}
