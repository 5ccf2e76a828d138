// Package apikey holds the mock's rule for partner API keys, which the mock server and its
// command both apply.
package apikey

// Valid reports whether key can be sent in an XApiKey header as it is: 1 to 256 printable ASCII
// characters without spaces.
func Valid(key string) bool {
	if len(key) < 1 || len(key) > 256 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] > '~' {
			return false
		}
	}
	return true
}
