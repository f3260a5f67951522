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
//
// An indicator made by Progress.Prepare is not listed until Begin gives it
// its title and total together: readers of the registry ($info) never see
// a half-made one (a "Total 0" with a placeholder title).
type ProgressIndicator struct {
	id           int64
	userInfo     string
	head         atomic.Pointer[progressHead]
	canInterrupt bool
	sessionID    string
	process      *Process
	started      time.Time
	done         atomic.Int64
	registry     *Progress
	listed       bool // in registry.items; guarded by registry.mu
}

// progressHead is what an indicator says of its work: replaced whole, so
// that a reader sees a title with the total that goes with it.
type progressHead struct {
	title string
	total int64
}

// Begin sets the title and the total together, counts nothing done yet, and
// lists the indicator in its registry if it is not listed already. Work
// whose total is known only once it has started (an index build counts its
// rows first) calls Begin then.
func (pi *ProgressIndicator) Begin(title string, total int64) {
	pi.head.Store(&progressHead{title: title, total: total})
	pi.done.Store(0)
	if pi.registry != nil {
		pi.registry.list(pi)
	}
}

// SetTitle changes the title ("Indexing Employee.lastName", ...).
func (pi *ProgressIndicator) SetTitle(title string) {
	for {
		old := pi.head.Load()
		next := &progressHead{title: title}
		if old != nil {
			next.total = old.total
		}
		if pi.head.CompareAndSwap(old, next) {
			return
		}
	}
}

// SetTotal sets the amount of work, in the operation's own unit (rows, pages, ...).
func (pi *ProgressIndicator) SetTotal(n int64) {
	for {
		old := pi.head.Load()
		next := &progressHead{total: n}
		if old != nil {
			next.title = old.title
		}
		if pi.head.CompareAndSwap(old, next) {
			return
		}
	}
}

// UserInfo returns the indicator's name, one of the Progress* constants.
func (pi *ProgressIndicator) UserInfo() string { return pi.userInfo }

// Add records n more units done.
func (pi *ProgressIndicator) Add(n int64) { pi.done.Add(n) }

// Set records that n units are done.
func (pi *ProgressIndicator) Set(n int64) { pi.done.Store(n) }

// Done returns how many units are done.
func (pi *ProgressIndicator) Done() int64 { return pi.done.Load() }

// Total returns the amount of work.
func (pi *ProgressIndicator) Total() int64 {
	if h := pi.head.Load(); h != nil {
		return h.total
	}
	return 0
}

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
	var h progressHead
	if p := pi.head.Load(); p != nil {
		h = *p
	}
	done, total, title := pi.done.Load(), h.total, h.title
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
	// OnList, when set before the registry is used, is called with each
	// indicator as it gets listed, from the goroutine doing the work, before
	// that work goes on. Tests use it to hold work at a known point (pausing
	// its process); it must not block.
	OnList func(*ProgressIndicator)

	nextID atomic.Int64
	mu     sync.Mutex
	items  []*ProgressIndicator // listed, in listing order
}

// NewProgress returns an empty registry.
func NewProgress() *Progress { return &Progress{} }

// Start registers and lists a new indicator whose title and total are
// known. userInfo is one of the Progress* names; p is the process doing the
// work (it is aborted by Interrupt when canInterrupt); sessionID is the
// session that asked for it, or "".
func (pr *Progress) Start(userInfo, title string, total int64, canInterrupt bool, p *Process, sessionID string) *ProgressIndicator {
	pi := pr.Prepare(userInfo, canInterrupt, p, sessionID)
	pi.Begin(title, total)
	return pi
}

// Prepare makes an indicator that is listed only once its Begin is called,
// for work that learns its title and total after it has started.
func (pr *Progress) Prepare(userInfo string, canInterrupt bool, p *Process, sessionID string) *ProgressIndicator {
	return &ProgressIndicator{
		id: pr.nextID.Add(1), userInfo: userInfo, canInterrupt: canInterrupt,
		sessionID: sessionID, process: p, started: time.Now(), registry: pr,
	}
}

func (pr *Progress) list(pi *ProgressIndicator) {
	pr.mu.Lock()
	if pi.listed {
		pr.mu.Unlock()
		return
	}
	pi.listed = true
	pr.items = append(pr.items, pi)
	pr.mu.Unlock()
	if pr.OnList != nil {
		pr.OnList(pi)
	}
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
