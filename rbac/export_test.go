package rbac

// CacheLen returns the number of decisions a caches.
func CacheLen(a *Authorizer) int {
	if a.cache == nil {
		return 0
	}
	return a.cache.len()
}
