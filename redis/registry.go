package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fourd/fourd"
)

var _ fourd.ProcessRegistry = (*ProcessRegistry)(nil)

// Defaults of ProcessRegistry.
const (
	DefaultHeartbeat     = time.Second
	DefaultNodeTimeout   = 5 * time.Second
	DefaultAnswerTimeout = 2 * time.Second
)

// ProcessRegistry is the cluster's processes on Redis: every node of a
// cluster opens one on the same DB, with its own name and process table.
//
//   - Each node writes a heartbeat key (node:<name>, its start, last
//     heartbeat and live processes) every Heartbeat, with a TTL of
//     NodeTimeout: a node that stops or is killed leaves the view when
//     its key expires, at most NodeTimeout after its last heartbeat; a
//     node that closes cleanly leaves at once.
//   - Process IDs come in blocks from one counter (process-ids), moved by
//     a Lua script; a counter that is missing (a new cluster, Redis
//     restarted empty) starts at fourd.ProcessIDFloor of Redis's clock.
//   - Processes and Control publish a request on the registry channel;
//     every node publishes its answer on the requester's reply channel
//     (reply:<node>), which the requester waits on for at most
//     AnswerTimeout. This node answers itself without Redis; a live node
//     that has not answered by then is named (ProcessSnapshot's
//     Unanswered, or EUNAVAILABLE from Control).
//
// Set the exported fields before Open.
type ProcessRegistry struct {
	Heartbeat     time.Duration // how often the heartbeat is written; DefaultHeartbeat
	NodeTimeout   time.Duration // the heartbeat's TTL; DefaultNodeTimeout
	AnswerTimeout time.Duration // the longest wait for other nodes' answers; DefaultAnswerTimeout
	Logger        *slog.Logger

	db      *DB
	node    string
	table   fourd.ProcessTable
	started time.Time
	token   string // this run's, to tell a restart from a name already in use

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	pubsub    *goredis.PubSub
	closeOnce sync.Once
	closeErr  error
	deaf      chan struct{} // closed by stopAnswering (tests)
	deafOnce  sync.Once

	mu      sync.Mutex
	waiters map[string]chan answer // by request ID: the requests waiting for answers
}

// NewProcessRegistry returns the registry of the node named node, whose
// processes are in table, on db. The caller makes the table take its IDs
// from it and calls Open.
func NewProcessRegistry(db *DB, node string, table fourd.ProcessTable) *ProcessRegistry {
	return &ProcessRegistry{
		Heartbeat: DefaultHeartbeat, NodeTimeout: DefaultNodeTimeout, AnswerTimeout: DefaultAnswerTimeout,
		Logger: slog.Default(), db: db, node: node, table: table, deaf: make(chan struct{}),
		waiters: map[string]chan answer{},
	}
}

// nodeRecord is a heartbeat key's value.
type nodeRecord struct {
	Name          string    `json:"name"`
	Token         string    `json:"token"`
	Started       time.Time `json:"started"`
	LastHeartbeat time.Time `json:"lastHeartbeat"`
	Processes     int       `json:"processes"`
}

// request is what a node publishes on the registry channel.
type request struct {
	ID      string `json:"req"`  // the request's ID, which its answers carry
	From    string `json:"from"` // the node that asks: answers go to its reply channel
	Op      string `json:"op"`   // "processes" or "control"
	Session string `json:"session,omitempty"`
	Process int64  `json:"id,omitempty"`
	Action  int    `json:"action,omitempty"`
}

// answer is what a node publishes on the requester's reply channel.
type answer struct {
	Request   string              `json:"req"`
	Node      string              `json:"node"`
	Processes []fourd.ProcessInfo `json:"processes,omitempty"`
	Code      string              `json:"code,omitempty"` // Control: "" done, else the error's code
	ErrCode   int                 `json:"errCode,omitempty"`
	Message   string              `json:"message,omitempty"`
}

func (r *ProcessRegistry) nodeKey(name string) string { return r.db.key("node:" + name) }
func (r *ProcessRegistry) nodesKey() string           { return r.db.key("nodes") }
func (r *ProcessRegistry) channel() string            { return r.db.key("registry") }
func (r *ProcessRegistry) replyChannel(node string) string {
	return r.db.key("reply:" + node)
}

