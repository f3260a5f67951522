package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/server"
)

// The README's transcripts are checked against the real thing: every
// command line ("$ ...") of its code blocks that is a fourd or curl
// command runs, in order, against a live demo server, and its output
// must have the shape README shows (the same table headers, the same
// JSON keys, the same errCode, the same exit status). Values that change
// from run to run (IDs, times, counts) are not compared.

// readmeCommand is one "$ " line of README and the output shown under it.
type readmeCommand struct {
	line string
	want []string
}

func readmeCommands(t *testing.T) []readmeCommand {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var cmds []readmeCommand
	inBlock, current := false, -1
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "## Embedding"):
			return cmds // what follows needs a Go program's own functions
		case strings.HasPrefix(line, "```"):
			inBlock, current = !inBlock, -1
		case inBlock && strings.HasPrefix(line, "$ "):
			cmds = append(cmds, readmeCommand{line: strings.TrimPrefix(line, "$ ")})
			current = len(cmds) - 1
		case inBlock && current >= 0:
			cmds[current].want = append(cmds[current].want, line)
		}
	}
	return cmds
}

// shellWords splits a command line as the shell would for the simple
// forms README uses: words, 'single-quoted' and "double-quoted" parts.
// quoted reports, for each word, whether any of it was quoted.
func shellWords(line string) (words []string, quoted []bool) {
	var cur strings.Builder
	inWord, q := false, false
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, inWord, q = c, true, true
		case c == ' ' || c == '\t':
			if inWord {
				words, quoted = append(words, cur.String()), append(quoted, q)
				cur.Reset()
				inWord, q = false, false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words, quoted = append(words, cur.String()), append(quoted, q)
	}
	return words, quoted
}

var (
	hexID     = regexp.MustCompile(`\b[0-9A-F]{32}\b`)
	number    = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)
	allCapsRe = regexp.MustCompile(`^[A-Z][A-Z ()N*/%]*$`)
)

// shape reduces an output line to what must not change between runs.
func shape(line string) string {
	line = hexID.ReplaceAllString(line, "H")
	line = number.ReplaceAllString(line, "N")
	return strings.Join(strings.Fields(line), " ")
}

// tableHeads returns the shape of the header lines of a table output
// (PROCESSES (8), the column titles...), or of every line when none is a
// header (a one-line message).
func tableHeads(lines []string) []string {
	var heads, all []string
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		s := shape(l)
		all = append(all, s)
		if allCapsRe.MatchString(s) {
			heads = append(heads, s)
		}
	}
	if len(heads) > 0 {
		return heads
	}
	return all
}

// TestREADMEURLsQuoted checks that every URL of a curl command in README
// is quoted: unquoted, the shell expands $activity to nothing.
func TestREADMEURLsQuoted(t *testing.T) {
	for _, c := range readmeCommands(t) {
		if !strings.HasPrefix(c.line, "curl ") {
			continue
		}
		words, quoted := shellWords(c.line)
		for i, w := range words {
			if strings.Contains(w, "/rest/") && !quoted[i] {
				t.Errorf("README: unquoted URL %q in: %s", w, c.line)
			}
		}
	}
}

