package rest

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/access"
)

// $lock: 4D's pessimistic locks over REST. GET (or POST, PUT)
// /rest/{dataClass}({key})?$lock=true locks the entity for the session;
// ?$lock=false unlocks it. Another session then gets 409 with 4D's
// __STATUS (status 3, "Already locked", lockKind 7, "Locked by session",
// lockInfo) on $lock, $method=update and $method=delete. A lock ends with
// $lock=false, with its session (fourd.EndSession: expiry, drop, logout),
// and, for a lock a class function took, with the function's process. A
// login keeps the session's locks under its new ID.

// serveLock serves ?$lock=true|false on an entity.
func (h *Handler) serveLock(w http.ResponseWriter, r *http.Request, req *dataRequest, value string) error {
	if h.Locks == nil {
		return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownResource, "this server keeps no entity locks")
	}
	var lock bool
	switch strings.ToLower(value) {
	case "true":
		lock = true
	case "false":
	default:
		return badParam("$lock=%q: use $lock=true or $lock=false", value)
	}
	if !req.hasKey || len(req.attrs) > 0 || req.hasSetID {
		return badParam("$lock applies to one entity: /rest/%s(key)?$lock=true", req.dc.Name)
	}
	switch r.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut:
	default:
		w.Header().Set("Allow", "GET, POST, PUT")
		return fourd.Errorf(fourd.EMETHOD, fourd.ErrCodeMethodNotAllowed, "%s is not allowed with $lock", r.Method)
	}
	// Locking keeps others from updating: it needs the right to update.
	if err := h.allow(r, access.ActionUpdate, req.dc, ""); err != nil {
		return err
	}
	ctx := r.Context()
	e, err := h.lookup(ctx, req, []string{req.dc.PrimaryKey})
	if err != nil {
		return err
	}
	s := RequestSession(r)
	if lock {
		err = h.takeLock(ctx, h.newLock(r, s, req.dc, e, 0))
	} else {
		_, err = h.Locks.Unlock(ctx, req.dc.Name, e.Key, s.ID)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []byte(`{"result":true,"__STATUS":{"success":true}}`))
	return nil
}

// takeLock takes a lock once no checked write is in flight: an update or
// deletion that found the entity unlocked finishes before the lock is
// granted, so that a session never holds a lock on an entity that another
// one is still changing (see lockGate).
func (h *Handler) takeLock(ctx context.Context, l fourd.EntityLock) error {
	h.lockGate.Lock()
	defer h.lockGate.Unlock()
	_, err := h.Locks.Lock(ctx, l)
	return err
}

// newLock describes a lock of session s on e, taken by request r; a
// processID not 0 ties it to that process.
func (h *Handler) newLock(r *http.Request, s *fourd.Session, dc *fourd.DataClass, e *fourd.Entity, processID int64) fourd.EntityLock {
	return fourd.EntityLock{
		DataClass: dc.Name, Key: e.Key, Row: e.Row, SessionID: s.ID, ProcessID: processID,
		Locked: h.Now(), Host: r.Host, IPAddress: clientIP(r), UserAgent: r.UserAgent(), UserName: s.UserName,
	}
}

// checkLock refuses to change an entity another session holds.
func (h *Handler) checkLock(ctx context.Context, s *fourd.Session, dc *fourd.DataClass, key string) error {
	if h.Locks == nil {
		return nil
	}
	if l, ok := h.Locks.Holder(ctx, dc.Name, key); ok && (s == nil || l.SessionID != s.ID) {
		return fourd.ErrLocked(l)
	}
	return nil
}

// checkRowLocks refuses to delete rows of which one is held by another session.
func (h *Handler) checkRowLocks(ctx context.Context, s *fourd.Session, dc *fourd.DataClass, rows []fourd.RowID) error {
	if h.Locks == nil {
		return nil
	}
	mine := ""
	if s != nil {
		mine = s.ID
	}
	locks := h.Locks.Locks(ctx, dc.Name, mine)
	if len(locks) == 0 {
		return nil
	}
	byRow := make(map[fourd.RowID]fourd.EntityLock, len(locks))
	for _, l := range locks {
		byRow[l.Row] = l
	}
	for _, row := range rows {
		if l, ok := byRow[row]; ok {
			return fourd.ErrLocked(l)
		}
	}
	return nil
}

// appendLockStatus writes 4D's __STATUS for an entity another session
// locks, without the closing brace: {"status":3,…,"lockInfo":{…}.
func appendLockStatus(b []byte, l fourd.EntityLock) []byte {
	b = append(b, `{"status":`...)
	b = strconv.AppendInt(b, fourd.LockStatusLocked, 10)
	b = append(b, `,"statusText":"Already locked","lockKind":`...)
	b = strconv.AppendInt(b, fourd.LockKindSession, 10)
	b = append(b, `,"lockKindText":"Locked by session","lockInfo":{"host":`...)
	b = fourd.AppendJSONString(b, l.Host)
	b = append(b, `,"IPAddr":`...)
	b = fourd.AppendJSONString(b, l.IPAddress)
	b = append(b, `,"recordNumber":`...)
	b = strconv.AppendInt(b, int64(l.Row), 10)
	b = append(b, `,"userAgent":`...)
	b = fourd.AppendJSONString(b, l.UserAgent)
	b = append(b, `}`...)
	return b
}

// lockedBody is the whole answer to an action refused by a lock:
// {"result":false,"__STATUS":{…,"success":false},"__ERROR":[…]}.
func lockedBody(err error) ([]byte, bool) {
	var le *fourd.LockedError
	if !errors.As(err, &le) {
		return nil, false
	}
	b := []byte(`{"result":false,"__STATUS":`)
	b = appendLockStatus(b, le.Holder)
	b = append(b, `,"success":false},"__ERROR":`...)
	b = appendErrorItems(b, err)
	return append(b, '}'), true
}
