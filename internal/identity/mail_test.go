package identity_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/lectern/lectern/internal/identity"
)

func TestLogMailerShowsTheBodyOnlyWhenAskedTo(t *testing.T) {
	const link = "http://localhost:8080/api/auth/reset-password/0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name      string
		showBody  bool
		wantLevel string
	}{
		{"in development the link is logged for the developer to follow", true, "level=INFO"},
		{"elsewhere only the recipient and subject are logged", false, "level=WARN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			m := identity.LogMailer{Log: slog.New(slog.NewTextHandler(&buf, nil)), ShowBody: tc.showBody}
			if err := m.Send(context.Background(), "reader@example.com", "Reset your Lectern password", "Open "+link); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if strings.Count(out, "\n") != 1 || !strings.Contains(out, tc.wantLevel) ||
				!strings.Contains(out, "reader@example.com") || !strings.Contains(out, "Reset your Lectern password") {
				t.Fatalf("logged:\n%s", out)
			}
			if got := strings.Contains(out, link); got != tc.showBody {
				t.Errorf("link logged: %v, want %v:\n%s", got, tc.showBody, out)
			}
		})
	}
}
