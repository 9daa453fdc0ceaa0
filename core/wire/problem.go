package wire

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/authguard/authguard/core"
)

// Problem is the transport-neutral HTTP answer for an error.
type Problem struct {
	// Status is the HTTP status code.
	Status int
	// Code is the contract's error code (one of the Code constants).
	Code string
	// Description is the fixed, client-safe error_description.
	Description string
	// Challenge is the error attribute of WWW-Authenticate ("" = none,
	// "-" = a bare challenge without error attribute).
	Challenge string
	// RetryAfter is the wait a 429 asks for.
	RetryAfter time.Duration
}

// Wire error codes of the contract.
const (
	CodeInvalidRequest         = "invalid_request"
	CodeInvalidGrant           = "invalid_grant"
	CodeInvalidToken           = "invalid_token"
	CodeInsufficientScope      = "insufficient_scope"
	CodeNotFound               = "not_found"
	CodeTooManyRequests        = "too_many_requests"
	CodeServerError            = "server_error"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
)

// ProblemFor maps any error to the Problem the client sees. Descriptions are
// fixed strings: no parser detail, key id or token material ever reaches them.
func ProblemFor(err error) Problem {
	switch {
	case errors.Is(err, core.ErrBodyTooLarge):
		return Problem{Status: 413, Code: CodeInvalidRequest, Description: "request body too large"}
	case errors.Is(err, core.ErrInvalidRequest):
		return Problem{Status: 400, Code: CodeInvalidRequest, Description: "malformed request"}
	case errors.Is(err, core.ErrInvalidGrant), errors.Is(err, core.ErrInvalidCredentials):
		return Problem{Status: 400, Code: CodeInvalidGrant, Description: "invalid credentials or refresh token"}
	case errors.Is(err, core.ErrNoCredential):
		return Problem{Status: 401, Code: CodeInvalidToken, Description: "authentication required", Challenge: "-"}
	case errors.Is(err, core.ErrInvalidToken):
		return Problem{Status: 401, Code: CodeInvalidToken, Description: "invalid or expired access token", Challenge: CodeInvalidToken}
	case errors.Is(err, core.ErrInsufficientScope):
		return Problem{Status: 403, Code: CodeInsufficientScope, Description: "insufficient permissions", Challenge: CodeInsufficientScope}
	case errors.Is(err, core.ErrNotFound):
		return Problem{Status: 404, Code: CodeNotFound, Description: "not found"}
	case errors.Is(err, core.ErrTooManyRequests):
		var e *core.Error
		var ra time.Duration
		if errors.As(err, &e) {
			ra = e.RetryAfter
		}
		return Problem{Status: 429, Code: CodeTooManyRequests, Description: "too many attempts, retry later", RetryAfter: ra}
	case errors.Is(err, core.ErrUnavailable):
		return Problem{Status: 503, Code: CodeTemporarilyUnavailable, Description: "service temporarily unavailable, retry later"}
	default:
		return Problem{Status: 500, Code: CodeServerError, Description: "internal server error"}
	}
}

// retryAfterSeconds renders a Retry-After value: whole seconds, rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// ErrorResponse renders err as the contract's error response: the JSON error
// body, Cache-Control: no-store, WWW-Authenticate for 401 and 403, and
// Retry-After for 429.
func (s *Server) ErrorResponse(err error) *Response {
	pr := ProblemFor(err)
	h := make([][2]string, 0, 4)
	h = append(h, [2]string{"Content-Type", "application/json"}, [2]string{"Cache-Control", "no-store"})
	switch pr.Challenge {
	case "":
	case "-":
		h = append(h, [2]string{"WWW-Authenticate", `Bearer realm="` + s.realm + `"`})
	default:
		h = append(h, [2]string{"WWW-Authenticate", `Bearer realm="` + s.realm + `", error="` + pr.Challenge + `"`})
	}
	if pr.Status == 429 {
		h = append(h, [2]string{"Retry-After", retryAfterSeconds(pr.RetryAfter)})
	}
	body, _ := json.Marshal(errorJSON{Error: pr.Code, Description: pr.Description})
	return &Response{Status: pr.Status, Header: h, Body: body}
}

type errorJSON struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func jsonResponse(status int, v any) *Response {
	body, err := json.Marshal(v)
	if err != nil {
		return &Response{Status: 500, Header: [][2]string{{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}},
			Body: []byte(`{"error":"server_error","error_description":"internal server error"}`)}
	}
	return &Response{Status: status, Header: [][2]string{{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}}, Body: body}
}

func noContent() *Response {
	return &Response{Status: 204, Header: [][2]string{{"Cache-Control", "no-store"}}}
}
