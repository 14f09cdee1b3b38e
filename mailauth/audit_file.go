package mailauth

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/alertmail/alertmail/internal/domain"
	"github.com/alertmail/alertmail/mailauth/dmarc"
)

// An AuditFormat is the format of a customer file ([ReadAuditCustomers])
// or of audit results ([WriteAuditResults]). The zero value is no format:
// both refuse it.
type AuditFormat string

// The formats.
const (
	// AuditCSV is RFC 4180 CSV with a header row naming the columns.
	AuditCSV AuditFormat = "csv"
	// AuditJSON is a JSON array of objects, one per customer.
	AuditJSON AuditFormat = "json"
)

// The columns of a customer file, as named in a CSV header row or as the
// keys of a JSON object. Tenant, app and from are required in a CSV header
// (from may be empty in a row); the others are optional.
const (
	colTenant       = "tenant"        // the tenant ID, unique in the file
	colApp          = "app"           // the application, as App
	colFrom         = "from"          // the customer's own sender address, or empty
	colCloud        = "cloud"         // "shared" (or empty) or "private"
	colGateway      = "gateway"       // a private cloud's own SMTP gateway
	colReportSender = "report_sender" // the scheduled-report sender, or empty
	colDKIM         = "dkim"          // whether the platform signs with the customer's domain
)

var customerColumns = []string{colTenant, colApp, colFrom, colCloud, colGateway, colReportSender, colDKIM}

// An AuditInputError is a customer of a customer file that cannot be
// audited, or a file that cannot be read at all: where it is and what is
// wrong. It is plain data.
type AuditInputError struct {
	// Line is the line of the file the error is on (for a CSV row, its
	// first line); 0 when unknown.
	Line int
	// Tenant is the tenant of the row, when it has one.
	Tenant string
	// Field is the column at fault; empty for the row or the file as a
	// whole.
	Field string
	// Value is the bad value as given.
	Value string
	// Reason says what is wrong.
	Reason string
}

// Error returns `mailauth: customers line 7 (tenant "acme"): from "x": reason`.
func (e *AuditInputError) Error() string {
	var b strings.Builder
	b.WriteString("mailauth: customers")
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	if e.Tenant != "" {
		fmt.Fprintf(&b, " (tenant %q)", e.Tenant)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s %q", e.Field, e.Value)
	}
	b.WriteString(": " + e.Reason)
	return b.String()
}

// ReadAuditCustomers reads a customer file. A CSV file starts with a header
// row naming its columns (tenant, app and from required; cloud, gateway,
// report_sender and dkim optional; in any order and case). A JSON file is an
// array of objects with the same keys, dkim a boolean.
//
// A customer that cannot be audited (a malformed row, an invalid domain, a
// tenant already read, an unknown key) is left out and reported in bad, with
// its line, and the others are returned. The error is non-nil only when the
// file cannot be read as a whole: an I/O error, a missing header or an
// unknown column, JSON that is not an array of objects; customers then
// holds those read before it.
func ReadAuditCustomers(r io.Reader, format AuditFormat) (customers []AuditCustomer, bad []*AuditInputError, err error) {
	v := &customerValidator{lines: make(map[string]int)}
	switch format {
	case AuditCSV:
		err = readCustomersCSV(r, v)
	case AuditJSON:
		err = readCustomersJSON(r, v)
	default:
		return nil, nil, fmt.Errorf("mailauth: unknown customer file format %q", format)
	}
	return v.customers, v.bad, err
}

// customerValidator checks the customers of a file one by one.
type customerValidator struct {
	customers []AuditCustomer
	bad       []*AuditInputError
	lines     map[string]int // the line each tenant (folded) was read on
}

// rawCustomer is a customer as a file gives it, before validation.
type rawCustomer struct {
	Tenant       string `json:"tenant"`
	App          string `json:"app"`
	From         string `json:"from"`
	Cloud        string `json:"cloud"`
	Gateway      string `json:"gateway"`
	ReportSender string `json:"report_sender"`
	DKIM         bool   `json:"dkim"`
}

