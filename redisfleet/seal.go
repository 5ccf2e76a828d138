package redisfleet

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// sealVersion starts every sealed value, so the format can change without misreading old values.
const sealVersion = 1

// errUnsealable is any value that does not open: corrupt, truncated, sealed under another key or
// for another key name. Callers treat it as a miss.
var errUnsealable = errors.New("redisfleet: stored value does not open")

// sealer seals values with AES-256-GCM: a fresh random 12-byte nonce per value and the Redis key
// name as additional data, so a value copied to another key (another tenant's) does not open.
// Layout: version (1 byte) | nonce (12) | ciphertext and tag.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("redisfleet: sealing key: %w", err)
	}
	aead, err := cipher.NewGCM(block) // 12-byte nonce, 16-byte tag
	if err != nil {
		return nil, fmt.Errorf("redisfleet: sealing key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(keyName string, plaintext []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("redisfleet: nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:1+ns], plaintext, []byte(keyName)), nil
}

func (s *sealer) open(keyName string, sealed []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errUnsealable
	}
	p, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], []byte(keyName))
	if err != nil {
		return nil, errUnsealable
	}
	if p == nil {
		p = []byte{} // an empty value is a hit, not a miss
	}
	return p, nil
}
