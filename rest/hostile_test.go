package rest_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd/rest"
)

// hostileRequest is one line of testdata/hostile/requests.jsonl: a request
// sent byte for byte as written (no client cleans it), and the class of
// answer fourd documents for it.
type hostileRequest struct {
	Name   string            `json:"name"`
	Method string            `json:"method"`
	Target string            `json:"target"`
	Header map[string]string `json:"header"`
	Body   string            `json:"body"`
	// Repeat is a string and a count: "{{R}}" in Target or Body stands for
	// the string repeated that many times (large and deep inputs).
	Repeat []any `json:"repeat"`
	// Expect is "4xx" (the default: a 4xx in the __ERROR envelope) or
	// "2xx" (a documented success that changes nothing). Refusals of the
	// HTTP library itself (501 for an unknown transfer encoding) carry the
	// envelope too (server/protocol.go).
	Expect string `json:"expect"`
}

func readHostile(t *testing.T) []hostileRequest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "hostile", "requests.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []hostileRequest
	for i, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		var hr hostileRequest
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&hr); err != nil {
			t.Fatalf("requests.jsonl line %d: %v", i+1, err)
		}
		if len(hr.Repeat) == 2 {
			s, _ := hr.Repeat[0].(string)
			n, _ := hr.Repeat[1].(float64)
			r := strings.Repeat(s, int(n))
			hr.Target = strings.ReplaceAll(hr.Target, "{{R}}", r)
			hr.Body = strings.ReplaceAll(hr.Body, "{{R}}", r)
		}
		out = append(out, hr)
	}
	return out
}

// sendRaw writes a request as it is and reads the answer, within limit.
func sendRaw(addr string, hr hostileRequest, limit time.Duration) (int, http.Header, []byte, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, nil, nil, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(limit)); err != nil {
		return 0, nil, nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", hr.Method, hr.Target, addr)
	keys := make([]string, 0, len(hr.Header))
	for k := range hr.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\r\n", k, hr.Header[k])
	}
	if _, chunked := hr.Header["Transfer-Encoding"]; !chunked && hr.Body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(hr.Body))
	}
	b.WriteString("\r\n")
	b.WriteString(hr.Body)
	if _, err := conn.Write(b.Bytes()); err != nil {
		return 0, nil, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body, err
}

// dataChecksum hashes every entity of the fixture, every attribute, in
// key order: two equal checksums, the same data.
func dataChecksum(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	h := sha256.New()
	for _, dc := range []string{"Company", "Employee"} {
		status, body := get(t, c, u, "/rest/"+dc, "$top", "10000", "$orderby", "ID")
		col := decodeCollection(t, status, body)
		for _, e := range col.Entities {
			delete(e, "__TIMESTAMP") // stable as long as __STAMP is
			line, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			h.Write(line)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestHostileRequests sends the corpus of hostile requests to a real
// server: each answer is a 4xx in the __ERROR envelope or a documented
// 2xx, never a 5xx, never a hang, and the data is unchanged after each.
func TestHostileRequests(t *testing.T) {
	srv, c := mustOpenFixture(t, withLimits(rest.Limits{
		MaxAnswerEntities: 50, MaxAnswerBytes: 1 << 20,
		MaxBodyBytes: 64 << 10, MaxBodyBytesInFlight: 1 << 20,
		MaxEntitySetTimeout: time.Hour,
	}))
	u := srv.URL()
	addr := strings.TrimPrefix(u, "http://")
	// One session for the whole corpus, so that the guest quota per
	// address is not what answers.
	resp, _ := do(t, c, http.MethodGet, u+"/rest/$catalog")
	var cookie string
	for _, ck := range resp.Cookies() {
		cookie = ck.Name + "=" + ck.Value
	}
	want := dataChecksum(t, c, u)
	for _, hr := range readHostile(t) {
		t.Run(hr.Name, func(t *testing.T) {
			if hr.Header == nil {
				hr.Header = map[string]string{}
			}
			if _, ok := hr.Header["Cookie"]; !ok && cookie != "" {
				hr.Header["Cookie"] = cookie
			}
			status, header, body, err := sendRaw(addr, hr, time.Minute)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			short := body
			if len(short) > 300 {
				short = short[:300]
			}
			switch {
			case status >= 500 && status != http.StatusNotImplemented && !(status == http.StatusServiceUnavailable && header.Get("Retry-After") != ""):
				t.Fatalf("%d %s: a 5xx on bad input", status, short)
			case hr.Expect == "2xx":
				if status < 200 || status > 299 {
					t.Fatalf("%d %s, want a documented 2xx", status, short)
				}
			default:
				if (status < 400 || status > 499) && status != http.StatusNotImplemented {
					t.Fatalf("%d %s, want a 4xx", status, short)
				}
				var env rest.ErrorEnvelope
				if err := json.Unmarshal(body, &env); err != nil || len(env.Errors) == 0 || env.Errors[0].Message == "" {
					t.Fatalf("%d %s: not an __ERROR envelope", status, short)
				}
			}
			if got := dataChecksum(t, c, u); got != want {
				t.Fatalf("the data changed")
			}
		})
	}
}
