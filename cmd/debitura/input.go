package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/debitura-go/debitura"
)

// row is one input of `debitura link`: a POST /clients body read from line Line of the input
// (the line its record starts on), or the reason it could not be read.
type row struct {
	// Line is the 1-based line number of the record in the input file.
	Line int
	// Req is the request body; nil when Bad is set by the parser.
	Req *debitura.ClientCreateRequest
	// Bad says what is wrong with the row; nil for a row that parsed (validation comes later).
	Bad *rowError
}

// tenant returns the row's externalTenantId, or "" when it has none.
func (r row) tenant() string {
	if r.Req == nil {
		return ""
	}
	return r.Req.ExternalTenantID
}

// rowError is a bad input row: its line, the field at fault (CSV column or JSON member, "" for
// the whole row) and what is wrong.
type rowError struct {
	Line    int
	Field   string
	Message string
}

func (e *rowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message)
}

// inputFormat is the format of a link input file.
type inputFormat string

const (
	formatCSV   inputFormat = "csv"
	formatJSONL inputFormat = "jsonl"
)

// formatOf picks the input format: --format when given, else the file's extension (.csv;
// .jsonl, .ndjson, .json). stdin ("-") needs --format.
func formatOf(flag, path string) (inputFormat, error) {
	switch strings.ToLower(flag) {
	case "csv":
		return formatCSV, nil
	case "jsonl", "ndjson":
		return formatJSONL, nil
	case "":
	default:
		return "", fmt.Errorf("--format must be csv or jsonl, not %q", flag)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return formatCSV, nil
	case ".jsonl", ".ndjson", ".json":
		return formatJSONL, nil
	}
	if path == "-" {
		return "", errors.New("reading stdin (--in -) needs --format csv or --format jsonl")
	}
	return "", fmt.Errorf("cannot tell the format of %q from its extension: use --format csv or --format jsonl", path)
}

// maxLineBytes bounds one JSONL line (a POST /clients body with cases is a few KiB); a longer
// line is a bad row, not a reason to hold an unbounded buffer.
const maxLineBytes = 1 << 20

// csvColumn is a documented CSV column: its header name and how it sets the request.
type csvColumn struct {
	name     string
	required bool
	set      func(r *debitura.ClientCreateRequest, v string) error
}

// csvColumns are the CSV columns `debitura link` knows, in the order README documents them. The
// first six are required; the others may be left out of the header or left empty in a row. One
// CSV row describes one user; for several users or cases use JSONL.
var csvColumns = []csvColumn{
	{"external_tenant_id", true, func(r *debitura.ClientCreateRequest, v string) error { r.ExternalTenantID = v; return nil }},
	{"company_name", true, func(r *debitura.ClientCreateRequest, v string) error { r.Client.Name = v; return nil }},
	{"country", true, func(r *debitura.ClientCreateRequest, v string) error { r.Client.Country = v; return nil }},
	{"support_email", true, func(r *debitura.ClientCreateRequest, v string) error { r.Client.SupportEmail = v; return nil }},
	{"user_name", true, func(r *debitura.ClientCreateRequest, v string) error { user(r).Name = v; return nil }},
	{"user_email", true, func(r *debitura.ClientCreateRequest, v string) error { user(r).Email = v; return nil }},
	{"registration_number", false, func(r *debitura.ClientCreateRequest, v string) error { r.Client.RegistrationNumber = v; return nil }},
	{"address", false, func(r *debitura.ClientCreateRequest, v string) error { r.Client.Address = v; return nil }},
	{"zip_code", false, func(r *debitura.ClientCreateRequest, v string) error { r.Client.ZipCode = v; return nil }},
	{"city", false, func(r *debitura.ClientCreateRequest, v string) error { r.Client.City = v; return nil }},
	{"state", false, func(r *debitura.ClientCreateRequest, v string) error { r.Client.State = v; return nil }},
	{"support_phone", false, func(r *debitura.ClientCreateRequest, v string) error { r.Client.SupportPhone = v; return nil }},
}

// user returns the request's single user, creating it.
func user(r *debitura.ClientCreateRequest) *debitura.ClientUser {
	if len(r.Users) == 0 {
		r.Users = []debitura.ClientUser{{}}
	}
	return &r.Users[0]
}