// TestREADMETranscripts runs README's walk-through against a live server.
func TestREADMETranscripts(t *testing.T) {
	t.Setenv("FOURD_USER", "")
	t.Setenv("FOURD_PASSWORD", "")
	oldCost := hashCost
	hashCost = bcrypt.MinCost // README's users log in fast under the race detector
	defer func() { hashCost = oldCost }()
	listed := make(chan *fourd.Process, 1)
	srv := servertest.MustOpenServer(t, servertest.WithDemo(5, 200), func(s *server.Server) {
		s.Progress.OnList = func(pi *fourd.ProgressIndicator) {
			if pi.UserInfo() == fourd.ProgressImport {
				pi.Process().Pause() // README shows a request during the import first
				listed <- pi.Process()
			}
		}
	})
	importing := servertest.Receive(t, "the demo import", listed)
	t.Setenv("FOURD_SERVER", srv.URL())
	t.Setenv("FOURD_DATA", srv.DataDir)
	jars := map[string]http.CookieJar{}
	ran := map[string]int{}
	ids := map[string]string{} // README's entity-set IDs to this run's
	for _, c := range readmeCommands(t) {
		line := c.line
		var stdinText string
		if m := regexp.MustCompile(`^echo '([^']*)' \| (.*)$`).FindStringSubmatch(line); m != nil {
			stdinText, line = m[1]+"\n", m[2]
		}
		env := map[string]string{}
		for {
			m := regexp.MustCompile(`^([A-Z_]+)=(\S+) (.*)$`).FindStringSubmatch(line)
			if m == nil {
				break
			}
			env[m[1]], line = m[2], m[3]
		}
		for from, to := range ids {
			line = strings.ReplaceAll(line, from, to)
		}
		words, _ := shellWords(line)
		if len(words) == 0 {
			continue
		}
		switch {
		case words[0] == "fourd" && len(words) > 1 && words[1] == "serve":
			continue // the test's server stands for it
		case words[0] == "fourd":
			for k, v := range env {
				t.Setenv(k, v)
			}
			args := resolveIDs(t, srv, words[1:])
			old := stdin
			stdin = strings.NewReader(stdinText)
			var out, errOut bytes.Buffer
			err := run(context.Background(), args, &out, &errOut)
			stdin = old
			for k := range env {
				t.Setenv(k, "")
			}
			got := strings.Split(out.String(), "\n")
			if err != nil {
				var ee *exitError
				if !errors.As(err, &ee) {
					t.Fatalf("README: $ %s: %v", c.line, err)
				}
				got = []string{"fourd: " + ee.msg}
			}
			if g, w := tableHeads(got), tableHeads(c.want); !slices.Equal(g, w) {
				t.Errorf("README: $ %s\nshape of the output:\n  %s\nREADME shows:\n  %s", c.line, strings.Join(g, "\n  "), strings.Join(w, "\n  "))
			}
			ran["fourd"]++
		case words[0] == "curl" && !strings.Contains(line, "/rest/"):
			continue // not the REST API (the admin listener's /metrics...)
		case words[0] == "curl":
			status, body := readmeCurl(t, srv, jars, words)
			checkCurl(t, c, status, body)
			// An entity set README made: later commands name it by its ID.
			var made struct {
				EntitySet string `json:"__ENTITYSET"`
			}
			if json.Unmarshal(body, &made) == nil && made.EntitySet != "" && !strings.Contains(line, "$entityset/") {
				if m := hexID.FindString(strings.Join(c.want, "\n")); m != "" {
					ids[m] = hexID.FindString(made.EntitySet)
				}
			}
			ran["curl"]++
			if importing != nil {
				importing.Resume()
				servertest.WaitForDemo(t, srv)
				importing = nil
			}
		}
	}
	if ran["fourd"] < 10 || ran["curl"] < 10 {
		t.Errorf("ran %v: README's transcripts were not found", ran)
	}
}

// resolveIDs replaces the session IDs of README's run by this run's: the
// stored-procedure session's, and bob's session.
func resolveIDs(t *testing.T, srv *server.Server, args []string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		if !hexID.MatchString(a) || (i > 0 && out[i-1] != "--session" && (len(out) < 2 || out[0] != "sessions")) {
			continue
		}
		list, err := srv.Sessions.Sessions(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list {
			switch {
			case i > 0 && out[i-1] == "--session" && s.Type == fourd.SessionStoredProcedure && a != "3C81A8D7AFE64C2E9CCFFCDC35DC52F5":
				out[i] = s.ID // README's unknown-session example keeps its ID
			case out[0] == "sessions" && s.UserName == "bob":
				out[i] = s.ID
			}
		}
	}
	return out
}

