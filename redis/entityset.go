package redis

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
)

var _ fourd.EntitySetStore = (*EntitySetStore)(nil)

// DefaultDecodedCacheSize is the bytes of decoded sets an EntitySetStore
// keeps on its node by default.
const DefaultDecodedCacheSize = 64 << 20

// DefaultTTLGrace is how long Redis keeps a set past its timeout by
// default.
const DefaultTTLGrace = 10 * time.Minute

// EntitySetStore is the cache of entity sets shared by every node of a
// cluster, in Redis: a set made through one node is paged, released or
// evicted through any other. Size bounds the whole cluster's cache
// (give every node the same --cache-size); Used is the cluster's exact
// sum of the Bytes of the sets held, as each Put weighed them.
//
// Each operation is one Lua script, atomic in Redis: a Put that evicts
// the least recently used sets of the whole cluster, a Get that refreshes
// a set and makes it the most recently used, a release. Expiry is decided
// by the nodes' clock (Now, and Get's now), as in memory; Redis also
// gives each set a TTL of its timeout plus TTLGrace, renewed on use, so
// that sets do not outlive a cluster that stopped sweeping. A set Redis
// expired that way leaves the indexes (and Used) at the next Expire past
// its own expiry, or at the next Get of it.
//
// The rows travel encoded (inmem.MarshalRowSet: roaring's portable format
// for unsorted sets, packed uint32s for sorted ones). Decoding a large set
// costs more than the round trip, so each node keeps the sets it decoded,
// up to DecodedCacheSize bytes, by ID and version: the version is the tick
// of the Put that stored the set, and Get sends the version it holds in
// the same script that checks and refreshes the set, which sends the rows
// back only when they differ. A set released, evicted or expired anywhere
// is therefore never served from a node's copy (the script finds no set),
// and a set replaced under the same ID has a new version. The decoded
// cache is thus never stale, at the cost of no extra round trip; the one
// Get is the round trip.
//
// It is safe for concurrent use.
type EntitySetStore struct {
	// Now is the clock for the operations that take no time of their own
	// (Put, Release, ReleaseOwn, ReleaseSession, SessionSets,
	// EntitySets). time.Now by default.
	Now func() time.Time
	// DecodedCacheSize bounds the bytes of decoded sets kept on this node
	// (DefaultDecodedCacheSize by default; 0 keeps none).
	DecodedCacheSize int64
	// TTLGrace is added to a set's timeout for its Redis TTL
	// (DefaultTTLGrace by default).
	TTLGrace time.Duration

	db       *DB
	base     string
	size     int64
	lastUsed atomic.Int64

	mu      sync.Mutex
	decoded map[string]*list.Element // ID → *decodedSet in lru
	lru     list.List                // least recently used first
	held    int64
}

// decodedSet is a set's rows decoded on this node, at a version.
type decodedSet struct {
	id, version string
	rows        fourd.RowSet
	bytes       int64
}

// NewEntitySetStore returns the entity-set store of db, bounded to size
// bytes across the cluster (the server's --cache-size).
func NewEntitySetStore(db *DB, size int64) *EntitySetStore {
	return &EntitySetStore{
		Now:              time.Now,
		DecodedCacheSize: DefaultDecodedCacheSize,
		TTLGrace:         DefaultTTLGrace,
		db:               db,
		base:             db.key("es:"),
		size:             max(size, 0),
		decoded:          make(map[string]*list.Element),
	}
}

func errEntitySetNotFound(id string) error {
	return &fourd.Error{
		Code:      fourd.ENOTFOUND,
		ErrCode:   fourd.ErrCodeEntitySetNotFound,
		Component: fourd.ComponentDB,
		Message:   `EntitySet "` + id + `" cannot be found`,
	}
}

// NewRowSet implements fourd.EntitySetStore with inmem's representations.
func (s *EntitySetStore) NewRowSet(rows []fourd.RowID, sorted bool) fourd.RowSet {
	return inmem.NewRowSet(rows, sorted)
}

