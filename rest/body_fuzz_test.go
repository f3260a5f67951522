package rest

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/fourd/fourd"
)

// FuzzDecodeEntities checks the streaming decoder of update bodies against
// encoding/json: it accepts exactly one valid JSON object, or a valid
// array of objects, and refuses anything else with a 400, never a panic.
func FuzzDecodeEntities(f *testing.F) {
	for _, s := range []string{
		`{"name":"Acme"}`, `[{"name":"a"},{"__KEY":"1","__STAMP":2,"city":null}]`, `[]`, `{}`,
		`[null]`, `null`, `[{"a":1},2]`, `{"a":1} {"b":2}`, `[{"a":1}`, ` `, `{"a":1e999}`,
		`[{"a":"\u0000"}]`, "\xef\xbb\xbf{}", `[[{}]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		raws, single, err := decodeEntities(bytes.NewReader(data))
		// The oracle: encoding/json's validity, then the shape.
		var want []json.RawMessage
		trimmed := bytes.TrimLeft(data, " \t\r\n")
		ok := json.Valid(data) && len(trimmed) > 0
		switch {
		case ok && trimmed[0] == '{':
			want = []json.RawMessage{data}
		case ok && trimmed[0] == '[':
			ok = json.Unmarshal(data, &want) == nil
		default:
			ok = false
		}
		for _, e := range want {
			ok = ok && bytes.TrimLeft(e, " \t\r\n")[0] == '{'
		}
		if err != nil {
			if fourd.ErrorCode(err) != fourd.EINVALID {
				t.Fatalf("error %v is not a 400", err)
			}
			if ok {
				t.Fatalf("refused %q, which is one object or an array of objects: %v", data, err)
			}
			return
		}
		if !ok {
			t.Fatalf("accepted %q, which is not one object or an array of objects", data)
		}
		if len(raws) != len(want) || single && len(raws) != 1 {
			t.Fatalf("%q: %d entities (single %v), want %d", data, len(raws), single, len(want))
		}
	})
}
