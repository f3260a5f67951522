package admin_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

var update = flag.Bool("update", false, "also write the screenshots to docs/images/console-*.png")

// browser finds Chromium: /usr/bin/chromium (Debian's package, which
// .ci/run installs) or one on PATH. Without one the test skips, unless CI
// is set: then a missing browser fails the run.
func browser(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found, and CI is set: install Debian's chromium package (.ci/run does)")
	}
	t.Skip("no Chromium found (install Debian's chromium package; with CI set this fails)")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile and returns
// a context for its first tab; everything ends at the test's cleanup.
func newBrowser(t *testing.T) context.Context {
	profile := filepath.Join(t.TempDir(), "profile")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1100, 700),
	}
	// A generous bound for the whole run, never a wait on time alone:
	// every step below waits on a DOM condition.
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 2*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	// chromedp logs CDP events it does not model (such as the dialog's
	// top-layer updates) as errors: they are not failures of the console.
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(func(string, ...any) {}))
	t.Cleanup(func() {
		if err := chromedp.Cancel(bctx); err != nil {
			t.Logf("close the browser: %v", err)
		}
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
		// Chromium's helper processes may still write into the profile
		// for a moment after the browser has exited: remove it here,
		// retrying, so that t.TempDir's own removal finds it gone.
		for i := 0; i < 50; i++ {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("the browser profile %s could not be removed", profile)
	})
	return bctx
}