// Combine implements fourd.EntitySetStore with inmem.Combine.
func (s *EntitySetStore) Combine(a, b fourd.RowSet, op fourd.SetOperator) (fourd.RowSet, bool, error) {
	return inmem.Combine(a, b, op)
}

// Put implements fourd.EntitySetStore in one script: the sets expired
// first, then the least recently used of the cluster, make room.
func (s *EntitySetStore) Put(ctx context.Context, es *fourd.EntitySet) error {
	switch {
	case es == nil || es.ID == "":
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "an entity set needs an ID")
	case es.Rows == nil:
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "entity set %q has no rows", es.ID)
	case es.Timeout <= 0:
		return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter,
			"entity set %q: the timeout must be positive, not %v", es.ID, es.Timeout)
	}
	bytes := int64(es.Bytes())
	if bytes > s.size {
		return &fourd.Error{
			Code: fourd.EQUOTA, ErrCode: fourd.ErrCodeCacheFull, Component: fourd.ComponentServer,
			Message: fmt.Sprintf("entity set %q of %d entities needs %d bytes, more than the whole entity-set cache (%d bytes; see --cache-size)",
				es.ID, es.Rows.Len(), bytes, s.size),
		}
	}
	blob, err := inmem.MarshalRowSet(es.Rows)
	if err != nil {
		return err
	}
	now := s.Now()
	exp := es.Expires()
	ts, tn := splitDuration(es.Timeout)
	sorted := "0"
	if es.Rows.Sorted() {
		sorted = "1"
	}
	args := []any{
		es.ID, bytes, s.size, now.Unix(), now.Nanosecond(), s.ttl(es.Timeout).Milliseconds(), es.SessionID, score(exp),
		"d", es.DataClass, "s", es.SessionID, "c", es.Created.UnixNano(),
		"rs", es.Refreshed.Unix(), "rn", es.Refreshed.Nanosecond(), "ts", ts, "tn", tn,
		"xs", exp.Unix(), "xn", exp.Nanosecond(), "f", es.SavedFilter, "o", es.SavedOrderBy,
		"n", es.Rows.Len(), "so", sorted, "by", bytes, "b", blob,
	}
	tick, err := esPut.Run(ctx, s.db.Client, []string{s.base}, args...).Int64()
	if err != nil {
		return fmt.Errorf("redis: put entity set: %w", err)
	}
	// The caller's rows are those stored: keep them, decoded, at the new
	// version.
	s.keep(es.ID, strconv.FormatInt(tick, 10), es.Rows, bytes)
	return nil
}

// Get implements fourd.EntitySetStore in one round trip. Refreshed only
// moves forward, as in memory.
func (s *EntitySetStore) Get(ctx context.Context, id string, now time.Time) (*fourd.EntitySet, error) {
	have, rows := s.cached(id)
	res, err := esGet.Run(ctx, s.db.Client, []string{s.base},
		id, now.Unix(), now.Nanosecond(), have, s.TTLGrace.Milliseconds()).Slice()
	if errors.Is(err, goredis.Nil) {
		s.forget(id)
		return nil, errEntitySetNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("redis: get entity set: %w", err)
	}
	f := fields(res)
	es := &fourd.EntitySet{
		ID:           id,
		DataClass:    f.str(1),
		SessionID:    f.str(2),
		Created:      time.Unix(0, f.int(3)),
		Refreshed:    time.Unix(f.int(4), f.int(5)),
		Timeout:      time.Duration(f.int(6))*time.Second + time.Duration(f.int(7)),
		SavedFilter:  f.str(8),
		SavedOrderBy: f.str(9),
	}
	version := f.str(0)
	if len(res) > 13 && res[13] != nil {
		rs, err := inmem.UnmarshalRowSet([]byte(f.str(13)))
		if err != nil {
			return nil, fmt.Errorf("redis: entity set %s: %w", id, err)
		}
		rows = rs
		s.keep(id, version, rows, f.int(12))
	} else if version != have || rows == nil {
		return nil, fmt.Errorf("redis: entity set %s: version %s sent without rows, %q held", id, version, have)
	}
	es.Rows = rows
	if f.err != nil {
		return nil, fmt.Errorf("redis: entity set %s: %w", id, f.err)
	}
	return es, nil
}

