package fleettest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
)

// EnvWorker is the environment variable that holds a worker's [Config],
// as JSON, in the processes [Start] runs.
const EnvWorker = "ALERTMAIL_FLEET_WORKER"

// A NotifierKind is what the workers' dispatchers send emails with.
type NotifierKind string

// The notifiers of a fleet.
const (
	// Record writes each email (its Message-ID, key, time and event IDs)
	// to the worker's file, for [Report]'s checks. The default.
	Record NotifierKind = "record"
	// Null accepts each email and only counts it.
	Null NotifierKind = "null"
	// SMTP sends each email with alerts/smtpnotify to Config.SMTPAddr
	// (see [StartSink]).
	SMTP NotifierKind = "smtp"
)

// A Config describes a fleet of dispatcher processes and the events they
// send. Addrs and Events are required; every other field has a working
// zero value.
type Config struct {
	// Addrs are the addresses of the Redis deployment: one server's, or
	// the nodes of a cluster (with Cluster set).
	Addrs []string
	// Cluster says that Addrs are the nodes of a Redis Cluster.
	Cluster bool
	// Prefix begins the stores' keys. Default: "fleet".
	Prefix string
	// Durability is the stores' Config.Durability. Default: none.
	Durability redisstore.Durability
	// Workers is the number of dispatcher processes. Default: 4.
	Workers int
	// Concurrency is the number of goroutines of each worker that
	// dispatch events. Default: 8.
	Concurrency int
	// Tenants is the number of tenants the events spread over, each with
	// one category, Active Threat, on and one recipient. Default: 100.
	Tenants int
	// Events is the number of events each worker sends.
	Events int
	// Rate is the events per second each worker offers. Default: 0, as
	// fast as Concurrency allows.
	Rate float64
	// Limit is the frequency limit of every key. Default: the
	// dispatcher's, 5 emails and a 4-hour cooling period.
	Limit alerts.FrequencyLimit
	// LeaseTTL is the dispatchers' lease. Default: 5 s.
	LeaseTTL time.Duration
	// Notifier is what the emails go out with. Default: [Record].
	Notifier NotifierKind
	// SMTPAddr is the relay's "host:port" for the [SMTP] notifier.
	SMTPAddr string
	// PollInterval is the dispatchers' DispatcherConfig.PollInterval, the
	// longest Run sleeps before asking the store what is due. Default:
	// the dispatcher's.
	PollInterval time.Duration
	// Async is the dispatchers' DispatcherConfig.Async: Dispatch records
	// the event, Run sends it. Default: false, Dispatch sends.
	Async bool
	// Drain is how long a worker keeps running after its last event once
	// it has sent nothing for as long (Dispatcher.Run sends what the
	// limit held back, what failed, and with Async every email). Default:
	// the limit's period plus LeaseTTL.
	Drain time.Duration
	// GiveUp is how long a worker offers an event whose Dispatch keeps
	// failing before it counts it as never acknowledged. Default: 30 s.
	GiveUp time.Duration
	// Seeded says that the tenants' settings are saved already
	// ([SeedSettings]), so that Start does not save them.
	Seeded bool

	// Set by Start for each worker.
	Index int    // the worker's number, from 0
	Out   string // the worker's file of records
}

// withDefaults returns cfg with its zero fields set.
func (cfg Config) withDefaults() Config {
	if cfg.Prefix == "" {
		cfg.Prefix = "fleet"
	}
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 8
	}
	if cfg.Tenants == 0 {
		cfg.Tenants = 100
	}
	cfg.Limit = cfg.Limit.WithDefaults()
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = 5 * time.Second
	}
	if cfg.Notifier == "" {
		cfg.Notifier = Record
	}
	if cfg.Drain == 0 {
		cfg.Drain = cfg.Limit.Period + cfg.LeaseTTL
	}
	if cfg.GiveUp == 0 {
		cfg.GiveUp = 30 * time.Second
	}
	return cfg
}

// Tenant returns the id of tenant number i.
func Tenant(i int) string { return fmt.Sprintf("tenant-%05d", i) }

// A Fleet is the running worker processes of one [Start].
type Fleet struct {
	cfg   Config
	start time.Time
	procs []*proc
}

type proc struct {
	cfg    Config
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan error
}