// screenshot writes the page to t.TempDir() and, with -update, to
// docs/images/console-<name>.png.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	file := "console-" + name + ".png"
	if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(filepath.Join("..", "docs", "images", file), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestConsole drives the console in headless Chromium as an
// administrator: login, the Monitor page, the process list showing a
// request while it runs, aborting that request from the console (which
// then ends with 4D's interrupted error), the Sessions page, releasing an
// entity set, and the Progress page. Each page is photographed.
func TestConsole(t *testing.T) {
	ctx := newBrowser(t)
	shots := t.TempDir()

	started := make(chan struct{}, 1)
	srv := servertest.MustOpenServer(t, servertest.WithUser(t, "admin", "password1", "WebAdmin"),
		servertest.WithUser(t, "bob", "password2"),
		servertest.WithDemo(3, 20), func(s *server.Server) {
			// A datastore function that runs until its process is aborted.
			s.Functions.DataStore("longReport", func(ctx context.Context, _ *rest.Call) (any, error) {
				started <- struct{}{}
				<-ctx.Done()
				return nil, context.Cause(ctx)
			})
		})
	servertest.WaitForDemo(t, srv)

	// Another client keeps an entity set, to be released from the console.
	other := servertest.NewHTTPClient(t)
	login(t, other, srv, "admin", "password1")
	resp, err := other.Get(srv.URL() + "/rest/Employee?$method=entityset&$top=1")
	if err != nil {
		t.Fatal(err)
	}
	var sel struct {
		EntitySet string `json:"__ENTITYSET"`
	}
	err = json.NewDecoder(resp.Body).Decode(&sel)
	resp.Body.Close()
	setID := entitySetID(sel.EntitySet)
	if err != nil || resp.StatusCode != http.StatusOK || setID == "" {
		t.Fatalf("entity set: %d, __ENTITYSET %q, %v", resp.StatusCode, sel.EntitySet, err)
	}

	t.Run("Login", func(t *testing.T) {
		run(t, ctx, "log in",
			chromedp.Navigate(srv.URL()+"/console/"),
			chromedp.WaitVisible("#username", chromedp.ByQuery),
			chromedp.SendKeys("#username", "admin", chromedp.ByQuery),
			chromedp.SendKeys("#password", "password1", chromedp.ByQuery),
			chromedp.Click("#login-submit", chromedp.ByQuery),
			chromedp.WaitVisible("#app", chromedp.ByQuery),
			// The cache gauge comes from $info, which only an administrator may read.
			chromedp.Poll(`document.querySelector("#cache-text").textContent.includes(" used")`, nil),
			chromedp.Poll(`document.querySelector("#chart-rate polyline") !== null`, nil),
		)
		screenshot(t, ctx, shots, "monitor")
	})

	t.Run("AbortProcess", func(t *testing.T) {
		done := make(chan result, 1)
		go func() { done <- call(other, srv.URL()+"/rest/$catalog/longReport") }()
		select {
		case <-started:
		case r := <-done:
			t.Fatalf("the long request ended before it was seen: %+v", r)
		}
		var id int64
		for _, p := range srv.Processes.Processes("") {
			if strings.Contains(p.Name, "longReport") {
				id = p.ID
			}
		}
		if id == 0 {
			t.Fatal("no process for the long request")
		}
		abort := fmt.Sprintf("#abort-%d", id)
		run(t, ctx, "see the long request in the process list",
			chromedp.Click(`nav button[data-page="processes"]`, chromedp.ByQuery),
			chromedp.WaitVisible(abort, chromedp.ByQuery),
		)
		screenshot(t, ctx, shots, "processes")
		run(t, ctx, "abort it",
			chromedp.Focus(abort, chromedp.ByQuery),
			chromedp.Click(abort, chromedp.ByQuery),
			chromedp.WaitVisible("#confirm-ok", chromedp.ByQuery),
			chromedp.Click("#confirm-ok", chromedp.ByQuery),
			chromedp.WaitNotPresent(abort, chromedp.ByQuery),
		)
		r := servertest.Receive(t, "the aborted request's answer", done)
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.errCode != fourd.ErrCodeInterrupted {
			t.Fatalf("aborted request: status %d, errCode %d, body %s; want errCode %d", r.status, r.errCode, r.body, fourd.ErrCodeInterrupted)
		}
	})

	// Pause and resume by keyboard alone, in a filtered, sorted list.
	t.Run("FilterSortPauseResume", func(t *testing.T) {
		p := servertest.Blocked(t, srv)
		pause, resume := fmt.Sprintf("#pause-%d", p.ID()), fmt.Sprintf("#resume-%d", p.ID())
		run(t, ctx, "filter on the name and sort by it",
			chromedp.SetValue("#filter", "name=blocked", chromedp.ByQuery),
			chromedp.Click(`#filter-form button[type="submit"]`, chromedp.ByQuery),
			chromedp.Poll(`document.querySelectorAll("#processes tbody tr").length === 1`, nil),
			chromedp.WaitVisible(pause, chromedp.ByQuery),
			chromedp.Click(`th button[data-sort="name"]`, chromedp.ByQuery),
			chromedp.WaitVisible(`th button[data-sort="name"][aria-sort="ascending"]`, chromedp.ByQuery),
		)
		run(t, ctx, "pause it by keyboard",
			chromedp.Focus(pause, chromedp.ByQuery),
			chromedp.KeyEvent("\r"),
			chromedp.WaitVisible("#confirm-ok", chromedp.ByQuery),
			chromedp.Focus("#confirm-ok", chromedp.ByQuery),
			chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(resume, chromedp.ByQuery),
		)
		if st := p.State(); st != fourd.StatePaused {
			t.Fatalf("process state after Pause: %v, want paused", st)
		}
		run(t, ctx, "resume it",
			chromedp.Focus(resume, chromedp.ByQuery),
			chromedp.KeyEvent("\r"),
			chromedp.WaitVisible("#confirm-ok", chromedp.ByQuery),
			chromedp.Focus("#confirm-ok", chromedp.ByQuery),
			chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(pause, chromedp.ByQuery),
			chromedp.Evaluate(`document.querySelector("#filter").value = ""`, nil),
			chromedp.Click(`#filter-form button[type="submit"]`, chromedp.ByQuery),
			chromedp.Poll(`document.querySelectorAll("#processes tbody tr").length > 1`, nil),
		)
		if st := p.State(); st == fourd.StatePaused {
			t.Fatal("process still paused after Resume")
		}
	})

	t.Run("Sessions", func(t *testing.T) {
		run(t, ctx, "sessions page",
			chromedp.Click(`nav button[data-page="sessions"]`, chromedp.ByQuery),
			chromedp.Poll(`document.querySelectorAll("#sessions tbody button").length >= 2`, nil),
		)
		screenshot(t, ctx, shots, "sessions")
	})

	t.Run("ReleaseEntitySet", func(t *testing.T) {
		release := "#release-" + setID
		run(t, ctx, "release the set",
			chromedp.Click(`nav button[data-page="sets"]`, chromedp.ByQuery),
			chromedp.WaitVisible(release, chromedp.ByQuery),
		)
		screenshot(t, ctx, shots, "sets")
		run(t, ctx, "release it",
			chromedp.Click(release, chromedp.ByQuery),
			chromedp.WaitVisible("#confirm-ok", chromedp.ByQuery),
			chromedp.Click("#confirm-ok", chromedp.ByQuery),
			chromedp.WaitNotPresent(release, chromedp.ByQuery),
		)
		if _, err := srv.EntitySets.Get(context.Background(), setID, time.Now()); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("entity set %s after release: %v, want not found", setID, err)
		}
	})

	t.Run("Progress", func(t *testing.T) {
		run(t, ctx, "progress page",
			chromedp.Click(`nav button[data-page="progress"]`, chromedp.ByQuery),
			chromedp.WaitVisible("#progress li progress", chromedp.ByQuery),
		)
		screenshot(t, ctx, shots, "progress")
	})
	// A non-admin sees what $activity shows it, and is told why the rest
	// is missing: $info answers it 401.
	t.Run("NotAdmin", func(t *testing.T) {
		run(t, ctx, "log out and in as bob",
			chromedp.Click("#logout", chromedp.ByQuery),
			chromedp.WaitVisible("#login-submit", chromedp.ByQuery),
			chromedp.SetValue("#username", "bob", chromedp.ByQuery),
			chromedp.SetValue("#password", "password2", chromedp.ByQuery),
			chromedp.Click("#login-submit", chromedp.ByQuery),
			chromedp.WaitVisible("#notadmin", chromedp.ByQuery),
			chromedp.Click(`nav button[data-page="sessions"]`, chromedp.ByQuery),
			chromedp.Poll(`document.querySelectorAll("#sessions tbody tr").length === 1 &&
				document.querySelector("#sessions tbody tr td:nth-child(4)").textContent === "bob"`, nil),
		)
	})
	t.Logf("screenshots in %s", shots)
}

