package debitura

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
)

// Errors of a success (2xx) answer the SDK cannot use. Test for them with errors.Is.
var (
	// ErrResponseTooLarge matches the error of a call whose success body is longer than the
	// limit of WithMaxResponseBytes (default DefaultMaxResponseBytes). The SDK stops reading at
	// the limit and does not retry the call.
	ErrResponseTooLarge = errors.New("debitura: response body too large")
	// ErrEmptyResponse matches the error of a call whose success answer must carry a resource
	// (a client, a page, a token, a subscription, ...) but whose body is empty or the JSON
	// literal null. The call is not retried: the server answered, and may have acted.
	ErrEmptyResponse = errors.New("debitura: empty response")
)

// tooLargeError is the error of a success body over the limit; it names the limit.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("response body exceeds the limit of %d bytes (WithMaxResponseBytes)", e.limit)
}

func (e *tooLargeError) Is(target error) bool { return target == ErrResponseTooLarge }

// emptyResponseError is the error of a success answer without the resource it must carry.
type emptyResponseError struct{ status int }

func (e *emptyResponseError) Error() string {
	return fmt.Sprintf("%d answer has an empty or null body where a resource was expected", e.status)
}

func (e *emptyResponseError) Is(target error) bool { return target == ErrEmptyResponse }

// emptyBody reports whether a success body carries nothing: no bytes but white space, or null.
func emptyBody(data []byte) bool {
	t := bytes.TrimSpace(data)
	return len(t) == 0 || string(t) == "null"
}

// bufferBody reads resp's body into memory, up to limit bytes, puts it back and returns it (nil
// when the read failed). When the read fails, the body it puts back yields what was read and
// then the same error, so a caller that reads it sees the failure too. A body longer than limit
// is not read further: the error matches ErrResponseTooLarge, and the body put back yields only
// that error.
func bufferBody(resp *http.Response, limit int64) ([]byte, error) {
	data, err := readCapped(resp.Body, limit)
	_ = resp.Body.Close() // before the end of the body: closes the connection
	switch {
	case errors.Is(err, ErrResponseTooLarge):
		resp.Body = io.NopCloser(errReader{err})
		return nil, err
	case err != nil:
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(data), errReader{err}))
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return data, nil
}

// readCapped reads r to its end, but not more than limit bytes: with more to read it returns a
// *tooLargeError after reading limit+1 bytes.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	n := limit
	if n < math.MaxInt64 {
		n++
	}
	data, err := io.ReadAll(io.LimitReader(r, n))
	if err == nil && int64(len(data)) > limit {
		return nil, &tooLargeError{limit: limit}
	}
	return data, err
}

// errReader is a reader that only fails.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
