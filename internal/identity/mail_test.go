package identity_test

import (
	"bufio"
	"context"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/identity"
)

// smtpSink is a minimal SMTP server on loopback that records one message.
// It speaks just enough of RFC 5321 for a client that does not authenticate
// (no STARTTLS is offered, which the mailer allows only on loopback).
func smtpSink(t *testing.T) (addr string, got <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(conn)
		say := func(s string) { conn.Write([]byte(s + "\r\n")) }
		say("220 sink ESMTP")
		var transcript strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			transcript.WriteString(line)
			switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				say("250 sink")
			case strings.HasPrefix(cmd, "DATA"):
				say("354 go ahead")
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if l == ".\r\n" {
						break
					}
					transcript.WriteString(l)
				}
				say("250 queued")
			case strings.HasPrefix(cmd, "QUIT"):
				say("221 bye")
				out <- transcript.String()
				return
			default:
				say("250 ok")
			}
		}
	}()
	return ln.Addr().String(), out
}

func TestSMTPMailerDelivers(t *testing.T) {
	addr, got := smtpSink(t)
	u, _ := url.Parse("smtp://" + addr)
	m := identity.SMTPMailer{URL: u, From: "Lectern <no-reply@lectern.test>"}
	if err := m.Send(context.Background(), "reader@example.com", "Reset", "line one\nhttp://x/link\n"); err != nil {
		t.Fatal(err)
	}
	msg := <-got
	for _, want := range []string{"MAIL FROM:<no-reply@lectern.test>", "RCPT TO:<reader@example.com>", "Subject: Reset\r\n",
		"Content-Type: text/plain; charset=utf-8", "line one\r\nhttp://x/link\r\n"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}
