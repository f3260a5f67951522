package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fourd/fourd"
)

var _ fourd.SessionStore = (*SessionStore)(nil)

// maxTxRetries bounds the optimistic retries of Update and Replace: each
// retry means another writer changed the session meanwhile, so reaching it
// takes that many conflicting writes in a row.
const maxTxRetries = 1000

// touchTrust is how long a session read by Session may decide, on this
// node, that the Touch which follows it has nothing to write: the read
// and the Touch are one request's (rest's withSession), microseconds
// apart.
const touchTrust = time.Second

// SessionStore keeps the sessions of every node of a cluster in Redis: a
// login, logout, drop or privilege change made through one node is seen
// by every node's next request.
//
// A session is one hash whose Redis TTL is its idle lifetime plus its
// TouchInterval plus TTLGrace, renewed by each Touch written: Redis
// expires an abandoned session by itself, no sweep needed. Expiry as the
// contract states it is decided by the nodes' clock, lazily
// (Session.ExpiredLazily); Expire removes what has expired and trims the
// counters.
//
// Costs: Session is one round trip. Touch, which follows it on every
// request, writes only when TouchInterval has passed since the stored
// LastActivity (at most once a minute per session); when the Session read
// of the same request (less than touchTrust ago, on this node) shows it
// is not due, Touch costs no round trip at all. Count is one round trip
// of three sorted-set sizes (O(1)): a session is in "all", and a guest in
// "guests" and "guests:<address>", scored by its deadline; Create,
// Update, Replace, Delete and Expire keep them right atomically, and a
// session Redis expired on its own is trimmed by the next Expire past its
// deadline (until then it counts, as the contract allows). Create,
// Delete, Touch and Expire are Lua scripts; Update and Replace read under
// WATCH and write in MULTI/EXEC, calling fn again when another writer got
// there first.
//
// It is safe for concurrent use.
type SessionStore struct {
	// Now is the clock that decides expiry in Session, Update, Replace
	// and Sessions. time.Now by default.
	Now func() time.Time
	// TTLGrace is added to a session's lifetime for its Redis TTL
	// (DefaultTTLGrace by default): a margin for clocks that disagree.
	TTLGrace time.Duration

	db   *DB
	base string

	mu    sync.Mutex
	reads map[string]lastRead // the latest Session read of each ID on this node
}

// lastRead is what a Session read saw of a session's activity.
type lastRead struct {
	lastActivity time.Time
	idle         time.Duration
	at           time.Time // the monotonic time of the read
}

// NewSessionStore returns the session store of db.
func NewSessionStore(db *DB) *SessionStore {
	return &SessionStore{Now: time.Now, TTLGrace: DefaultTTLGrace, db: db, base: db.key("ss:"), reads: map[string]lastRead{}}
}

func errUnknownSession(id string) error {
	return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownSession, "session %s not found", id)
}

// Create implements fourd.SessionStore in one script.
func (s *SessionStore) Create(ctx context.Context, sess fourd.Session) error {
	if !fourd.ValidID(sess.ID) {
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "session ID %q is not an ID", sess.ID)
	}
	fields, err := s.fields(sess)
	if err != nil {
		return err
	}
	args := append([]any{sess.ID, s.ttl(sess).Milliseconds(), deadlineScore(sess)}, fields...)
	n, err := ssCreate.Run(ctx, s.db.Client, []string{s.base}, args...).Int()
	if err != nil {
		return fmt.Errorf("redis: create session: %w", err)
	}
	if n == 0 {
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "session %s exists already", sess.ID)
	}
	return nil
}

