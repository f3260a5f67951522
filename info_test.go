package fourd_test

import (
	"reflect"
	"testing"

	"github.com/fourd/fourd"
)

func TestWithStandingIndicators(t *testing.T) {
	idle := func(kind string) fourd.ProgressInfo { return fourd.ProgressInfo{UserInfo: kind} }
	flush := fourd.ProgressInfo{UserInfo: fourd.ProgressFlush, Percent: 40, ProcessID: 7}
	index1 := fourd.ProgressInfo{UserInfo: fourd.ProgressIndex, Percent: 10, ProcessID: 8}
	index2 := fourd.ProgressInfo{UserInfo: fourd.ProgressIndex, Percent: 90, ProcessID: 9}
	imp := fourd.ProgressInfo{UserInfo: fourd.ProgressImport, Percent: 50, ProcessID: 10}
	for _, tc := range []struct {
		name    string
		running []fourd.ProgressInfo
		want    []fourd.ProgressInfo
	}{
		{"Idle", nil, []fourd.ProgressInfo{idle(fourd.ProgressFlush), idle(fourd.ProgressIndex)}},
		{"ImportRuns", []fourd.ProgressInfo{imp}, []fourd.ProgressInfo{idle(fourd.ProgressFlush), idle(fourd.ProgressIndex), imp}},
		{"IndexTakesItsPlace", []fourd.ProgressInfo{imp, index1}, []fourd.ProgressInfo{idle(fourd.ProgressFlush), index1, imp}},
		{"TwoIndexes", []fourd.ProgressInfo{index1, flush, index2}, []fourd.ProgressInfo{flush, index1, index2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fourd.WithStandingIndicators(tc.running); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
