// Command gen makes the thesaurus's data file from the WordNet database
// files (index.* and data.* of WordNet 3.1):
//
//	go run ./internal/thesaurus/gen PATH/TO/dict > internal/thesaurus/wordnet.txt
//
// Each line is a word and the words that mean the same in its most common
// senses, space-separated; lines are sorted by word. Only single words of
// letters are kept: the search matches words, not phrases.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// senses is how many of a word's senses, most frequent first, lend it
// synonyms, by part of speech; maxSynonyms bounds a word's list.
var senses = map[string]int{"noun": 1, "verb": 1, "adj": 1, "adv": 1}

const maxSynonyms = 10

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// synset is one meaning: its words and, for adjectives, the synsets of
// similar meaning.
type synset struct {
	words   []string
	similar []string // offsets of "similar to" synsets
}

func run(args []string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: gen DICT_DIR")
	}
	dir := args[0]
	syn := map[string][]string{}
	for _, pos := range []string{"noun", "verb", "adj", "adv"} {
		sets, err := readData(filepath.Join(dir, "data."+pos))
		if err != nil {
			return err
		}
		if err := readIndex(filepath.Join(dir, "index."+pos), senses[pos], sets, syn); err != nil {
			return err
		}
	}
	words := make([]string, 0, len(syn))
	for w := range syn {
		words = append(words, w)
	}
	slices.Sort(words)
	bw := bufio.NewWriter(out)
	for _, w := range words {
		list := syn[w]
		if len(list) > maxSynonyms {
			list = list[:maxSynonyms]
		}
		fmt.Fprintf(bw, "%s %s\n", w, strings.Join(list, " "))
	}
	return bw.Flush()
}

// readData reads a data.* file: synsets by offset.
func readData(path string) (map[string]synset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sets := map[string]synset{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "  ") {
			continue // the license header
		}
		head, _, _ := strings.Cut(line, " | ")
		fs := strings.Fields(head)
		if len(fs) < 4 {
			continue
		}
		n, err := strconv.ParseInt(fs[3], 16, 32)
		if err != nil || len(fs) < 4+2*int(n)+1 {
			return nil, fmt.Errorf("%s: bad line %.40q", path, line)
		}
		var s synset
		for i := range int(n) {
			w := strings.ToLower(fs[4+2*i])
			if i := strings.IndexByte(w, '('); i >= 0 {
				w = w[:i] // an adjective's marker: "galore(ip)"
			}
			s.words = append(s.words, w)
		}
		rest := fs[4+2*n:]
		np, _ := strconv.Atoi(rest[0])
		for i := range np {
			if 1+4*i+3 < len(rest) && rest[1+4*i] == "&" {
				s.similar = append(s.similar, rest[1+4*i+1])
			}
		}
		sets[fs[0]] = s
	}
	return sets, sc.Err()
}

// readIndex adds, for each word of an index.* file, the words of its first
// n synsets (and of the synsets similar to the first) to syn.
func readIndex(path string, n int, sets map[string]synset, syn map[string][]string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "  ") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 4 || !plainWord(fs[0]) {
			continue
		}
		word := fs[0]
		count, _ := strconv.Atoi(fs[2])
		offsets := fs[len(fs)-count:]
		for i, off := range offsets[:min(n, len(offsets))] {
			s := sets[off]
			add(syn, word, s.words)
			if i == 0 {
				for _, sim := range s.similar {
					add(syn, word, sets[sim].words)
				}
			}
		}
	}
	return sc.Err()
}

func add(syn map[string][]string, word string, words []string) {
	for _, w := range words {
		if w != word && plainWord(w) && !slices.Contains(syn[word], w) {
			syn[word] = append(syn[word], w)
		}
	}
}

// plainWord reports whether w is a single word of at least three letters.
func plainWord(w string) bool {
	if len(w) < 3 {
		return false
	}
	for _, r := range w {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}