// csvColumnNames lists the known column names, for messages.
func csvColumnNames() string {
	names := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// readRows returns the rows of in, read as it is iterated (one record in memory at a time), and a
// function that reports the error that stopped the iteration early: an unreadable file or a
// header that is not usable. Bad rows are yielded with Bad set; they do not stop the iteration.
func readRows(in io.Reader, format inputFormat) (iter.Seq[row], func() error) {
	var fatal error
	seq := func(yield func(row) bool) {
		switch format {
		case formatCSV:
			fatal = readCSV(in, yield)
		default:
			fatal = readJSONL(in, yield)
		}
	}
	return seq, func() error { return fatal }
}

// readCSV yields the rows of a CSV file with a header row. Header names are matched
// case-insensitively after trimming spaces (and a UTF-8 byte-order mark); cells are trimmed.
func readCSV(in io.Reader, yield func(row) bool) error {
	cr := csv.NewReader(in)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // checked here, so a short row is a bad row and not the end
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return errors.New("the CSV input is empty: it needs a header row")
	}
	if err != nil {
		return fmt.Errorf("CSV header: %w", err)
	}
	cols := make([]*csvColumn, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		j := slices.IndexFunc(csvColumns, func(c csvColumn) bool { return c.name == name })
		if j < 0 {
			return fmt.Errorf("CSV header: unknown column %q (known: %s)", h, csvColumnNames())
		}
		if seen[name] {
			return fmt.Errorf("CSV header: column %q appears twice", name)
		}
		seen[name] = true
		cols[i] = &csvColumns[j]
	}
	for _, c := range csvColumns {
		if c.required && !seen[c.name] {
			return fmt.Errorf("CSV header: required column %q is missing (required: %s)", c.name, strings.Join(requiredColumns(), ", "))
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := cr.FieldPos(0)
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			// A malformed record (a stray quote): report it and go on with the next line.
			if !yield(row{Line: perr.StartLine, Bad: &rowError{Line: perr.StartLine, Message: "malformed CSV: " + perr.Err.Error()}}) {
				return nil
			}
			continue
		}
		if err != nil {
			return err
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // an empty line (encoding/csv skips truly empty ones itself)
		}
		if len(rec) != len(cols) {
			if !yield(row{Line: line, Bad: &rowError{Line: line, Message: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(cols))}}) {
				return nil
			}
			continue
		}
		req := &debitura.ClientCreateRequest{}
		for i, v := range rec {
			_ = cols[i].set(req, strings.TrimSpace(v))
		}
		if !yield(row{Line: line, Req: req}) {
			return nil
		}
	}
}

func requiredColumns() []string {
	var out []string
	for _, c := range csvColumns {
		if c.required {
			out = append(out, c.name)
		}
	}
	return out
}

// readJSONL yields one row per non-blank line: a POST /clients body (the API's member names;
// unknown members are refused, as the API refuses them).
func readJSONL(in io.Reader, yield func(row) bool) error {
	br := bufio.NewReaderSize(in, 64<<10)
	for line := 1; ; line++ {
		b, tooLong, err := readLine(br, maxLineBytes)
		if len(b) == 0 && errors.Is(err, io.EOF) && !tooLong {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		last := errors.Is(err, io.EOF)
		var r row
		switch {
		case tooLong:
			r = row{Line: line, Bad: &rowError{Line: line, Message: "longer than " + strconv.Itoa(maxLineBytes) + " bytes"}}
		case len(bytes.TrimSpace(b)) == 0:
			if last {
				return nil
			}
			continue
		default:
			r = parseJSONRow(line, b)
		}
		if !yield(r) || last {
			return nil
		}
	}
}

// parseJSONRow decodes one JSONL line into a request.
func parseJSONRow(line int, b []byte) row {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	req := &debitura.ClientCreateRequest{}
	if err := dec.Decode(req); err != nil {
		field, msg := "", err.Error()
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field, msg = te.Field, fmt.Sprintf("must be a JSON %s, got %s", jsonKind(te.Type.Kind().String()), te.Value)
		}
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			field, msg = strings.Trim(f, `"`), "unknown member"
		}
		return row{Line: line, Bad: &rowError{Line: line, Field: field, Message: strings.TrimPrefix(msg, "json: ")}}
	}
	if dec.More() {
		return row{Line: line, Bad: &rowError{Line: line, Message: "more than one JSON value on the line"}}
	}
	return row{Line: line, Req: req}
}

// jsonKind names a Go kind as the JSON type it decodes from.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return "number"
}

// csvField names the CSV column of an API field the SDK's checks name, e.g.
// "company_name (client.name)"; a field no column sets is returned as it is.
func csvField(apiField string) string {
	col, ok := map[string]string{
		"externalTenantId": "external_tenant_id", "client.name": "company_name", "client.country": "country",
		"client.supportEmail": "support_email", "users[0].name": "user_name", "users[0].email": "user_email",
		"client.address": "address", "client.zipCode": "zip_code", "client.city": "city", "client.state": "state",
		"client.registrationNumber": "registration_number", "client.supportPhone": "support_phone",
	}[apiField]
	if !ok {
		return apiField
	}
	return col + " (" + apiField + ")"
}

// readLine reads one line without its "\n" (and "\r\n"). A line longer than limit is consumed and
// reported with tooLong and no bytes. err is io.EOF for the last line of a file that does not end
// in "\n" (b may then be non-empty) and at the end.
func readLine(br *bufio.Reader, limit int) (b []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > limit+2 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			return nil, true, err
		}
		buf = bytes.TrimSuffix(buf, []byte("\n"))
		buf = bytes.TrimSuffix(buf, []byte("\r"))
		return buf, false, err
	}
}
