package fourd

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on user names and passwords, checked by CheckUserName and
// CheckPassword.
const (
	MaxUserNameLength = 64 // characters (runes)
	MinPasswordLength = 8  // characters (runes)
	// MaxPasswordBytes is bcrypt's limit: it ignores every byte past the
	// 72nd, so a longer password is refused rather than cut silently.
	MaxPasswordBytes = 72
)

// fourd error numbers of the users directory (the envelope's errCode),
// listed in docs/errors.md.
const (
	ErrCodeUnknownUser    = 9101 // fourd: no user with that name
	ErrCodeUserExists     = 9102 // fourd: a user with that name exists (names are case-insensitive)
	ErrCodeBadUserName    = 9103 // fourd: a user name breaks the naming rules
	ErrCodeBadPassword    = 9104 // fourd: a password is too short or too long
	ErrCodeBadPrivilege   = 9105 // fourd: a privilege name breaks the naming rules
	ErrCodeBadCredentials = 9106 // fourd: wrong user name or password (one message for both)
)

// MsgBadCredentials is the one message of a failed authentication, whether
// the user is unknown or the password wrong, so that a client cannot learn
// which names exist.
const MsgBadCredentials = "wrong user name or password"

// User is an account of the users directory: who may log in, and the
// privileges a login gives the session. It never carries the password or
// its hash, so it may be encoded to JSON and shown as it is.
//
// The JSON form is {"id","name","privileges","created","updated"}, with
// date-times in TimeLayout.
type User struct {
	ID         string    // 32 uppercase hex characters (NewID), never reused
	Name       string    // as given when the user was added; compared case-insensitively
	Privileges []string  // privilege or role names of roles.json; never nil in JSON
	Created    time.Time // when the user was added
	Updated    time.Time // the last change of password or privileges
}

type userJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Privileges []string `json:"privileges"`
	Created    string   `json:"created"`
	Updated    string   `json:"updated"`
}

// MarshalJSON writes the user with date-times in TimeLayout and an empty
// list, not null, for no privileges.
func (u User) MarshalJSON() ([]byte, error) {
	privs := u.Privileges
	if privs == nil {
		privs = []string{}
	}
	return json.Marshal(userJSON{
		ID:         u.ID,
		Name:       u.Name,
		Privileges: privs,
		Created:    FormatTime(u.Created),
		Updated:    FormatTime(u.Updated),
	})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (u *User) UnmarshalJSON(b []byte) error {
	var j userJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	created, err := ParseTime(j.Created)
	if err != nil {
		return err
	}
	updated, err := ParseTime(j.Updated)
	if err != nil {
		return err
	}
	*u = User{ID: j.ID, Name: j.Name, Privileges: j.Privileges, Created: created, Updated: updated}
	return nil
}

// UserStore is the users directory: the accounts that may log in, with
// their password hashes and privileges.
//
// Every method returns a *Error for what a caller should see (the codes
// below) and any other error for a fault of the store itself (a file that
// cannot be written, a directory that does not parse). Implementations are
// safe for concurrent use. A *User returned is the caller's copy.
//
// User names are compared case-insensitively (Unicode simple case folding,
// as strings.EqualFold) and kept as given; see CheckUserName for the rules.
// Passwords follow CheckPassword.
type UserStore interface {
	// User returns the user with that name; an unknown name returns
	// ENOTFOUND.
	User(ctx context.Context, name string) (*User, error)
	// Users returns every user, sorted by name (case-insensitively).
	Users(ctx context.Context) ([]User, error)
	// Add creates a user with a new ID and the given password and
	// privileges. A name that exists already (in any case), or a name,
	// password or privilege that breaks the rules, returns EINVALID.
	Add(ctx context.Context, name, password string, privileges []string) (*User, error)
	// Remove deletes the user; an unknown name returns ENOTFOUND.
	Remove(ctx context.Context, name string) error
	// SetPassword replaces the user's password; an unknown name returns
	// ENOTFOUND and a password that breaks the rules EINVALID.
	SetPassword(ctx context.Context, name, password string) error
	// SetPrivileges replaces the user's privileges; an unknown name returns
	// ENOTFOUND and a bad privilege name EINVALID.
	SetPrivileges(ctx context.Context, name string, privileges []string) error
	// Authenticate returns the user whose name and password these are. A
	// wrong password and an unknown user both return EUNAUTHORIZED with
	// the message MsgBadCredentials and take about the same time, so that
	// the answer does not reveal which names exist.
	Authenticate(ctx context.Context, name, password string) (*User, error)
}

// CheckUserName returns nil if name is an acceptable user name, otherwise
// an EINVALID *Error saying why: 1 to MaxUserNameLength printable
// characters (letters, marks, digits, punctuation, symbols and the ASCII
// space), valid UTF-8, with no control or invisible formatting characters
// and no space at either end, since "alice " and "alice" would look alike.
func CheckUserName(name string) error {
	bad := func(why string) error {
		return Errorf(EINVALID, ErrCodeBadUserName, "user name %q: %s", name, why)
	}
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return Errorf(EINVALID, ErrCodeBadUserName, "a user needs a name")
	case n > MaxUserNameLength:
		return bad("longer than 64 characters")
	case !utf8.ValidString(name):
		return bad("not valid UTF-8")
	case strings.TrimSpace(name) != name:
		return bad("begins or ends with a space")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return bad("control or invisible characters are not allowed")
		}
	}
	return nil
}

// CheckPassword returns nil if password is acceptable, otherwise an
// EINVALID *Error saying why: at least MinPasswordLength characters and at
// most MaxPasswordBytes bytes.
func CheckPassword(password string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return Errorf(EINVALID, ErrCodeBadPassword, "a password needs at least %d characters", MinPasswordLength)
	case len(password) > MaxPasswordBytes:
		return Errorf(EINVALID, ErrCodeBadPassword, "a password may have at most %d bytes (%d with this one); bcrypt ignores the rest", MaxPasswordBytes, len(password))
	}
	return nil
}

// CheckPrivileges returns privileges in their order without duplicates
// (in any case: the first spelling is kept), or an EINVALID *Error for a
// name that is empty, longer than 64 characters, begins or ends with a
// space, or holds a comma (the command line separates privileges with
// commas) or a control character.
func CheckPrivileges(privileges []string) ([]string, error) {
	out := make([]string, 0, len(privileges))
	seen := make(map[string]bool, len(privileges))
	for _, p := range privileges {
		bad := ""
		switch {
		case p == "":
			bad = "empty"
		case utf8.RuneCountInString(p) > 64:
			bad = "longer than 64 characters"
		case !utf8.ValidString(p):
			bad = "not valid UTF-8"
		case strings.TrimSpace(p) != p:
			bad = "begins or ends with a space"
		case strings.ContainsRune(p, ','):
			bad = "holds a comma"
		case strings.IndexFunc(p, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
			bad = "holds control or invisible characters"
		}
		if bad != "" {
			return nil, Errorf(EINVALID, ErrCodeBadPrivilege, "privilege %q: %s", p, bad)
		}
		if k := FoldUserName(p); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// FoldUserName returns the key under which a user name is looked up: each
// character replaced by the smallest of its Unicode simple case folding
// orbit, so that FoldUserName(a) == FoldUserName(b) exactly when
// strings.EqualFold(a, b). ("K", "k" and the Kelvin sign share a key.)
// It is the one rule for user names: the users directory's lookups and
// the login limiter's buckets both use it, so that "ſam" and "sam" are one
// user everywhere.
func FoldUserName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}