// Open registers the node and starts its heartbeat and the goroutine that
// answers the other nodes. It fails if a live node already has this name.
func (r *ProcessRegistry) Open(ctx context.Context) error {
	if err := fourd.CheckNodeName(r.node); err != nil {
		return err
	}
	if r.Heartbeat <= 0 || r.NodeTimeout <= r.Heartbeat || r.AnswerTimeout <= 0 {
		return fmt.Errorf("process registry: heartbeat %s, node timeout %s, answer timeout %s: all positive, the timeout longer than the heartbeat",
			r.Heartbeat, r.NodeTimeout, r.AnswerTimeout)
	}
	r.started = time.Now().UTC()
	r.token = fourd.NewID()
	rec, err := json.Marshal(r.record(r.started))
	if err != nil {
		return err
	}
	ok, err := r.db.Client.SetNX(ctx, r.nodeKey(r.node), rec, r.NodeTimeout).Result()
	if err != nil {
		return fmt.Errorf("register node %q: %w", r.node, err)
	}
	if !ok {
		return fmt.Errorf("node name %q is in use by a live node of this cluster (its heartbeat expires within %s of its last one): give this node another --node, or wait", r.node, r.NodeTimeout)
	}
	if err := r.db.Client.SAdd(ctx, r.nodesKey(), r.node).Err(); err != nil {
		r.db.Client.Del(ctx, r.nodeKey(r.node))
		return fmt.Errorf("register node %q: %w", r.node, err)
	}
	r.pubsub = r.db.Client.Subscribe(ctx, r.channel(), r.replyChannel(r.node))
	for range 2 { // the subscriptions' confirmations
		if _, err := r.pubsub.Receive(ctx); err != nil {
			r.pubsub.Close()
			r.db.Client.Del(ctx, r.nodeKey(r.node))
			return fmt.Errorf("subscribe to %s: %w", r.channel(), err)
		}
	}
	bg, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(2)
	go r.beat(bg)
	go r.listen(bg)
	return nil
}

func (r *ProcessRegistry) record(now time.Time) nodeRecord {
	return nodeRecord{Name: r.node, Token: r.token, Started: r.started, LastHeartbeat: now.UTC(), Processes: r.table.Len()}
}

// beat writes the heartbeat every Heartbeat until ctx is done.
func (r *ProcessRegistry) beat(ctx context.Context) {
	defer r.wg.Done()
	t := time.NewTicker(r.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			rec, _ := json.Marshal(r.record(now))
			cctx, cancel := context.WithTimeout(ctx, r.Heartbeat)
			_, err := r.db.Client.TxPipelined(cctx, func(p goredis.Pipeliner) error {
				p.Set(cctx, r.nodeKey(r.node), rec, r.NodeTimeout)
				p.SAdd(cctx, r.nodesKey(), r.node)
				return nil
			})
			cancel()
			if err != nil && ctx.Err() == nil {
				r.Logger.Warn("process registry: heartbeat not written", "node", r.node, "err", err)
			}
		}
	}
}

// listen answers the other nodes' requests until ctx is done.
func (r *ProcessRegistry) listen(ctx context.Context) {
	defer r.wg.Done()
	ch := r.pubsub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			select {
			case <-r.deaf:
				continue
			default:
			}
			if msg.Channel != r.channel() {
				r.deliver(msg.Payload)
				continue
			}
			var req request
			if err := json.Unmarshal([]byte(msg.Payload), &req); err != nil || req.From == r.node || req.ID == "" {
				continue
			}
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				r.answer(ctx, req)
			}()
		}
	}
}

// deliver hands an answer to the request waiting for it, if it still
// waits.
func (r *ProcessRegistry) deliver(payload string) {
	var a answer
	if err := json.Unmarshal([]byte(payload), &a); err != nil {
		return
	}
	r.mu.Lock()
	ch := r.waiters[a.Request]
	r.mu.Unlock()
	if ch != nil {
		select {
		case ch <- a:
		default: // more answers than nodes asked: a duplicate
		}
	}
}

// answer serves one request and publishes the answer on the requester's
// reply channel.
func (r *ProcessRegistry) answer(ctx context.Context, req request) {
	a := answer{Request: req.ID, Node: r.node}
	switch req.Op {
	case "processes":
		a.Processes = r.local(req.Session)
	case "control":
		p := r.table.ProcessByID(req.Process)
		if p == nil {
			a.Code = fourd.ENOTFOUND // the requester decides once every node has said so
		} else if err := fourd.ControlProcess(p, req.Process, fourd.ProcessAction(req.Action)); err != nil {
			var e *fourd.Error
			if errors.As(err, &e) {
				a.Code, a.ErrCode, a.Message = e.Code, e.ErrCode, e.Message
			} else {
				a.Code, a.ErrCode, a.Message = fourd.EINTERNAL, fourd.ErrCodeInternal, err.Error()
			}
		}
	default:
		return
	}
	b, err := json.Marshal(a)
	if err != nil {
		r.Logger.Error("process registry: encode an answer", "err", err)
		return
	}
	cctx, cancel := context.WithTimeout(ctx, r.AnswerTimeout)
	defer cancel()
	if err := r.db.Client.Publish(cctx, r.replyChannel(req.From), b).Err(); err != nil && ctx.Err() == nil {
		r.Logger.Warn("process registry: answer not sent", "node", r.node, "to", req.From, "err", err)
	}
}

