// Package redaction holds what the SDK's packages share to keep secrets out of output: the marker
// that replaces a secret, and a fmt.Formatter helper for types that print only a safe form.
package redaction

import "fmt"

// Mark replaces every secret the SDK removes from text.
const Mark = "[REDACTED]"

// Format implements fmt.Formatter for a type that must print only its safe form: %q quotes it,
// every other verb prints it as it is.
func Format(f fmt.State, verb rune, safe string) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", safe)
	default:
		_, _ = f.Write([]byte(safe))
	}
}
