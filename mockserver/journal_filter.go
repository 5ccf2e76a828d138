package mockserver

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// JournalFilter selects journal entries; zero fields match everything.
type JournalFilter struct {
	Operation string // an operation id (see [JournalOperations])
	Status    int    // an HTTP status (0: any); StatusClass takes precedence when set
	// StatusClass is 2, 4 or 5 for 2xx, 4xx or 5xx (0: any).
	StatusClass int
	PartnerID   string
}

// Match reports whether e passes the filter.
func (f JournalFilter) Match(e JournalEntry) bool {
	switch {
	case f.Operation != "" && e.Operation != f.Operation:
		return false
	case f.PartnerID != "" && e.PartnerID != f.PartnerID:
		return false
	case f.StatusClass != 0 && e.Status/100 != f.StatusClass:
		return false
	case f.StatusClass == 0 && f.Status != 0 && e.Status != f.Status:
		return false
	}
	return true
}

func (f JournalFilter) apply(j []JournalEntry) []JournalEntry {
	out := []JournalEntry{}
	for _, e := range j {
		if f.Match(e) {
			out = append(out, e)
		}
	}
	return out
}

// journalQueryParams are the query parameters of GET /__mock/journal.
var journalQueryParams = []string{"operation", "status", "partnerId"}

// parseJournalFilter reads ?operation=&status=&partnerId= (status: a code such as 409, or 2xx,
// 4xx, 5xx). Unknown parameters, operations and statuses are ErrInvalid with the valid values.
func parseJournalFilter(q url.Values) (JournalFilter, error) {
	var f JournalFilter
	for k := range q {
		if !slices.Contains(journalQueryParams, k) {
			return f, invalidf("unknown query parameter %q; valid: %s", k, quoteList(journalQueryParams))
		}
	}
	f.Operation = q.Get("operation")
	if st := strings.ToLower(q.Get("status")); st != "" {
		switch st {
		case "2xx", "3xx", "4xx", "5xx":
			f.StatusClass = int(st[0] - '0')
		default:
			n, err := strconv.Atoi(st)
			if err != nil || n < 100 || n > 599 {
				return f, invalidf("status: %q is not a status; valid: 100-599, 2xx, 3xx, 4xx, 5xx", q.Get("status"))
			}
			f.Status = n
		}
	}
	f.PartnerID = q.Get("partnerId")
	return f, f.check()
}

// check refuses an unknown operation id and an out-of-range status or class.
func (f JournalFilter) check() error {
	switch {
	case f.Operation != "" && !slices.Contains(JournalOperations(), f.Operation):
		return invalidf("operation: unknown operation id %q; valid: %s", f.Operation, quoteList(JournalOperations()))
	case f.Status != 0 && (f.Status < 100 || f.Status > 599):
		return invalidf("status: %d is not a status; valid: 100-599", f.Status)
	case f.StatusClass != 0 && (f.StatusClass < 1 || f.StatusClass > 5):
		return invalidf("statusClass: must be 1-5 (1xx-5xx)")
	}
	return nil
}
