package userfile_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/userfile"
)

// BenchmarkHash measures one bcrypt hash (what adding a user or changing a
// password costs, and about what a login costs) at costs 10 to 12, the
// figures DefaultCost is chosen from.
func BenchmarkHash(b *testing.B) {
	for _, cost := range []int{10, 11, 12} {
		b.Run("Cost"+strconv.Itoa(cost), func(b *testing.B) {
			for b.Loop() {
				if _, err := bcrypt.GenerateFromPassword([]byte("correct horse battery"), cost); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAuthenticate measures a login at DefaultCost: a right password,
// a wrong one and an unknown user, whose times should be alike.
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	s, err := userfile.Open(filepath.Join(b.TempDir(), userfile.FileName))
	if err != nil {
		b.Fatal(err)
	}
	if s.Cost != userfile.DefaultCost {
		b.Fatalf("cost %d, want DefaultCost", s.Cost)
	}
	if _, err := s.Add(ctx, "alice", "password-a", []string{"WebAdmin"}); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name, user, password, code string
	}{
		{"OK", "alice", "password-a", ""},
		{"WrongPassword", "alice", "password-b", fourd.EUNAUTHORIZED},
		{"UnknownUser", "mallory", "password-a", fourd.EUNAUTHORIZED},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Authenticate(ctx, bc.user, bc.password); fourd.ErrorCode(err) != bc.code {
					b.Fatalf("authenticate: %v", err)
				}
			}
		})
	}
}