// add validates c, read on line, and keeps it or reports it.
func (v *customerValidator) add(line int, c rawCustomer) {
	ac, err := c.validate(line)
	if err == nil {
		key := strings.ToLower(ac.Tenant)
		if first, dup := v.lines[key]; dup {
			err = &AuditInputError{Field: colTenant, Value: c.Tenant, Reason: fmt.Sprintf("appears already on line %d; each tenant has one row", first)}
		} else {
			v.lines[key] = line
		}
	}
	if err != nil {
		err.Line = line
		if err.Tenant == "" && err.Field != colTenant {
			err.Tenant = strings.TrimSpace(c.Tenant)
		}
		v.bad = append(v.bad, err)
		return
	}
	v.customers = append(v.customers, ac)
}

// validate returns c as an AuditCustomer, or its first fault.
func (c rawCustomer) validate(line int) (AuditCustomer, *AuditInputError) {
	ac := AuditCustomer{Line: line, Tenant: strings.TrimSpace(c.Tenant), App: App(strings.TrimSpace(c.App))}
	ac.DKIM = c.DKIM
	switch {
	case ac.Tenant == "":
		return ac, &AuditInputError{Field: colTenant, Value: c.Tenant, Reason: "is empty"}
	case strings.IndexFunc(ac.Tenant, unicode.IsControl) >= 0:
		return ac, &AuditInputError{Field: colTenant, Value: c.Tenant, Reason: "holds a control character"}
	case ac.App == "":
		return ac, &AuditInputError{Field: colApp, Value: c.App, Reason: "is empty"}
	case strings.IndexFunc(string(ac.App), func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return ac, &AuditInputError{Field: colApp, Value: c.App, Reason: "holds a space or a control character"}
	}
	if from := strings.TrimSpace(c.From); from != "" {
		a, _, err := customerAddress(from)
		if err != nil {
			return ac, &AuditInputError{Field: colFrom, Value: c.From, Reason: senderReason(err, from)}
		}
		ac.From = a
	}
	if rs := strings.TrimSpace(c.ReportSender); rs != "" {
		a, _, err := customerAddress(rs)
		if err != nil {
			return ac, &AuditInputError{Field: colReportSender, Value: c.ReportSender, Reason: senderReason(err, rs)}
		}
		ac.ReportSender = a
	}
	switch strings.ToLower(strings.TrimSpace(c.Cloud)) {
	case "", "shared":
		ac.Cloud = SharedCloud
	case "private":
		ac.Cloud = PrivateCloud
	default:
		return ac, &AuditInputError{Field: colCloud, Value: c.Cloud, Reason: `is neither "shared" nor "private"`}
	}
	if gw := strings.TrimSpace(c.Gateway); gw != "" {
		if ac.Cloud != PrivateCloud {
			return ac, &AuditInputError{Field: colGateway, Value: c.Gateway, Reason: "is set for a shared-cloud customer, whose mail always leaves through the platform"}
		}
		d, err := normalizeDomain(gw, domain.Host)
		if err != nil {
			return ac, &AuditInputError{Field: colGateway, Value: c.Gateway, Reason: err.Error()}
		}
		ac.Gateway = d
	}
	return ac, nil
}

// senderReason keeps what Policy.Sender's error says about the address,
// without the prefix that names its Go field.
func senderReason(err error, addr string) string {
	msg := err.Error()
	if i := strings.Index(msg, strconv.Quote(addr)); i >= 0 {
		msg = strings.TrimLeft(msg[i+len(strconv.Quote(addr)):], ": ")
	}
	return msg
}

// readCustomersCSV reads a CSV customer file into v.
func readCustomersCSV(r io.Reader, v *customerValidator) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // a short or long row is one bad customer, not a bad file
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return &AuditInputError{Line: 1, Reason: "the file is empty; it must start with a header row"}
		}
		return &AuditInputError{Line: 1, Reason: fmt.Sprintf("reading the header row: %v", csvReason(err))}
	}
	col := make(map[string]int) // column name to index
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF") // the byte order mark spreadsheets write
		}
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(customerColumns, h) {
			return &AuditInputError{Line: 1, Field: "header", Value: header[i], Reason: "is not a column of a customer file (" + strings.Join(customerColumns, ", ") + ")"}
		}
		if _, dup := col[h]; dup {
			return &AuditInputError{Line: 1, Field: "header", Value: header[i], Reason: "names a column twice"}
		}
		col[h] = i
	}
	for _, req := range []string{colTenant, colApp, colFrom} {
		if _, ok := col[req]; !ok {
			return &AuditInputError{Line: 1, Field: "header", Value: strings.Join(header, ","), Reason: "lacks the column " + req}
		}
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok {
			return rec[i]
		}
		return ""
	}
	for {
		before := cr.InputOffset()
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if pe, ok := errors.AsType[*csv.ParseError](err); ok {
			if cr.InputOffset() == before {
				return &AuditInputError{Line: pe.StartLine, Reason: csvReason(err)}
			}
			v.bad = append(v.bad, &AuditInputError{Line: pe.StartLine, Reason: "malformed CSV row: " + csvReason(err)})
			continue
		}
		if err != nil {
			return fmt.Errorf("mailauth: reading customers: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			v.bad = append(v.bad, &AuditInputError{Line: line, Tenant: strings.TrimSpace(rec[0]),
				Reason: fmt.Sprintf("malformed CSV row: %d fields, but the header has %d", len(rec), len(header))})
			continue
		}
		c := rawCustomer{
			Tenant: field(rec, colTenant), App: field(rec, colApp), From: field(rec, colFrom),
			Cloud: field(rec, colCloud), Gateway: field(rec, colGateway), ReportSender: field(rec, colReportSender),
		}
		if s := strings.TrimSpace(field(rec, colDKIM)); s != "" {
			b, ok := parseBool(s)
			if !ok {
				v.bad = append(v.bad, &AuditInputError{Line: line, Tenant: strings.TrimSpace(c.Tenant), Field: colDKIM, Value: s, Reason: "is not yes, no, true, false, 1 or 0"})
				continue
			}
			c.DKIM = b
		}
		v.add(line, c)
	}
}

