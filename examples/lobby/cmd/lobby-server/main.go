// Command lobby-server serves the lobby example over Socket.IO on /socket.io/.
// SIGINT or SIGTERM stops it gracefully: running handlers get 5 seconds.
package main

import (
	"context"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/karl-app/karl/runtime"

	"github.com/karl-app/karl/examples/lobby/lobby"
)

func main() {
	addr := flag.String("addr", ":3000", "address to listen on")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	rt := runtime.NewServer(runtime.Options{Logger: log}) // limits, origins: see runtime.Options
	lobby.New(log, nil).Register(rt)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", rt.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("listen", "err", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("lobby-server listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		log.Error("serve", "err", err)
		os.Exit(1)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown) // stop accepting; hijacked WebSockets are closed by rt.Shutdown
	if err := rt.Shutdown(shutdown); err != nil {
		log.Error("shutdown", "err", err)
	}
	log.Info("lobby-server stopped")
}
