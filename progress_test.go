package fourd_test

import (
	"sync"
	"testing"

	"github.com/fourd/fourd"
)

// TestProgressListedWhenComplete checks that an indicator made by Prepare
// is not listed before Begin, and that readers never see a title without
// its total, even while they race with Begin.
func TestProgressListedWhenComplete(t *testing.T) {
	t.Run("OKNotListedBeforeBegin", func(t *testing.T) {
		pr := fourd.NewProgress()
		var listed []string
		pr.OnList = func(pi *fourd.ProgressIndicator) { listed = append(listed, pi.Info().Title) }
		pi := pr.Prepare(fourd.ProgressImport, true, nil, "")
		if got := pr.Snapshot(); len(got) != 0 {
			t.Fatalf("listed before Begin: %+v", got)
		}
		pi.Begin("Generating demo data", 1550)
		got := pr.Snapshot()
		if len(got) != 1 || got[0].Title != "Generating demo data" || got[0].Total != 1550 || got[0].UserInfo != fourd.ProgressImport {
			t.Fatalf("after Begin: %+v", got)
		}
		pi.Begin("Generating demo data", 1550) // a second Begin does not list it twice
		if len(pr.Snapshot()) != 1 || len(listed) != 1 || listed[0] != "Generating demo data" {
			t.Fatalf("listed %v, snapshot %+v", listed, pr.Snapshot())
		}
		pi.Stop()
		if len(pr.Snapshot()) != 0 {
			t.Fatal("listed after Stop")
		}
	})
	t.Run("OKTitleAndTotalTogether", func(t *testing.T) {
		pr := fourd.NewProgress()
		pi := pr.Prepare(fourd.ProgressIndex, true, nil, "")
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range int64(200) {
				if i%2 == 0 {
					pi.Begin("even", 2)
				} else {
					pi.Begin("odd", 1)
				}
			}
		}()
		for range 2000 {
			for _, p := range pr.Snapshot() {
				if (p.Title == "even") != (p.Total == 2) || p.Title == "" {
					t.Errorf("title %q with total %d", p.Title, p.Total)
				}
			}
		}
		wg.Wait()
	})
}
