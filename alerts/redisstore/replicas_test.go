package redisstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/redistest"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// replica is one replica of a service: its own Redis client (connection
// pool), its own stores and its own dispatcher, sharing only the Redis
// server (and, in these tests, the fake clock and the recording notifier).
type replica struct {
	store *redisstore.Store
	d     *alerts.Dispatcher
}

func newReplica(t *testing.T, addr, prefix string, clock alerts.Clock, n alerts.Notifier, leaseTTL time.Duration) *replica {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { client.Close() })
	st, err := redisstore.New(redisstore.Config{Client: client, Prefix: prefix})
	require.NoError(t, err, "redisstore.New")
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: st, Notifier: n, Store: st, Clock: clock, LeaseTTL: leaseTTL,
	})
	require.NoError(t, err, "alerts.NewDispatcher")
	return &replica{store: st, d: d}
}

// saveRecipients turns active-threat on for tenant with one recipient.
func saveRecipients(t *testing.T, st *redisstore.Store, tenant string) {
	t.Helper()
	cur, err := st.Load(context.Background(), tenant)
	require.NoErrorf(t, err, "Load(%q)", tenant)
	d := cur.Edit()
	require.NoError(t, d.Set(alerts.ActiveThreat, true))
	require.NoError(t, d.SetRecipients([]string{"soc@acme.example"}))
	_, err = st.Save(context.Background(), d.Settings())
	require.NoErrorf(t, err, "Save of %q's settings", tenant)
}

func threat(id string, at time.Time) alerts.Event {
	return alerts.Event{ID: id, Tenant: "acme", Category: alerts.ActiveThreat, Score: 9, Summary: "threat " + id, Time: at}
}

// checkCoverage fails t unless every fired event is in exactly one of
// covered (events sent by emails, or pending at the end).
func checkCoverage(t *testing.T, fired, covered []string) {
	t.Helper()
	count := make(map[string]int, len(covered))
	for _, id := range covered {
		count[id]++
	}
	missing, twice := 0, 0
	for _, id := range fired {
		switch count[id] {
		case 0:
			missing++
		case 1:
		default:
			twice++
		}
		delete(count, id)
	}
	assert.Truef(t, missing == 0 && twice == 0 && len(count) == 0,
		"of %d events fired: %d never covered, %d covered more than once, %d covered but never fired", len(fired), missing, twice, len(count))
}