// Start saves the settings of cfg.Tenants tenants (Active Threat on, one
// recipient), unless cfg.Seeded, and starts cfg.Workers processes of the running test binary,
// each a worker (see [Main]) with its share of the events. It fails tb if
// a process does not start; the processes are killed if tb ends before
// [Fleet.Wait].
func Start(tb testing.TB, cfg Config) *Fleet {
	tb.Helper()
	cfg = cfg.withDefaults()
	if len(cfg.Addrs) == 0 || cfg.Events <= 0 {
		tb.Fatalf("fleettest: Config.Addrs %q and Config.Events %d: want both", cfg.Addrs, cfg.Events)
	}
	if !cfg.Seeded {
		SeedSettings(tb, cfg)
	}
	exe, err := os.Executable()
	if err != nil {
		tb.Fatalf("fleettest: %v", err)
	}
	dir := tb.TempDir()
	f := &Fleet{cfg: cfg, start: time.Now()}
	for i := range cfg.Workers {
		wc := cfg
		wc.Index, wc.Out = i, filepath.Join(dir, "worker-"+strconv.Itoa(i)+".jsonl")
		env, err := json.Marshal(wc)
		if err != nil {
			tb.Fatalf("fleettest: %v", err)
		}
		// -test.run=^$: a binary whose TestMain does not call Main runs
		// no test, and Wait reports that the worker wrote nothing.
		p := &proc{cfg: wc, cmd: exec.Command(exe, "-test.run=^$", "-test.bench=^$"), done: make(chan error, 1)}
		p.cmd.Env = append(os.Environ(), EnvWorker+"="+string(env))
		p.cmd.Stdout, p.cmd.Stderr = &p.stderr, &p.stderr
		if err := p.cmd.Start(); err != nil {
			tb.Fatalf("fleettest: starting worker %d: %v", i, err)
		}
		go func() { p.done <- p.cmd.Wait() }()
		f.procs = append(f.procs, p)
	}
	tb.Cleanup(func() {
		for _, p := range f.procs {
			p.cmd.Process.Kill()
		}
	})
	return f
}

// Wait waits for every worker to finish and returns their [Report],
// failing tb if a worker fails or does not finish within timeout. With
// the Record notifier the Report also counts the events still pending in
// the store.
func (f *Fleet) Wait(tb testing.TB, timeout time.Duration) Report {
	tb.Helper()
	deadline := time.After(timeout)
	for i, p := range f.procs {
		select {
		case err := <-p.done:
			if err != nil {
				tb.Fatalf("fleettest: worker %d: %v\n%s", i, err, p.stderr.String())
			}
		case <-deadline:
			tb.Fatalf("fleettest: worker %d did not finish within %v\n%s", i, timeout, p.stderr.String())
		}
	}
	var outs []string
	for _, p := range f.procs {
		outs = append(outs, p.cfg.Out)
	}
	r, err := readReport(f.cfg, outs)
	if err != nil {
		tb.Fatalf("fleettest: %v", err)
	}
	if f.cfg.Notifier == Record {
		pending, err := drainAll(f.cfg)
		if err != nil {
			tb.Fatalf("fleettest: draining what is left: %v", err)
		}
		r.settle(pending)
	}
	return r
}

// NewClient returns a client of the deployment of cfg: a cluster client
// of its nodes, or a client of its one server.
func NewClient(cfg Config) redis.Scripter {
	if cfg.Cluster {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: cfg.Addrs})
	}
	return redis.NewClient(&redis.Options{Addr: cfg.Addrs[0]})
}

// closeClient closes a client NewClient returned.
func closeClient(c redis.Scripter) {
	if cl, ok := c.(interface{ Close() error }); ok {
		cl.Close()
	}
}

// SeedSettings saves the settings of the tenants of cfg, Active Threat on
// with one recipient, in 16 goroutines. Start calls it.
func SeedSettings(tb testing.TB, cfg Config) {
	tb.Helper()
	cfg = cfg.withDefaults()
	client := NewClient(cfg)
	defer closeClient(client)
	st, err := redisstore.New(redisstore.Config{Client: client, Prefix: cfg.Prefix})
	if err != nil {
		tb.Fatalf("fleettest: %v", err)
	}
	ctx := context.Background()
	next := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range next {
				if err := seed(ctx, st, Tenant(i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range cfg.Tenants {
		select {
		case next <- i:
		case err := <-errs:
			close(next)
			wg.Wait()
			tb.Fatalf("fleettest: saving settings: %v", err)
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		tb.Fatalf("fleettest: saving settings: %v", err)
	default:
	}
}

func seed(ctx context.Context, st *redisstore.Store, tenant string) error {
	cur, err := st.Load(ctx, tenant)
	if err != nil {
		return err
	}
	d := cur.Edit()
	if err := d.Set(alerts.ActiveThreat, true); err != nil {
		return err
	}
	if err := d.SetRecipients([]string{"soc@" + tenant + ".example"}); err != nil {
		return err
	}
	_, err = st.Save(ctx, d.Settings())
	return err
}

// drainAll drains the pending events of every key of cfg, its leases
// expired, and returns their IDs.
func drainAll(cfg Config) ([]string, error) {
	client := NewClient(cfg)
	defer closeClient(client)
	st, err := redisstore.New(redisstore.Config{Client: client, Prefix: cfg.Prefix})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	// A time past every lease: Drain expires them first.
	now := time.Now().Add(cfg.LeaseTTL + time.Second)
	var ids []string
	for i := range cfg.Tenants {
		key := alerts.LimitKey{Tenant: Tenant(i), Category: alerts.ActiveThreat}
		evs, err := st.Drain(ctx, key, cfg.Limit, now)
		if err != nil {
			return nil, fmt.Errorf("draining %v: %w", key, err)
		}
		for _, ev := range evs {
			ids = append(ids, ev.ID)
		}
	}
	return ids, nil
}
