// Command lectern is the Lectern server and its tools: a self-hosted reading
// companion with a Better Auth–compatible identity service.
//
// Usage:
//
//	lectern serve     identity, API and web on one port
//	lectern auth      the identity service alone
//	lectern migrate   apply database migrations and exit
//	lectern keys rotate|list
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "lectern:", err)
		os.Exit(1)
	}
}
