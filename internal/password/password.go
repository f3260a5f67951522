// Package password hashes users' passwords with bcrypt and compares them,
// for every fourd.UserStore (userfile, postgres), so that they share one
// cost policy and one defence against telling which names exist.
package password

import (
	"fmt"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/fourd/fourd"
)

// DefaultCost is the bcrypt cost of new hashes: 2^10 rounds. On the
// project's 2-vCPU development machine (AMD EPYC) one hash takes 62 ms at
// cost 10, 120 ms at 11 and 245 ms at 12, and a login at cost 10 takes
// 61-63 ms whether it succeeds, has a wrong password or names an unknown
// user (go test -run=XXX -bench='Hash|Authenticate' -count=3 ./userfile/).
// Cost 10 keeps a login in tens of milliseconds, lets a 2-core server
// check some 30 logins a second, and is the floor OWASP recommends for
// bcrypt; each step up doubles both the attacker's and the server's work.
const DefaultCost = 10

// dummyHash is a bcrypt hash, at DefaultCost, of a random password nobody
// knows: what the passwords of unknown users are compared with.
const dummyHash = "$2a$10$AerAI0AUkZ1aHItNgCVB/.raBGI9YXWDaRVOWIYi2lm9/jlt7IstO"

// Hash returns the bcrypt hash of password at cost (DefaultCost when 0).
func Hash(password string, cost int) (string, error) {
	if cost == 0 {
		cost = DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

var (
	dummyMu sync.Mutex
	dummies = map[int][]byte{DefaultCost: []byte(dummyHash)}
)

// Dummy returns a hash at cost (DefaultCost when 0) of a password nobody
// knows. A store compares the password given for an unknown user with it,
// so that the answer takes as long as for a known user.
func Dummy(cost int) []byte {
	if cost == 0 {
		cost = DefaultCost
	}
	dummyMu.Lock()
	defer dummyMu.Unlock()
	if h, ok := dummies[cost]; ok {
		return h
	}
	h, err := bcrypt.GenerateFromPassword([]byte(fourd.NewID()), cost)
	if err != nil { // only an invalid cost; a real hash would fail the same way
		return []byte(dummyHash)
	}
	dummies[cost] = h
	return h
}
