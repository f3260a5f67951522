package fourd

import (
	"sync"
	"sync/atomic"
	"time"
)

// Well-known progress indicator names (the UserInfo of $info.ProgressInfo).
const (
	ProgressIndex  = "indexProgressIndicator"  // building an index
	ProgressFlush  = "flushProgressIndicator"  // writing the cache to disk
	ProgressImport = "importProgressIndicator" // loading data (the demo data, an import)
)

// ProgressIndicator reports the progress of one long operation: a title,
// how much is done out of a total, and whether it can be interrupted. The
// operation runs as a process; interrupting it aborts that process.
// Methods are safe for concurrent use; Add and Set are cheap enough to call
// per row.
type ProgressIndicator struct {
	id           int64
	userInfo     string
	title        atomic.Pointer[string]
	canInterrupt bool
	sessionID    string
	process      *Process
	started      time.Time
	done         atomic.Int64
	total        atomic.Int64
	registry     *Progress
}

// SetTitle changes the title ("Indexing Employee.lastName", ...).
func (pi *ProgressIndicator) SetTitle(title string) { pi.title.Store(&title) }

// SetTotal sets the amount of work, in the operation's own unit (rows, pages, ...).
func (pi *ProgressIndicator) SetTotal(n int64) { pi.total.Store(n) }

// Add records n more units done.
func (pi *ProgressIndicator) Add(n int64) { pi.done.Add(n) }

// Set records that n units are done.
func (pi *ProgressIndicator) Set(n int64) { pi.done.Store(n) }

// Done returns how many units are done.
func (pi *ProgressIndicator) Done() int64 { return pi.done.Load() }

// Total returns the amount of work.
func (pi *ProgressIndicator) Total() int64 { return pi.total.Load() }

// Process returns the process doing the work, or nil.
func (pi *ProgressIndicator) Process() *Process { return pi.process }

// Interrupt aborts the operation's process if it can be interrupted, and
// reports whether it did.
func (pi *ProgressIndicator) Interrupt() bool {
	if !pi.canInterrupt || pi.process == nil {
		return false
	}
	pi.process.Abort(ErrAborted)
	return true
}

// Stop removes the indicator from its registry: the operation is over.
func (pi *ProgressIndicator) Stop() {
	if pi != nil && pi.registry != nil {
		pi.registry.remove(pi)
	}
}

// Info returns the indicator as $info reports it.
func (pi *ProgressIndicator) Info() ProgressInfo {
	done, total := pi.done.Load(), pi.total.Load()
	percent := 0
	if total > 0 {
		percent = int(done * 100 / total)
		if percent > 100 {
			percent = 100
		}
	}
	sessions := 0
	if pi.sessionID != "" {
		sessions = 1
	}
	title := ""
	if t := pi.title.Load(); t != nil {
		title = *t
	}
	var processID int64
	if pi.process != nil {
		processID = pi.process.ID()
	}
	return ProgressInfo{
		UserInfo: pi.userInfo, Sessions: sessions, SessionCount: sessions, Percent: percent, Title: title,
		CanInterrupt: pi.canInterrupt, Done: done, Total: total, ProcessID: processID, Started: pi.started,
	}
}

// ProgressInfo is one element of $info.ProgressInfo: the seed's UserInfo,
// sessions and percent, what real 4D servers add (SessionCount, Title,
// CanInterrupt), and fourd's raw counters.
type ProgressInfo struct {
	UserInfo     string    `json:"UserInfo"`
	Sessions     int       `json:"sessions"` // sessions whose work this is: 1 if a session started it, else 0
	Percent      int       `json:"percent"`
	SessionCount int       `json:"SessionCount"` // same as sessions, as real servers send
	Title        string    `json:"Title"`
	CanInterrupt bool      `json:"CanInterrupt"`
	Done         int64     `json:"done"`
	Total        int64     `json:"total"`
	ProcessID    int64     `json:"processID,omitempty"` // the unique ID of the process doing the work
	Started      time.Time `json:"-"`
}

// Progress is the registry of the progress indicators of a server.
type Progress struct {
	nextID atomic.Int64
	mu     sync.Mutex
	items  []*ProgressIndicator // in start order
}

// NewProgress returns an empty registry.
func NewProgress() *Progress { return &Progress{} }

// Start registers a new indicator. userInfo is one of the Progress*
// names; p is the process doing the work (it is aborted by Interrupt when
// canInterrupt); sessionID is the session that asked for it, or "".
func (pr *Progress) Start(userInfo, title string, total int64, canInterrupt bool, p *Process, sessionID string) *ProgressIndicator {
	pi := &ProgressIndicator{
		id: pr.nextID.Add(1), userInfo: userInfo, canInterrupt: canInterrupt,
		sessionID: sessionID, process: p, started: time.Now(), registry: pr,
	}
	pi.title.Store(&title)
	pi.total.Store(total)
	pr.mu.Lock()
	pr.items = append(pr.items, pi)
	pr.mu.Unlock()
	return pi
}

func (pr *Progress) remove(pi *ProgressIndicator) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	for i, x := range pr.items {
		if x == pi {
			pr.items = append(pr.items[:i], pr.items[i+1:]...)
			return
		}
	}
}

// Snapshot returns the running indicators, oldest first.
func (pr *Progress) Snapshot() []ProgressInfo {
	pr.mu.Lock()
	items := append([]*ProgressIndicator(nil), pr.items...)
	pr.mu.Unlock()
	out := make([]ProgressInfo, len(items))
	for i, pi := range items {
		out[i] = pi.Info()
	}
	return out
}
