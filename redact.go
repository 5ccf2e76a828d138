package debitura

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/debitura-go/debitura/internal/redaction"
)

// redactedMark replaces every secret the SDK removes from text.
const redactedMark = redaction.Mark

// minSecretLen is the shortest literal secret (an API key) the SDK accepts and removes from
// text; New refuses shorter keys.
const minSecretLen = 3

// secretPatterns match credentials that may appear in a response body or message: bearer
// tokens, the XApiKey header echoed back, JSON fields holding tokens or keys, and JWTs.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*`),
	regexp.MustCompile(`(?i)("?(?:x-?api-?key|api_?key|access_?token|refresh_?token|token|(?:client_?|webhook_?)?secret|authorization)"?\s*[:=]\s*"?)([^"\s,}&]+)`),
	regexp.MustCompile(`eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*`),
}

// redact removes the given literal secrets (the API key) and every credential-looking token
// from s.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= minSecretLen {
			s = strings.ReplaceAll(s, sec, redactedMark)
		}
	}
	s = secretPatterns[0].ReplaceAllString(s, "${1}"+redactedMark)
	s = secretPatterns[1].ReplaceAllStringFunc(s, func(m string) string {
		sub := secretPatterns[1].FindStringSubmatch(m)
		if sub[2] == redactedMark || strings.HasPrefix(sub[2], redactedMark) {
			return m
		}
		return sub[1] + redactedMark
	})
	s = secretPatterns[2].ReplaceAllString(s, redactedMark)
	return s
}

// redactedExcerpt returns at most max bytes of b as valid UTF-8, with secrets removed. It
// redacts the whole of b first and cuts afterwards: cutting first would leave the part of a
// secret that straddles the cut, which no longer matches the secret or a pattern.
func redactedExcerpt(b []byte, max int, secrets ...string) string {
	s := redact(strings.ToValidUTF8(string(b), "\uFFFD"), secrets...)
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// redactLinks removes the literal secrets (the API key), bearer tokens and JWTs from a URL the
// API hands out for a person to open (a signing or solution URL), but keeps its query
// parameters such as token=..., without which the link does not work.
func redactLinks(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= minSecretLen {
			s = strings.ReplaceAll(s, sec, redactedMark)
		}
	}
	s = secretPatterns[0].ReplaceAllString(s, "${1}"+redactedMark)
	return secretPatterns[2].ReplaceAllString(s, redactedMark)
}
