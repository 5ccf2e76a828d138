package webhook

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"e-1","event":"client.linked","data":{"externalTenantId":"t-1"}}`)
	good := mustSign(t, whSecret, whNow, body)
	goodV1 := strings.TrimPrefix(good, "t=1740830400,")
	other := mustSign(t, whOldSecret, whNow, body)
	otherV1 := strings.TrimPrefix(other, "t=1740830400,")
	hexOf := func(h string) string { return strings.TrimPrefix(h, "v1=") }
	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", whSecret, good, body, whNow, nil},
		{"valid upper-case hex", whSecret, "t=1740830400,v1=" + strings.ToUpper(hexOf(goodV1)), body, whNow, nil},
		{"valid with spaces", whSecret, " t=1740830400 , " + goodV1 + " ", body, whNow, nil},
		{"valid v1 first and unknown scheme ignored", whSecret, goodV1 + ",v0=zz,t=1740830400", body, whNow, nil},
		{"rotation: second v1 matches", whSecret, "t=1740830400," + otherV1 + "," + goodV1, body, whNow, nil},
		{"rotation: first v1 matches", whSecret, "t=1740830400," + goodV1 + "," + otherV1, body, whNow, nil},
		{"unpadded secret", strings.TrimRight(whSecret, "="), good, body, whNow, nil},
		{"secret with newline", whSecret + "\n", good, body, whNow, nil},
		{"299 s old", whSecret, good, body, whNow.Add(299 * time.Second), nil},
		{"300 s old", whSecret, good, body, whNow.Add(300 * time.Second), nil},
		{"300 s ahead", whSecret, good, body, whNow.Add(-300 * time.Second), nil},
		{"wrong secret", whOldSecret, good, body, whNow, ErrSignature},
		{"altered body", whSecret, good, append(bytes.Clone(body[:len(body)-1]), ' ', '}'), whNow, ErrSignature},
		{"empty body", whSecret, good, nil, whNow, ErrSignature},
		{"other timestamp signed", whSecret, "t=1740830401," + goodV1, body, whNow, ErrSignature},
		{"missing header", whSecret, "", body, whNow, ErrSignature},
		{"blank header", whSecret, "   ", body, whNow, ErrSignature},
		{"stale: 301 s old", whSecret, good, body, whNow.Add(301 * time.Second), ErrTimestamp},
		{"stale: a day old", whSecret, good, body, whNow.Add(24 * time.Hour), ErrTimestamp},
		{"future: 301 s ahead", whSecret, good, body, whNow.Add(-301 * time.Second), ErrTimestamp},
		{"missing t", whSecret, goodV1, body, whNow, ErrMalformed},
		{"missing v1", whSecret, "t=1740830400", body, whNow, ErrMalformed},
		{"only unknown scheme", whSecret, "t=1740830400,v2=" + hexOf(goodV1), body, whNow, ErrMalformed},
		{"non-hex v1", whSecret, "t=1740830400,v1=" + strings.Repeat("zz", 32), body, whNow, ErrMalformed},
		{"short v1", whSecret, "t=1740830400,v1=" + hexOf(goodV1)[:62], body, whNow, ErrMalformed},
		{"base64 v1", whSecret, "t=1740830400,v1=" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 32))), body, whNow, ErrMalformed},
		{"non-numeric t", whSecret, "t=yesterday," + goodV1, body, whNow, ErrMalformed},
		{"negative t", whSecret, "t=-1740830400," + goodV1, body, whNow, ErrMalformed},
		{"huge t", whSecret, "t=99999999999999999999," + goodV1, body, whNow, ErrMalformed},
		{"empty values", whSecret, "t=,v1=", body, whNow, ErrMalformed},
		{"two t", whSecret, "t=1740830400,t=1740830400," + goodV1, body, whNow, ErrMalformed},
		{"element without =", whSecret, "t=1740830400," + hexOf(goodV1), body, whNow, ErrMalformed},
		{"non-base64 secret", "not base64!", good, body, whNow, ErrSecret},
		{"empty secret", "", good, body, whNow, ErrSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(tt.secret, tt.header, tt.body, tt.now)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify() = %v, want errors.Is %v", err, tt.want)
			}
			for _, other := range []error{ErrSignature, ErrTimestamp, ErrMalformed, ErrSecret} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("Verify() = %v, also matches %v", err, other)
				}
			}
			assertNoSecret(t, err.Error())
		})
	}
}

func TestVerifierSecretsToleranceAndClock(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"e-1","event":"client.linked"}`)
	signedOld := mustSign(t, whOldSecret, whNow, body)
	clock := whNow
	now := func() time.Time { return clock }
	v := NewVerifier(whSecret, "", whOldSecret)
	v.Tolerance, v.Now = 10*time.Second, now
	at, err := v.Verify(signedOld, body)
	if err != nil || !at.Equal(whNow) {
		t.Fatalf("Verify(old secret) = %v, %v; want %v, nil", at, err, whNow)
	}
	clock = whNow.Add(11 * time.Second)
	if _, err := v.Verify(signedOld, body); !errors.Is(err, ErrTimestamp) {
		t.Errorf("Verify(11 s old, tolerance 10 s) = %v, want ErrTimestamp", err)
	}
	clock = whNow
	bad := NewVerifier(whSecret, "%%%")
	bad.Now = now
	if _, err := bad.Verify(signedOld, body); !errors.Is(err, ErrSecret) {
		t.Errorf("Verify(bad extra secret) = %v, want ErrSecret", err)
	}
	only := NewVerifier(whSecret)
	only.Now = now
	if _, err := only.Verify(signedOld, body); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify(old secret no longer configured) = %v, want ErrSignature", err)
	}
	var zero Verifier
	if _, err := zero.Verify(signedOld, body); !errors.Is(err, ErrSecret) {
		t.Errorf("zero Verifier.Verify() = %v, want ErrSecret", err)
	}
}

