package mockserver

// Helpers of the internal tests that the external tests (package mockserver_test: the hosted
// pages and the browser tests) use too; they exist only in the test binary.
var (
	// JSONStr walks nested JSON objects to a string ("" when the path is missing).
	JSONStr = str
	// TokenFromURL returns the token query parameter of an approval URL.
	TokenFromURL = tokenFromURL
)
