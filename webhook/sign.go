package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Sign returns the X-Debitura-Signature value Debitura would send for body at time t with
// secret (Base64): "t={unix seconds},v1={hex}". It is meant for tests: to feed a [Handler] or a
// [Verifier] signed deliveries without Debitura. The only error is [ErrSecret].
func Sign(secret string, t time.Time, body []byte) (string, error) {
	k, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	ts := t.Unix()
	return "t=" + strconv.FormatInt(ts, 10) + ",v1=" + hex.EncodeToString(computeSignature(k, ts, body)), nil
}

// computeSignature is HMAC-SHA256 over "{ts}.{body}" keyed with key.
func computeSignature(key []byte, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
