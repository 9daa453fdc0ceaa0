package redisstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/authguard/authguard/core/store"
)

// A session is one string: a fixed-width ASCII header the scripts read
//
//	[0:20)  Version, %020d (the compare-and-set compares these bytes)
//	[20:40) the earliest end (deadline or revocation) in Unix ms, %020d (Prune)
//	[40:50) the length of Subject, %010d, then Subject
//
// then the other fields in fixed-width binary (times as seconds and
// nanoseconds, integers as 8 bytes, strings and byte slices with a 4-byte
// length). Every width is fixed, so rewriting a session with new digests,
// generation or times keeps its size.
func encodeSession(s *store.Session) []byte {
	b := make([]byte, 0, 256+len(s.Subject)+len(s.Successor))
	b = fmt.Appendf(b, "%020d%020d%010d", s.Version, endMs(s), len(s.Subject))
	b = append(b, s.Subject...)
	for _, t := range []time.Time{s.AuthTime, s.CreatedAt, s.LastUsedAt, s.IdleExpiresAt,
		s.AbsoluteExpiresAt, s.RevokedAt, s.RotatedAt} {
		b = binary.BigEndian.AppendUint64(b, uint64(t.Unix()))
		b = binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
	}
	b = binary.BigEndian.AppendUint64(b, uint64(s.Generation))
	b = binary.BigEndian.AppendUint64(b, uint64(int64(s.GraceReplays)))
	if s.RetryOpen {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, f := range [][]byte{[]byte(s.DeviceName), []byte(s.IP), []byte(s.UserAgent), []byte(s.RevokeReason),
		s.TokenDigest, s.SecretDigest, s.Successor} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// errCorrupt reports a stored session this package cannot read.
var errCorrupt = errors.New("redisstore: corrupt session record")

// decodeSession reverses encodeSession; id is the session's id.
func decodeSession(id string, v []byte) (store.Session, error) {
	s := store.Session{ID: id}
	if len(v) < 50 {
		return s, errCorrupt
	}
	ver, err1 := strconv.ParseInt(string(v[:20]), 10, 64)
	n, err2 := strconv.Atoi(string(v[40:50]))
	if err1 != nil || err2 != nil || n < 0 || len(v) < 50+n {
		return s, errCorrupt
	}
	s.Version, s.Subject = ver, string(v[50:50+n])
	r := reader{b: v[50+n:]}
	for _, t := range []*time.Time{&s.AuthTime, &s.CreatedAt, &s.LastUsedAt, &s.IdleExpiresAt,
		&s.AbsoluteExpiresAt, &s.RevokedAt, &s.RotatedAt} {
		*t = r.time()
	}
	s.Generation = int64(r.u64())
	s.GraceReplays = int(int64(r.u64()))
	s.RetryOpen = r.byte() == 1
	for _, f := range []*string{&s.DeviceName, &s.IP, &s.UserAgent, &s.RevokeReason} {
		*f = string(r.field())
	}
	s.TokenDigest, s.SecretDigest, s.Successor = r.field(), r.field(), r.field()
	if r.bad || len(r.b) != 0 {
		return s, errCorrupt
	}
	return s, nil
}

// reader reads the binary part of a session; bad is set on a short read.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n < 0 || len(r.b) < n {
		r.bad = true
		return make([]byte, n&0xff)
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u64() uint64 { return binary.BigEndian.Uint64(r.take(8)) }
func (r *reader) byte() byte  { return r.take(1)[0] }

func (r *reader) time() time.Time {
	sec, nsec := int64(r.u64()), binary.BigEndian.Uint32(r.take(4))
	t := time.Unix(sec, int64(nsec)).UTC()
	if t.IsZero() {
		return time.Time{}
	}
	return t
}

// field returns a copy of a length-prefixed field (nil when empty).
func (r *reader) field() []byte {
	n := int(binary.BigEndian.Uint32(r.take(4)))
	if n == 0 {
		return nil
	}
	return append([]byte(nil), r.take(n)...)
}

// endMs is when the session ends for Prune: the earliest of its deadlines
// and its revocation, in Unix ms.
func endMs(s *store.Session) int64 {
	end := min(ms(s.IdleExpiresAt), ms(s.AbsoluteExpiresAt))
	if !s.RevokedAt.IsZero() {
		end = min(end, ms(s.RevokedAt))
	}
	return end
}

// keepMs is the instant after which nothing of the session matters any
// more: the latest of its deadlines and its revocation, in Unix ms. Its keys
// expire the retention after it.
func keepMs(s *store.Session) int64 {
	return max(ms(s.IdleExpiresAt), ms(s.AbsoluteExpiresAt), ms(s.RevokedAt))
}

// versionHeader is the header bytes a stored session at version v starts with.
func versionHeader(v int64) string { return fmt.Sprintf("%020d", v) }
