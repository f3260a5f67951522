package rest_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
)

// post sends a POST with a body, a Content-Type ("" for none) and, with
// chunked, no declared length.
func post(t *testing.T, c *http.Client, u, contentType string, body string, chunked bool) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader = strings.NewReader(body)
	if chunked {
		r = io.MultiReader(r) // hides the length: the body goes chunked
	}
	req, err := http.NewRequest(http.MethodPost, u, r)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func wantError(t *testing.T, resp *http.Response, body []byte, status, errCode int) {
	t.Helper()
	if resp.StatusCode != status || errCodeOf(t, body) != errCode {
		t.Fatalf("%d %.300s, want %d with errCode %d", resp.StatusCode, body, status, errCode)
	}
}

// companies returns how many companies there are.
func companies(t *testing.T, c *http.Client, u string) int {
	t.Helper()
	return getCollection(t, c, u, "/rest/Company").Count
}

func TestBodyLimits(t *testing.T) {
	t.Run("ErrTooLarge", func(t *testing.T) {
		srv, c := mustOpenFixture(t, withLimits(rest.Limits{MaxBodyBytes: 1000}))
		u := srv.URL() + "/rest/Company?$method=update"
		big := `{"name":"` + strings.Repeat("x", 1000) + `"}`
		for _, chunked := range []bool{false, true} {
			resp, body := post(t, c, u, "application/json", big, chunked)
			wantError(t, resp, body, http.StatusBadRequest, fourd.ErrCodeTooLarge)
		}
		resp, body := post(t, c, u, "application/json", `{"name":"small"}`, true)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("a small body: %d %s", resp.StatusCode, body)
		}
		if n := companies(t, c, srv.URL()); n != 4 {
			t.Fatalf("%d companies, want 4", n)
		}
	})
	t.Run("ErrSmallBody", func(t *testing.T) {
		// $release takes at most 1 MiB of IDs: past it, a 400 naming the
		// limit, not a body cut short and misread.
		srv, c := mustOpenFixture(t)
		ids := `[` + strings.Repeat(`"0123456789ABCDEF0123456789ABCDEF",`, 40000) + `"X"]`
		resp, body := post(t, c, srv.URL()+"/rest/$entityset/$release", "application/json", ids, false)
		wantError(t, resp, body, http.StatusBadRequest, fourd.ErrCodeTooLarge)
	})
	t.Run("ErrInFlight", func(t *testing.T) {
		srv, c := mustOpenFixture(t, withLimits(rest.Limits{MaxBodyBytesInFlight: 1000}))
		h := srv.Handler().(*rest.Handler)
		u := srv.URL()
		// A holds 900 bytes of its body, and sends the rest only later.
		pr, pw := io.Pipe()
		reqA, err := http.NewRequest(http.MethodPost, u+"/rest/Company?$method=update", pr)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			resp, err := c.Do(reqA)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("A: %d %s", resp.StatusCode, b)
				}
			}
			done <- err
		}()
		if _, err := io.WriteString(pw, `{"name":"A`+strings.Repeat(" ", 890)); err != nil {
			t.Fatal(err)
		}
		servertest.Eventually(t, "A's body to be counted", func() bool { return rest.BodyBytesInFlight(h) >= 900 })

		// B declares 200 bytes: refused before a byte is read. C sends
		// its 200 without a length: refused when the budget runs out.
		small := `[` + strings.Repeat(" ", 197) + `]`
		for _, chunked := range []bool{false, true} {
			resp, body := post(t, c, u+"/rest/$entityset/$release", "", small, chunked)
			wantError(t, resp, body, http.StatusServiceUnavailable, fourd.ErrCodeBusy)
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		}
		if _, err := io.WriteString(pw, `"}`); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		if err := servertest.Receive(t, "A's answer", done); err != nil {
			t.Fatal(err)
		}
		servertest.Eventually(t, "A's body to be given back", func() bool { return rest.BodyBytesInFlight(h) == 0 })
		resp, body := post(t, c, u+"/rest/$entityset/$release", "", small, true)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("after A: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("ManyLargeBodies", func(t *testing.T) {
		// 16 bodies of 256 KiB at once against a budget of 1 MiB: each is
		// saved or refused with 503, and the budget is never passed.
		const size, budget = 256 << 10, 1 << 20
		srv, c := mustOpenFixture(t, withLimits(rest.Limits{MaxBodyBytesInFlight: budget}))
		h := srv.Handler().(*rest.Handler)
		body := `{"city":"` + strings.Repeat("y", size-20) + `"}`
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func(chunked bool) {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/rest/Company?$method=update", strings.NewReader(body))
				if chunked {
					req.ContentLength = -1
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}(i%2 == 1)
		}
		wg.Wait()
		if p := rest.BodyBytesPeak(h); p > budget {
			t.Errorf("%d bytes of bodies in flight, past the budget of %d", p, budget)
		}
		if statuses[http.StatusOK]+statuses[http.StatusServiceUnavailable] != 16 {
			t.Fatalf("statuses %v: want only 200 and 503", statuses)
		}
		if n := companies(t, c, srv.URL()); n != 3+statuses[http.StatusOK] {
			t.Fatalf("%d companies after %d saves", n, statuses[http.StatusOK])
		}
		if n := rest.BodyBytesInFlight(h); n != 0 {
			t.Fatalf("%d bytes still counted after every request ended", n)
		}
	})
}

func TestBodyShape(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL() + "/rest/Company?$method=update"
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
	}{
		{"ErrTextPlain", "text/plain", `{"name":"x"}`, http.StatusBadRequest},
		{"ErrForm", "application/x-www-form-urlencoded", `{"name":"x"}`, http.StatusBadRequest},
		{"ErrNull", "application/json", `null`, http.StatusBadRequest},
		{"ErrNullInArray", "application/json", `[null]`, http.StatusBadRequest},
		{"ErrNumberInArray", "application/json", `[{"name":"x"},1]`, http.StatusBadRequest},
		{"ErrTrailing", "application/json", `{"name":"x"} {"name":"y"}`, http.StatusBadRequest},
		{"ErrEmpty", "application/json", `  `, http.StatusBadRequest},
		{"ErrUnclosedArray", "application/json", `[{"name":"x"}`, http.StatusBadRequest},
		{"JSONWithCharset", "application/json; charset=utf-8", `{"name":"x"}`, http.StatusOK},
		{"PlusJSON", "application/vnd.api+json", `[{"name":"y"}]`, http.StatusOK},
		{"NoContentType", "", ` [ {"name":"z"} ] `, http.StatusOK},
		{"EmptyObjectCreatesAnEntity", "", `{}`, http.StatusOK},
		{"EmptyArray", "", `[]`, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := companies(t, c, srv.URL())
			resp, body := post(t, c, u, tc.contentType, tc.body, false)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status != http.StatusOK {
				errCodeOf(t, body)
				if n := companies(t, c, srv.URL()); n != before {
					t.Fatalf("a refused body changed the companies: %d, then %d", before, n)
				}
			}
		})
	}
}

// TestPermissionBeforeBody checks that a session that may not write is
// refused before its body is read: a malformed body gets 401, not 400.
func TestPermissionBeforeBody(t *testing.T) {
	srv, cs := mustOpenWithRoles(t, false)
	resp, body := post(t, cs["carol"], srv.URL()+"/rest/Employee?$method=update", "application/json", `{"lastName": not JSON`, false)
	wantError(t, resp, body, http.StatusUnauthorized, fourd.ErrCodePermission)
}
