package epub

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// ratioExempt is the uncompressed size up to which an entry is not held to
// Limits.MaxRatio: a small file cannot hurt however well it compresses, and
// tiny or repetitive files routinely compress far better than 100:1.
const ratioExempt = 1 << 20

// archive is a zip file whose every entry name has been checked, read under
// the limits of one call to Read.
type archive struct {
	files map[string]*zip.File // by cleaned name
	fold  map[string]string    // lower-cased name → name, "" when ambiguous
	lim   Limits
	used  int64 // uncompressed bytes read so far
	src   *errorRecorder
}

// errorRecorder remembers the first I/O error of the underlying file, so
// that a failing disk is not reported as a broken archive.
type errorRecorder struct {
	r   io.ReaderAt
	err error
}

func (e *errorRecorder) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		// A broken header can point before the start of the file: that is
		// the archive's fault, not the file's.
		return 0, errors.New("zip: negative offset")
	}
	n, err := e.r.ReadAt(p, off)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

func openArchive(r io.ReaderAt, size int64, lim Limits) (*archive, error) {
	if size <= 0 {
		return nil, &Error{Kind: ErrNotEPUB, Msg: "not a zip archive (the file is empty)"}
	}
	src := &errorRecorder{r: r}
	zr, err := zip.NewReader(src, size)
	if src.err != nil {
		return nil, &Error{Msg: "cannot read the archive", Err: src.err}
	}
	// ErrInsecurePath comes with a usable reader; the names are judged below
	// with a message that says which entry is at fault.
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, &Error{Kind: ErrNotEPUB, Msg: "not a zip archive"}
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, unsafeErr("", fmt.Sprintf("the archive has %d entries, over the limit of %d", len(zr.File), lim.MaxEntries))
	}
	a := &archive{files: make(map[string]*zip.File, len(zr.File)), lim: lim, src: src}
	for _, f := range zr.File {
		name, err := cleanEntryName(f.Name)
		if err != nil {
			return nil, unsafeErr(f.Name, err.Error())
		}
		if name == "" {
			continue // a directory
		}
		if _, dup := a.files[name]; dup {
			return nil, unsafeErr(f.Name, "the name appears more than once in the archive")
		}
		a.files[name] = f
	}
	return a, nil
}

// cleanEntryName checks a zip entry name and returns it cleaned, or "" for a
// directory. A name that could write or read outside an extraction folder is
// refused, whether or not the book refers to it.
func cleanEntryName(name string) (string, error) {
	switch {
	case name == "":
		return "", errors.New("the entry has an empty name")
	case strings.IndexByte(name, 0) >= 0:
		return "", errors.New("the name contains a NUL byte")
	case strings.IndexByte(name, '\\') >= 0:
		return "", errors.New("the name contains a backslash")
	case name[0] == '/':
		return "", errors.New("absolute path")
	case len(name) >= 2 && name[1] == ':' && isASCIILetter(name[0]):
		return "", errors.New("absolute path (drive letter)")
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", errors.New("path escapes the archive")
	}
	if strings.HasSuffix(name, "/") || clean == "." {
		return "", nil
	}
	return clean, nil
}

func isASCIILetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// lookup finds an entry by cleaned name and returns its actual name, falling back to a case-insensitive
// match when exactly one entry fits: books made on case-insensitive file
// systems often get the case of a reference wrong.
func (a *archive) lookup(name string) (string, *zip.File, bool) {
	if f, ok := a.files[name]; ok {
		return name, f, true
	}
	if a.fold == nil {
		a.fold = make(map[string]string, len(a.files))
		for n := range a.files {
			k := strings.ToLower(n)
			if _, seen := a.fold[k]; seen {
				a.fold[k] = ""
			} else {
				a.fold[k] = n
			}
		}
	}
	if n := a.fold[strings.ToLower(name)]; n != "" {
		return n, a.files[n], true
	}
	return "", nil, false
}

