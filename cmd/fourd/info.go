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
	serverURL := fs.String("server", env("FOURD_SERVER", "http://"+defaultServerAddr), "server base URL (env FOURD_SERVER)")
	asJSON := fs.Bool("json", false, "print the raw JSON of $info")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the server")
	lo := loginFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	client, ctx, cancel, err := connect(ctx, *serverURL, *timeout, lo)
	if err != nil {
		return err
	}
	defer cancel()
	info, err := client.Info(ctx)
	if err != nil {
		return describeCallError(client.URL(), err)
	}
	if *asJSON {
		b, _ := json.Marshal(info)
		_, err := fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	return renderInfo(stdout, info, time.Now())
}

// renderInfo writes $info as a summary and three tables.
func renderInfo(w io.Writer, info *rest.Info, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	pct := 0.0
	if info.CacheSize > 0 {
		pct = float64(info.UsedCache) * 100 / float64(info.CacheSize)
	}
	fmt.Fprintf(tw, "CACHE  %s used of %s (%.1f%%)\n\n", formatBytes(info.UsedCache), formatBytes(info.CacheSize), pct)
	fmt.Fprintf(tw, "ENTITY SETS (%d)\n", info.EntitySetCount)
	if len(info.EntitySet) > 0 {
		fmt.Fprintln(tw, "ID\tDATACLASS\tSIZE\tSORTED\tBYTES\tREFRESHED\tEXPIRES IN")
		for _, es := range info.EntitySet {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%t\t%s\t%s ago\t%s\n", es.ID, es.DataClass, es.SelectionSize, es.Sorted,
				formatBytes(int64(es.Bytes)), formatDuration(now.Sub(parseTime(es.Refreshed))), formatDuration(parseTime(es.Expires).Sub(now)))
		}
	}
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
			fmt.Fprintf(tw, "%s\t%s\t%s\t%ds\t%s\n", s.SessionID, s.UserName, s.UserID, s.LifeTime, formatDuration(parseTime(s.Expiration).Sub(now)))
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
	return tw.Flush()
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
