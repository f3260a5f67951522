package userfile_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/fourd/fourd/userfile"
)

// testHash is a bcrypt hash (cost 4) of "password-a".
func testHash(t *testing.T) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte("password-a"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// userJSON returns one user of users.json, indented as the Store writes
// it (7 lines).
func userJSON(id, name, hash, extra string) string {
	return `    {
      "id": "` + id + `",
      "name": "` + name + `",
      "hash": "` + hash + `",
      "privileges": [],` + extra + `
      "created": "2026-11-22T10:00:00.000Z",
      "updated": "2026-11-22T10:00:00.000Z"
    }`
}

func TestBrokenFile(t *testing.T) {
	h := testHash(t)
	const id1, id2 = "11111111111111111111111111111111", "22222222222222222222222222222222"
	file := func(users ...string) string {
		return "{\n  \"version\": 1,\n  \"users\": [\n" + strings.Join(users, ",\n") + "\n  ]\n}\n"
	}
	for _, tc := range []struct {
		name, data, want string // want: the error after "path:"
	}{
		{"ErrEmpty", "", "1: unexpected end of JSON input"},
		{"ErrSyntax", "{\n  \"version\": 1,\n  \"users\": [\n    {\"name\": \"alice\",,}\n  ]\n}\n", "4: invalid character ',' looking for beginning of object key string"},
		{"ErrNotAnObject", "\n[]\n", `2: want an object {"version": 1, "users": [...]}`},
		{"ErrVersion", "{\n  \"version\": 2,\n  \"users\": []\n}\n", `2: "version": want 1, the only version this fourd reads`},
		{"ErrUnknownKey", "{\n  \"version\": 1,\n  \"roles\": []\n}\n", `3: unknown key "roles"; want "version" and "users"`},
		{"ErrUsersNotAList", "{\n  \"users\": {}\n}\n", `2: "users": want a list of users`},
		{"ErrUnknownField", file(userJSON(id1, "alice", h, "\n      \"admin\": true,")), `9: user 1: unknown field "admin"`},
		{"ErrFieldType", file(userJSON(id1, "alice", h, ""), strings.Replace(userJSON(id2, "bob", h, ""), `"privileges": []`, `"privileges": "WebAdmin"`, 1)), `16: user 2: "privileges": string, want []string`},
		{"ErrDuplicateName", file(userJSON(id1, "alice", h, ""), userJSON(id2, "ALICE", h, "")), `12: user 2 ("ALICE"): same name as the user on line 4 (names are case-insensitive)`},
		{"ErrDuplicateID", file(userJSON(id1, "alice", h, ""), userJSON(id1, "bob", h, "")), `12: user 2 ("bob"): same ID as the user on line 4`},
		{"ErrBadID", file(userJSON("42", "alice", h, "")), `4: user 1 ("alice"): "id" "42": want 32 hexadecimal characters`},
		{"ErrBadName", file(userJSON(id1, "alice ", h, "")), `4: user 1 ("alice "): user name "alice ": begins or ends with a space`},
		{"ErrBadHash", file(userJSON(id1, "alice", "secret", "")), `4: user 1 ("alice"): "hash": not a bcrypt hash (crypto/bcrypt: hashedSecret too short to be a bcrypted password)`},
		{"ErrBadTime", file(strings.Replace(userJSON(id1, "alice", h, ""), "2026-11-22T10:00:00.000Z", "yesterday", 1)), `4: user 1 ("alice"): "created" "yesterday": want a date-time such as 2026-11-22T10:00:00.000Z`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), userfile.FileName)
			if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := userfile.Open(path)
			if err == nil {
				t.Fatalf("Open succeeded on\n%s", tc.data)
			}
			if want := path + ":" + tc.want; err.Error() != want {
				t.Errorf("error\n %s\nwant\n %s\nfile:\n%s", err, want, tc.data)
			}
		})
	}
	t.Run("OKHandWritten", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), userfile.FileName)
		data := "{\"users\": [\n" + userJSON(strings.ToLower(id1), "alice", h, "") + "\n]}"
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := userfile.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.Authenticate(context.Background(), "alice", "password-a")
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != id1 {
			t.Errorf("ID %q, want it upper-cased: %q", u.ID, id1)
		}
	})
	t.Run("ErrBrokenWhileServing", func(t *testing.T) {
		// A file broken after Open (by hand) refuses logins until fixed,
		// rather than keep using an old copy.
		path := filepath.Join(t.TempDir(), userfile.FileName)
		s := MustOpen(t, path)
		MustAdd(t, s, "alice", "password-a")
		good, _ := os.ReadFile(path)
		if err := os.WriteFile(path, append(good, "}"...), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if _, err := s.Authenticate(ctx, "alice", "password-a"); err == nil || !strings.HasPrefix(err.Error(), path+":") {
			t.Errorf("authenticate against a broken file: %v", err)
		}
		if err := os.WriteFile(path, good, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "alice", "password-a"); err != nil {
			t.Errorf("authenticate after the fix: %v", err)
		}
	})
}
