package password

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// argonPrefix starts every hash this package writes.
const argonPrefix = "$argon2id$"

// maxEncodedLen bounds the length of a stored hash we are willing to parse.
// The longest valid argon2id string (64-byte salt and key, maximal
// parameters) is about 220 characters; a Better Auth hash is 32+1+128.
const maxEncodedLen = 256

// argonHash is a parsed argon2id PHC string.
type argonHash struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// params returns the Params that would produce a hash of this shape.
func (a *argonHash) params() Params {
	return Params{
		Memory:  a.memory,
		Time:    a.time,
		Threads: a.threads,
		SaltLen: uint32(len(a.salt)),
		KeyLen:  uint32(len(a.key)),
	}
}

// encodeArgon2id writes the PHC string for the given parameters, salt and key.
func encodeArgon2id(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	buf := make([]byte, 0, 64+b64.EncodedLen(len(salt))+b64.EncodedLen(len(key)))
	buf = append(buf, argonPrefix...)
	buf = append(buf, "v=19$m="...)
	buf = strconv.AppendUint(buf, uint64(p.Memory), 10)
	buf = append(buf, ",t="...)
	buf = strconv.AppendUint(buf, uint64(p.Time), 10)
	buf = append(buf, ",p="...)
	buf = strconv.AppendUint(buf, uint64(p.Threads), 10)
	buf = append(buf, '$')
	buf = b64.AppendEncode(buf, salt)
	buf = append(buf, '$')
	buf = b64.AppendEncode(buf, key)
	return string(buf)
}

// parseArgon2id parses "$argon2id$v=19$m=M,t=T,p=P$salt$key" strictly: the
// version must be 19 (0x13, the only one x/crypto implements), the three
// parameters must appear in that order with canonical decimal values inside
// lim, and salt and key must be canonical unpadded standard base64.
func parseArgon2id(s string, lim limits) (*argonHash, error) {
	if len(s) > maxEncodedLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxEncodedLen)
	}
	rest, ok := strings.CutPrefix(s, argonPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: not an argon2id PHC string", ErrMalformedHash)
	}
	fields := strings.Split(rest, "$")
	if len(fields) != 4 {
		return nil, fmt.Errorf("%w: want 4 fields after %q, got %d", ErrMalformedHash, argonPrefix, len(fields))
	}
	if fields[0] != "v=19" {
		return nil, fmt.Errorf("%w: unsupported version %q (want v=19)", ErrMalformedHash, fields[0])
	}

	var h argonHash
	params := strings.Split(fields[1], ",")
	if len(params) != 3 {
		return nil, fmt.Errorf("%w: want parameters m,t,p, got %q", ErrMalformedHash, fields[1])
	}
	var vals [3]uint64
	for i, name := range [3]string{"m=", "t=", "p="} {
		digits, ok := strings.CutPrefix(params[i], name)
		if !ok {
			return nil, fmt.Errorf("%w: parameter %d is %q, want %s…", ErrMalformedHash, i+1, params[i], name)
		}
		v, err := parseDecimal(digits)
		if err != nil {
			return nil, fmt.Errorf("%w: parameter %s: %w", ErrMalformedHash, name[:1], err)
		}
		vals[i] = v
	}
	// Reject before narrowing so a huge value cannot wrap into range.
	if vals[0] > uint64(lim.maxMemory) || vals[1] > uint64(lim.maxTime) || vals[2] > uint64(lim.maxThreads) {
		return nil, fmt.Errorf("%w: parameters m=%d,t=%d,p=%d exceed the caps m≤%d,t≤%d,p≤%d",
			ErrMalformedHash, vals[0], vals[1], vals[2], lim.maxMemory, lim.maxTime, lim.maxThreads)
	}
	h.memory, h.time, h.threads = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	if err := lim.check(h.memory, h.time, h.threads); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMalformedHash, err)
	}

	var err error
	if h.salt, err = decodeB64(fields[2], minStoredSalt, maxStoredSalt); err != nil {
		return nil, fmt.Errorf("%w: salt: %w", ErrMalformedHash, err)
	}
	if h.key, err = decodeB64(fields[3], minKey, maxKey); err != nil {
		return nil, fmt.Errorf("%w: key: %w", ErrMalformedHash, err)
	}
	return &h, nil
}

// parseDecimal parses a PHC decimal value: ASCII digits only, no sign and no
// leading zeros, at most 10 digits.
func parseDecimal(s string) (uint64, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("bad decimal %q", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("bad decimal %q", s)
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad decimal %q: %w", s, err)
	}
	return v, nil
}

// decodeB64 decodes canonical unpadded standard base64 of min to max bytes.
func decodeB64(s string, minLen, maxLen int) ([]byte, error) {
	enc := base64.RawStdEncoding.Strict()
	n := enc.DecodedLen(len(s))
	if n < minLen || n > maxLen {
		return nil, fmt.Errorf("%d bytes, want %d to %d", n, minLen, maxLen)
	}
	b := make([]byte, n)
	got, err := enc.Decode(b, []byte(s))
	if err != nil {
		return nil, fmt.Errorf("bad base64: %w", err)
	}
	// The decoder silently skips '\r' and '\n'; a string containing them
	// decodes to fewer bytes than its length implies. Refuse it.
	if got != n || base64.RawStdEncoding.EncodedLen(got) != len(s) {
		return nil, fmt.Errorf("bad base64: non-canonical encoding")
	}
	return b, nil
}
