package pgstore

// Test helpers for the external test package.
var (
	TestPool       = testPool
	DefaultTestURL = defaultURL
)