// csvReason is a CSV parse error without its position, which the
// AuditInputError gives as a line.
func csvReason(err error) string {
	if pe, ok := errors.AsType[*csv.ParseError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// parseBool reads a CSV flag.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "yes", "true", "1", "y":
		return true, true
	case "no", "false", "0", "n":
		return false, true
	}
	return false, false
}

// readCustomersJSON reads a JSON customer file into v.
func readCustomersJSON(r io.Reader, v *customerValidator) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("mailauth: reading customers: %w", err)
	}
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(max(off, 0), int64(len(data)))], []byte("\n")) }
	syntaxErr := func(err error, off int64) error {
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			off = se.Offset
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return &AuditInputError{Line: lineAt(int64(len(data))), Reason: "the JSON ends early"}
		}
		return &AuditInputError{Line: lineAt(off), Reason: "malformed JSON: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return syntaxErr(err, dec.InputOffset())
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return &AuditInputError{Line: lineAt(dec.InputOffset()), Reason: "the file is not a JSON array of customers"}
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntaxErr(err, dec.InputOffset())
		}
		line := lineAt(dec.InputOffset() - int64(len(raw)))
		var c rawCustomer
		ed := json.NewDecoder(bytes.NewReader(raw))
		ed.DisallowUnknownFields()
		if err := ed.Decode(&c); err != nil {
			reason := strings.TrimPrefix(err.Error(), "json: ")
			if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok || bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
				v.bad = append(v.bad, &AuditInputError{Line: line, Tenant: strings.TrimSpace(c.Tenant), Reason: "malformed customer: " + reason})
			} else {
				v.bad = append(v.bad, &AuditInputError{Line: line, Reason: "malformed customer: not a JSON object"})
			}
			continue
		}
		v.add(line, c)
	}
	if _, err := dec.Token(); err != nil {
		return syntaxErr(err, dec.InputOffset())
	}
	if _, err := dec.Token(); err != io.EOF {
		return &AuditInputError{Line: lineAt(dec.InputOffset()), Reason: "malformed JSON: text after the array of customers"}
	}
	return nil
}

// The columns of the results, in CSV order and as JSON keys.
var resultColumns = []string{"line", "tenant", "app", "from", "report_sender", "status", "reason",
	"sender", "spf_current", "spf_current_lookups", "spf_record", "spf_lookups", "allow_list",
	"dkim_name", "dkim_record", "set_report_sender", "dmarc_rfc7489", "dmarc_rfc9989"}