// TestVerifierNeverPrintsSecrets prints a Verifier every way a caller might: directly, and held
// in an unexported field of the caller's struct, where fmt prints fields by reflection without
// calling String or Format.
func TestVerifierNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	const extra = "b2xkLXNlY3JldC12YWx1ZQ==" // base64("old-secret-value")
	v := NewVerifier(whSecret, extra)
	v.Tolerance = time.Minute
	type holder struct {
		name string
		v    Verifier
		p    *Verifier
	}
	h := holder{name: "receiver", v: *v, p: v}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("verifier", "v", v, "holder", h)
	outs := []string{
		fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%s", v), fmt.Sprintf("%q", *v),
		fmt.Sprintf("%v", h), fmt.Sprintf("%+v", h), fmt.Sprintf("%#v", h), fmt.Sprintf("%+v", &h),
		fmt.Sprintf("%+v", struct{ v Verifier }{*v}), fmt.Sprintf("%#v", []any{struct{ v Verifier }{*v}}),
		logs.String(),
	}
	// The secrets as given, decoded, and as fmt prints a decoded []byte.
	secrets := []string{whSecret, extra, "secret-signing-key", "old-secret-value"}
	for _, sec := range []string{"secret-signing-key-for-tests-0123456789", "old-secret-value"} {
		secrets = append(secrets, strings.Trim(fmt.Sprint([]byte(sec)), "[]"), fmt.Sprintf("%#v", []byte(sec))[len("[]byte{"):][:20])
	}
	for _, out := range outs {
		for _, sec := range secrets {
			if strings.Contains(out, sec) {
				t.Errorf("a secret (%q) leaked: %s", sec, out)
			}
		}
	}
	if !strings.Contains(fmt.Sprint(v), "1 more") {
		t.Errorf("fmt.Sprint(v) = %s, want it to count the further secret", fmt.Sprint(v))
	}
}
