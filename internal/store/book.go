package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Helpers both engines use for books: the checks ApplyBook makes before it
// writes, and the stored form of an embedding.

// CheckApplyBook rejects an ingestion ApplyBook cannot store as asked: a book
// without an id, a document of another book or listed twice, content for a
// document not among docs or named twice, and sections or chunks of another
// document than their content entry's. Empty BookID and DocPath fields are
// taken to mean the book's and the content entry's.
func CheckApplyBook(b Book, docs []BookDocument, content []BookContent) error {
	if b.ID == "" {
		return errors.New("book without an id")
	}
	paths := make(map[string]bool, len(docs))
	for _, d := range docs {
		if d.BookID != "" && d.BookID != b.ID {
			return fmt.Errorf("document %q belongs to book %q, not %q", d.Path, d.BookID, b.ID)
		}
		if paths[d.Path] {
			return fmt.Errorf("document %q is listed twice", d.Path)
		}
		paths[d.Path] = true
	}
	named := make(map[string]bool, len(content))
	for _, c := range content {
		if !paths[c.DocPath] {
			return fmt.Errorf("content for document %q, which is not among the book's documents", c.DocPath)
		}
		if named[c.DocPath] {
			return fmt.Errorf("content for document %q is given twice", c.DocPath)
		}
		named[c.DocPath] = true
		for _, x := range c.Sections {
			if x.DocPath != "" && x.DocPath != c.DocPath {
				return fmt.Errorf("section %d of document %q is given in the content of %q", x.Ord, x.DocPath, c.DocPath)
			}
		}
		for _, x := range c.Chunks {
			if x.DocPath != "" && x.DocPath != c.DocPath {
				return fmt.Errorf("chunk %q of document %q is given in the content of %q", x.ID, x.DocPath, c.DocPath)
			}
		}
	}
	return nil
}

// EncodeVector is an embedding's stored form: little-endian IEEE 754
// float32s; nil for none (nil or empty).
func EncodeVector(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	b := make([]byte, 0, 4*len(v))
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return b
}

// DecodeVector reads a stored embedding back; nil (NULL) is nil.
func DecodeVector(b []byte) ([]float32, error) {
	if b == nil {
		return nil, nil
	}
	if len(b) == 0 || len(b)%4 != 0 {
		return nil, fmt.Errorf("stored embedding of %d bytes is not a vector of float32s", len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}
