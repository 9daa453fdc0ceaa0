package redisstore

import (
	"encoding/binary"
	"errors"
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
	b := make([]byte, 0, 50+len(s.Subject)+7*12+17+4*7+len(s.DeviceName)+len(s.IP)+len(s.UserAgent)+
		len(s.RevokeReason)+len(s.TokenDigest)+len(s.SecretDigest)+len(s.Successor))
	b = appendPadded(b, s.Version, 20)
	b = appendPadded(b, endMs(s), 20)
	b = appendPadded(b, int64(len(s.Subject)), 10)
	b = append(b, s.Subject...)
	for _, t := range [...]time.Time{s.AuthTime, s.CreatedAt, s.LastUsedAt, s.IdleExpiresAt,
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
	b = appendField(b, s.DeviceName)
	b = appendField(b, s.IP)
	b = appendField(b, s.UserAgent)
	b = appendField(b, s.RevokeReason)
	b = appendField(b, s.TokenDigest)
	b = appendField(b, s.SecretDigest)
	return appendField(b, s.Successor)
}

// appendField appends f with its 4-byte length.
func appendField[T string | []byte](b []byte, f T) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
	return append(b, f...)
}

// appendPadded appends v as fmt's %0<width>d does: decimal, zero-padded to
// width characters (a minus sign included), longer when it does not fit.
func appendPadded(b []byte, v int64, width int) []byte {
	var digits [20]byte
	i := len(digits)
	u := uint64(v)
	if v < 0 {
		u = -u
	}
	for {
		i--
		digits[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	n := len(digits) - i
	if v < 0 {
		b = append(b, '-')
		n++
	}
	for ; n < width; n++ {
		b = append(b, '0')
	}
	return append(b, digits[i:]...)
}

// errCorrupt reports a stored session this package cannot read.
var errCorrupt = errors.New("redisstore: corrupt session record")

// decodeSession reverses encodeSession; id is the session's id. The string
// fields share v's memory; the byte fields share one new array, each capped
// so that appending to one never writes over another.
func decodeSession(id string, v string) (store.Session, error) {
	s := store.Session{ID: id}
	if len(v) < 50 {
		return s, errCorrupt
	}
	ver, err1 := strconv.ParseInt(v[:20], 10, 64)
	n, err2 := strconv.Atoi(v[40:50])
	if err1 != nil || err2 != nil || n < 0 || len(v) < 50+n {
		return s, errCorrupt
	}
	s.Version, s.Subject = ver, v[50:50+n]
	r := reader{b: v[50+n:]}
	for _, t := range [...]*time.Time{&s.AuthTime, &s.CreatedAt, &s.LastUsedAt, &s.IdleExpiresAt,
		&s.AbsoluteExpiresAt, &s.RevokedAt, &s.RotatedAt} {
		*t = r.time()
	}
	s.Generation = int64(r.u64())
	s.GraceReplays = int(int64(r.u64()))
	s.RetryOpen = r.byte() == 1
	for _, f := range [...]*string{&s.DeviceName, &s.IP, &s.UserAgent, &s.RevokeReason} {
		*f = r.field()
	}
	tok, secret, succ := r.field(), r.field(), r.field()
	if r.bad || len(r.b) != 0 {
		return s, errCorrupt
	}
	all := []byte(tok + secret + succ)
	s.TokenDigest, s.SecretDigest, s.Successor = sub(all, 0, len(tok)), sub(all, len(tok), len(secret)),
		sub(all, len(tok)+len(secret), len(succ))
	return s, nil
}

// sub is the n bytes of b from i, capped, or nil when n is 0.
func sub(b []byte, i, n int) []byte {
	if n == 0 {
		return nil
	}
	return b[i : i+n : i+n]
}

// reader reads the binary part of a session; bad is set on a short read.
type reader struct {
	b   string
	bad bool
}

func (r *reader) take(n int) string {
	if r.bad || n < 0 || len(r.b) < n {
		r.bad = true
		return "\x00\x00\x00\x00\x00\x00\x00\x00"[:min(max(n, 0), 8)]
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u64() uint64 {
	p := r.take(8)
	return uint64(p[0])<<56 | uint64(p[1])<<48 | uint64(p[2])<<40 | uint64(p[3])<<32 |
		uint64(p[4])<<24 | uint64(p[5])<<16 | uint64(p[6])<<8 | uint64(p[7])
}

func (r *reader) u32() uint32 {
	p := r.take(4)
	return uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
}

func (r *reader) byte() byte { return r.take(1)[0] }

func (r *reader) time() time.Time {
	sec, nsec := int64(r.u64()), r.u32()
	t := time.Unix(sec, int64(nsec)).UTC()
	if t.IsZero() {
		return time.Time{}
	}
	return t
}

// field returns a length-prefixed field.
func (r *reader) field() string { return r.take(int(r.u32())) }

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
func versionHeader(v int64) string { return string(appendPadded(make([]byte, 0, 20), v, 20)) }
