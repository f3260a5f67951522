package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/rest"
)

// runInfo prints $info of a running server: readable by default, the raw
// JSON with --json.
func runInfo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("info", stderr)
	co := connFlags(fs, 10*time.Second)
	asJSON := fs.Bool("json", false, "print the raw JSON of $info")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return showInfo(ctx, co, *asJSON, stdout, renderInfo)
}

// showInfo fetches $info and prints it with render, or as JSON.
func showInfo(ctx context.Context, co *connOptions, asJSON bool, stdout io.Writer, render func(io.Writer, *rest.Info, time.Time, string) error) error {
	c, err := co.connect(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	info, err := c.Info(c.ctx)
	if err != nil {
		return c.fail(err)
	}
	if asJSON {
		b, _ := json.Marshal(info)
		_, err := fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	return render(stdout, info, time.Now(), c.OwnSessionID())
}

// renderInfo writes $info as a summary and three tables; self, the
// command's own session, is marked.
func renderInfo(w io.Writer, info *rest.Info, now time.Time, self string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	marked := false
	pct := 0.0
	if info.CacheSize > 0 {
		pct = float64(info.UsedCache) * 100 / float64(info.CacheSize)
	}
	fmt.Fprintf(tw, "CACHE  %s used of %s (%.1f%%)\n\n", formatBytes(info.UsedCache), formatBytes(info.CacheSize), pct)
	writeSets(tw, info, now)
	fmt.Fprintf(tw, "\nPROGRESS (%d)\n", len(info.ProgressInfo))
	if len(info.ProgressInfo) > 0 {
		fmt.Fprintln(tw, "INDICATOR\tTITLE\tPERCENT\tDONE\tTOTAL\tINTERRUPTIBLE\tPROCESS ID")
		for _, p := range info.ProgressInfo {
			fmt.Fprintf(tw, "%s\t%s\t%d%%\t%d\t%d\t%t\t%d\n", p.UserInfo, p.Title, p.Percent, p.Done, p.Total, p.CanInterrupt, p.ProcessID)
		}
	}
	fmt.Fprintf(tw, "\nSESSIONS (%d)\n", len(info.SessionInfo))
	if len(info.SessionInfo) > 0 {
		fmt.Fprintln(tw, "SESSION ID\tUSER\tUSER ID\tLIFETIME\tEXPIRES IN")
		for _, s := range info.SessionInfo {
			user := s.UserName
			if self != "" && s.SessionID == self {
				user += ownMark
				marked = true
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%ds\t%s\n", s.SessionID, user, s.UserID, s.LifeTime, formatDuration(parseTime(s.Expiration).Sub(now)))
		}
	}
	var privs []string
	for _, p := range info.Privileges.Privileges {
		privs = append(privs, p.Privilege)
	}
	if len(privs) == 0 {
		privs = []string{"(none)"}
	}
	fmt.Fprintf(tw, "\nYOUR PRIVILEGES  %s\n", strings.Join(privs, ", "))
	if marked {
		fmt.Fprintf(tw, "\n%s\n", ownNote)
	}
	return tw.Flush()
}

// writeSets writes the ENTITY SETS table of $info.
func writeSets(tw io.Writer, info *rest.Info, now time.Time) {
	fmt.Fprintf(tw, "ENTITY SETS (%d)\n", info.EntitySetCount)
	if len(info.EntitySet) > 0 {
		fmt.Fprintln(tw, "ID\tDATACLASS\tSIZE\tSORTED\tBYTES\tREFRESHED\tEXPIRES IN")
		for _, es := range info.EntitySet {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%t\t%s\t%s ago\t%s\n", es.ID, es.DataClass, es.SelectionSize, es.Sorted,
				formatBytes(int64(es.Bytes)), formatDuration(now.Sub(parseTime(es.Refreshed))), formatDuration(parseTime(es.Expires).Sub(now)))
		}
	}
}

func parseTime(s string) time.Time {
	t, _ := fourd.ParseTime(s)
	return t
}

// formatBytes writes a byte count in binary units: 512 B, 3.0 KiB, 200.0 MiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
