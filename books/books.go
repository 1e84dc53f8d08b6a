// Package books holds the bundled demo book, which lectern serve shows when
// no book is given.
package books

import (
	"embed"
	"io/fs"
)

//go:embed all:demo
var demo embed.FS

// Demo returns the demo book's folder (a Docusaurus docs folder).
func Demo() fs.FS {
	sub, err := fs.Sub(demo, "demo")
	if err != nil {
		panic(err) // the embedded tree always has it
	}
	return sub
}

// DemoName is the demo book's folder name.
const DemoName = "demo"
