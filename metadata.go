package debitura

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"unicode/utf8"
)

// Metadata limits of the guide's update operation.
const (
	// MaxMetadataKeys is the most keys a client's metadata may hold.
	MaxMetadataKeys = 50
	// MaxMetadataKeyLen is the longest metadata key, in characters.
	MaxMetadataKeyLen = 40
	// MaxMetadataBytes is the largest metadata object, as JSON.
	MaxMetadataBytes = 16 * 1024
)

// validateMetadata checks metadata against the guide's limits before it is sent: at most 50 keys,
// keys of 1 to 40 characters, values that are a string, a number (any Go integer or float kind,
// or a valid json.Number; not NaN or infinite), a bool, or nil (remove the key), and at most
// 16 KB as JSON. Every bad key is reported, by name, in sorted order, so the error for a given
// map is always the same.
func validateMetadata(op string, md map[string]any) error {
	p := &problems{op: op}
	checkMetadata(p, md)
	return p.err()
}

// checkMetadata adds the problems of md to p (see validateMetadata).
func checkMetadata(p *problems, md map[string]any) {
	if len(md) > MaxMetadataKeys {
		p.add("metadata", "has %d keys; at most %d are allowed", len(md), MaxMetadataKeys)
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	before := len(p.list)
	for _, k := range keys {
		field := fmt.Sprintf("metadata[%q]", k)
		if k == "" {
			p.add(field, "keys must not be empty")
		} else if n := utf8.RuneCountInString(k); n > MaxMetadataKeyLen {
			p.add(field, "key is %d characters; at most %d are allowed", n, MaxMetadataKeyLen)
		} else if !utf8.ValidString(k) {
			p.add(field, "key is not valid UTF-8")
		} else if err := checkMetadataValue(md[k]); err != nil {
			p.add(field, "%v", err)
		}
	}
	if len(p.list) > before {
		return // the size of metadata with bad values means little, and it may not encode
	}
	b, err := json.Marshal(md)
	if err != nil {
		p.add("metadata", "cannot be encoded as JSON: %v", err)
		return
	}
	if len(b) > MaxMetadataBytes {
		p.add("metadata", "is %d bytes as JSON; at most %d are allowed", len(b), MaxMetadataBytes)
	}
}

func checkMetadataValue(v any) error {
	if v == nil {
		return nil
	}
	if n, ok := v.(json.Number); ok {
		if _, err := json.Marshal(n); err != nil || n == "" {
			return fmt.Errorf("value %q is not a number", string(n))
		}
		return nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
	case reflect.Float32, reflect.Float64:
		if f := rv.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("value %v is not a finite number", f)
		}
	default:
		return fmt.Errorf("value of type %T is not a string, number, bool or nil", v)
	}
	if rv.Kind() == reflect.String && !utf8.ValidString(rv.String()) {
		return fmt.Errorf("value is not valid UTF-8")
	}
	// A named type may marshal itself differently (json.Marshaler); what is sent must still be a
	// JSON string, number or boolean.
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("value of type %T cannot be encoded: %v", v, err)
	}
	switch c := b[0]; {
	case c == '"', c == '-', c >= '0' && c <= '9', c == 't', c == 'f':
		return nil
	}
	return fmt.Errorf("value of type %T does not encode as a string, number or bool", v)
}
