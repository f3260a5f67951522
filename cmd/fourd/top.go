package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/activityfilter"
	"github.com/fourd/fourd/rest"
)

// fourd top is a live terminal view of Process activity, like top or
// pg_activity. It draws whole frames with a few ANSI escape sequences
// (clear, reverse video) over golang.org/x/term's raw mode: a table that
// is redrawn every second needs no more, and the frames stay plain text
// that works over SSH in any terminal of 80×24 or more.

const topHelp = "keys: ↑/↓ select  s sort  f filter  a abort  p pause  r resume  enter session  q quit"

// topSorts are the orders of the process list, cycled by the s key.
var topSorts = []struct {
	name string
	less func(a, b *fourd.ProcessInfo) bool
}{
	{"cpu", func(a, b *fourd.ProcessInfo) bool { return a.CPUUsage > b.CPUUsage }},
	{"time", func(a, b *fourd.ProcessInfo) bool { return a.CreationDateTime.Before(b.CreationDateTime) }},
	{"state", func(a, b *fourd.ProcessInfo) bool { return a.State > b.State }},
	{"type", func(a, b *fourd.ProcessInfo) bool { return a.Type < b.Type }},
	{"id", func(a, b *fourd.ProcessInfo) bool { return a.ID < b.ID }},
}

// topState is what the view shows; only the loop goroutine touches it.
type topState struct {
	server   string
	interval time.Duration
	filter   string
	sortKey  int
	selected int64 // the unique ID of the selected process, 0: the first
	act      *fourd.Activity
	info     *rest.Info
	err      error
	rate     float64 // new processes per second since the previous refresh
	lastID   int64
	lastAt   time.Time

	prompt  string                                    // a question or an input line at the bottom
	input   string                                    // the text typed after an input prompt
	confirm func()                                    // what "y" does after a question
	pending func(context.Context, *rest.Client) error // the action confirm prepared
	editing bool                                      // the prompt is the filter's input line
	session bool                                      // the selected process's session is shown
	message string                                    // the outcome of the last action
}

// topCallTimeout bounds each call of a refresh or an action.
var topCallTimeout = 10 * time.Second

