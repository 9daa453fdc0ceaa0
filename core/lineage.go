package core

import (
	"time"

	"github.com/authguard/authguard/core/store"
)

// The refresh state machine. This file is the one place where the
// transitions of a session are written; stores persist the states it
// returns and decide nothing.
//
// A session holds one current refresh token (its generation, the digest of
// the token) and, after the first rotation, the successor sealed under the
// previous token. When a genuine token of the session (see refreshToken) is
// presented at time now, the first rule that matches decides:
//
//  1. The session is revoked, or now is at or past its absolute or idle
//     deadline (no leeway): refused, nothing written.
//  2. The token is the current one: rotate. The generation moves on, a new
//     token is minted and its digest stored, the successor is sealed under
//     the presented token, RotatedAt and LastUsedAt become now, the idle
//     deadline moves to now+RefreshIdleTTL (never past the absolute one) and
//     the replay count restarts at zero.
//  3. The token is the immediately previous one and the rotation is open
//     for retry (its write reported an error, so its answer may never have
//     reached the client; see RetryOpen and repairs.go): the same successor
//     and a fresh access token, as often as asked, with nothing written,
//     until the successor is used.
//  4. The token is the immediately previous one and now is within
//     RefreshGrace of RotatedAt: a grace replay returns the same successor
//     and a fresh access token, counted in GraceReplays. Once
//     RefreshGraceReplays replays were served, further ones are refused and
//     revoke nothing.
//  5. Any other genuine token of the session (older than the previous one,
//     the previous one after the window, or one carrying the session's secret
//     that is not the token it claims to be): reuse. The whole session is
//     revoked and every instance learns it through the revocation feed.
//
// A token that is not genuine (malformed, a flipped bit, another session's id
// or secret) never reaches these rules: it is refused before and revokes
// nothing. Outside the machine, a refresh whose user may no longer log in
// revokes the session (subject_disabled), and logout and the session
// endpoints revoke through revokedState.

// step is what presenting a refresh token does to its session.
type step uint8

const (
	stepRefuse step = iota // invalid_grant, nothing written
	stepRotate             // a new current token
	stepReplay             // the same successor again, counted
	stepRetry              // the same successor again, for a rotation whose answer may be lost
	stepReuse              // invalid_grant, the session revoked
)

// presentation is a genuine token as the machine sees it.
type presentation struct {
	gen       int64
	current   bool // the token is the session's current one (digest match)
	retryOpen bool // the rotation to cur's generation may not have reached the client
}

// decide applies the rules above to cur. The reason names the outcome in the
// audit log.
func (c *Config) decide(cur *store.Session, p presentation, now time.Time) (step, string) {
	switch {
	case !cur.RevokedAt.IsZero():
		return stepRefuse, "session_revoked"
	case !now.Before(cur.AbsoluteExpiresAt):
		return stepRefuse, "session_expired_absolute"
	case !now.Before(cur.IdleExpiresAt):
		return stepRefuse, "session_expired_idle"
	case p.gen == cur.Generation && p.current:
		return stepRotate, ""
	case p.gen > cur.Generation:
		// Only a forger holding the session's secret could make one.
		return stepReuse, "reuse_detected"
	case p.gen == cur.Generation-1 && (cur.RetryOpen || p.retryOpen):
		return stepRetry, ""
	case p.gen == cur.Generation-1 && !now.After(cur.RotatedAt.Add(c.RefreshGrace)):
		if cur.GraceReplays >= c.RefreshGraceReplays {
			return stepRefuse, "grace_replays_exhausted"
		}
		return stepReplay, ""
	default:
		return stepReuse, "reuse_detected"
	}
}

// rotatedState is cur after a rotation to the token whose digest is digest,
// whose successor sealed under the presented token is sealed.
func (c *Config) rotatedState(cur store.Session, digest, sealed []byte, now time.Time) store.Session {
	next := cur
	next.Generation++
	next.TokenDigest = digest
	next.Successor = sealed
	next.RotatedAt, next.LastUsedAt = now, now
	next.IdleExpiresAt = minTime(now.Add(c.RefreshIdleTTL), cur.AbsoluteExpiresAt)
	next.GraceReplays = 0
	next.RetryOpen = false
	next.Version++
	return next
}

// replayedState is cur after one more grace replay.
func replayedState(cur store.Session, now time.Time) store.Session {
	next := cur
	next.GraceReplays++
	next.LastUsedAt = now
	next.Version++
	return next
}

// retryOpenedState is cur with its last rotation open for retries.
func retryOpenedState(cur store.Session) store.Session {
	next := cur
	next.RetryOpen = true
	next.Version++
	return next
}

// revokedState is cur revoked at now for reason.
func revokedState(cur store.Session, now time.Time, reason string) store.Session {
	next := cur
	next.RevokedAt = now
	next.RevokeReason = reason
	next.Version++
	return next
}

// newSessionState is the state of a session created at login.
func (c *Config) newSessionState(id, subject string, client ClientInfo, device string, digestTok, digestSecret []byte, now time.Time) store.Session {
	abs := now.Add(c.RefreshAbsoluteTTL)
	return store.Session{
		ID:                id,
		Subject:           subject,
		DeviceName:        device,
		IP:                client.IP,
		UserAgent:         truncate(client.UserAgent, 512),
		AuthTime:          now,
		CreatedAt:         now,
		LastUsedAt:        now,
		IdleExpiresAt:     minTime(now.Add(c.RefreshIdleTTL), abs),
		AbsoluteExpiresAt: abs,
		TokenDigest:       digestTok,
		SecretDigest:      digestSecret,
		Version:           1,
	}
}