// read returns the uncompressed content of the entry f, known as name,
// enforcing the limits on the sizes the entry declares and, since a header
// can lie, on the bytes actually decompressed.
func (a *archive) read(name string, f *zip.File) ([]byte, error) {
	if f.Flags&0x1 != 0 {
		return nil, malformed(name, "the entry is encrypted", nil)
	}
	lim := a.lim
	declared, packed := f.UncompressedSize64, f.CompressedSize64
	if declared > uint64(lim.MaxEntryBytes) {
		return nil, unsafeErr(name, fmt.Sprintf("declares %d bytes uncompressed, over the limit of %d per entry", declared, lim.MaxEntryBytes))
	}
	remaining := lim.MaxTotalBytes - a.used
	if declared > uint64(remaining) {
		return nil, unsafeErr(name, fmt.Sprintf("reading it would exceed the limit of %d bytes uncompressed for the whole book", lim.MaxTotalBytes))
	}
	if declared > ratioExempt && ratioExceeds(declared, packed, lim.MaxRatio) {
		return nil, unsafeErr(name, ratioMessage(declared, packed, lim.MaxRatio))
	}

	allowed := min(lim.MaxEntryBytes, remaining, ratioCap(packed, lim.MaxRatio))
	rc, err := f.Open()
	if err != nil {
		if a.src.err != nil {
			return nil, &Error{Entry: name, Msg: "cannot read the entry", Err: a.src.err}
		}
		if errors.Is(err, zip.ErrAlgorithm) {
			return nil, malformed(name, "unsupported compression method", nil)
		}
		return nil, malformed(name, "cannot open the entry", err)
	}
	defer rc.Close()
	data, n, err := readAtMost(rc, allowed, int64(declared))
	if n > allowed {
		switch {
		case n > lim.MaxEntryBytes:
			return nil, unsafeErr(name, fmt.Sprintf("decompresses to more than the limit of %d bytes per entry", lim.MaxEntryBytes))
		case n > remaining:
			return nil, unsafeErr(name, fmt.Sprintf("reading it exceeds the limit of %d bytes uncompressed for the whole book", lim.MaxTotalBytes))
		default:
			return nil, unsafeErr(name, fmt.Sprintf("decompresses to more than %d:1 of its compressed size (zip bomb?)", lim.MaxRatio))
		}
	}
	if err != nil {
		return nil, a.readErr(name, err)
	}
	a.used += n
	return data, nil
}

// readAtMost reads r to its end but never holds more than limit+1 bytes of
// it: n > limit tells the caller that r had more to give.
func readAtMost(r io.Reader, limit, sizeHint int64) (data []byte, n int64, err error) {
	var buf bytes.Buffer
	buf.Grow(int(max(0, min(sizeHint, limit))))
	if limit < 1<<63-1 {
		r = io.LimitReader(r, limit+1)
	}
	n, err = buf.ReadFrom(r)
	return buf.Bytes(), n, err
}

// readErr explains an error met while decompressing the entry name.
func (a *archive) readErr(name string, err error) error {
	switch {
	case a.src.err != nil:
		return &Error{Entry: name, Msg: "cannot read the entry", Err: a.src.err}
	case errors.Is(err, zip.ErrFormat):
		// archive/zip reports this when the data outgrows the declared size.
		return unsafeErr(name, "decompresses to more bytes than its header declares (zip bomb?)")
	case errors.Is(err, zip.ErrChecksum):
		return malformed(name, "checksum mismatch (the archive is corrupt)", nil)
	}
	return malformed(name, "cannot decompress the entry", err)
}

// ratioExceeds reports whether unpacked/packed > limit, without overflow.
func ratioExceeds(unpacked, packed uint64, limit int64) bool {
	if packed == 0 {
		return unpacked > 0
	}
	q, r := unpacked/packed, unpacked%packed
	return q > uint64(limit) || q == uint64(limit) && r > 0
}

func ratioMessage(unpacked, packed uint64, limit int64) string {
	if packed == 0 {
		return fmt.Sprintf("%d bytes stored in 0 compressed bytes (zip bomb?)", unpacked)
	}
	return fmt.Sprintf("compression ratio %d:1 exceeds %d:1 (zip bomb?)", unpacked/packed, limit)
}

// ratioCap is how many bytes an entry of packed compressed bytes may
// decompress to: never less than ratioExempt.
func ratioCap(packed uint64, limit int64) int64 {
	const maxInt64 = 1<<63 - 1
	if packed > uint64(maxInt64/limit) {
		return maxInt64
	}
	return max(int64(packed)*limit, ratioExempt)
}
