package epub

import (
	"errors"
	"strconv"
	"unicode"
)

// The kinds of failure Read reports, for use with errors.Is. Every error Read
// and Open return for a bad book is an *Error wrapping one of them; an error
// reading the underlying file wraps that I/O error instead.
var (
	// ErrNotEPUB means the input is not an EPUB at all: not a zip archive, or
	// a zip archive without META-INF/container.xml.
	ErrNotEPUB = errors.New("not an EPUB")
	// ErrUnsafe means the archive was refused to protect the reader: an entry
	// name that escapes the archive, a zip bomb, or a limit exceeded.
	ErrUnsafe = errors.New("unsafe EPUB")
	// ErrMalformed means the archive is an EPUB but a required part of it is
	// missing, unreadable or not well-formed.
	ErrMalformed = errors.New("malformed EPUB")
)

// Error describes why a book could not be read, naming the archive entry at
// fault so that an author can find and fix it.
type Error struct {
	// Kind is ErrNotEPUB, ErrUnsafe or ErrMalformed; nil for an I/O error.
	Kind error
	// Entry is the archive entry at fault, empty when the fault is the
	// archive's as a whole.
	Entry string
	// Msg says what is wrong, in plain words.
	Msg string
	// Err is the underlying error, if any.
	Err error
}

// Error says what is wrong and where, e.g. "epub: entry ../x.xhtml: path
// escapes the archive".
func (e *Error) Error() string {
	s := "epub: "
	if e.Entry != "" {
		s += "entry " + printable(e.Entry) + ": "
	}
	s += e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap exposes both the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// printable returns s as is when it is plain text, and quoted when it holds
// anything (a newline, a control character, invalid UTF-8) that a hostile
// archive could use to garble a log line.
func printable(s string) string {
	for _, r := range s {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

func unsafeErr(entry, msg string) error {
	return &Error{Kind: ErrUnsafe, Entry: entry, Msg: msg}
}

func malformed(entry, msg string, err error) error {
	return &Error{Kind: ErrMalformed, Entry: entry, Msg: msg, Err: err}
}