// Release implements fourd.EntitySetStore.
func (s *EntitySetStore) Release(ctx context.Context, id string) error {
	return s.release(ctx, id, false, "")
}

// ReleaseOwn implements fourd.EntitySetStore: the owner is read from the
// set itself, one lookup.
func (s *EntitySetStore) ReleaseOwn(ctx context.Context, id, sessionID string) error {
	return s.release(ctx, id, true, sessionID)
}

func (s *EntitySetStore) release(ctx context.Context, id string, own bool, sessionID string) error {
	now := s.Now()
	ownFlag := "0"
	if own {
		ownFlag = "1"
	}
	n, err := esRelease.Run(ctx, s.db.Client, []string{s.base}, id, now.Unix(), now.Nanosecond(), ownFlag, sessionID).Int()
	if err != nil {
		return fmt.Errorf("redis: release entity set: %w", err)
	}
	if n == 0 {
		return errEntitySetNotFound(id)
	}
	s.forget(id)
	return nil
}

// ReleaseSession implements fourd.EntitySetStore: the session's own index
// is read, not every set. The empty session ID, that of the server's own
// sets, releases nothing.
func (s *EntitySetStore) ReleaseSession(ctx context.Context, sessionID string) (int, error) {
	if sessionID == "" {
		return 0, nil
	}
	now := s.Now()
	n, err := esReleaseSession.Run(ctx, s.db.Client, []string{s.base}, sessionID, now.Unix(), now.Nanosecond()).Int()
	if err != nil {
		return 0, fmt.Errorf("redis: release the sets of a session: %w", err)
	}
	return n, nil
}

// MoveSession implements fourd.EntitySetStore. The empty session ID moves
// nothing.
func (s *EntitySetStore) MoveSession(ctx context.Context, from, to string) (int, error) {
	if from == "" || to == "" || from == to {
		return 0, nil
	}
	n, err := esMoveSession.Run(ctx, s.db.Client, []string{s.base}, from, to).Int()
	if err != nil {
		return 0, fmt.Errorf("redis: move the sets of a session: %w", err)
	}
	return n, nil
}

// SessionSets implements fourd.EntitySetStore.
func (s *EntitySetStore) SessionSets(ctx context.Context, sessionID string) (int, time.Time, error) {
	now := s.Now()
	res, err := esSessionSets.Run(ctx, s.db.Client, []string{s.base}, sessionID, now.Unix(), now.Nanosecond()).Int64Slice()
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("redis: count the sets of a session: %w", err)
	}
	if len(res) != 3 || res[0] == 0 {
		return 0, time.Time{}, nil
	}
	return int(res[0]), time.Unix(res[1], res[2]), nil
}

// EntitySets implements fourd.EntitySetStore: one script reads every live
// set's values, oldest Put first.
func (s *EntitySetStore) EntitySets(ctx context.Context) ([]fourd.EntitySetInfo, error) {
	now := s.Now()
	res, err := esList.Run(ctx, s.db.Client, []string{s.base}, now.Unix(), now.Nanosecond()).Slice()
	if err != nil {
		return nil, fmt.Errorf("redis: list entity sets: %w", err)
	}
	const width = 10
	out := make([]fourd.EntitySetInfo, 0, len(res)/width)
	for i := 0; i+width <= len(res); i += width {
		f := fields(res[i : i+width])
		out = append(out, fourd.EntitySetInfo{
			ID:            f.str(0),
			Expires:       time.Unix(f.int(1), f.int(2)),
			DataClass:     f.str(3),
			SelectionSize: int(f.int(4)),
			Sorted:        f.str(5) == "1",
			Refreshed:     time.Unix(f.int(6), f.int(7)),
			SessionID:     f.str(8),
			Bytes:         int(f.int(9)),
		})
		if f.err != nil {
			return nil, fmt.Errorf("redis: list entity sets: %w", f.err)
		}
	}
	return out, nil
}