// resultRow is an AuditResult as the results files show it.
type resultRow struct {
	Line              int          `json:"line,omitempty"`
	Tenant            string       `json:"tenant"`
	App               App          `json:"app"`
	From              string       `json:"from,omitempty"`
	ReportSender      string       `json:"report_sender,omitempty"`
	Status            string       `json:"status"`
	Reason            string       `json:"reason,omitempty"`
	Sender            string       `json:"sender,omitempty"`
	SPFCurrent        string       `json:"spf_current,omitempty"`
	SPFCurrentLookups *int         `json:"spf_current_lookups,omitempty"`
	SPFRecord         string       `json:"spf_record,omitempty"`
	SPFLookups        *int         `json:"spf_lookups,omitempty"`
	AllowList         []string     `json:"allow_list,omitempty"`
	DKIMName          string       `json:"dkim_name,omitempty"`
	DKIMRecord        string       `json:"dkim_record,omitempty"`
	SetReportSender   string       `json:"set_report_sender,omitempty"`
	DMARC7489         string       `json:"dmarc_rfc7489,omitempty"`
	DMARC9989         string       `json:"dmarc_rfc9989,omitempty"`
	Findings          []rowFinding `json:"findings,omitempty"`
	Notes             []string     `json:"spf_notes,omitempty"`
}

// rowFinding is a Finding with the results' JSON keys.
type rowFinding struct {
	Code Code   `json:"code"`
	Text string `json:"text"`
}

func (r *AuditResult) row() resultRow {
	c := r.Customer
	row := resultRow{Line: c.Line, Tenant: c.Tenant, App: c.App, From: c.From, ReportSender: c.ReportSender,
		Status: string(r.Status), Reason: r.Reason, Sender: r.Sender}
	if f := r.Fix; f != nil {
		if s := f.SPF; s != nil {
			row.SPFCurrent, row.Notes = s.Current, s.Notes
			if s.Current != "" {
				row.SPFCurrentLookups = &s.CurrentLookups
			}
			if s.Record != "" {
				row.SPFRecord, row.SPFLookups = s.Record, &s.Lookups
			}
		}
		row.AllowList = f.AllowList
		if k := f.DKIM; k != nil {
			row.DKIMName, row.DKIMRecord = k.Name, k.Text
		}
		row.SetReportSender = f.Sender
	}
	v7489, v9989 := r.DMARC()
	row.DMARC7489, row.DMARC9989 = verdictText(v7489), verdictText(v9989)
	if d := r.decisive; d != nil {
		for _, f := range d.Findings {
			row.Findings = append(row.Findings, rowFinding(f))
		}
	}
	return row
}

// verdictText is a DMARC verdict in a few words: "fail (p=reject)",
// "pass (p=none)", "none", "temperror".
func verdictText(v *dmarc.Verdict) string {
	if v == nil {
		return ""
	}
	if v.PolicyTag == "" || v.Policy == "" {
		return string(v.Result)
	}
	return fmt.Sprintf("%s (%s=%s)", v.Result, v.PolicyTag, v.Policy)
}

// WriteAuditResults writes results in format: CSV with a header row
// (line, tenant, app, from, report_sender, status, reason, sender,
// spf_current, spf_current_lookups, spf_record, spf_lookups, allow_list
// separated by spaces, dkim_name, dkim_record, set_report_sender,
// dmarc_rfc7489, dmarc_rfc9989), or a JSON array of objects with those keys
// (empty ones left out, allow_list an array) and the findings and SPF notes
// of the decision behind each status.
func WriteAuditResults(w io.Writer, format AuditFormat, results []*AuditResult) error {
	switch format {
	case AuditCSV:
		cw := csv.NewWriter(w)
		cw.Write(resultColumns)
		for _, r := range results {
			row := r.row()
			itoa := func(p *int) string {
				if p == nil {
					return ""
				}
				return strconv.Itoa(*p)
			}
			line := ""
			if row.Line > 0 {
				line = strconv.Itoa(row.Line)
			}
			cw.Write([]string{line, row.Tenant, string(row.App), row.From, row.ReportSender, row.Status, row.Reason,
				row.Sender, row.SPFCurrent, itoa(row.SPFCurrentLookups), row.SPFRecord, itoa(row.SPFLookups),
				strings.Join(row.AllowList, " "), row.DKIMName, row.DKIMRecord, row.SetReportSender, row.DMARC7489, row.DMARC9989})
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("mailauth: writing audit results: %w", err)
		}
		return nil
	case AuditJSON:
		rows := make([]resultRow, len(results))
		for i, r := range results {
			rows[i] = r.row()
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rows); err != nil {
			return fmt.Errorf("mailauth: writing audit results: %w", err)
		}
		return nil
	}
	return fmt.Errorf("mailauth: unknown audit results format %q", format)
}