func login(t *testing.T, c *http.Client, srv *server.Server, user, password string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL()+"/rest/$directory/login", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("username-4D", user)
	req.Header.Set("password-4D", password)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login as %s: %d", user, resp.StatusCode)
	}
}

// entitySetID takes the ID from an __ENTITYSET such as
// /rest/Employee/$entityset/<ID>.
func entitySetID(loc string) string {
	const mark = "/$entityset/"
	if i := strings.Index(loc, mark); i >= 0 {
		return loc[i+len(mark):]
	}
	return ""
}

type result struct {
	status  int
	errCode int
	body    string
	err     error
}

func call(c *http.Client, url string) result {
	resp, err := c.Post(url, "application/json", strings.NewReader("[]"))
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, body: string(body), err: err}
	var env struct {
		Errors []struct {
			ErrCode int `json:"errCode"`
		} `json:"__ERROR"`
	}
	if json.Unmarshal(body, &env) == nil && len(env.Errors) > 0 {
		r.errCode = env.Errors[0].ErrCode
	}
	return r
}

// TestConsoleFiles checks that the console's files are served from the
// binary on the public listener without a session or a process, and that
// a path outside them is a 404.
func TestConsoleFiles(t *testing.T) {
	srv := servertest.MustOpenServer(t, servertest.WithQuietTicks())
	c := servertest.NewHTTPClient(t)
	sessions := servertest.Sessions(t, srv)
	for _, tc := range []struct {
		path, contentType string
		status            int
	}{
		{"/console/", "text/html; charset=utf-8", http.StatusOK},
		{"/console/console.js", "text/javascript; charset=utf-8", http.StatusOK},
		{"/console/console.css", "text/css; charset=utf-8", http.StatusOK},
		{"/console/nothing.js", "", http.StatusNotFound},
	} {
		resp, err := c.Get(srv.URL() + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || tc.contentType != "" && resp.Header.Get("Content-Type") != tc.contentType {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, tc.contentType)
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy", tc.path)
		}
	}
	if got := servertest.Sessions(t, srv); got != sessions {
		t.Errorf("sessions after loading the console: %d, want %d (no new one)", got, sessions)
	}
}