// Expire implements fourd.EntitySetStore: the expiry index is read from
// its start, so the cost is that of the sets expired.
func (s *EntitySetStore) Expire(ctx context.Context, now time.Time) ([]string, error) {
	ids, err := esExpire.Run(ctx, s.db.Client, []string{s.base}, now.Unix(), now.Nanosecond()).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redis: expire entity sets: %w", err)
	}
	for _, id := range ids {
		s.forget(id)
	}
	return ids, nil
}

// Size implements fourd.EntitySetStore: the bound of the cluster's cache
// that this node's Puts keep.
func (s *EntitySetStore) Size() int64 { return s.size }

// Used implements fourd.EntitySetStore: the cluster's counter, read from
// Redis (a round trip). When Redis does not answer within a second it
// returns the last value read.
func (s *EntitySetStore) Used() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	n, err := s.db.Client.Get(ctx, s.base+"used").Int64()
	switch {
	case errors.Is(err, goredis.Nil):
		n = 0
	case err != nil:
		return s.lastUsed.Load()
	}
	s.lastUsed.Store(n)
	return n
}

// ttl is the Redis TTL of a set of that timeout.
func (s *EntitySetStore) ttl(timeout time.Duration) time.Duration {
	return max(timeout+s.TTLGrace, time.Millisecond)
}

// cached returns the version and rows of id decoded on this node, if any.
func (s *EntitySetStore) cached(id string) (string, fourd.RowSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el := s.decoded[id]
	if el == nil {
		return "", nil
	}
	s.lru.MoveToBack(el)
	d := el.Value.(*decodedSet)
	return d.version, d.rows
}

// keep remembers rows decoded at version, dropping the least recently
// used decoded sets beyond DecodedCacheSize.
func (s *EntitySetStore) keep(id, version string, rows fourd.RowSet, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetLocked(id)
	if bytes > s.DecodedCacheSize {
		return
	}
	s.decoded[id] = s.lru.PushBack(&decodedSet{id: id, version: version, rows: rows, bytes: bytes})
	s.held += bytes
	for s.held > s.DecodedCacheSize {
		s.forgetLocked(s.lru.Front().Value.(*decodedSet).id)
	}
}

// forget drops the decoded rows of id: memory only, since a stale copy is
// never used (its version would not match).
func (s *EntitySetStore) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetLocked(id)
}

func (s *EntitySetStore) forgetLocked(id string) {
	if el := s.decoded[id]; el != nil {
		s.held -= el.Value.(*decodedSet).bytes
		s.lru.Remove(el)
		delete(s.decoded, id)
	}
}

// splitDuration returns d in whole seconds and the nanoseconds left.
func splitDuration(d time.Duration) (int64, int64) {
	return int64(d / time.Second), int64(d % time.Second)
}

// score is a sorted-set score for t: Unix seconds with a fraction, exact
// to about a microsecond, enough to find candidates that the scripts then
// compare exactly.
func score(t time.Time) string {
	return strconv.FormatFloat(float64(t.Unix())+float64(t.Nanosecond())/1e9, 'f', 6, 64)
}

// reply reads the values of a script's array reply; the first error sticks.
type reply struct {
	vals []any
	err  error
}

func fields(vals []any) *reply { return &reply{vals: vals} }

func (r *reply) str(i int) string {
	if i >= len(r.vals) {
		if r.err == nil {
			r.err = fmt.Errorf("reply of %d values, none at %d", len(r.vals), i)
		}
		return ""
	}
	switch v := r.vals[i].(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case nil:
		return ""
	default:
		if r.err == nil {
			r.err = fmt.Errorf("reply value %d is a %T", i, v)
		}
		return ""
	}
}

func (r *reply) int(i int) int64 {
	s := r.str(i)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("reply value %d: %w", i, err)
	}
	return n
}
