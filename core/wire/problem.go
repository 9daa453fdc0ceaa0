package wire

import (
	"encoding/json"
	"errors"
	"maps"
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
// A 400 invalid_request names its cause (RequestDescription of the error's
// reason); every other answer has one description per kind, so a failed
// login or refresh (invalid_grant), an invalid access token and an outage
// never say why.
func ProblemFor(err error) Problem {
	switch {
	case errors.Is(err, core.ErrBodyTooLarge):
		return Problem{Status: 413, Code: CodeInvalidRequest, Description: requestDescriptions["body_too_large"]}
	case errors.Is(err, core.ErrInvalidRequest):
		return Problem{Status: 400, Code: CodeInvalidRequest, Description: RequestDescription(core.ReasonOf(err))}
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

// GenericRequestDescription is the description of a 400 invalid_request
// whose reason has no entry in the table of RequestDescriptions.
const GenericRequestDescription = "malformed request"

// requestDescriptions is the one table of the causes a 400 invalid_request
// names: reason word (core.Error.Reason) -> error_description. Every text is
// fixed (nothing from the request is echoed) and tells nothing about
// accounts; reasons that could (an address already taken) stay out of it.
var requestDescriptions = map[string]string{
	// the body ("body_too_large" is the 413 of ErrBodyTooLarge)
	"body_too_large":  "request body too large",
	"body_unreadable": "request body could not be read",
	"empty_body":      "request body is required",
	"content_type":    "Content-Type must be application/json",
	"not_an_object":   "request body must be a JSON object",
	"malformed_json":  "malformed JSON",
	// login
	"missing_email":          "email is required",
	"missing_password":       "password is required",
	"password_empty":         "password is required",
	"email_not_string":       "email must be a string",
	"password_not_string":    "password must be a string",
	"invalid_email":          "email is not a valid address",
	"email_too_long":         "email too long",
	"password_too_long":      "password too long",
	"device_not_object":      "device must be a JSON object",
	"device_name_not_string": "device name must be a string",
	"device_name_too_long":   "device name too long",
	// refresh and logout
	"no_refresh_token":         "refresh token missing",
	"empty_refresh_token":      "refreshToken must not be empty",
	"refresh_token_not_string": "refreshToken must be a string",
	"cookie_without_transport": "cookie transport requires the X-Auth-Transport header",
	"duplicate_cookie":         "refresh cookie sent more than once",
	"no_credential":            "a refresh token or an access token is required",
	// credentials and CSRF
	"multiple_credentials": "two credentials in one request",
	"csrf_cross_site":      "cross-site request refused",
	"csrf_origin":          "origin not allowed",
	// role administration
	"unknown_role":    "role is not defined by the policy",
	"subject_is_role": "subject is a role of the policy, not an account",
}

// RequestDescription returns the error_description of a 400 invalid_request
// refused for reason: its entry in the table of RequestDescriptions, else
// GenericRequestDescription.
func RequestDescription(reason string) string {
	if d, ok := requestDescriptions[reason]; ok {
		return d
	}
	return GenericRequestDescription
}

// RequestDescriptions returns a copy of the table of the causes a 400
// invalid_request names: reason word -> error_description.
func RequestDescriptions() map[string]string {
	return maps.Clone(requestDescriptions)
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
