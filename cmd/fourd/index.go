package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fourd/fourd"
)

// runIndex asks a running server to build an index (fourd index
// Employee.lastName) and shows its progress until it is done.
func runIndex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("index", stderr)
	co := connFlags(fs, 0)
	synopsis := "DataClass.attribute [--server URL] [--user NAME [--password-stdin]] [--timeout D]"
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: fourd index %s\n", synopsis)
		fs.PrintDefaults()
	}
	pos, err := parseUsersFlags(fs, args, synopsis)
	if err != nil {
		return err
	}
	dc, attr, ok := strings.Cut(pos[0], ".")
	if !ok || dc == "" || attr == "" {
		return &exitError{code: 2, msg: fmt.Sprintf("index: %q: name the attribute as DataClass.attribute", pos[0])}
	}
	c, err := co.connect(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	err = withProgress(c, stderr, fourd.ProgressIndex, func(ctx context.Context) error {
		return c.BuildIndex(ctx, dc, attr)
	})
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(stdout, "index of %s.%s built\n", dc, attr)
	return nil
}

// runFlush asks a running server to write its cache to disk now.
func runFlush(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("flush", stderr)
	co := connFlags(fs, 0)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := co.connect(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	if err := withProgress(c, stderr, fourd.ProgressFlush, c.Flush); err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(stdout, "cache flushed")
	return nil
}

// withProgress runs call and, while it runs, draws on w a progress bar of
// the server's progress indicator named userInfo, read from $info every
// 200 ms in the same session.
func withProgress(c *conn, w io.Writer, userInfo string, call func(context.Context) error) error {
	ctx := c.ctx
	done := make(chan error, 1)
	go func() { done <- call(ctx) }()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	drawn := false
	for {
		select {
		case err := <-done:
			if drawn {
				fmt.Fprintln(w)
			}
			return err
		case <-tick.C:
			info, err := c.Info(ctx)
			if err != nil {
				continue // the bar is a courtesy; the call says how it ended
			}
			for _, p := range info.ProgressInfo {
				if p.UserInfo == userInfo && p.Total > 0 { // $info lists an idle one (0 of 0) too
					fmt.Fprintf(w, "\r%s", progressBar(p, 30))
					drawn = true
					break
				}
			}
		}
	}
}

// progressBar draws one line: [=======>          ]  37%  Title (done/total).
func progressBar(p fourd.ProgressInfo, width int) string {
	filled := p.Percent * width / 100
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	return fmt.Sprintf("[%s] %3d%%  %s (%d/%d)", bar, p.Percent, p.Title, p.Done, p.Total)
}
