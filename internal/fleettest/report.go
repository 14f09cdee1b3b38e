package fleettest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

// Slack is how much shorter than the limit's period the spans are in
// which [Report.MaxInPeriod] counts emails. The store decides by the times
// the dispatchers pass in, not by the messages' times, and a call that
// reaches Redis after a later one (by a millisecond, from another process,
// or after a retry) is a clock step back to the store, which moves the
// sends it recorded back to that time: the limit shortens by as much.
const Slack = 100 * time.Millisecond

// A Report is what a fleet did, read from its workers' files.
type Report struct {
	// Events is the number of events acknowledged (a Dispatch that
	// returned no error), and Outcomes their outcomes.
	Events   int
	Outcomes map[alerts.Outcome]int
	// Unacked is the number of events never acknowledged (see
	// Config.GiveUp): the host still holds them.
	Unacked int
	// Errors is the number of Dispatch calls that failed (the event was
	// offered again), NotReplicated those of them that wrapped
	// redisstore.ErrNotReplicated.
	Errors, NotReplicated int
	// FirstErrors are the texts of the first few errors.
	FirstErrors []string
	// Reoffered is the number of events offered again after a Dispatch
	// that may have recorded them (a Take or Commit whose reply was lost
	// or not replicated), and Unrecorded the number of emails sent but
	// maybe not recorded (a Commit whose reply was lost): their events
	// may be in two emails under two Message-IDs.
	Reoffered, Unrecorded int

	// Emails is the number of emails sent.
	Emails int
	// The checks of the emails, with the Record notifier only:
	//
	// Pending is the number of events left pending in the store at the
	// end (drained by Wait, leases expired).
	Pending int
	// Lost is the number of events acknowledged but neither in an email
	// nor pending at the end.
	Lost int
	// Duplicates is the number of events in more than one email, and
	// DuplicatesNewID those of them in emails of more than one Message-ID
	// (which a gateway cannot tell apart), of which DuplicatesUnexplained
	// were neither Reoffered nor in an email maybe not recorded.
	Duplicates, DuplicatesNewID, DuplicatesUnexplained int
	// MaxInPeriod is the most emails of one key in any span of the
	// limit's period less [Slack], by the messages' times.
	MaxInPeriod int

	// Elapsed runs from the first Dispatch of any worker to the last
	// acknowledgement or email of any.
	Elapsed time.Duration
	// P50 and P99 are percentiles of the latency of the Dispatch calls
	// that succeeded.
	P50, P99 time.Duration

	limit      alerts.FrequencyLimit
	acked      map[string]bool
	reoffer    map[string]bool
	unrecorded map[string]bool // Message-IDs
	mailEvents map[string][]string
	emailed    map[string]map[string]int // event ID → Message-ID → emails
}

// EventsPerSecond is Events over Elapsed.
func (r Report) EventsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Events) / r.Elapsed.Seconds()
}

// String sums the report up on one line.
func (r Report) String() string {
	s := fmt.Sprintf("events %d (%.0f/s, Dispatch p50 %v p99 %v), unacked %d, errors %d (not replicated %d; events reoffered %d; emails unrecorded %d), emails %d",
		r.Events, r.EventsPerSecond(), r.P50, r.P99, r.Unacked, r.Errors, r.NotReplicated, r.Reoffered, r.Unrecorded, r.Emails)
	if r.emailed != nil {
		s += fmt.Sprintf(", pending at end %d, lost %d, duplicates %d (under another Message-ID %d, of events not reoffered %d), max per key per period %d",
			r.Pending, r.Lost, r.Duplicates, r.DuplicatesNewID, r.DuplicatesUnexplained, r.MaxInPeriod)
	}
	return s
}

// readReport reads the workers' files.
func readReport(cfg Config, paths []string) (Report, error) {
	r := Report{Outcomes: map[alerts.Outcome]int{}, limit: cfg.Limit, acked: map[string]bool{}, reoffer: map[string]bool{},
		unrecorded: map[string]bool{}, mailEvents: map[string][]string{}}
	if cfg.Notifier == Record {
		r.emailed = map[string]map[string]int{}
	}
	var lat []time.Duration
	var first, last int64
	mails := map[string][]int64{} // tenant → message times
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return Report{}, fmt.Errorf("a worker wrote nothing (does TestMain call fleettest.Main?): %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var rec record
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				f.Close()
				return Report{}, fmt.Errorf("%s: %w", p, err)
			}
			switch rec.Kind {
			case "ack":
				r.Events++
				r.Outcomes[alerts.Outcome(rec.Outcome)]++
				r.acked[rec.ID] = true
				lat = append(lat, time.Duration(rec.Nanos))
			case "err":
				r.Errors++
				if rec.NotReplicated {
					r.NotReplicated++
				}
				if rec.Ambiguous {
					r.reoffer[rec.ID] = true
				}
				if rec.Mail != "" {
					r.unrecorded[rec.Mail] = true
				}
				if len(r.FirstErrors) < 5 {
					r.FirstErrors = append(r.FirstErrors, rec.Err)
				}
			case "gave-up":
				r.Unacked++
			case "mail":
				r.Emails++
				mails[rec.Tenant] = append(mails[rec.Tenant], rec.Nanos)
				slices.Sort(rec.Events)
				rec.Events = slices.Compact(rec.Events)
				r.mailEvents[rec.ID] = rec.Events
				for _, id := range rec.Events {
					if r.emailed[id] == nil {
						r.emailed[id] = map[string]int{}
					}
					r.emailed[id][rec.ID]++
				}
			case "sent":
				r.Emails += int(rec.Nanos)
			case "start":
				if first == 0 || rec.Nanos < first {
					first = rec.Nanos
				}
			case "end":
				last = max(last, rec.Nanos)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return Report{}, fmt.Errorf("%s: %w", p, err)
		}
	}
	for m := range r.unrecorded {
		for _, id := range r.mailEvents[m] {
			r.reoffer[id] = true
		}
	}
	r.Reoffered, r.Unrecorded = len(r.reoffer), len(r.unrecorded)
	r.Elapsed = time.Duration(last - first)
	slices.Sort(lat)
	if len(lat) > 0 {
		r.P50, r.P99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	for _, times := range mails {
		slices.Sort(times)
		j := 0
		for i := range times {
			for times[i]-times[j] >= int64(cfg.Limit.Period-Slack) {
				j++
			}
			r.MaxInPeriod = max(r.MaxInPeriod, i-j+1)
		}
	}
	return r, nil
}

// settle counts the events emailed twice and those lost, given the IDs of
// the events pending at the end.
func (r *Report) settle(pending []string) {
	r.Pending = len(pending)
	left := map[string]bool{}
	for _, id := range pending {
		left[id] = true
	}
	for id, msgs := range r.emailed {
		n := 0
		for _, c := range msgs {
			n += c
		}
		if n > 1 {
			r.Duplicates++
		}
		// An email sent again under its Message-ID is one email to a
		// gateway that drops duplicates; another Message-ID is not.
		if len(msgs) > 1 {
			r.DuplicatesNewID++
			if !r.reoffer[id] {
				r.DuplicatesUnexplained++
			}
		}
	}
	for id := range r.acked {
		if r.emailed[id] == nil && !left[id] {
			r.Lost++
		}
	}
}
