// Command mkepub zips an unpacked EPUB (a folder holding mimetype,
// META-INF/container.xml and the package) into an .epub file, the
// mimetype entry first and stored uncompressed as the format requires. The
// evaluation uses it for books published as EPUB sources.
//
//	go run ./eval/mkepub FOLDER OUT.epub
package main

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkepub:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: mkepub FOLDER OUT.epub")
	}
	dir, out := args[0], args[1]
	mimetype, err := os.ReadFile(filepath.Join(dir, "mimetype"))
	if err != nil {
		return fmt.Errorf("not an unpacked EPUB: %w", err)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	if err == nil {
		_, err = w.Write(mimetype)
	}
	if err == nil {
		err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(dir, path)
			if err != nil || rel == "mimetype" {
				return err
			}
			w, err := zw.Create(filepath.ToSlash(rel))
			if err != nil {
				return err
			}
			src, err := os.Open(path)
			if err != nil {
				return err
			}
			defer src.Close()
			_, err = io.Copy(w, src)
			return err
		})
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
	}
	return err
}
