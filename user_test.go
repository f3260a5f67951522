package fourd_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
)

func TestCheckUserName(t *testing.T) {
	for _, name := range []string{"a", "alice", "John Smith", "o'brien@example.com", "名前", strings.Repeat("é", 64)} {
		if err := fourd.CheckUserName(name); err != nil {
			t.Errorf("CheckUserName(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", " a", "a ", "a\t", strings.Repeat("a", 65), "a\x00", "a\x7f", "a\u200bb", "a\u202eb", "\xff"} {
		err := fourd.CheckUserName(name)
		if fourd.ErrorCode(err) != fourd.EINVALID {
			t.Errorf("CheckUserName(%q): %v, want EINVALID", name, err)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for _, pw := range []string{"12345678", "éééééééé", strings.Repeat("x", 72), "with spaces and \x00 bytes"} {
		if err := fourd.CheckPassword(pw); err != nil {
			t.Errorf("CheckPassword(%q): %v", pw, err)
		}
	}
	for _, pw := range []string{"", "1234567", "ééééééé", strings.Repeat("x", 73), strings.Repeat("é", 37)} {
		if err := fourd.CheckPassword(pw); fourd.ErrorCode(err) != fourd.EINVALID {
			t.Errorf("CheckPassword(%q): %v, want EINVALID", pw, err)
		}
	}
}

func TestCheckPrivileges(t *testing.T) {
	got, err := fourd.CheckPrivileges([]string{"WebAdmin", "sales", "webadmin", "sales"})
	if err != nil || !slices.Equal(got, []string{"WebAdmin", "sales"}) {
		t.Errorf("CheckPrivileges: %q, %v; want WebAdmin, sales", got, err)
	}
	if got, err := fourd.CheckPrivileges(nil); err != nil || got == nil || len(got) != 0 {
		t.Errorf("CheckPrivileges(nil): %#v, %v; want an empty list", got, err)
	}
	for _, p := range []string{"", " a", "a,b", "a\nb", strings.Repeat("p", 65)} {
		if _, err := fourd.CheckPrivileges([]string{p}); fourd.ErrorCode(err) != fourd.EINVALID {
			t.Errorf("CheckPrivileges(%q): %v, want EINVALID", p, err)
		}
	}
}

func TestFoldUserName(t *testing.T) {
	for _, pair := range [][2]string{{"Alice", "aLICE"}, {"kelvin", "\u212Aelvin"}, {"ÉTÉ", "été"}, {"Σίσυφος", "ΣΊΣΥΦΟΣ"}} {
		if fourd.FoldUserName(pair[0]) != fourd.FoldUserName(pair[1]) {
			t.Errorf("FoldUserName(%q) != FoldUserName(%q), but EqualFold says they match", pair[0], pair[1])
		}
	}
	if fourd.FoldUserName("alice") == fourd.FoldUserName("alicé") {
		t.Error("alice and alicé fold alike")
	}
}

func TestUserJSON(t *testing.T) {
	u := fourd.User{
		ID:      "6F9619FF8B86D011B42D00C04FC964FF",
		Name:    "alice",
		Created: time.Date(2026, 11, 22, 10, 0, 0, 787_654_321, time.UTC),
		Updated: time.Date(2026, 11, 22, 12, 0, 0, 0, time.FixedZone("CET", 3600)),
	}
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"6F9619FF8B86D011B42D00C04FC964FF","name":"alice","privileges":[],"created":"2026-11-22T10:00:00.787Z","updated":"2026-11-22T11:00:00.000Z"}`
	if string(b) != want {
		t.Errorf("JSON\n %s\nwant\n %s", b, want)
	}
	var back fourd.User
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.ID != u.ID || back.Name != u.Name || !back.Updated.Equal(u.Updated) || !back.Created.Equal(u.Created.Truncate(time.Millisecond)) {
		t.Errorf("read back %+v, want %+v", back, u)
	}
}
