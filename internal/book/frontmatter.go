package book

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// frontMatter is a document's YAML header, with the keys Docusaurus gives a
// meaning read into fields and every key kept in Meta.
type frontMatter struct {
	ID, Title, Slug, SidebarLabel, Description string
	Position                                   *float64
	PageNumber                                 *int
	Meta                                       map[string]any
}

// splitFrontMatter separates a leading "---" YAML block from the body. It
// returns the YAML, the body, and the 1-based line where the body starts.
func splitFrontMatter(src []byte) (yml, body []byte, bodyLine int) {
	if !bytes.HasPrefix(src, []byte("---")) {
		return nil, src, 1
	}
	first := bytes.IndexByte(src, '\n')
	if first < 0 || strings.TrimSpace(string(src[3:first])) != "" {
		return nil, src, 1
	}
	line := 2
	for i := first + 1; i < len(src); {
		end := bytes.IndexByte(src[i:], '\n')
		next := len(src)
		if end >= 0 {
			next = i + end + 1
		}
		l := strings.TrimRight(string(src[i:next]), "\r\n \t")
		if l == "---" || l == "..." {
			return src[first+1 : i], src[next:], line + 1
		}
		line++
		i = next
	}
	// No closing line: Docusaurus treats the whole file as content.
	return nil, src, 1
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// parseFrontMatter reads the YAML header. Values of odd types are accepted
// where a reader would expect them to work (a numeric title, a string
// position); a header that is not YAML or not a mapping is an error whose
// line is counted from the top of the file.
func parseFrontMatter(yml []byte) (frontMatter, error) {
	fm := frontMatter{Meta: map[string]any{}}
	if len(bytes.TrimSpace(yml)) == 0 {
		return fm, nil
	}
	var raw any
	if err := yaml.Unmarshal(yml, &raw); err != nil {
		msg := err.Error()
		line := 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			line = n + 1 // the "---" line comes first
			msg = strings.TrimSpace(yamlLine.ReplaceAllString(msg, ""))
		}
		msg = strings.TrimPrefix(strings.TrimPrefix(msg, "yaml:"), " ")
		return fm, &lineError{Line: line, Msg: "front matter: " + strings.TrimSuffix(msg, ":")}
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return fm, &lineError{Line: 2, Msg: "front matter must be a mapping of keys to values"}
	}
	fm.Meta = jsonSafe(m).(map[string]any)
	str := func(k string) string {
		switch v := m[k].(type) {
		case string:
			return strings.TrimSpace(v)
		case nil:
			return ""
		case int, int64, float64, bool:
			return fmt.Sprint(v)
		}
		return ""
	}
	fm.ID, fm.Title, fm.Slug = str("id"), str("title"), str("slug")
	fm.SidebarLabel, fm.Description = str("sidebar_label"), str("description")
	if p, ok := number(m["sidebar_position"]); ok {
		fm.Position = &p
	}
	if p, ok := number(m["page_number"]); ok && p == math.Trunc(p) && math.Abs(p) < 1e9 {
		n := int(p)
		fm.PageNumber = &n
	}
	return fm, nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, !math.IsNaN(n) && !math.IsInf(n, 0)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

// jsonSafe converts YAML values into what encoding/json can marshal: maps
// with non-string keys get string keys, times become strings, NaN and
// infinities become strings.
func jsonSafe(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonSafe(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = jsonSafe(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonSafe(e)
		}
		return out
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprint(x)
		}
		return x
	case string, bool, int, int64, uint64, nil:
		return x
	}
	return fmt.Sprint(v)
}
