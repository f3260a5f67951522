package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fourd/fourd/internal/servertest"
)

// serveEnv, when set to a JSON array of arguments, makes the test binary
// run the fourd command line with them instead of the tests: the server
// subprocess that TestCrash kills.
const serveEnv = "FOURD_TEST_SERVE"

func serveForTest(args string) int {
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := run(context.Background(), argv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startServer starts `fourd serve` on dataDir in a subprocess and returns
// it with its URL, read from its log.
func startServer(t *testing.T, ctx context.Context, dataDir string) (*exec.Cmd, string) {
	t.Helper()
	args, _ := json.Marshal([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "", "--data", dataDir, "--demo", "--demo-size", "1,0"})
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveEnv+"="+string(args))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "url=http://"); i >= 0 && strings.Contains(line, "fourd serving") {
				u, _, _ := strings.Cut(line[i+len("url="):], " ")
				urls <- u
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		close(urls)
	}()
	u, ok := <-urls
	if !ok {
		_ = cmd.Wait()
		t.Fatalf("the server subprocess ended before serving")
	}
	return cmd, u
}

// TestCrash kills a server with SIGKILL while clients write, restarts it
// on the same data directory, and checks that every write it acknowledged
// is there. The kill comes after a number of acknowledged writes, not
// after a time.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server subprocesses")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a bound, not an assertion
	defer cancel()
	dataDir := t.TempDir()
	acked := map[string]string{} // key -> lastName, for every acknowledged creation
	for round := 0; round < 2; round++ {
		cmd, u := startServer(t, ctx, dataDir)
		const writers, killAfter = 16, 150 // 16 writers: the server commits their saves in groups
		var (
			mu      sync.Mutex
			n       int
			wg      sync.WaitGroup
			killed  = make(chan struct{})
			killOne sync.Once
		)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				c := servertest.NewHTTPClient(t)
				for i := 0; ; i++ {
					select {
					case <-killed:
						return
					default:
					}
					name := fmt.Sprintf("r%d-w%d-%d", round, w, i)
					resp, err := c.Post(u+"/rest/Employee?$method=update", "application/json", strings.NewReader(`{"lastName":"`+name+`"}`))
					if err != nil {
						return // the server is gone: this write was never acknowledged
					}
					var e struct {
						Key string `json:"__KEY"`
					}
					derr := json.NewDecoder(resp.Body).Decode(&e)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || derr != nil || e.Key == "" {
						continue // not acknowledged
					}
					mu.Lock()
					acked[e.Key] = name
					n++
					if n == killAfter {
						killOne.Do(func() {
							_ = cmd.Process.Kill() // SIGKILL: no shutdown, no flush
							close(killed)
						})
					}
					mu.Unlock()
				}
			}(w)
		}
		wg.Wait()
		if err := cmd.Wait(); err == nil {
			t.Fatal("the server exited cleanly; want it killed")
		} else if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) {
			t.Fatal(err)
		}
	}

	cmd, u := startServer(t, ctx, dataDir)
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	c := servertest.NewHTTPClient(t)
	found := map[string]string{}
	for skip := 0; ; skip += 1000 {
		q := url.Values{"$top": {"1000"}, "$skip": {fmt.Sprint(skip)}, "$attributes": {"lastName"}}
		resp, err := c.Get(u + "/rest/Employee?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		var col struct {
			Entities []struct {
				Key      string `json:"__KEY"`
				LastName string `json:"lastName"`
			} `json:"__ENTITIES"`
		}
		err = json.NewDecoder(resp.Body).Decode(&col)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("list after restart: %d %v", resp.StatusCode, err)
		}
		for _, e := range col.Entities {
			found[e.Key] = e.LastName
		}
		if len(col.Entities) < 1000 {
			break
		}
	}
	if len(acked) < 2*150 {
		t.Fatalf("%d writes acknowledged, want at least 300", len(acked))
	}
	lost := 0
	for key, name := range acked {
		if found[key] != name {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged write %s (%s) after restart: %q", key, name, found[key])
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged writes lost", lost, len(acked))
	}
	t.Logf("%d acknowledged writes, all found after two kills; %d entities in all", len(acked), len(found))
}
