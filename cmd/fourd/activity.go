package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/activityfilter"
)

// runActivity prints Process activity of a running server: a table like ps
// by default, the raw JSON result with --json.
func runActivity(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("activity", stderr)
	co := connFlags(fs, 10*time.Second)
	sessionID := fs.String("session", "", "only this session's processes and the session itself")
	processesOnly := fs.Bool("processes-only", false, "only the processes (options 1)")
	sessionsOnly := fs.Bool("sessions-only", false, "only the sessions (options 2)")
	asJSON := fs.Bool("json", false, "print the raw JSON result of $activity")
	filterText := fs.String("filter", "", `only what the filter selects, e.g. "type=-13 NOT user=admin age>=30s" (docs/operations.md)`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return showActivity(ctx, co, *sessionID, *filterText, *processesOnly, *sessionsOnly, *asJSON, stdout)
}

// showActivity fetches and prints Process activity for activity and
// sessions list.
func showActivity(ctx context.Context, co *connOptions, sessionID, filter string, processesOnly, sessionsOnly, asJSON bool, stdout io.Writer) error {
	if processesOnly && sessionsOnly {
		return &exitError{code: 2, msg: co.cmd + ": --processes-only and --sessions-only exclude each other"}
	}
	opts := fourd.ProcessesAndSessions
	switch {
	case processesOnly:
		opts = fourd.ProcessesOnly
	case sessionsOnly:
		opts = fourd.SessionsOnly
	}
	if err := checkFilter(filter, opts); err != nil {
		return err
	}
	c, err := co.connect(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	// --json prints exactly the result for the options asked. The table
	// asks for the sessions too when it shows processes only, so that each
	// process's SESSION USER can be named.
	fetch := opts
	if !asJSON && opts == fourd.ProcessesOnly {
		fetch = fourd.ProcessesAndSessions
	}
	a, err := c.ActivityMatch(c.ctx, sessionID, fetch, filter)
	if err != nil {
		return c.fail(err)
	}
	if a == nil {
		return &exitError{code: 1, msg: fmt.Sprintf("no session %q on %s", sessionID, c.URL())}
	}
	if asJSON {
		b, _ := a.MarshalJSON()
		_, err := fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	if opts == fourd.ProcessesOnly {
		a.Sessions = nil // each process keeps its Session
	}
	return renderActivity(stdout, a, time.Now(), c.OwnSessionID())
}

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// ownMark marks the command's own session (self) in the tables, and
// ownNote explains the mark under them.
const (
	ownMark = "*"
	ownNote = "* this command's own session: it ends when the command exits"
)

// renderActivity writes the activity as two aligned tables, processes by
// node (in the order the server gave, its own first) and number, sessions
// oldest first. A process is named first by its unique ID, which every
// command that acts on a process takes (fourd kill, pause, resume): a
// number is unique on one node only. Running time is counted up to now.
// self, the command's own session, is marked. Nodes that did not answer
// are named under the tables: their processes are missing.
func renderActivity(w io.Writer, a *fourd.Activity, now time.Time, self string) error {
	marked := false
	mark := func(id, label string) string {
		if self != "" && id == self && label != "-" {
			marked = true
			return label + ownMark
		}
		return label
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if a.Processes != nil {
		procs := append([]fourd.ProcessInfo(nil), a.Processes...)
		sortProcesses(procs)
		fmt.Fprintf(tw, "PROCESSES (%d)\n", len(procs))
		fmt.Fprintln(tw, "ID\tNODE\tNUM\tTYPE\tNAME\tSTATE\tSESSION USER\tRUNNING\tCPU TIME\tCPU")
		for _, p := range procs {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
				p.ID, orDash(p.Node), p.Number, p.Type, orDash(p.Name), p.State, mark(p.SessionID, sessionUser(p, a)),
				formatDuration(now.Sub(p.CreationDateTime)), formatSeconds(p.CPUTime), formatPercent(p.CPUUsage))
		}
	}
	if a.Sessions != nil {
		if a.Processes != nil {
			fmt.Fprintln(tw)
		}
		sessions := append([]fourd.SessionInfo(nil), a.Sessions...)
		sort.SliceStable(sessions, func(i, j int) bool { return sessions[i].CreationDateTime.Before(sessions[j].CreationDateTime) })
		fmt.Fprintf(tw, "SESSIONS (%d)\n", len(sessions))
		fmt.Fprintln(tw, "ID\tNODE\tTYPE\tUSER\tIP ADDRESS\tAGE\tIDLE\tEXPIRES IN\tPROCESSES")
		for _, s := range sessions {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
				s.ID, orDash(s.Node), s.Type, mark(s.ID, userLabel(s)), orDash(s.IPAddress),
				formatDuration(now.Sub(s.CreationDateTime)), formatDuration(now.Sub(s.LastActivity)),
				expiresIn(s, now), processCount(a, s.ID))
		}
	}
	if marked {
		fmt.Fprintf(tw, "\n%s\n", ownNote)
	}
	if len(a.UnansweredNodes) > 0 {
		fmt.Fprintf(tw, "\nnot answering in time, their processes missing: %s\n", strings.Join(a.UnansweredNodes, ", "))
	}
	return tw.Flush()
}

// sortProcesses orders processes by node, in the order the nodes first
// appear (the answering node first), then by number.
func sortProcesses(procs []fourd.ProcessInfo) {
	rank := map[string]int{}
	for _, p := range procs {
		if _, ok := rank[p.Node]; !ok {
			rank[p.Node] = len(rank)
		}
	}
	sort.SliceStable(procs, func(i, j int) bool {
		if ri, rj := rank[procs[i].Node], rank[procs[j].Node]; ri != rj {
			return ri < rj
		}
		return procs[i].Number < procs[j].Number
	})
}

func sessionUser(p fourd.ProcessInfo, a *fourd.Activity) string {
	if p.SessionID == "" {
		return "-"
	}
	s := p.Session
	if s == nil {
		s = a.Session(p.SessionID)
	}
	if s == nil {
		return "-"
	}
	return userLabel(*s)
}

// userLabel names a session's user: its user name, "(guest)" for a REST
// session nobody logged into, "(server)" for the stored-procedure session.
func userLabel(s fourd.SessionInfo) string {
	switch {
	case s.UserName != "":
		return s.UserName
	case s.Type == fourd.SessionStoredProcedure:
		return "(server)"
	default:
		return "(guest)"
	}
}

func processCount(a *fourd.Activity, sessionID string) string {
	if a.Processes == nil {
		return "-"
	}
	n := 0
	for _, p := range a.Processes {
		if p.SessionID == sessionID {
			n++
		}
	}
	return strconv.Itoa(n)
}

func expiresIn(s fourd.SessionInfo, now time.Time) string {
	if s.Expiration.IsZero() {
		return "never"
	}
	return formatDuration(s.Expiration.Sub(now))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// formatDuration writes d like ps's elapsed time: 45s, 12m03s, 3h04m05s, 2d03h04m.
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm%02ds", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%dd%02dh%02dm", s/86400, s/3600%24, s/60%60)
}

// formatSeconds writes a CPU time: milliseconds below a second (0.289ms,
// 12.4ms), seconds above (3.20s).
func formatSeconds(f float64) string {
	switch {
	case f < 0.01:
		return strconv.FormatFloat(f*1000, 'f', 3, 64) + "ms"
	case f < 1:
		return strconv.FormatFloat(f*1000, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(f, 'f', 2, 64) + "s"
}

func formatPercent(f float64) string {
	return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
}

// checkFilter parses a --filter before anything is sent, so that a typo
// exits 2 with the parser's message; the server parses it again.
func checkFilter(text string, opts fourd.ActivityOptions) error {
	subject := activityfilter.Processes
	if opts == fourd.SessionsOnly {
		subject = activityfilter.Sessions
	}
	if _, err := activityfilter.Parse(text, subject); err != nil {
		return &exitError{code: 2, msg: "--filter: " + err.Error()}
	}
	return nil
}
