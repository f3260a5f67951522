package fourd

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// GuestUserID is the user ID reported for sessions that have not logged in:
// 32 zeros, as decided for fourd (docs/decisions.md).
const GuestUserID = "00000000000000000000000000000000"

// NewID returns a new identifier for a session, an entity set or a user:
// 128 bits from crypto/rand written as 32 uppercase hexadecimal characters,
// the form 4D uses for its UUIDs. It panics only if the operating system's
// random source fails, which crypto/rand documents as unrecoverable.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error (Go 1.24+); it crashes the program instead.
	var out [32]byte
	hex.Encode(out[:], b[:])
	return strings.ToUpper(string(out[:]))
}

// ValidID reports whether s has the shape of an ID made by NewID:
// exactly 32 hexadecimal characters. Lowercase hex is accepted, as 4D
// clients sometimes lowercase IDs; callers compare IDs case-sensitively
// after upper-casing them.
func ValidID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
