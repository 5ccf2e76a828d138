package webhook

import (
	"encoding/base64"
	"strings"
)

// keyring holds a Verifier's decoded secrets. A Verifier refers to it through a pointer: fmt
// prints the unexported fields of a caller's struct by reflection without calling String or
// Format, and a pointer at that depth prints as an address, never as the secrets.
type keyring struct {
	keys  [][]byte
	extra int   // how many further secrets were given, for String
	err   error // the first secret that could not be decoded; returned by every Verify
}

// newKeyring decodes secret and the further secrets; an empty further secret is skipped.
func newKeyring(secret string, more []string) *keyring {
	kr := &keyring{keys: make([][]byte, 0, 1+len(more))}
	for i, s := range append([]string{secret}, more...) {
		if i > 0 && s == "" {
			continue
		}
		if i > 0 {
			kr.extra++
		}
		k, err := decodeSecret(s)
		if err != nil {
			if kr.err == nil {
				kr.err = err
			}
			continue
		}
		kr.keys = append(kr.keys, k)
	}
	return kr
}

// decodeSecret decodes a Base64 secret (standard alphabet, padded or not; the URL-safe alphabet
// is accepted too). Surrounding white space is ignored.
func decodeSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errorf(ErrSecret, "the secret is empty")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) > 0 {
			return k, nil
		}
	}
	return nil, errorf(ErrSecret, "pass the secret exactly as the API returned it")
}
