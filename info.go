package fourd

import (
	"context"
	"slices"
	"strconv"
	"time"
)

// GuestUserName is the userName $info reports for a guest session.
const GuestUserName = "default guest"

// Info is the result of GET /rest/$info: the cache, its entity sets, the
// progress indicators, the user sessions, and the caller's privileges.
type Info struct {
	CacheSize  int64
	UsedCache  int64
	EntitySets []EntitySetInfo
	Progress   []ProgressInfo
	Sessions   []SessionSummary
	Privileges []string // the caller's privileges, roles and includes expanded
}

// SessionSummary is one element of $info.sessionInfo.
type SessionSummary struct {
	SessionID  string
	UserID     string
	UserName   string // GuestUserName for a guest
	LifeTime   int64  // idle lifetime in seconds
	Expiration time.Time
}

// BuildInfo gathers $info from the stores, each read under its own short
// lock. caller is the session asking (its privileges are reported); it may
// be nil. The stored-procedure session is not a user session and is not
// listed.
func BuildInfo(ctx context.Context, sets EntitySetStore, progress *Progress, sessions SessionStore, caller *Session) (*Info, error) {
	info := &Info{CacheSize: sets.Size(), Privileges: []string{}}
	list, err := sets.EntitySets(ctx)
	if err != nil {
		return nil, err
	}
	info.EntitySets = list
	info.UsedCache = sets.Used()
	info.Progress = WithStandingIndicators(progress.Snapshot())
	all, err := sessions.Sessions(ctx)
	if err != nil {
		return nil, err
	}
	info.Sessions = make([]SessionSummary, 0, len(all))
	for _, s := range all {
		if s.Type == SessionStoredProcedure {
			continue
		}
		sum := SessionSummary{SessionID: s.ID, UserID: s.UserID, UserName: s.UserName, Expiration: s.Expiration}
		if sum.UserName == "" {
			sum.UserName = GuestUserName
		}
		if sum.UserID == "" {
			sum.UserID = GuestUserID
		}
		if !s.Expiration.IsZero() {
			sum.LifeTime = int64(s.Expiration.Sub(s.LastActivity) / time.Second)
		}
		info.Sessions = append(info.Sessions, sum)
	}
	if caller != nil {
		info.Privileges = append(info.Privileges, caller.Privileges...)
	}
	return info, nil
}

// MarshalJSON writes $info with the seed's keys in the seed's order
// (docs/decisions.md): cacheSize, usedCache, entitySetCount, entitySet,
// ProgressInfo, sessionInfo, privileges.
func (info *Info) MarshalJSON() ([]byte, error) {
	return info.AppendJSON(nil), nil
}

// sizeHint is the encoded size, from the measured sizes of an entity set
// (about 434 bytes) and a session (about 200), with a little to spare.
func (info *Info) sizeHint() int {
	return 512 + len(info.EntitySets)*450 + len(info.Sessions)*210 + len(info.Progress)*300
}

// AppendJSON appends the JSON form of $info to b, growing b once to the
// size it needs, so that a large $info is not copied again and again.
func (info *Info) AppendJSON(b []byte) []byte {
	b = slices.Grow(b, info.sizeHint())
	b = append(b, `{"cacheSize":`...)
	b = strconv.AppendInt(b, info.CacheSize, 10)
	b = append(b, `,"usedCache":`...)
	b = strconv.AppendInt(b, info.UsedCache, 10)
	b = append(b, `,"entitySetCount":`...)
	b = strconv.AppendInt(b, int64(len(info.EntitySets)), 10)
	b = append(b, `,"entitySet":[`...)
	for i, es := range info.EntitySets {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendSafeString(b, es.ID)
		b = append(b, `,"dataClass":`...)
		b = appendString(b, es.DataClass)
		b = append(b, `,"tableName":`...)
		b = appendString(b, es.DataClass)
		b = append(b, `,"selectionSize":`...)
		b = strconv.AppendInt(b, int64(es.SelectionSize), 10)
		b = append(b, `,"sorted":`...)
		b = strconv.AppendBool(b, es.Sorted)
		b = append(b, `,"refreshed":"`...)
		b = AppendTime(b, es.Refreshed)
		b = append(b, `","expires":"`...)
		b = AppendTime(b, es.Expires)
		b = append(b, `","sessionID":`...)
		b = appendSafeString(b, es.SessionID)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, int64(es.Bytes), 10)
		b = append(b, '}')
	}
	b = append(b, `],"ProgressInfo":[`...)
	for i, p := range info.Progress {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"UserInfo":`...)
		b = appendString(b, p.UserInfo)
		b = append(b, `,"sessions":`...)
		b = strconv.AppendInt(b, int64(p.Sessions), 10)
		b = append(b, `,"percent":`...)
		b = strconv.AppendInt(b, int64(p.Percent), 10)
		b = append(b, `,"SessionCount":`...)
		b = strconv.AppendInt(b, int64(p.SessionCount), 10)
		b = append(b, `,"Title":`...)
		b = appendString(b, p.Title)
		b = append(b, `,"CanInterrupt":`...)
		b = strconv.AppendBool(b, p.CanInterrupt)
		b = append(b, `,"done":`...)
		b = strconv.AppendInt(b, p.Done, 10)
		b = append(b, `,"total":`...)
		b = strconv.AppendInt(b, p.Total, 10)
		if p.ProcessID != 0 {
			b = append(b, `,"processID":`...)
			b = strconv.AppendInt(b, p.ProcessID, 10)
		}
		b = append(b, '}')
	}
	b = append(b, `],"sessionInfo":[`...)
	for i, s := range info.Sessions {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"sessionID":`...)
		b = appendSafeString(b, s.SessionID)
		b = append(b, `,"userID":`...)
		b = appendSafeString(b, s.UserID)
		b = append(b, `,"userName":`...)
		b = appendString(b, s.UserName)
		b = append(b, `,"lifeTime":`...)
		b = strconv.AppendInt(b, s.LifeTime, 10)
		b = append(b, `,"expiration":"`...)
		b = AppendTime(b, s.Expiration)
		b = append(b, `"}`...)
	}
	b = append(b, `],"privileges":{"privileges":[`...)
	for i, p := range info.Privileges {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"privilege":`...)
		b = appendString(b, p)
		b = append(b, '}')
	}
	return append(b, "]}}"...)
}

// StandingIndicators are the progress indicators $info lists at all times,
// as 4D servers do: idle (percent 0, sessions 0) when no such work runs.
var StandingIndicators = []string{ProgressFlush, ProgressIndex}

// WithStandingIndicators returns running as $info lists it: first one
// entry for each of StandingIndicators (the oldest running indicator of
// that kind, or an idle one), then the other running indicators, oldest
// first.
func WithStandingIndicators(running []ProgressInfo) []ProgressInfo {
	out := make([]ProgressInfo, 0, len(StandingIndicators)+len(running))
	used := make([]bool, len(running))
	for _, kind := range StandingIndicators {
		entry := ProgressInfo{UserInfo: kind}
		for i, p := range running {
			if p.UserInfo == kind {
				entry, used[i] = p, true
				break
			}
		}
		out = append(out, entry)
	}
	for i, p := range running {
		if !used[i] {
			out = append(out, p)
		}
	}
	return out
}
