package core

import "github.com/authguard/authguard/core/token"

// invalidTokenErrs holds one ErrInvalidToken *Error per token.Reason, whose
// Reason is the reason's log word, so that refusing an access token costs no
// allocation on the guard path. The values are shared and must not be
// modified.
var invalidTokenErrs = func() (t [token.NumReasons]Error) {
	for r := range t {
		t[r] = Error{Kind: ErrInvalidToken, Reason: token.Reason(r).String()}
	}
	return t
}()

// tokenError maps an error of token.KeySet.Verify to core's ErrInvalidToken
// *Error with the same reason word; nil stays nil.
func tokenError(err error) error {
	if err == nil {
		return nil
	}
	if r := token.ReasonOf(err); r != token.ReasonNone {
		return &invalidTokenErrs[r]
	}
	return &Error{Kind: ErrInvalidToken, Err: err}
}
