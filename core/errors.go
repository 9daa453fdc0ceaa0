package core

import (
	"errors"
	"time"
)

// Sentinel errors. Each maps to one error code of the wire contract; match them
// with errors.Is. The *Error type carries the log-only detail.
var (
	// ErrInvalidRequest: the request is malformed (400 invalid_request).
	ErrInvalidRequest = errors.New("authguard: invalid request")
	// ErrBodyTooLarge: the request body exceeds the limit (413 invalid_request).
	ErrBodyTooLarge = errors.New("authguard: request body too large")
	// ErrInvalidGrant: bad credentials or an unusable refresh token (400 invalid_grant).
	ErrInvalidGrant = errors.New("authguard: invalid grant")
	// ErrNoCredential: a guarded route got no access token (401 without error attribute).
	ErrNoCredential = errors.New("authguard: no credential")
	// ErrInvalidToken: the access token is invalid, expired or its session ended (401 invalid_token).
	ErrInvalidToken = errors.New("authguard: invalid token")
	// ErrInsufficientScope: authenticated but not allowed (403 insufficient_scope).
	ErrInsufficientScope = errors.New("authguard: insufficient scope")
	// ErrNotFound: the resource does not exist for this caller (404 not_found).
	ErrNotFound = errors.New("authguard: not found")
	// ErrTooManyRequests: login throttled (429 too_many_requests with Retry-After).
	ErrTooManyRequests = errors.New("authguard: too many requests")
	// ErrUnavailable: a store, key or policy backend could not be reached (503 temporarily_unavailable).
	ErrUnavailable = errors.New("authguard: temporarily unavailable")
	// ErrInternal: anything else (500 server_error).
	ErrInternal = errors.New("authguard: internal error")
	// ErrInvalidCredentials is what an Authenticator returns for an unknown
	// user, a wrong password, or a locked or disabled account.
	ErrInvalidCredentials = errors.New("authguard: invalid credentials")
	// ErrConfig reports invalid configuration (returned by New and other
	// constructors; key errors wrap token.ErrInvalidKey instead).
	ErrConfig = errors.New("authguard: invalid configuration")
)

// Error is the structured error of authguard. Kind is one of the sentinels
// above; Reason is a short machine word for logs only (never sent to clients);
// Err is the underlying cause, if any.
type Error struct {
	Kind       error
	Reason     string
	RetryAfter time.Duration
	Err        error
}

// Error implements error. The text is for logs; clients see only the
// contract's fixed error codes and descriptions.
func (e *Error) Error() string {
	s := e.Kind.Error()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap lets errors.Is match both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

func newError(kind error, reason string, cause error) *Error {
	return &Error{Kind: kind, Reason: reason, Err: cause}
}

// ReasonOf returns the log-only reason carried by err, or "".
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}
