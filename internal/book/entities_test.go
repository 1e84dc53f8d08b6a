package book

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCharacterReferencesAreDecoded checks that accents written as HTML
// character references, as many Spanish and French sources do, reach the
// search as the letters they stand for, while code keeps them literal.
func TestCharacterReferencesAreDecoded(t *testing.T) {
	dir := t.TempDir()
	src := "# Gu&iacute;a\n\nEl c&oacute;digo se compila r&aacute;pido &amp; bien, con `a &amp;&amp; b`.\n"
	if err := os.WriteFile(filepath.Join(dir, "intro.md"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := b.Docs[0]
	text := d.Sections[0].Text
	if d.Title != "Guía" || !strings.Contains(text, "El código se compila rápido & bien") || !strings.Contains(text, "a &amp;&amp; b") {
		t.Errorf("title %q, text %q", d.Title, text)
	}
}
