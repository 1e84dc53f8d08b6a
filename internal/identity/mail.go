package identity

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/lectern/lectern/internal/randid"
)

// LogMailer writes messages to the log instead of sending them: the default
// when no SMTP server is configured. With ShowBody (development) the whole
// message, link included, is one info line, so a developer can follow a
// reset or verification link. Without it only the recipient and subject are
// logged, at warn level: the links in the body are credentials (a reset
// link takes over the account, and anyone can ask for one), and logs are
// read and shipped more widely than mail.
type LogMailer struct {
	Log      *slog.Logger
	ShowBody bool
}

// Send logs the message, or that it was withheld.
func (m LogMailer) Send(ctx context.Context, to, subject, body string) error {
	if !m.ShowBody {
		m.Log.WarnContext(ctx, "mail not sent: no SMTP server configured (LECTERN_SMTP_URL); its links are credentials and are not logged outside development",
			"to", to, "subject", subject)
		return nil
	}
	m.Log.InfoContext(ctx, "mail not sent: no SMTP server configured (LECTERN_SMTP_URL); message follows",
		"to", to, "subject", subject, "body", body)
	return nil
}

// SMTPMailer sends plain-text mail through an SMTP server: STARTTLS for
// smtp:// URLs (required unless the host is loopback), implicit TLS for
// smtps://, PLAIN authentication when the URL has a user.
type SMTPMailer struct {
	URL  *url.URL
	From string
}

// Send delivers one message.
func (m SMTPMailer) Send(ctx context.Context, to, subject, body string) error {
	host := m.URL.Hostname()
	port := m.URL.Port()
	if port == "" {
		port = map[string]string{"smtp": "587", "smtps": "465"}[m.URL.Scheme]
	}
	addr := net.JoinHostPort(host, port)
	d := net.Dialer{Timeout: 10 * time.Second}
	var conn net.Conn
	var err error
	if m.URL.Scheme == "smtps" {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: host}}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("smtp dial %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp hello: %w", err)
	}
	defer c.Close()
	if m.URL.Scheme == "smtp" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
				return fmt.Errorf("smtp starttls: %w", err)
			}
		} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("smtp server %s offers no STARTTLS; refusing to send credentials and links in clear text", addr)
		}
	}
	if u := m.URL.User; u != nil {
		pw, _ := u.Password()
		if err := c.Auth(smtp.PlainAuth("", u.Username(), pw, host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	from := m.From
	if a := strings.LastIndexByte(from, '<'); a >= 0 {
		from = strings.TrimSuffix(from[a+1:], ">")
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("smtp MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("smtp RCPT TO: %w", err)
	}
	wc, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	msg := "From: " + m.From + "\r\nTo: " + to + "\r\nSubject: " + subject +
		"\r\nDate: " + time.Now().UTC().Format(time.RFC1123Z) +
		"\r\nMessage-ID: <" + randid.New() + "@" + host + ">" +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n")
	if _, err := wc.Write([]byte(msg)); err != nil {
		return fmt.Errorf("smtp write: %w", err)
	}
	if err := wc.Close(); err != nil {
		return fmt.Errorf("smtp end of data: %w", err)
	}
	return c.Quit()
}
