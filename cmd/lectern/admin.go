package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/lectern/lectern/internal/config"
	"github.com/lectern/lectern/internal/insights"
)

// runAdmin is "lectern admin grant|revoke EMAIL" and "lectern admin list":
// the operator names the book's owners, who see its insights. A change
// takes effect at the owner's next request.
func runAdmin(ctx context.Context, sub string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name := "admin " + sub
	var (
		cfg   *config.Config
		email string
		err   error
	)
	if sub == "list" {
		cfg, err = parseConfig(name, args, getenv, stderr)
	} else {
		cfg, email, err = parseWithArg(name, "EMAIL", args, getenv, stderr)
	}
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	roles := insights.NewRoles(st, cfg.AdminEmails, nil)
	switch sub {
	case "grant":
		u, err := roles.Grant(ctx, email)
		if err != nil {
			return fmt.Errorf("grant %s: %w", email, err)
		}
		fmt.Fprintf(stdout, "%s is an owner of the book: /insights shows them what readers ask\n", u.Email)
	case "revoke":
		u, err := roles.Revoke(ctx, email)
		if err != nil {
			return fmt.Errorf("revoke %s: %w", email, err)
		}
		if slices.Contains(cfg.AdminEmails, u.Email) {
			fmt.Fprintf(stdout, "%s is no longer granted, but stays an owner while LECTERN_ADMIN_EMAILS lists it\n", u.Email)
			return nil
		}
		fmt.Fprintf(stdout, "%s is a reader again\n", u.Email)
	default:
		owners, err := roles.Owners(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tNAME\tOWNER BY")
		for _, o := range owners {
			var by []string
			if o.Granted {
				by = append(by, "grant")
			}
			if o.Listed {
				by = append(by, "LECTERN_ADMIN_EMAILS")
			}
			n := o.Name
			if n == "" {
				n = "(no account yet)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", o.Email, n, strings.Join(by, ", "))
		}
		return tw.Flush()
	}
	return nil
}
