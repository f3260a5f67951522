package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/rest"
)

// runIndex asks a running server to build an index (fourd index
// Employee.lastName) and shows its progress until it is done.
func runIndex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("index", stderr)
	serverURL := fs.String("server", env("FOURD_SERVER", "http://"+defaultServerAddr), "server base URL (env FOURD_SERVER)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: fourd index [--server URL] DataClass.attribute")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return &exitError{code: 2}
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return &exitError{code: 2}
	}
	dc, attr, ok := strings.Cut(fs.Arg(0), ".")
	if !ok || dc == "" || attr == "" {
		return &exitError{code: 2, msg: fmt.Sprintf("index: %q: name the attribute as DataClass.attribute", fs.Arg(0))}
	}
	client, err := rest.NewClient(*serverURL, nil)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	err = withProgress(ctx, client, stderr, fourd.ProgressIndex, func(ctx context.Context) error {
		return client.BuildIndex(ctx, dc, attr)
	})
	if err != nil {
		return describeCallError(client.URL(), err)
	}
	fmt.Fprintf(stdout, "index of %s.%s built\n", dc, attr)
	return nil
}

// runFlush asks a running server to write its cache to disk now.
func runFlush(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("flush", stderr)
	serverURL := fs.String("server", env("FOURD_SERVER", "http://"+defaultServerAddr), "server base URL (env FOURD_SERVER)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	client, err := rest.NewClient(*serverURL, nil)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	if err := withProgress(ctx, client, stderr, fourd.ProgressFlush, client.Flush); err != nil {
		return describeCallError(client.URL(), err)
	}
	fmt.Fprintln(stdout, "cache flushed")
	return nil
}

// withProgress runs call and, while it runs, draws on w a progress bar of
// the server's progress indicator named userInfo, read from $info every
// 200 ms with a second client (a session of its own).
func withProgress(ctx context.Context, client *rest.Client, w io.Writer, userInfo string, call func(context.Context) error) error {
	watcher, err := rest.NewClient(client.URL(), nil)
	if err != nil {
		return err
	}
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
			info, err := watcher.Info(ctx)
			if err != nil {
				continue // the bar is a courtesy; the call says how it ended
			}
			for _, p := range info.ProgressInfo {
				if p.UserInfo == userInfo {
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
