package mockserver

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fill sets every exported pointer, slice and map reachable from v to a non-nil value, so that
// a field added later is covered without this test naming it.
func fill(v reflect.Value, depth int) {
	if depth > 6 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem(), depth+1)
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		}
		for i := 0; i < v.Len(); i++ {
			fill(v.Index(i), depth+1)
		}
	case reflect.Map:
		if v.IsNil() {
			m := reflect.MakeMapWithSize(v.Type(), 1)
			m.SetMapIndex(reflect.Zero(v.Type().Key()), reflect.Zero(v.Type().Elem()))
			if v.Type().Elem().Kind() == reflect.Interface {
				m.SetMapIndex(reflect.Zero(v.Type().Key()), reflect.ValueOf("v"))
			}
			v.Set(m)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	}
}

// shared lists the fields the copy may share with the store: values nothing changes in place
// after they are stored.
var shared = []string{
	"idemRec.Body",         // a stored answer is written once
	"linkReqRec.Cases[].",  // the cases of a 409 request, as sent
	"caseRec.Request.",     // the case as requested
	"creditorRec.Users[].", // userRec has no reference fields; listed for completeness
}

// noAlias reports every exported pointer, slice or map that a and b share.
func noAlias(t *testing.T, path string, a, b reflect.Value) {
	t.Helper()
	for _, s := range shared {
		if strings.HasPrefix(path, s) {
			return
		}
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s: the copy shares the pointer", path)
			return
		}
		noAlias(t, path, a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() > 0 && b.Len() > 0 && a.Pointer() == b.Pointer() {
			t.Errorf("%s: the copy shares the slice", path)
		}
		for i := 0; i < min(a.Len(), b.Len()); i++ {
			noAlias(t, path+"[].", a.Index(i), b.Index(i))
		}
	case reflect.Map:
		if !a.IsNil() && !b.IsNil() && a.Pointer() == b.Pointer() {
			t.Errorf("%s: the copy shares the map", path)
		}
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if f := a.Type().Field(i); f.IsExported() {
				sep := "."
				if strings.HasSuffix(path, ".") {
					sep = ""
				}
				noAlias(t, path+sep+f.Name, a.Field(i), b.Field(i))
			}
		}
	}
}

// The copy Snapshot encodes shares nothing a handler could change while it is encoded, and
// encodes to the same JSON as the store.
func TestStoreCloneSharesNothingMutable(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	s := newStore([]byte("secret"))
	recs := map[string]any{
		"partnerRec":  &partnerRec{ID: "p"},
		"creditorRec": &creditorRec{ID: "c"},
		"linkRec":     &linkRec{ID: "l"},
		"linkReqRec":  &linkReqRec{ID: "r"},
		"caseRec":     &caseRec{ID: "k"},
		"idemRec":     &idemRec{Scope: "p|op|k", Created: now},
		"webhookRec":  &webhookRec{ID: "w"},
	}
	for _, r := range recs {
		fill(reflect.ValueOf(r), 0)
	}
	s.Partners["p"] = recs["partnerRec"].(*partnerRec)
	s.Creditors["c"] = recs["creditorRec"].(*creditorRec)
	s.Links["l"] = recs["linkRec"].(*linkRec)
	s.LinkRequests["r"] = recs["linkReqRec"].(*linkReqRec)
	s.Cases["k"] = recs["caseRec"].(*caseRec)
	s.Idempotency["p|op|k"] = recs["idemRec"].(*idemRec)
	s.Webhooks["w"] = recs["webhookRec"].(*webhookRec)

	c := s.clone(now)
	noAlias(t, "store", reflect.ValueOf(s).Elem(), reflect.ValueOf(c).Elem())
	for name, m := range map[string][2]any{
		"partnerRec":  {s.Partners["p"], c.Partners["p"]},
		"creditorRec": {s.Creditors["c"], c.Creditors["c"]},
		"linkRec":     {s.Links["l"], c.Links["l"]},
		"linkReqRec":  {s.LinkRequests["r"], c.LinkRequests["r"]},
		"caseRec":     {s.Cases["k"], c.Cases["k"]},
		"idemRec":     {s.Idempotency["p|op|k"], c.Idempotency["p|op|k"]},
		"webhookRec":  {s.Webhooks["w"], c.Webhooks["w"]},
	} {
		noAlias(t, name, reflect.ValueOf(m[0]), reflect.ValueOf(m[1]))
	}
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("the copy encodes differently:\n got %s\nwant %s", got, want)
	}
}