// readmeCurl performs a curl command of README with Go's HTTP client and
// returns the status and the body.
func readmeCurl(t *testing.T, srv *server.Server, jars map[string]http.CookieJar, words []string) (int, []byte) {
	t.Helper()
	method, get := http.MethodGet, false
	var target, jarName string
	var body []byte
	header := http.Header{}
	query := url.Values{}
	for i := 1; i < len(words); i++ {
		w := words[i]
		next := func() string { i++; return words[i] }
		switch {
		case w == "|":
			i = len(words) // the jq filter is not run: its input is checked
		case w == "-s":
		case w == "-c" || w == "-b":
			jarName = next()
		case w == "-X":
			method = next()
		case w == "-H":
			k, v, _ := strings.Cut(next(), ":")
			header.Set(k, strings.TrimSpace(v))
		case w == "-G":
			get = true
		case w == "--data-urlencode" || w == "-d":
			kv := next()
			if get || w == "--data-urlencode" {
				k, v, _ := strings.Cut(kv, "=")
				query.Add(k, v)
			} else {
				body = []byte(kv)
			}
		case strings.Contains(w, "/rest/"):
			target = w
		default:
			t.Fatalf("README: curl option %q is not known to this test", w)
		}
	}
	if body != nil && !get && method == http.MethodGet {
		method = http.MethodPost
	}
	if !strings.Contains(target, "://") {
		target = "http://" + target
	}
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(srv.URL())
	u.Scheme, u.Host = base.Scheme, base.Host
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	client := servertest.NewHTTPClient(t)
	client.Jar = nil
	if jarName != "" {
		if jars[jarName] == nil {
			jars[jarName], _ = cookiejar.New(nil)
		}
		client.Jar = jars[jarName]
	}
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// checkCurl compares an answer with the output README shows: the same
// errCode for an error, a success for a success, and, when README shows
// the answer itself (no jq), the same JSON keys.
func checkCurl(t *testing.T, c readmeCommand, status int, body []byte) {
	t.Helper()
	want := strings.Join(c.want, "\n")
	var wantEnv, gotEnv struct {
		Errors []struct{ ErrCode int } `json:"__ERROR"`
	}
	_ = json.Unmarshal([]byte(want), &wantEnv)
	_ = json.Unmarshal(body, &gotEnv)
	switch {
	case len(wantEnv.Errors) > 0:
		if len(gotEnv.Errors) == 0 || gotEnv.Errors[0].ErrCode != wantEnv.Errors[0].ErrCode {
			t.Errorf("README: $ %s\nanswered %d %s; README shows errCode %d", c.line, status, body, wantEnv.Errors[0].ErrCode)
		}
		return
	case status < 200 || status > 299:
		t.Errorf("README: $ %s\nanswered %d %s; README shows a success", c.line, status, body)
		return
	}
	if strings.Contains(c.line, "| jq") {
		return
	}
	var w, g any
	if json.Unmarshal([]byte(want), &w) != nil {
		return // not JSON in README (an ID printed by jq -r)
	}
	if err := json.Unmarshal(body, &g); err != nil {
		t.Errorf("README: $ %s\nanswered %s: not JSON", c.line, body)
		return
	}
	if ws, gs := jsonShape(w), jsonShape(g); ws != gs {
		t.Errorf("README: $ %s\nJSON shape %s\nREADME shows %s", c.line, gs, ws)
	}
}

// jsonShape writes the keys of a JSON value, recursively (arrays by their
// first element).
func jsonShape(v any) string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k, x := range v {
			keys = append(keys, k+":"+jsonShape(x))
		}
		slices.Sort(keys)
		return "{" + strings.Join(keys, ",") + "}"
	case []any:
		if len(v) == 0 {
			return "[]"
		}
		return "[" + jsonShape(v[0]) + "]"
	}
	return "_"
}
