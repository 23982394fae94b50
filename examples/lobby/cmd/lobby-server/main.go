// Command lobby-server serves the lobby example over Socket.IO on /socket.io/.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
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
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		_ = rt.Shutdown(shutdown)
	}()
	log.Info("lobby-server listening", "addr", *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
}
