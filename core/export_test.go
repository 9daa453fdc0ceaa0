package core

// TokenCacheStats returns the entries and the bytes charged in s's token
// cache (0, 0 when it is off).
func TokenCacheStats(s *Service) (entries, bytes int) {
	if s.tokens == nil {
		return 0, 0
	}
	return s.tokens.Len(), s.tokens.Bytes()
}