// Session implements fourd.SessionStore: one read.
func (s *SessionStore) Session(ctx context.Context, id string) (fourd.Session, error) {
	vals, err := s.db.Client.HMGet(ctx, s.key(id), "j", "las", "lan").Result()
	if err != nil {
		return fourd.Session{}, fmt.Errorf("redis: session: %w", err)
	}
	sess, ok, err := decodeSession(vals)
	if err != nil {
		return fourd.Session{}, fmt.Errorf("redis: session %s: %w", id, err)
	}
	if !ok || sess.ExpiredLazily(s.Now()) {
		return fourd.Session{}, errUnknownSession(id)
	}
	s.mu.Lock()
	if len(s.reads) > 100000 { // reads no Touch followed: forget them all
		clear(s.reads)
	}
	s.reads[id] = lastRead{lastActivity: sess.LastActivity, idle: sess.IdleTimeout, at: time.Now()}
	s.mu.Unlock()
	return sess, nil
}

// Touch implements fourd.SessionStore, lazily: see SessionStore.
func (s *SessionStore) Touch(ctx context.Context, id string, now time.Time) error {
	s.mu.Lock()
	r, ok := s.reads[id]
	delete(s.reads, id)
	s.mu.Unlock()
	if ok && time.Since(r.at) < touchTrust &&
		now.Sub(r.lastActivity) < fourd.TouchInterval(r.idle) && !now.Before(r.lastActivity) {
		return nil // just read, live, and not due: nothing to write
	}
	n, err := ssTouch.Run(ctx, s.db.Client, []string{s.base}, id, now.Unix(), now.Nanosecond(), s.TTLGrace.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("redis: touch session: %w", err)
	}
	if n == 0 {
		return errUnknownSession(id)
	}
	return nil
}

// Delete implements fourd.SessionStore in one script.
func (s *SessionStore) Delete(ctx context.Context, id string) error {
	n, err := ssDelete.Run(ctx, s.db.Client, []string{s.base}, id).Int()
	if err != nil {
		return fmt.Errorf("redis: delete session: %w", err)
	}
	if n == 0 {
		return errUnknownSession(id)
	}
	return nil
}

// Update implements fourd.SessionStore: read under WATCH, fn, write in
// MULTI/EXEC; fn runs again when the session changed in between.
func (s *SessionStore) Update(ctx context.Context, id string, fn func(fourd.Session) (fourd.Session, error)) (fourd.Session, error) {
	var out fourd.Session
	err := s.retry(ctx, func() error {
		return s.db.Client.Watch(ctx, func(tx *goredis.Tx) error {
			cur, err := s.read(ctx, tx, id)
			if err != nil {
				return err
			}
			next, err := fn(cur.Clone())
			if err != nil {
				return err
			}
			if next.ID != id {
				return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "an update cannot change the session's ID (%s to %s)", id, next.ID)
			}
			next = next.Clone()
			fields, err := s.fields(next)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				s.unindex(ctx, p, cur)
				p.HSet(ctx, s.key(id), fields...)
				s.index(ctx, p, next)
				return nil
			})
			out = next
			return err
		}, s.key(id))
	})
	return out, err
}

// Replace implements fourd.SessionStore: both IDs watched, the old
// session removed and its successor stored in one MULTI/EXEC, taking the
// old one's place in the order.
func (s *SessionStore) Replace(ctx context.Context, id string, fn func(fourd.Session) (fourd.Session, error)) (fourd.Session, error) {
	var out fourd.Session
	err := s.retry(ctx, func() error {
		return s.db.Client.Watch(ctx, func(tx *goredis.Tx) error {
			cur, err := s.read(ctx, tx, id)
			if err != nil {
				return err
			}
			order, err := tx.HGet(ctx, s.key(id), "o").Float64()
			if err != nil {
				return fmt.Errorf("redis: replace session: %w", err)
			}
			next, err := fn(cur.Clone())
			if err != nil {
				return err
			}
			if next.ID == id || !fourd.ValidID(next.ID) {
				return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "a session's successor needs a new ID, not %q", next.ID)
			}
			next = next.Clone()
			// The successor's key joins the watch: a Create of that ID
			// meanwhile fails the transaction, which then finds it taken.
			if err := tx.Watch(ctx, s.key(next.ID)).Err(); err != nil {
				return fmt.Errorf("redis: replace session: %w", err)
			}
			if n, err := tx.Exists(ctx, s.key(next.ID)).Result(); err != nil {
				return fmt.Errorf("redis: replace session: %w", err)
			} else if n > 0 {
				return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "session ID %s is taken", next.ID)
			}
			fields, err := s.fields(next)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				s.unindex(ctx, p, cur)
				p.ZRem(ctx, s.base+"order", id)
				p.Del(ctx, s.key(id))
				k := s.key(next.ID)
				p.HSet(ctx, k, append(fields, "o", order)...)
				if ttl := s.ttl(next); ttl > 0 {
					p.PExpire(ctx, k, ttl)
				}
				p.ZAdd(ctx, s.base+"order", goredis.Z{Score: order, Member: next.ID})
				s.index(ctx, p, next)
				return nil
			})
			out = next
			return err
		}, s.key(id))
	})
	return out, err
}

