package rest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

func withAdmin(s *server.Server) { s.AdminAddr = "127.0.0.1:0" }

// scrape reads the server's /metrics from its admin listener.
func scrape(t *testing.T, srv *server.Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := servertest.NewHTTPClient(t).Get(srv.AdminURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value returns the value of the metric name with exactly those labels
// (name=value pairs), and whether it is there.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		if len(m.Label)*2 != len(labels) {
			continue
		}
		for i := 0; i < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func wantValue(t *testing.T, fams map[string]*dto.MetricFamily, want float64, name string, labels ...string) {
	t.Helper()
	got, ok := value(fams, name, labels...)
	if !ok {
		t.Errorf("%s%v: missing", name, labels)
	} else if got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func TestMetrics(t *testing.T) {
	srv, c := mustOpenFixture(t, withAdmin, withQuotas(rest.Quotas{MaxEntitySetsPerSession: 1}),
		servertest.WithUser(t, "alice", adminPassword, fourd.PrivilegeWebAdmin))
	u := srv.URL()

	t.Run("OKRequestsByKindAndStatus", func(t *testing.T) {
		for range 3 {
			if status, body := get(t, c, u, "/rest/$catalog"); status != http.StatusOK {
				t.Fatalf("$catalog: %d %s", status, body)
			}
		}
		get(t, c, u, "/rest/Nope")
		fams := scrape(t, srv)
		wantValue(t, fams, 3, "fourd_rest_requests_total", "kind", "$catalog", "status", "200")
		wantValue(t, fams, 3, "fourd_rest_request_duration_seconds", "kind", "$catalog")
		wantValue(t, fams, 1, "fourd_rest_requests_total", "kind", "dataclass", "status", "404")
	})
	t.Run("OKLogins", func(t *testing.T) {
		other := servertest.NewHTTPClient(t)
		login(t, other, srv, "alice", "wrong-password", "")
		login(t, other, srv, "alice", adminPassword, "")
		fams := scrape(t, srv)
		wantValue(t, fams, 1, "fourd_logins_total", "outcome", "failed")
		wantValue(t, fams, 1, "fourd_logins_total", "outcome", "succeeded")
		wantValue(t, fams, 0, "fourd_logins_total", "outcome", "throttled")
		wantValue(t, fams, 1, "fourd_sessions", "type", string(fourd.SessionREST), "user_kind", "user")
	})
	t.Run("OKEntitySetsAndQuota", func(t *testing.T) {
		id := makeSet(t, c, u, "Employee")
		if status, body := get(t, c, u, "/rest/Employee", "$method", "entityset"); status != http.StatusTooManyRequests {
			t.Fatalf("second set: %d %s, want 429", status, body)
		}
		fams := scrape(t, srv)
		wantValue(t, fams, 1, "fourd_quota_refusals_total", "quota", rest.QuotaEntitySets)
		wantValue(t, fams, 1, "fourd_entity_sets")
		wantValue(t, fams, float64(srv.EntitySets.Used()), "fourd_cache_used_bytes")
		wantValue(t, fams, float64(srv.EntitySets.Size()), "fourd_cache_size_bytes")
		if used, _ := value(fams, "fourd_cache_used_bytes"); used <= 0 {
			t.Errorf("fourd_cache_used_bytes = %v with a set held", used)
		}
		get(t, c, u, "/rest/Employee/$entityset/"+id, "$method", "release")
		fams = scrape(t, srv)
		wantValue(t, fams, 0, "fourd_entity_sets")
		wantValue(t, fams, 1, "fourd_entity_set_releases_total")
	})
	t.Run("OKProcessesAndProgress", func(t *testing.T) {
		blocked := servertest.Blocked(t, srv)
		pi := srv.Progress.Start(fourd.ProgressIndex, "Indexing Employee.lastName", 10, true, blocked, "")
		pi.Add(4)
		defer pi.Stop()
		before := len(srv.Processes.Processes(""))
		fams := scrape(t, srv)
		var sum float64
		for _, m := range fams["fourd_processes"].GetMetric() {
			sum += m.GetGauge().GetValue()
		}
		if sum != float64(before) || srv.Processes.Len() != before {
			t.Errorf("fourd_processes sums to %v; the table held %d before the scrape and %d after", sum, before, srv.Processes.Len())
		}
		if n, _ := value(fams, "fourd_processes", "type", fourd.TypeHTTPListener.String(), "state", fourd.StateWaitingForInputOutput.String()); n != 1 {
			t.Errorf("HTTP Listener waiting for I/O: %v, want 1", n)
		}
		wantValue(t, fams, 1, "fourd_progress_indicators", "job", fourd.ProgressIndex)
		wantValue(t, fams, 4, "fourd_progress_done", "job", fourd.ProgressIndex)
		wantValue(t, fams, 10, "fourd_progress_total", "job", fourd.ProgressIndex)
		wantValue(t, fams, 0, "fourd_progress_indicators", "job", fourd.ProgressFlush)
	})
	t.Run("OKScrapeMakesNoSessionNorProcess", func(t *testing.T) {
		sessions, procs := servertest.Sessions(t, srv), srv.Processes.Len()
		scrape(t, srv)
		if servertest.Sessions(t, srv) != sessions || srv.Processes.Len() != procs {
			t.Errorf("a scrape changed sessions %d -> %d, processes %d -> %d", sessions, servertest.Sessions(t, srv), procs, srv.Processes.Len())
		}
	})
	t.Run("OKNoUnboundedLabel", func(t *testing.T) {
		for name, f := range scrape(t, srv) {
			for _, m := range f.Metric {
				for _, l := range m.Label {
					if fourd.ValidID(l.GetValue()) || strings.Contains(l.GetValue(), "/") || l.GetValue() == "alice" {
						t.Errorf("%s has label %s=%q: an unbounded value", name, l.GetName(), l.GetValue())
					}
				}
			}
		}
	})
}

func TestMetrics_SessionQuota(t *testing.T) {
	srv := MustOpenServer(t, withAdmin, withQuotas(rest.Quotas{MaxSessions: 2}))
	get(t, servertest.NewHTTPClient(t), srv.URL(), "/rest/$catalog")
	if status, _ := get(t, servertest.NewHTTPClient(t), srv.URL(), "/rest/$catalog"); status != http.StatusPaymentRequired {
		t.Fatalf("second client: %d, want 402", status)
	}
	fams := scrape(t, srv)
	wantValue(t, fams, 1, "fourd_quota_refusals_total", "quota", rest.QuotaSessions)
	wantValue(t, fams, 1, "fourd_rest_requests_total", "kind", "$catalog", "status", "402")
	wantValue(t, fams, 1, "fourd_sessions", "type", string(fourd.SessionREST), "user_kind", "guest")
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

func TestRequestLog(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		var buf syncBuffer
		srv := MustOpenServer(t, func(s *server.Server) { s.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
		c := servertest.NewClient(t, srv)
		a, err := c.Activity(t.Context(), "", fourd.ProcessesOnly)
		if err != nil {
			t.Fatal(err)
		}
		var self fourd.ProcessInfo
		for _, p := range a.Processes {
			if p.Type == fourd.TypeWebServerProcess {
				self = p
			}
		}
		servertest.Eventually(t, "the request's log line", func() bool { return len(buf.lines(t)) == 1 })
		line := buf.lines(t)[0]
		want := map[string]any{"level": "INFO", "method": "GET", "path": "/rest/$activity", "status": float64(200),
			"session": c.SessionID(srv.AppName), "user": "", "process": float64(self.ID), "node": srv.Node}
		for k, v := range want {
			if line[k] != v {
				t.Errorf("%s = %#v, want %#v", k, line[k], v)
			}
		}
		if n, _ := line["bytes"].(float64); n <= 0 {
			t.Errorf("bytes = %v", line["bytes"])
		}
		if _, ok := line["duration"].(float64); !ok {
			t.Errorf("duration = %#v", line["duration"])
		}
	})
	t.Run("OKOff", func(t *testing.T) {
		var buf syncBuffer
		srv := MustOpenServer(t, func(s *server.Server) {
			s.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
			s.LogRequests = false
		})
		c := servertest.NewClient(t, srv)
		if _, err := c.Activity(t.Context(), "", fourd.ProcessesOnly); err != nil {
			t.Fatal(err)
		}
		srv.Close() // the line would be written before the request ends
		if n := len(buf.lines(t)); n != 0 {
			t.Errorf("%d request lines with LogRequests off", n)
		}
	})
}