// TestReplicas runs six replicas (six clients, six stores, six
// dispatchers) firing events at one key through one Redis, for three
// cooling periods, with a fake clock they share. In each period exactly 5
// emails go out in total (the first three sends fail and cost no slot),
// and every event is covered by exactly one email or is still pending.
func TestReplicas(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	prefix := srv.Prefix(t)
	clock := alertstest.NewClock(t0)
	rec := alertstest.NewRecorder()
	notifier := alertstest.NewFailingNotifier(errors.New("smtp: 451 try later"), 3, rec)
	const replicas, workers, each, periods = 6, 4, 25, 3
	var rs []*replica
	for range replicas {
		rs = append(rs, newReplica(t, srv.Addr, prefix, clock, notifier, time.Minute))
	}
	saveRecipients(t, rs[0].store, "acme")

	var fired []string
	seen := 0
	for p := range periods {
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			outcomes = map[alerts.Outcome]int{}
		)
		for r, rep := range rs {
			for w := range workers {
				wg.Go(func() {
					for i := range each {
						ev := threat(fmt.Sprintf("p%d-r%d-w%d-%d", p, r, w, i), clock.Now())
						res, err := rep.d.Dispatch(context.Background(), ev)
						if !assert.NoErrorf(t, err, "Dispatch(%s)", ev.ID) {
							return
						}
						mu.Lock()
						outcomes[res.Outcome]++
						fired = append(fired, ev.ID)
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		sent := rec.Len() - seen
		seen = rec.Len()
		t.Logf("period %d: %d events, outcomes %v, %d emails", p, replicas*workers*each, outcomes, sent)
		require.Equalf(t, alerts.DefaultLimit, sent, "period %d: %d emails went out across %d replicas; want exactly %d", p, sent, replicas, alerts.DefaultLimit)
		clock.Advance(alerts.DefaultPeriod)
	}
	var covered []string
	for _, m := range rec.Messages() {
		for _, ev := range m.Events {
			covered = append(covered, ev.ID)
		}
	}
	pending, err := rs[1].d.Drain(context.Background(), "acme", alerts.ActiveThreat)
	require.NoError(t, err, "Drain")
	for _, ev := range pending {
		covered = append(covered, ev.ID)
	}
	t.Logf("%d events fired, %d in %d emails, %d pending", len(fired), len(covered)-len(pending), rec.Len(), len(pending))
	checkCoverage(t, fired, covered)
	assert.Lenf(t, notifier.Refused(), 3, "the failing notifier refused %d sends; want 3", len(notifier.Refused()))
}

// Environment of a replica process started by TestReplicaProcesses.
const (
	envRole   = "ALERTMAIL_REPLICA_ROLE" // "fire" or "die"
	envAddr   = "ALERTMAIL_REPLICA_ADDR"
	envPrefix = "ALERTMAIL_REPLICA_PREFIX"
	envName   = "ALERTMAIL_REPLICA_NAME"
	envOut    = "ALERTMAIL_REPLICA_OUT"
)

// replicaLeaseTTL is the lease of the replica processes: short, so that a
// killed replica's events come back within the test.
const replicaLeaseTTL = 2 * time.Second

// fileNotifier writes the event ids of each email it accepts as one line
// to a file ("sent id id ..."), synced, so the parent sees them even if
// the process is killed right after. If block is set it then blocks until
// its context is done: a replica that dies before it can confirm the send.
type fileNotifier struct {
	mu    sync.Mutex
	f     *os.File
	block bool
}

func (n *fileNotifier) Notify(ctx context.Context, msg *alerts.Message) error {
	ids := make([]string, len(msg.Events))
	for i, ev := range msg.Events {
		ids[i] = ev.ID
	}
	n.mu.Lock()
	word := "sent"
	if n.block {
		word = "leased"
	}
	fmt.Fprintf(n.f, "%s %s\n", word, strings.Join(ids, " "))
	n.f.Sync()
	n.mu.Unlock()
	if n.block {
		<-ctx.Done()
		select {} // never returns: the parent kills the process
	}
	return nil
}

// runReplicaProcess is the body of a replica process: it fires events at
// acme/active-threat with the system clock and records what it sent.
func runReplicaProcess(t *testing.T) {
	role, name := os.Getenv(envRole), os.Getenv(envName)
	f, err := os.OpenFile(os.Getenv(envOut), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	require.NoError(t, err)
	defer f.Close()
	n := &fileNotifier{f: f, block: role == "die"}
	rep := newReplica(t, os.Getenv(envAddr), os.Getenv(envPrefix), alerts.SystemClock{}, n, replicaLeaseTTL)
	events := 100
	if role == "die" {
		events = 1 // one lease, held when the process is killed
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < events; i += 4 {
				ev := threat(fmt.Sprintf("%s-%d", name, i), time.Now())
				fmt.Fprintf(f, "fired %s\n", ev.ID) // before Dispatch: it may be pending from here on
				_, err := rep.d.Dispatch(context.Background(), ev)
				assert.NoErrorf(t, err, "Dispatch(%s)", ev.ID)
			}
		})
	}
	wg.Wait()
}

// TestReplicaProcesses runs replicas as separate processes (this test
// binary, re-executed), each with its own client and the system clock,
// firing events at one key through one Redis.
//
// First a replica takes events for an email and is killed (SIGKILL) before
// it can confirm the send. Then four replicas fire 100 events each. The
// dead replica's lease holds its slot, so the four send 4 emails in total,
// not 5; its events are not pending while the lease runs, and come back
// when it expires. In the end every event fired is in exactly one email or
// pending (the dead replica's email counts as not sent: its events come
// back, and would be sent twice at worst).
func TestReplicaProcesses(t *testing.T) {
	if os.Getenv(envRole) != "" {
		runReplicaProcess(t)
		return
	}
	t.Parallel()
	srv := redistest.New(t)
	prefix := srv.Prefix(t)
	admin, err := redisstore.New(redisstore.Config{Client: srv.Client(t), Prefix: prefix})
	require.NoError(t, err)
	saveRecipients(t, admin, "acme")
	procs := &replicaProcs{t: t, addr: srv.Addr, prefix: prefix, dir: t.TempDir()}

	leased, killedAt, victimOut := procs.killHoldingLease()
	// While the lease runs, the victim's events are not pending.
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	g, err := admin.Take(context.Background(), key, alerts.FrequencyLimit{}, time.Now(), replicaLeaseTTL, nil)
	require.NoError(t, err, "Take")
	victimFired := firedIn(readLines(t, victimOut))
	if time.Since(killedAt) < replicaLeaseTTL/2 {
		assert.Equalf(t, len(victimFired)-len(leased), g.Pending, "during the lease %d events pending; want %d (the victim's not leased)", g.Pending, len(victimFired)-len(leased))
	}

	fired, covered, emails := procs.fire(4)
	fired = append(fired, victimFired...)
	assert.Equalf(t, alerts.DefaultLimit-1, emails, "%d emails sent by 4 replicas while a dead replica's lease held a slot; want %d", emails, alerts.DefaultLimit-1)
	// Past the victim's lease deadline its events are pending again.
	time.Sleep(time.Until(killedAt.Add(replicaLeaseTTL + 100*time.Millisecond)))
	pending, err := admin.Drain(context.Background(), key, alerts.FrequencyLimit{}, time.Now())
	require.NoError(t, err, "Drain")
	pendingIDs := eventIDs(pending)
	for _, id := range leased {
		assert.Truef(t, slices.Contains(pendingIDs, id) || slices.Contains(covered, id), "event %s of the killed replica's lease did not come back", id)
	}
	t.Logf("%d events fired by 5 processes, %d in %d emails, %d pending (the killed replica's %d among them)", len(fired), len(covered), emails, len(pending), len(leased))
	checkCoverage(t, fired, append(covered, pendingIDs...))
}

// replicaProcs starts replica processes of TestReplicaProcesses on the
// Redis at addr, under prefix, each writing what it does to a file in dir.
type replicaProcs struct {
	t                 *testing.T
	addr, prefix, dir string
}

// start starts a replica process of role ("fire" or "die") and returns it
// with the path of its file.
func (p *replicaProcs) start(role, name string) (*exec.Cmd, string) {
	t := p.t
	out := filepath.Join(p.dir, name+".log")
	cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaProcesses$", "-test.count=1")
	cmd.Env = append(os.Environ(), envRole+"="+role, envAddr+"="+p.addr, envPrefix+"="+p.prefix, envName+"="+name, envOut+"="+out)
	var buf strings.Builder
	cmd.Stdout, cmd.Stderr = &buf, &buf
	t.Cleanup(func() {
		if t.Failed() && buf.Len() > 0 {
			t.Logf("replica %s output:\n%s", name, buf.String())
		}
	})
	require.NoErrorf(t, cmd.Start(), "starting replica %s", name)
	return cmd, out
}

// killHoldingLease starts a replica that dies, kills it (SIGKILL) as soon
// as it holds a lease, and returns the events it leased, when it was
// killed and the path of its file.
func (p *replicaProcs) killHoldingLease() (leased []string, killedAt time.Time, out string) {
	t := p.t
	victim, out := p.start("die", "victim")
	deadline := time.Now().Add(30 * time.Second)
	for leased == nil {
		if time.Now().After(deadline) {
			victim.Process.Kill()
			victim.Wait()
			require.FailNow(t, "the victim replica took no lease in 30s")
		}
		for _, line := range readLines(t, out) {
			if ids, ok := strings.CutPrefix(line, "leased "); ok {
				leased = strings.Fields(ids)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	killedAt = time.Now()
	require.NoError(t, victim.Process.Signal(syscall.SIGKILL))
	victim.Wait()
	t.Logf("victim killed holding a lease on %q", leased)
	return leased, killedAt, out
}

// fire runs n replicas that fire 100 events each, waits for them, and
// returns the events they fired, those their emails covered and the
// number of emails.
func (p *replicaProcs) fire(n int) (fired, covered []string, emails int) {
	var outs []string
	var cmds []*exec.Cmd
	for i := range n {
		cmd, out := p.start("fire", "r"+strconv.Itoa(i))
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		require.NoErrorf(p.t, cmd.Wait(), "replica r%d", i)
	}
	for _, out := range outs {
		lines := readLines(p.t, out)
		fired = append(fired, firedIn(lines)...)
		for _, line := range lines {
			if ids, ok := strings.CutPrefix(line, "sent "); ok {
				emails++
				covered = append(covered, strings.Fields(ids)...)
			}
		}
	}
	return fired, covered, emails
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func firedIn(lines []string) []string {
	var ids []string
	for _, line := range lines {
		if id, ok := strings.CutPrefix(line, "fired "); ok {
			ids = append(ids, id)
		}
	}
	return ids
}