// retry runs a WATCH transaction until it commits, fails otherwise, or
// has been beaten maxTxRetries times.
func (s *SessionStore) retry(ctx context.Context, txn func() error) error {
	for range maxTxRetries {
		err := txn()
		if !errors.Is(err, goredis.TxFailedErr) {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return fmt.Errorf("redis: session changed by other writers %d times in a row", maxTxRetries)
}

// read reads and decodes a live session inside a transaction.
func (s *SessionStore) read(ctx context.Context, tx *goredis.Tx, id string) (fourd.Session, error) {
	vals, err := tx.HMGet(ctx, s.key(id), "j", "las", "lan").Result()
	if err != nil {
		return fourd.Session{}, fmt.Errorf("redis: session: %w", err)
	}
	cur, ok, err := decodeSession(vals)
	if err != nil {
		return fourd.Session{}, fmt.Errorf("redis: session %s: %w", id, err)
	}
	if !ok || cur.ExpiredLazily(s.Now()) {
		return fourd.Session{}, errUnknownSession(id)
	}
	return cur, nil
}

// index adds sess to the counters' sorted sets (and "all"), in p.
func (s *SessionStore) index(ctx context.Context, p goredis.Pipeliner, sess fourd.Session) {
	score := deadlineScoreFloat(sess)
	p.ZAdd(ctx, s.base+"all", goredis.Z{Score: score, Member: sess.ID})
	if sess.CountsAsGuest() {
		p.HSet(ctx, s.base+"gaddr", sess.ID, sess.IPAddress)
		p.ZAdd(ctx, s.base+"guests", goredis.Z{Score: score, Member: sess.ID})
		p.ZAdd(ctx, s.base+"guests:"+sess.IPAddress, goredis.Z{Score: score, Member: sess.ID})
	}
	if ttl := s.ttl(sess); ttl > 0 {
		p.PExpire(ctx, s.key(sess.ID), ttl)
	} else {
		p.Persist(ctx, s.key(sess.ID))
	}
}

// unindex removes sess from the counters' sorted sets, in p.
func (s *SessionStore) unindex(ctx context.Context, p goredis.Pipeliner, sess fourd.Session) {
	p.ZRem(ctx, s.base+"all", sess.ID)
	if sess.CountsAsGuest() {
		p.HDel(ctx, s.base+"gaddr", sess.ID)
		p.ZRem(ctx, s.base+"guests", sess.ID)
		p.ZRem(ctx, s.base+"guests:"+sess.IPAddress, sess.ID)
	}
}

// Count implements fourd.SessionStore: three sorted-set sizes in one
// round trip.
func (s *SessionStore) Count(ctx context.Context, address string) (fourd.SessionCount, error) {
	var all, guests, from *goredis.IntCmd
	_, err := s.db.Client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		all = p.ZCard(ctx, s.base+"all")
		guests = p.ZCard(ctx, s.base+"guests")
		from = p.ZCard(ctx, s.base+"guests:"+address)
		return nil
	})
	if err != nil {
		return fourd.SessionCount{}, fmt.Errorf("redis: count sessions: %w", err)
	}
	return fourd.SessionCount{Total: int(all.Val()), Guests: int(guests.Val()), GuestsFromAddress: int(from.Val())}, nil
}

