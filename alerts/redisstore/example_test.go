package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
)

// Every replica of a service builds the same store on the Redis they
// share, and gives it to its dispatcher as both the settings store and
// the limiter's store; the dispatchers then behave as one across
// replicas. Building it does no I/O (go-redis connects on first use). In
// production the address is that of the Redis all replicas share.
func Example() {
	// Port 1: no Redis answers there, which the end of the example shows.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer rdb.Close()

	st, err := redisstore.New(redisstore.Config{Client: rdb, Prefix: "myapp"}) // the built-in catalog
	if err != nil {
		log.Fatal(err)
	}
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: st,
		Store:    st,
		Notifier: alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error { return nil }),
	})
	if err != nil {
		log.Fatal(err)
	}

	// Redis is not running here, so the dispatch fails with an error that
	// wraps an *OpError: the event was not sent and not recorded; a host
	// keeps it and dispatches it again with backoff.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = d.Dispatch(ctx, alerts.Event{ID: "e1", Tenant: "acme", Category: alerts.ActiveThreat, Score: 9})
	if _, ok := errors.AsType[*redisstore.OpError](err); ok {
		fmt.Println("redis unavailable: keep event e1 and retry")
	}
	// Output: redis unavailable: keep event e1 and retry
}

// A prefix is used verbatim in every key, so it may hold only
// [A-Za-z0-9._:-]; tenant ids, by contrast, may hold anything
// alerts.ValidateTenant accepts.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	_, err := redisstore.New(redisstore.Config{Client: rdb, Prefix: "my app{1}"})
	fmt.Println(err)
	fmt.Println(errors.Is(err, redisstore.ErrInvalidKey))
	// Output:
	// redisstore: invalid prefix "my app{1}": character ' ' at 2 is not one of [A-Za-z0-9._:-]
	// true
}