// runTop runs fourd top until q or Ctrl-C.
func runTop(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("top", stderr)
	co := connFlags(fs, 0)
	interval := fs.Duration("interval", time.Second, "how often the view refreshes")
	filterText := fs.String("filter", "", `only the processes the filter selects (docs/operations.md); the f key changes it`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *interval < 100*time.Millisecond {
		return &exitError{code: 2, msg: "top: --interval is at least 100ms"}
	}
	if err := checkFilter(*filterText, fourd.ProcessesOnly); err != nil {
		return err
	}
	in, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return &exitError{code: 2, msg: "top: standard input is not a terminal (use fourd activity for a one-shot table)"}
	}
	fd := int(in.Fd())
	c, err := co.connect(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	ctx, client := c.ctx, c.Client
	timeout := &topCallTimeout
	old, err := term.MakeRaw(fd)
	if err != nil {
		return fmt.Errorf("top: raw terminal: %w", err)
	}
	fmt.Fprint(stdout, "\x1b[?1049h\x1b[?25l") // the alternate screen, no cursor
	defer func() {
		fmt.Fprint(stdout, "\x1b[?25h\x1b[?1049l")
		_ = term.Restore(fd, old)
	}()

	keys := make(chan []byte)
	readDone, stop := make(chan struct{}), make(chan struct{})
	// The key reader stays blocked in its read until the next key or the
	// terminal's end, then returns: a read of a terminal cannot be
	// interrupted, and fourd exits after top anyway.
	defer close(stop)
	go func() { // ends when the terminal is closed or a read fails
		defer close(readDone)
		buf := make([]byte, 64)
		for {
			n, err := in.Read(buf)
			if n > 0 {
				select {
				case keys <- append([]byte(nil), buf[:n]...):
				case <-stop:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()

	st := &topState{server: client.URL(), interval: *interval, filter: *filterText}
	refresh := func() {
		rctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		st.refresh(rctx, client)
	}
	draw := func() {
		w, h, err := term.GetSize(fd)
		if err != nil || w < 20 || h < 8 {
			w, h = 80, 24
		}
		fmt.Fprint(stdout, st.frame(w, h, time.Now()))
	}
	refresh()
	draw()
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-readDone:
			return nil
		case <-tick.C:
			refresh()
		case chunk := <-keys:
			for _, k := range splitKeys(chunk) {
				act, quit := st.key(k)
				if quit {
					return nil
				}
				if act != nil {
					actx, cancel := context.WithTimeout(ctx, *timeout)
					err := act(actx, client)
					cancel()
					if err != nil {
						st.message = "failed: " + describeCallError(client.URL(), err).Error()
					}
					refresh()
				}
			}
		}
		draw()
	}
}

// splitKeys splits what one read of the terminal gave into keys: an
// escape sequence (ESC [ X, ESC O X) is one key, a UTF-8 character
// another; typed-ahead or pasted text arrives in one read.
func splitKeys(b []byte) [][]byte {
	var keys [][]byte
	for len(b) > 0 {
		n := 1
		switch {
		case b[0] == 27 && len(b) >= 3 && (b[1] == '[' || b[1] == 'O'):
			n = 3
		case b[0] >= 0x80:
			_, size := utf8.DecodeRune(b)
			n = size
		}
		keys = append(keys, b[:n])
		b = b[n:]
	}
	return keys
}

// refresh reads $activity (with the filter) and $info.
func (st *topState) refresh(ctx context.Context, c *rest.Client) {
	a, err := c.ActivityMatch(ctx, "", fourd.ProcessesAndSessions, st.filter)
	if err != nil {
		st.err = err
		return
	}
	st.err = nil
	st.act = a
	if info, err := c.Info(ctx); err == nil {
		st.info = info
	} else {
		st.info = nil // not an administrator: the header shows what $activity gives
	}
	now := time.Now()
	var maxID int64
	for _, p := range a.Processes {
		maxID = max(maxID, p.ID)
	}
	if st.lastID > 0 && maxID > st.lastID {
		st.rate = float64(maxID-st.lastID) / now.Sub(st.lastAt).Seconds()
	} else if st.lastID > 0 {
		st.rate = 0
	}
	if maxID > st.lastID {
		st.lastID = maxID
	}
	st.lastAt = now
}

// processes returns the process list in the chosen order.
func (st *topState) processes() []fourd.ProcessInfo {
	if st.act == nil {
		return nil
	}
	procs := append([]fourd.ProcessInfo(nil), st.act.Processes...)
	less := topSorts[st.sortKey].less
	sort.SliceStable(procs, func(i, j int) bool { return less(&procs[i], &procs[j]) })
	return procs
}

// current returns the selected process, or nil.
func (st *topState) current(procs []fourd.ProcessInfo) *fourd.ProcessInfo {
	for i := range procs {
		if procs[i].ID == st.selected {
			return &procs[i]
		}
	}
	if len(procs) > 0 {
		st.selected = procs[0].ID
		return &procs[0]
	}
	return nil
}

// key handles one key press (or an escape sequence); it returns an action
// to run against the server, or quit.
func (st *topState) key(k []byte) (act func(context.Context, *rest.Client) error, quit bool) {
	if len(k) == 1 && k[0] == 3 { // Ctrl-C, as raw mode delivers it
		return nil, true
	}
	if st.editing {
		switch {
		case k[0] == '\r' || k[0] == '\n':
			if _, err := activityfilter.Parse(st.input, activityfilter.Processes); err != nil {
				st.message = "filter: " + err.Error()
			} else {
				st.filter, st.message = strings.TrimSpace(st.input), ""
			}
			st.editing, st.prompt = false, ""
			return func(context.Context, *rest.Client) error { return nil }, false
		case k[0] == 27:
			st.editing, st.prompt = false, ""
		case k[0] == 127 || k[0] == 8:
			if st.input != "" {
				r := []rune(st.input)
				st.input = string(r[:len(r)-1])
			}
		default:
			st.input += string(k)
		}
		return nil, false
	}
	if st.confirm != nil {
		do := st.confirm
		st.confirm, st.prompt = nil, ""
		if k[0] == 'y' || k[0] == 'Y' {
			do()
			act, st.pending = st.pending, nil
			return act, false
		}
		st.message = "cancelled"
		return nil, false
	}
	if st.session {
		st.session = false
		return nil, false
	}
	procs := st.processes()
	cur := st.current(procs)
	move := func(d int) {
		for i := range procs {
			if procs[i].ID == st.selected {
				j := min(max(i+d, 0), len(procs)-1)
				st.selected = procs[j].ID
				return
			}
		}
	}
	switch {
	case string(k) == "\x1b[A" || string(k) == "\x1bOA":
		move(-1)
	case string(k) == "\x1b[B" || string(k) == "\x1bOB":
		move(1)
	case k[0] == 'q':
		return nil, true
	case k[0] == 's':
		st.sortKey = (st.sortKey + 1) % len(topSorts)
	case k[0] == 'f' || k[0] == '/':
		st.editing, st.input, st.prompt = true, st.filter, "filter: "
	case k[0] == '\r' || k[0] == '\n':
		if cur != nil {
			st.session = true
		}
	case cur != nil && (k[0] == 'a' || k[0] == 'p' || k[0] == 'r'):
		p := *cur
		verb := map[byte]string{'a': "abort", 'p': "pause", 'r': "resume"}[k[0]]
		st.prompt = fmt.Sprintf("%s process %d (%s)? y/n", verb, p.ID, p.Name)
		key := k[0]
		st.confirm = func() {
			st.pending = func(ctx context.Context, c *rest.Client) error {
				var err error
				switch key {
				case 'a':
					err = c.AbortProcess(ctx, p.ID)
				case 'p':
					// By unique ID, never by number: a number is a slot that
					// another process may have taken since the screen showed it.
					err = c.PauseProcessByID(ctx, p.ID)
				case 'r':
					err = c.ResumeProcessByID(ctx, p.ID)
				}
				if err == nil {
					st.message = fmt.Sprintf("%sd process %d", strings.TrimSuffix(verb, "e"), p.ID)
					if key == 'a' {
						st.message = fmt.Sprintf("aborted process %d", p.ID)
					}
				}
				return err
			}
		}
	}
	return nil, false
}

// frame draws the whole screen, w columns by h lines.
func (st *topState) frame(w, h int, now time.Time) string {
	var b strings.Builder
	line := func(s string, reverse bool) {
		r := []rune(s)
		if len(r) > w {
			r = r[:w]
		}
		if reverse {
			b.WriteString("\x1b[7m")
		}
		b.WriteString(string(r))
		if reverse {
			b.WriteString(strings.Repeat(" ", w-len(r)) + "\x1b[0m")
		}
		b.WriteString("\x1b[K\r\n")
	}
	b.WriteString("\x1b[H")
	line(fmt.Sprintf("fourd top — %s — %s — every %s", st.server, now.Format("15:04:05"), st.interval), false)
	procs := st.processes()
	nSessions := 0
	if st.act != nil {
		nSessions = len(st.act.Sessions)
	}
	header := fmt.Sprintf("processes %d  sessions %d  new processes/s %.1f", len(procs), nSessions, st.rate)
	if st.info != nil {
		header = fmt.Sprintf("cache %s/%s  sets %d  ", formatBytes(st.info.UsedCache), formatBytes(st.info.CacheSize), st.info.EntitySetCount) + header
	}
	line(header, false)
	filter := st.filter
	if filter == "" {
		filter = "(none)"
	}
	line(fmt.Sprintf("sort: %s  filter: %s", topSorts[st.sortKey].name, filter), false)
	rows := h - 6
	if st.err != nil {
		line("error: "+describeCallError(st.server, st.err).Error(), false)
		rows--
	}
	cur := st.current(procs)
	if st.session && cur != nil {
		st.sessionPanel(line, cur, now, rows)
	} else {
		// IDs are 14 to 16 digits (docs/decisions.md): the column takes
		// the widest in view. A process's number, unique on its node only,
		// is in the session panel; the node is shown when there are several.
		idWidth, nodes := 2, map[string]bool{}
		for i := range procs {
			idWidth = max(idWidth, len(strconv.FormatInt(procs[i].ID, 10)))
			nodes[procs[i].Node] = true
		}
		nodeCol := func(n string) string {
			if len(nodes) < 2 {
				return ""
			}
			return fmt.Sprintf("%-8.8s ", n)
		}
		line(fmt.Sprintf("  %*s %s%-12s %-11s %5s %7s %-8s %s", idWidth, "ID", nodeCol("NODE"), "TYPE", "STATE", "CPU%", "RUNNING", "USER", "NAME / PHASE"), true)
		start := 0
		for i := range procs {
			if cur != nil && procs[i].ID == cur.ID && i >= rows {
				start = i - rows + 1
			}
		}
		for i := start; i < len(procs) && i-start < rows; i++ {
			p := procs[i]
			what := p.Name
			if p.Phase != fourd.PhaseNone {
				what += fmt.Sprintf(" [%s %d rows]", p.Phase, p.RowsDone)
			}
			user := "-"
			if p.Session != nil {
				user = userLabel(*p.Session)
			}
			row := fmt.Sprintf("%*d %s%-12.12s %-11.11s %5.1f %7s %-8.8s %s", idWidth, p.ID, nodeCol(orDash(p.Node)), p.Type, p.State,
				p.CPUUsage*100, formatDuration(now.Sub(p.CreationDateTime)), user, what)
			if cur != nil && p.ID == cur.ID {
				b.WriteString("\x1b[1m")
				line("› "+row, false)
				b.WriteString("\x1b[0m")
			} else {
				line("  "+row, false)
			}
		}
	}
	b.WriteString("\x1b[J") // clear what the previous frame left below
	fmt.Fprintf(&b, "\x1b[%d;1H", h-1)
	switch {
	case st.prompt != "" && st.editing:
		line(st.prompt+st.input, true)
	case st.prompt != "":
		line(st.prompt, true)
	default:
		line(st.message, false)
	}
	r := []rune(topHelp)
	if len(r) > w {
		r = r[:w]
	}
	b.WriteString(string(r) + "\x1b[K")
	return b.String()
}

// sessionPanel shows the selected process's session.
func (st *topState) sessionPanel(line func(string, bool), p *fourd.ProcessInfo, now time.Time, rows int) {
	line(fmt.Sprintf("process %d (node %s, number %d) %s — any key returns", p.ID, orDash(p.Node), p.Number, p.Name), true)
	s := p.Session
	if s == nil {
		line("no session: an internal process", false)
		return
	}
	for _, l := range []string{
		"session    " + s.ID,
		"type       " + string(s.Type),
		"user       " + userLabel(*s),
		"address    " + orDash(s.IPAddress),
		"agent      " + orDash(s.UserAgent),
		"age        " + formatDuration(now.Sub(s.CreationDateTime)),
		"idle       " + formatDuration(now.Sub(s.LastActivity)),
		"expires in " + expiresIn(*s, now),
		"url        " + orDash(p.URL),
	} {
		if rows--; rows < 0 {
			return
		}
		line(l, false)
	}
}