// local is this node's snapshot, each process with its node.
func (r *ProcessRegistry) local(sessionID string) []fourd.ProcessInfo {
	list := r.table.Processes(sessionID)
	for i := range list {
		list[i].Node = r.node
	}
	return list
}

// stopAnswering makes the node ignore the other nodes' requests while its
// heartbeat goes on: a node that hangs. For tests (export_test.go).
func (r *ProcessRegistry) stopAnswering() { r.deafOnce.Do(func() { close(r.deaf) }) }

// Close takes the node out of the cluster at once (its heartbeat key
// deleted), stops answering and waits for its goroutines. It is
// idempotent.
func (r *ProcessRegistry) Close() error {
	r.closeOnce.Do(func() {
		if r.cancel == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.AnswerTimeout)
		defer cancel()
		_, err := r.db.Client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			p.Del(ctx, r.nodeKey(r.node))
			p.SRem(ctx, r.nodesKey(), r.node)
			return nil
		})
		r.cancel()
		r.closeErr = errors.Join(err, r.pubsub.Close())
		r.wg.Wait()
	})
	return r.closeErr
}

// Node implements fourd.ProcessRegistry.
func (r *ProcessRegistry) Node() string { return r.node }

// idsScript reserves ARGV[1] IDs from the counter KEYS[1]: the numbers
// after it, or from the microseconds since ARGV[2] (Unix seconds) by
// Redis's clock when the counter is missing; -1 past ARGV[3]. Lua's
// numbers are doubles, exact up to 2^53: exactly the range of IDs.
var idsScript = goredis.NewScript(`
local n = tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur == 0 then
  local t = redis.call('TIME')
  cur = (tonumber(t[1]) - tonumber(ARGV[2])) * 1000000 + tonumber(t[2]) - 1
  if cur < 0 then cur = 0 end
end
local last = cur + n
if last > tonumber(ARGV[3]) then return -1 end
redis.call('SET', KEYS[1], string.format('%.0f', last))
return cur + 1
`)

// ReserveIDs implements fourd.ProcessRegistry.
func (r *ProcessRegistry) ReserveIDs(ctx context.Context, n int) (int64, error) {
	if n < 1 {
		n = 1
	}
	first, err := idsScript.Run(ctx, r.db.Client, []string{r.db.key("process-ids")},
		n, fourd.ProcessIDEpoch.Unix(), int64(fourd.MaxProcessID)).Int64()
	if err != nil {
		return 0, fmt.Errorf("reserve process IDs: %w", err)
	}
	if first < 0 {
		return 0, fourd.ErrProcessIDsExhausted
	}
	return first, nil
}

// Nodes implements fourd.ProcessRegistry: the nodes whose heartbeat key
// is alive. A node is up while its last heartbeat is within two
// heartbeats, late after that until its key expires.
func (r *ProcessRegistry) Nodes(ctx context.Context) ([]fourd.NodeInfo, error) {
	recs, err := r.live(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]fourd.NodeInfo, 0, len(recs))
	for _, rec := range recs {
		n := fourd.NodeInfo{Name: rec.Name, State: fourd.NodeUp, Started: rec.Started, LastHeartbeat: rec.LastHeartbeat, Processes: rec.Processes}
		if rec.Name == r.node {
			n.Self, n.LastHeartbeat, n.Processes = true, now.UTC(), r.table.Len()
		} else if now.Sub(rec.LastHeartbeat) > 2*r.Heartbeat {
			n.State = fourd.NodeLate
		}
		out = append(out, n)
	}
	return out, nil
}

