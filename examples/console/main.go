package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil); err != nil {
		log.Fatal(err)
	}
}

// run serves the console until ctx is done. ready, when not nil, receives
// the address it listens on.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "localhost:8080", "the `address` to serve the console on")
	realDNS := fs.Bool("dns", false, "answer the sender check from the system's DNS resolver, not the sample zones")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("console: unexpected arguments %q", fs.Args())
	}
	cfg := config{Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if *realDNS {
		cfg.DNS = net.DefaultResolver
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c, err := newConsole(ctx, cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		cancel()
		c.Close()
		return err
	}
	fmt.Fprintf(stdout, "alertmail console on http://%s/ (Ctrl-C stops it)\n", ln.Addr())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	srv := &http.Server{Handler: c, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		srv.Shutdown(shutdown)
	}()
	err = srv.Serve(ln)
	cancel()
	c.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
