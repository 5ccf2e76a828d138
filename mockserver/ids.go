package mockserver

import (
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"sync"
)

// idGen issues UUIDs, opaque tokens and numbers from one seeded stream, so that a mock built
// WithSeed hands out the same identifiers in the same order on every run.
type idGen struct {
	mu  sync.Mutex
	rnd *rand.Rand
}

func newIDGen(seed int64, seeded bool) *idGen {
	var s1, s2 uint64
	if seeded {
		s1, s2 = uint64(seed), uint64(seed)^0x9e3779b97f4a7c15
	} else {
		var b [16]byte
		_, _ = crand.Read(b[:])
		s1, s2 = binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
	}
	return &idGen{rnd: rand.New(rand.NewPCG(s1, s2))}
}

func (g *idGen) fill(b []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := 0; i < len(b); i += 8 {
		v := g.rnd.Uint64()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
}

// uuid returns a random (version 4) UUID in canonical form.
func (g *idGen) uuid() string {
	var b [16]byte
	g.fill(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// token returns n random bytes as lower-case hex.
func (g *idGen) token(n int) string {
	b := make([]byte, n)
	g.fill(b)
	return hex.EncodeToString(b)
}

// float returns a number in [0,1) from the seeded stream (fault probabilities).
func (g *idGen) float() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rnd.Float64()
}
