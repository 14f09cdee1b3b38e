package redisstore_test

import (
	"context"
	"fmt"
	"log"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/digest/redisstore"
)

// Every replica of a service builds the same store on the Redis they
// share and gives it to its digest mailer; the mailers then send each
// tenant's digest once between them. Building it does no I/O (go-redis
// connects on first use).
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()

	st, err := redisstore.New(redisstore.Config{Client: rdb, Prefix: "myapp"})
	if err != nil {
		log.Fatal(err)
	}
	_, err = digest.NewMailer(digest.MailerConfig{
		Store:    st,
		Notifier: alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error { return nil }),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("every replica's mailer shares the digest state on Redis")
	// Output: every replica's mailer shares the digest state on Redis
}
