package syncbuf

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestBufferConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Errorf("lines = %d, want 800", n)
	}
}

func TestBufferLimit(t *testing.T) {
	b := Buffer{Limit: 5}
	for _, s := range []string{"abc", "de", "f"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Errorf("Write(%q) = %d, %v; want %d, nil", s, n, err, len(s))
		}
	}
	if got := b.String(); got != "abcde" {
		t.Errorf("String() = %q, want %q (the write past the limit dropped)", got, "abcde")
	}
}
