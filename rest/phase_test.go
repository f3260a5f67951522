package rest_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/inmem"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
)

// stepData is a datastore whose Page and Load block until released, so
// that a test can look at a request in the middle of its query or of its
// loading; Rows finds three rows.
type stepData struct {
	fourd.Datastore // nil: only the methods below are called
	model           *fourd.Model
	at              chan string   // the step reached: "page" or "load"
	release         chan struct{} // lets the step go on
}

func (d *stepData) Model() *fourd.Model { return d.model }

func (d *stepData) Page(ctx context.Context, sel fourd.Selection, skip, top int, attrs []string) ([]*fourd.Entity, int, error) {
	d.at <- "page"
	<-d.release
	return nil, 0, nil
}

func (d *stepData) Rows(ctx context.Context, sel fourd.Selection) ([]fourd.RowID, error) {
	return []fourd.RowID{1, 2, 3}, nil
}

func (d *stepData) Load(ctx context.Context, dc *fourd.DataClass, rows []fourd.RowID, attrs []string) ([]*fourd.Entity, error) {
	d.at <- "load"
	<-d.release
	return make([]*fourd.Entity, 0), nil
}

// TestRequestPhase looks at a data request through $activity while it
// queries and while it loads: its dataclass, filter, phase and rows found
// are shown (fourd extensions), and read back by the Go client.
func TestRequestPhase(t *testing.T) {
	model, err := fourd.ParseModel([]byte(fixtureModel))
	if err != nil {
		t.Fatal(err)
	}
	procs := inmem.NewProcessTable()
	t.Cleanup(func() { _ = procs.Close(context.Background()) })
	data := &stepData{model: model, at: make(chan string), release: make(chan struct{})}
	h := &rest.Handler{Processes: procs, Registry: inmem.NewProcessRegistry("n1", procs), Sessions: inmem.NewSessionStore(), Data: data,
		EntitySets: inmem.NewEntitySetStore(1 << 20), Logger: slog.New(slog.DiscardHandler)}
	h.Init()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		name, query, step string
		want              fourd.ProcessInfo
		wantJSON          string
	}{
		{"OKQuerying", "$filter=" + url.QueryEscape("lastName = 'S@'"), "page",
			fourd.ProcessInfo{DataClass: "Employee", Filter: "lastName = 'S@'", Phase: fourd.PhaseQuerying},
			`"dataClass":"Employee","filter":"lastName = 'S@'","phase":"querying","rowsDone":0`},
		{"OKLoadingWithRowsFound", "$method=entityset", "load",
			fourd.ProcessInfo{DataClass: "Employee", Phase: fourd.PhaseLoading, RowsDone: 3},
			`"dataClass":"Employee","phase":"loading","rowsDone":3`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				resp, err := servertest.NewHTTPClient(t).Get(srv.URL + "/rest/Employee?" + tc.query)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
			if step := servertest.Receive(t, "the request to reach the datastore", data.at); step != tc.step {
				t.Fatalf("step %q, want %q", step, tc.step)
			}
			c, err := rest.NewClient(srv.URL, servertest.NewHTTPClient(t))
			if err != nil {
				t.Fatal(err)
			}
			a, err := c.Activity(t.Context(), "", fourd.ProcessesOnly)
			if err != nil {
				t.Fatal(err)
			}
			var got *fourd.ProcessInfo
			for i, p := range a.Processes {
				if strings.HasPrefix(p.URL, "/rest/Employee") {
					got = &a.Processes[i]
				}
			}
			if got == nil {
				t.Fatalf("no process for the request in %+v", a.Processes)
			}
			if got.DataClass != tc.want.DataClass || got.Filter != tc.want.Filter || got.Phase != tc.want.Phase || got.RowsDone != tc.want.RowsDone {
				t.Errorf("dataClass %q filter %q phase %v rowsDone %d; want %q %q %v %d", got.DataClass, got.Filter, got.Phase, got.RowsDone,
					tc.want.DataClass, tc.want.Filter, tc.want.Phase, tc.want.RowsDone)
			}
			b, _ := json.Marshal(got)
			if !strings.Contains(string(b), ","+tc.wantJSON) {
				t.Errorf("JSON %s lacks %s", b, tc.wantJSON)
			}
			data.release <- struct{}{}
			<-done
		})
	}
	t.Run("OKNoPhaseOutsideData", func(t *testing.T) {
		c, err := rest.NewClient(srv.URL, servertest.NewHTTPClient(t))
		if err != nil {
			t.Fatal(err)
		}
		a, err := c.Activity(t.Context(), "", fourd.ProcessesOnly)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(a.Processes[0])
		if strings.Contains(string(b), `"phase"`) || strings.Contains(string(b), `"dataClass"`) {
			t.Errorf("$activity's own process: %s", b)
		}
	})
}