// live returns the heartbeat records of the live nodes, sorted by name,
// and forgets the names whose key has expired.
func (r *ProcessRegistry) live(ctx context.Context) ([]nodeRecord, error) {
	names, err := r.db.Client.SMembers(ctx, r.nodesKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	if !slices.Contains(names, r.node) {
		names = append(names, r.node)
	}
	slices.Sort(names)
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = r.nodeKey(n)
	}
	vals, err := r.db.Client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var out []nodeRecord
	var gone []any
	for i, v := range vals {
		s, ok := v.(string)
		var rec nodeRecord
		if !ok || json.Unmarshal([]byte(s), &rec) != nil {
			if names[i] == r.node {
				// This node's key expired (Redis restarted, or the
				// heartbeat fell behind): it is still this node.
				out = append(out, r.record(time.Now()))
				continue
			}
			gone = append(gone, names[i])
			continue
		}
		out = append(out, rec)
	}
	if len(gone) > 0 {
		r.db.Client.SRem(ctx, r.nodesKey(), gone...)
	}
	return out, nil
}

// ask publishes req to the other live nodes and collects their answers
// until every one of them has answered, done says stop, or AnswerTimeout
// passes. It returns the answers and the nodes that did not answer.
func (r *ProcessRegistry) ask(ctx context.Context, req request, done func(answer) bool) ([]answer, []string, error) {
	recs, err := r.live(ctx)
	if err != nil {
		return nil, nil, err
	}
	waiting := map[string]bool{}
	for _, rec := range recs {
		if rec.Name != r.node {
			waiting[rec.Name] = true
		}
	}
	if len(waiting) == 0 {
		return nil, nil, nil
	}
	req.From, req.ID = r.node, fourd.NewID()
	b, err := json.Marshal(req)
	if err != nil {
		return nil, nil, err
	}
	ch := make(chan answer, len(waiting))
	r.mu.Lock()
	r.waiters[req.ID] = ch
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.waiters, req.ID)
		r.mu.Unlock()
	}()
	if err := r.db.Client.Publish(ctx, r.channel(), b).Err(); err != nil {
		return nil, nil, fmt.Errorf("ask the other nodes: %w", err)
	}
	timer := time.NewTimer(r.AnswerTimeout)
	defer timer.Stop()
	var answers []answer
wait:
	for len(waiting) > 0 {
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-timer.C:
			break wait
		case a := <-ch:
			if !waiting[a.Node] {
				continue
			}
			delete(waiting, a.Node)
			answers = append(answers, a)
			if done != nil && done(a) {
				return answers, nil, nil
			}
		}
	}
	var missing []string
	for n := range waiting {
		missing = append(missing, n)
	}
	slices.Sort(missing)
	return answers, missing, nil
}

// Processes implements fourd.ProcessRegistry: this node's processes, then
// every other node's that answered within AnswerTimeout, by node name.
func (r *ProcessRegistry) Processes(ctx context.Context, sessionID string) (fourd.ProcessSnapshot, error) {
	answers, missing, err := r.ask(ctx, request{Op: "processes", Session: sessionID}, nil)
	if err != nil {
		return fourd.ProcessSnapshot{}, err
	}
	slices.SortFunc(answers, func(a, b answer) int {
		switch {
		case a.Node < b.Node:
			return -1
		case a.Node > b.Node:
			return 1
		}
		return 0
	})
	out := r.local(sessionID)
	for _, a := range answers {
		for i := range a.Processes {
			a.Processes[i].Node = a.Node
		}
		out = append(out, a.Processes...)
	}
	return fourd.ProcessSnapshot{Processes: out, Unanswered: missing}, nil
}

// Control implements fourd.ProcessRegistry: on this node when it runs the
// process, else on the node that answers it does.
func (r *ProcessRegistry) Control(ctx context.Context, id int64, action fourd.ProcessAction) error {
	if p := r.table.ProcessByID(id); p != nil || id < 1 {
		return fourd.ControlProcess(p, id, action)
	}
	if action < fourd.ProcessAbort || action > fourd.ProcessResume {
		return fourd.ControlProcess(nil, id, action)
	}
	answers, missing, err := r.ask(ctx, request{Op: "control", Process: id, Action: int(action)},
		func(a answer) bool { return a.Code != fourd.ENOTFOUND })
	if err != nil {
		return err
	}
	for _, a := range answers {
		switch a.Code {
		case "":
			return nil
		case fourd.ENOTFOUND:
		default:
			return &fourd.Error{Code: a.Code, ErrCode: a.ErrCode, Message: a.Message}
		}
	}
	if len(missing) > 0 {
		return fourd.Errorf(fourd.EUNAVAILABLE, fourd.ErrCodeNodeUnreachable,
			"no node that answered runs process %d, and %s did not answer within %s: retry", id, joinNames(missing), r.AnswerTimeout)
	}
	return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownProcess, "no process with ID %d", id)
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += strconv.Quote(n)
	}
	if len(names) == 1 {
		return "node " + s
	}
	return "nodes " + s
}
