package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fourd/fourd/internal/pgtest"
	"github.com/fourd/fourd/internal/redistest"
)

// startNode starts `fourd serve` with args in a subprocess and returns it
// with its URL, read from its log; the subprocess is killed when t ends.
func startNode(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	argv, _ := json.Marshal(append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", ""}, args...))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveEnv+"="+string(argv))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
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
	select {
	case u, ok := <-urls:
		if !ok {
			t.Fatalf("node %v ended before serving", args)
		}
		return cmd, u
	case <-time.After(2 * time.Minute):
		t.Fatalf("node %v: not serving after 2 minutes", args)
	}
	return nil, ""
}

// getJSON sends GET base+path with the client's cookies and decodes the
// answer into v; it returns the status.
func getJSON(t *testing.T, c *http.Client, base, path string, v any) int {
	t.Helper()
	resp, err := c.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s%s: %v", base, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s%s: %v\n%s", base, path, err, b)
		}
	}
	return resp.StatusCode
}

// clusterNodes returns the names of the live nodes $cluster lists through base.
func clusterNodes(t *testing.T, c *http.Client, base string) map[string]bool {
	t.Helper()
	var ans struct {
		Nodes []struct {
			Name string `json:"name"`
		} `json:"nodes"`
	}
	if st := getJSON(t, c, base, "/rest/$cluster", &ans); st != http.StatusOK {
		t.Fatalf("$cluster through %s: status %d", base, st)
	}
	out := map[string]bool{}
	for _, n := range ans.Nodes {
		out[n.Name] = true
	}
	return out
}

// activityNodes returns the nodes of the processes $activity lists through base.
func activityNodes(t *testing.T, c *http.Client, base string) map[string]bool {
	t.Helper()
	var ans struct {
		Processes []struct {
			Node string `json:"node"`
		} `json:"processes"`
	}
	if st := getJSON(t, c, base, "/rest/$activity?options=1", &ans); st != http.StatusOK {
		t.Fatalf("$activity through %s: status %d", base, st)
	}
	out := map[string]bool{}
	for _, p := range ans.Processes {
		out[p.Node] = true
	}
	return out
}

// TestClusterNodeLoss runs three fourd processes on one PostgreSQL schema
// and one Redis prefix: a client's session is opened through a, its entity
// set made through b and paged through c; then b is killed with SIGKILL.
// The session and the set are still served by a and c, b leaves the
// cluster view within the heartbeat timeout, and rejoins when restarted.
func TestClusterNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	pg, rd := pgtest.MustSchema(t), redistest.PrefixedURL(t)
	common := []string{"--datastore", pg, "--shared", rd}
	node := func(name string, extra ...string) (*exec.Cmd, string) {
		return startNode(t, append(append([]string{"--node", name, "--data", t.TempDir()}, common...), extra...)...)
	}
	_, a := node("a", "--demo", "--demo-size", "5,200")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	// The demo is imported in the background: wait for its 200 employees.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var page struct {
			Count int `json:"__COUNT"`
		}
		if getJSON(t, c, a, "/rest/Employee?$top=1", &page) == http.StatusOK && page.Count == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the demo data did not arrive in 2 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
	bCmd, b := node("b")
	_, cc := node("c")

	// The session, opened through a, is served by b: b makes the set.
	cookies := func(base string) string {
		u, _ := url.Parse(base)
		var s []string
		for _, k := range jar.Cookies(u) {
			s = append(s, k.Name+"="+k.Value)
		}
		return strings.Join(s, ";")
	}
	before := cookies(a)
	var set struct {
		EntitySet string `json:"__ENTITYSET"`
		Count     int    `json:"__COUNT"`
	}
	if st := getJSON(t, c, b, `/rest/Employee?$filter="ID<=50"&$method=entityset&$top=1`, &set); st != http.StatusOK || set.EntitySet == "" {
		t.Fatalf("entity set through b: status %d, %+v", st, set)
	}
	if got := cookies(b); got != before {
		t.Fatalf("b gave the client another session: %q, was %q", got, before)
	}
	id := set.EntitySet[strings.LastIndex(set.EntitySet, "/")+1:]
	pageThrough := func(base string) int {
		var page struct {
			Count    int               `json:"__COUNT"`
			Entities []json.RawMessage `json:"__ENTITIES"`
		}
		st := getJSON(t, c, base, "/rest/Employee/$entityset/"+id+"?$top=100", &page)
		if st == http.StatusOK && (page.Count != 50 || len(page.Entities) != 50) {
			t.Errorf("set %s through %s: %d of %d entities, want 50", id, base, len(page.Entities), page.Count)
		}
		return st
	}
	if st := pageThrough(cc); st != http.StatusOK {
		t.Fatalf("set made through b, paged through c: status %d", st)
	}
	if nodes := clusterNodes(t, c, cc); !nodes["a"] || !nodes["b"] || !nodes["c"] {
		t.Fatalf("cluster through c: %v, want a, b and c", nodes)
	}
	if nodes := activityNodes(t, c, a); !nodes["a"] || !nodes["b"] || !nodes["c"] {
		t.Fatalf("Process activity through a lists processes of %v, want a, b and c", nodes)
	}

	// b dies without a word.
	if err := bCmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = bCmd.Wait()
	for _, base := range []string{a, cc} {
		if st := pageThrough(base); st != http.StatusOK {
			t.Errorf("after b's death, the set through %s: status %d", base, st)
		}
	}
	if got := cookies(a); got != before {
		t.Errorf("after b's death the client lost its session: %q, was %q", got, before)
	}
	start := time.Now()
	for clusterNodes(t, c, a)["b"] {
		if time.Since(start) > time.Minute {
			t.Fatal("b is still in the cluster view a minute after its death")
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("b left the cluster view %s after SIGKILL", time.Since(start).Round(100*time.Millisecond))
	if nodes := activityNodes(t, c, a); nodes["b"] || !nodes["a"] || !nodes["c"] {
		t.Errorf("Process activity through a after b left lists processes of %v, want a and c only", nodes)
	}

	// b comes back.
	_, b2 := node("b")
	if nodes := clusterNodes(t, c, b2); !nodes["a"] || !nodes["b"] || !nodes["c"] {
		t.Errorf("after b's restart: %v, want a, b and c", nodes)
	}
	if st := pageThrough(b2); st != http.StatusOK {
		t.Errorf("the set through the restarted b: status %d", st)
	}
}
