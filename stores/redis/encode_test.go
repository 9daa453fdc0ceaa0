package redisstore

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/authguard/authguard/core/store"
)

// The header a script compares byte for byte is what fmt's %020d gives, for
// every value a session can carry (negative ends of zero times included).
func TestAppendPaddedIsFmt(t *testing.T) {
	for _, v := range []int64{0, 1, 9, 10, 12345, -1, -10, minMs, math.MaxInt64, math.MinInt64, 1 << 52, -(1 << 62)} {
		for _, w := range []int{10, 20} {
			want := fmt.Sprintf("%0*d", w, v)
			if got := string(appendPadded([]byte("x"), v, w)); got != "x"+want {
				t.Errorf("appendPadded(%d, %d) = %q, want %q", v, w, got[1:], want)
			}
		}
	}
}

// A session survives the encoding field for field; the decoded byte fields
// do not overlap (appending to one leaves the others alone); every strict
// prefix and every longer string is refused as corrupt, never a panic.
func TestSessionEncoding(t *testing.T) {
	at := time.Date(2026, 12, 7, 1, 2, 3, 456789, time.UTC)
	s := store.Session{ID: "sid", Subject: "user-1", DeviceName: "phone", IP: "192.0.2.7", UserAgent: "ua/1.0",
		AuthTime: at, CreatedAt: at, LastUsedAt: at.Add(time.Minute), IdleExpiresAt: at.Add(time.Hour),
		AbsoluteExpiresAt: at.Add(24 * time.Hour), RotatedAt: at.Add(time.Second), Generation: 7, GraceReplays: 2,
		RetryOpen: true, TokenDigest: bytes.Repeat([]byte{1}, 32), SecretDigest: bytes.Repeat([]byte{2}, 32),
		Successor: bytes.Repeat([]byte{3}, 73), Version: 42}
	blob := encodeSession(&s)
	got, err := decodeSession("sid", string(blob))
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("decode(encode(s)) = %+v, %v; want %+v", got, err, s)
	}
	if string(blob[:20]) != versionHeader(42) {
		t.Fatalf("header %q, want the version header %q", blob[:20], versionHeader(42))
	}
	_ = append(got.TokenDigest, 9)
	_ = append(got.SecretDigest, 9)
	if !bytes.Equal(got.SecretDigest, s.SecretDigest) || !bytes.Equal(got.Successor, s.Successor) {
		t.Fatal("appending to a decoded byte field changed another")
	}
	revoked := s
	revoked.RevokedAt, revoked.RevokeReason, revoked.Successor, revoked.RetryOpen = at, "logout", nil, false
	if got, err := decodeSession("sid", string(encodeSession(&revoked))); err != nil || !reflect.DeepEqual(got, revoked) {
		t.Fatalf("decode(encode(revoked)) = %+v, %v; want %+v", got, err, revoked)
	}
	for n := range len(blob) {
		if _, err := decodeSession("sid", string(blob[:n])); err != errCorrupt {
			t.Fatalf("a %d-byte prefix: %v, want errCorrupt", n, err)
		}
	}
	if _, err := decodeSession("sid", string(blob)+"x"); err != errCorrupt {
		t.Fatalf("a trailing byte: %v, want errCorrupt", err)
	}
}
