package ratelimit

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Rule allows up to Max requests (or failures, for the lockout counter) per
// Window. Write it as "<max>/<window>", e.g. "3/10s" or "100/1m"; see
// ParseRule.
type Rule struct {
	Max    int
	Window time.Duration
}

// Bounds on a valid Rule. MaxWindow keeps time arithmetic far from overflow
// and is longer than any sensible rate-limit or lockout window.
const (
	MaxMax    = 1 << 30
	MaxWindow = 24 * time.Hour
)

// ErrInvalidRule is wrapped by every error from ParseRule, ParseSetting and
// Rule.Validate.
var ErrInvalidRule = errors.New("ratelimit: invalid rule")

// DefaultRule is Better Auth's rule for /sign-in*, /sign-up*,
// /change-password* and /change-email*: 3 requests per 10 seconds. It is what
// an empty setting means in ParseSetting.
func DefaultRule() Rule { return Rule{Max: 3, Window: 10 * time.Second} }

// String formats r so that ParseRule reads it back, e.g. "3/10s", "100/1m0s".
func (r Rule) String() string {
	return strconv.Itoa(r.Max) + "/" + r.Window.String()
}

// Validate reports whether r can be used: 1 ≤ Max ≤ MaxMax and
// 0 < Window ≤ MaxWindow. The Limiter denies everything for an invalid rule
// rather than guessing what was meant.
func (r Rule) Validate() error {
	if r.Max < 1 || r.Max > MaxMax {
		return fmt.Errorf("%w: max %d outside [1, %d]", ErrInvalidRule, r.Max, MaxMax)
	}
	if r.Window <= 0 || r.Window > MaxWindow {
		return fmt.Errorf("%w: window %v outside (0, %v]", ErrInvalidRule, r.Window, MaxWindow)
	}
	return nil
}

// ParseRule parses "<max>/<window>": max is a positive decimal integer and
// window a positive Go duration ("10s", "1m", "15m", "1h30m"). Surrounding
// spaces are ignored. "0/10s", "x", "3/0s" and "3/10" (no unit) are errors.
func ParseRule(s string) (Rule, error) {
	t := strings.TrimSpace(s)
	maxStr, winStr, ok := strings.Cut(t, "/")
	if !ok {
		return Rule{}, fmt.Errorf("%w %q: want <max>/<window>, e.g. 3/10s", ErrInvalidRule, s)
	}
	if maxStr == "" || strings.TrimLeft(maxStr, "0123456789") != "" {
		return Rule{}, fmt.Errorf("%w %q: max %q is not a positive integer", ErrInvalidRule, s, maxStr)
	}
	n, err := strconv.Atoi(maxStr)
	if err != nil {
		return Rule{}, fmt.Errorf("%w %q: max: %w", ErrInvalidRule, s, err)
	}
	w, err := time.ParseDuration(winStr)
	if err != nil {
		return Rule{}, fmt.Errorf("%w %q: window: %w", ErrInvalidRule, s, err)
	}
	r := Rule{Max: n, Window: w}
	if err := r.Validate(); err != nil {
		return Rule{}, fmt.Errorf("rule %q: %w", s, err)
	}
	return r, nil
}

// ParseSetting reads a configuration value for a rule: "" means DefaultRule
// (enabled), "off" (any case) disables the limit, and anything else goes
// through ParseRule.
func ParseSetting(s string) (rule Rule, enabled bool, err error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return DefaultRule(), true, nil
	case strings.EqualFold(t, "off"):
		return Rule{}, false, nil
	}
	r, err := ParseRule(t)
	if err != nil {
		return Rule{}, false, err
	}
	return r, true, nil
}

// AddressKey is the part of a client's address that a per-address limit
// counts: an IPv4 address, or the /64 network of an IPv6 one, which one
// subscriber usually holds whole (2^64 addresses, one count).
func AddressKey(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is4() || a.Is4In6():
		return a.Unmap().String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