// Sessions implements fourd.SessionStore: one script reads every session,
// oldest first; the expired ones are left out.
func (s *SessionStore) Sessions(ctx context.Context) ([]fourd.SessionInfo, error) {
	res, err := ssList.Run(ctx, s.db.Client, []string{s.base}).Slice()
	if err != nil {
		return nil, fmt.Errorf("redis: list sessions: %w", err)
	}
	now := s.Now()
	out := make([]fourd.SessionInfo, 0, len(res)/5)
	for i := 0; i+5 <= len(res); i += 5 {
		sess, ok, err := decodeSession(res[i : i+3])
		if err != nil {
			return nil, fmt.Errorf("redis: list sessions: %w", err)
		}
		if ok && !sess.ExpiredLazily(now) {
			out = append(out, sess.Info())
		}
	}
	return out, nil
}

// Expire implements fourd.SessionStore in one script, whose cost is that
// of the sessions past their deadline.
func (s *SessionStore) Expire(ctx context.Context, now time.Time) ([]string, error) {
	ids, err := ssExpire.Run(ctx, s.db.Client, []string{s.base}, now.Unix(), now.Nanosecond()).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redis: expire sessions: %w", err)
	}
	return ids, nil
}

// fields returns the hash's fields of sess but its order.
func (s *SessionStore) fields(sess fourd.Session) ([]any, error) {
	j, err := json.Marshal(sess)
	if err != nil {
		return nil, fmt.Errorf("redis: encode session: %w", err)
	}
	la := sess.LastActivity
	f := []any{"j", j, "las", la.Unix(), "lan", la.Nanosecond()}
	if sess.IdleTimeout > 0 {
		life := sess.IdleTimeout + fourd.TouchInterval(sess.IdleTimeout)
		d := la.Add(life)
		ls, ln := splitDuration(life)
		is, in := splitDuration(fourd.TouchInterval(sess.IdleTimeout))
		f = append(f, "ds", d.Unix(), "dn", d.Nanosecond(), "ls", ls, "ln", ln, "is", is, "in", in)
	} else {
		is, in := splitDuration(fourd.TouchInterval(0))
		f = append(f, "ds", "", "dn", "", "ls", "", "ln", "", "is", is, "in", in)
	}
	g := "0"
	if sess.CountsAsGuest() {
		g = "1"
	}
	return append(f, "g", g, "a", sess.IPAddress), nil
}

// ttl is the Redis TTL of sess: 0 for a session that never expires.
func (s *SessionStore) ttl(sess fourd.Session) time.Duration {
	if sess.IdleTimeout <= 0 {
		return 0
	}
	return sess.IdleTimeout + fourd.TouchInterval(sess.IdleTimeout) + s.TTLGrace
}

func (s *SessionStore) key(id string) string { return s.base + "s:" + id }

// deadlineScore is the score of sess in the sorted sets: its deadline in
// Unix seconds, +inf for a session that never expires.
func deadlineScore(sess fourd.Session) string {
	if sess.IdleTimeout <= 0 {
		return "+inf"
	}
	return score(sess.LastActivity.Add(sess.IdleTimeout + fourd.TouchInterval(sess.IdleTimeout)))
}

func deadlineScoreFloat(sess fourd.Session) float64 {
	f, _ := strconv.ParseFloat(deadlineScore(sess), 64) // "+inf" parses
	return f
}

// decodeSession decodes the j, las and lan of a session's hash; ok is
// false when there is none.
func decodeSession(vals []any) (fourd.Session, bool, error) {
	if len(vals) < 3 || vals[0] == nil {
		return fourd.Session{}, false, nil
	}
	f := fields(vals)
	var sess fourd.Session
	if err := json.Unmarshal([]byte(f.str(0)), &sess); err != nil {
		return fourd.Session{}, false, err
	}
	sess.LastActivity = time.Unix(f.int(1), f.int(2)).UTC()
	return sess, true, f.err
}
