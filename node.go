package fourd

import (
	"errors"
	"fmt"
	"time"
)

// MaxNodeNameLen bounds a node name: it is shown in every process and
// session of Process activity and in the CLI's tables.
const MaxNodeNameLen = 64

// CheckNodeName returns an error saying what is wrong with name as a node
// name, or nil: 1 to MaxNodeNameLen ASCII letters, digits, '.', '_' or
// '-', starting with a letter or a digit (every host name's first label
// fits).
func CheckNodeName(name string) error {
	if name == "" {
		return fmt.Errorf("node name: empty (give 1 to %d letters, digits, '.', '_' or '-')", MaxNodeNameLen)
	}
	if len(name) > MaxNodeNameLen {
		return fmt.Errorf("node name %q: %d characters, at most %d", name, len(name), MaxNodeNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if alnum[c] || i > 0 && (c == '.' || c == '_' || c == '-') {
			continue
		}
		return fmt.Errorf("node name %q: character %q at %d: use letters, digits, '.', '_' or '-', starting with a letter or a digit", name, c, i+1)
	}
	return nil
}

// Process IDs.
//
// A process ID is unique in the whole cluster and across restarts, and
// stays an integer a 4D or JavaScript client holds exactly (at most
// MaxProcessID, 2^53-1). Each node takes IDs in blocks from its
// ProcessRegistry (ReserveIDs) and hands them out in order. A registry's
// counter gives each block the numbers after the previous block, so IDs
// are unique between nodes and dense while the registry remembers; a
// registry that remembers nothing (a single node's in memory at boot,
// Redis restarted empty) starts its counter at ProcessIDFloor(now), the
// microseconds since ProcessIDEpoch, which is above every ID of its
// previous life unless that life started more than a million processes a
// second on average (or the clock went back by more than its margin).
// docs/decisions.md gives the reasoning.

// MaxProcessID is the largest process ID: 2^53-1, the largest integer a
// JSON number read as a double (a 4D Real, a JavaScript Number) holds
// exactly.
const MaxProcessID = 1<<53 - 1

// ProcessIDEpoch is the time ProcessIDFloor counts from. MaxProcessID
// microseconds after it is in the year 2311.
var ProcessIDEpoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// ProcessIDFloor returns where a registry that remembers no earlier ID
// starts counting at now: the microseconds since ProcessIDEpoch, at least
// 1 and at most MaxProcessID.
func ProcessIDFloor(now time.Time) int64 {
	us := now.Sub(ProcessIDEpoch).Microseconds()
	return min(max(us, 1), MaxProcessID)
}

// ErrProcessIDsExhausted is returned by ReserveIDs when a block would pass
// MaxProcessID. It cannot happen before the year 2311 unless a clock is
// wrong.
var ErrProcessIDsExhausted = errors.New("process IDs exhausted: the next block would pass 2^53-1")
