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

// TestBookLanguage checks the language a book says it is in: a Docusaurus
// site's i18n.defaultLocale, else what most of its documents' front matter
// gives.
func TestBookLanguage(t *testing.T) {
	site := t.TempDir()
	write(t, filepath.Join(site, "docusaurus.config.ts"), "export default {\n  title: 'Mi sitio',\n  i18n: {\n    defaultLocale: 'es',\n    locales: ['es', 'en'],\n  },\n};\n")
	write(t, filepath.Join(site, "docs/intro.md"), "# Introducción\n\nTexto.\n")
	folder := t.TempDir()
	write(t, filepath.Join(folder, "a.md"), "---\nlang: zh-Hans\n---\n# 一\n\n文本。\n")
	write(t, filepath.Join(folder, "b.md"), "---\nlang: zh-Hans\n---\n# 二\n\n文本。\n")
	write(t, filepath.Join(folder, "c.md"), "---\nlanguage: en\n---\n# Three\n\nText.\n")
	plain := t.TempDir()
	write(t, filepath.Join(plain, "a.md"), "# One\n\nText.\n")
	for dir, want := range map[string]string{site: "es", folder: "zh-Hans", plain: ""} {
		b, err := Load(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if b.Language != want {
			t.Errorf("%s: language %q, want %q", filepath.Base(dir), b.Language, want)
		}
	}
}

// TestSiteTranslation checks that a Docusaurus site's translation can be
// served as the book, in its language, and that a locale the site lacks is
// refused.
func TestSiteTranslation(t *testing.T) {
	site := t.TempDir()
	writeTree(t, site, map[string]string{
		"docusaurus.config.js": "module.exports = { title: 'Site', i18n: { defaultLocale: 'en', locales: ['en', 'es'] } };\n",
		"docs/intro.md":        "# Introduction\n\nText.\n",
		"i18n/es/docusaurus-plugin-content-docs/current/intro.md": "# Introducción\n\nTexto.\n",
	})
	b, err := Load(site, Options{Locale: "es"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Language != "es" || len(b.Docs) != 1 || b.Docs[0].Title != "Introducción" {
		t.Errorf("language %q, docs %d, first %q", b.Language, len(b.Docs), b.Docs[0].Title)
	}
	for _, bad := range []string{"fr", "../../docs"} {
		if _, err := Load(site, Options{Locale: bad}); err == nil {
			t.Errorf("locale %q accepted", bad)
		}
	}
	if b, err := Load(site, Options{}); err != nil || b.Language != "en" || b.Docs[0].Title != "Introduction" {
		t.Errorf("the default: %v, %+v", err, b)
	}
}

// TestLinksAsDocusaurusResolvesThem checks the forms of link to another
// document that Docusaurus resolves, and that a link to a document the
// book lacks is reported, not silently left broken.
func TestLinksAsDocusaurusResolvesThem(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"intro.md": "# Intro\n\n[relative](guides/setup.md#install), [from the root](/guides/setup.md), " +
			"[from the site](@site/docs/guides/setup.mdx), [a page](/docs/guides/setup), [gone](./missing.md), " +
			"[outside](https://example.com/a.md).\n",
		"guides/setup.mdx": "---\ntitle: Setup\n---\n\n[back](../intro.md) and [nowhere](../nowhere.mdx).\n\n## Install\n\nRun it.\n",
	})
	b, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var intro *Doc
	for _, d := range b.Docs {
		if d.Path == "intro.md" {
			intro = d
		}
	}
	for _, want := range []string{`href="/docs/guides/setup#install"`, `href="/docs/guides/setup"`, `href="https://example.com/a.md"`} {
		if !strings.Contains(intro.HTML, want) {
			t.Errorf("no %s in\n%s", want, intro.HTML)
		}
	}
	if strings.Count(intro.HTML, `href="/docs/guides/setup"`) != 3 {
		t.Errorf("the root, site and page forms should all link to the page:\n%s", intro.HTML)
	}
	var got []string
	for _, p := range b.Problems {
		got = append(got, p.String())
	}
	want := []string{"intro.md:3: unresolved link ./missing.md", "guides/setup.mdx:5: unresolved link ../nowhere.mdx"}
	if strings.Join(got, "|") != strings.Join(want, "|") && strings.Join(got, "|") != want[1]+"|"+want[0] {
		t.Errorf("problems %q, want %q", got, want)
	}
}

// TestComponentsShownAsTextAreListed checks that the MDX components the
// book cannot render are reported with their line, once per document, and
// that plain HTML elements and the components it renders (tabs) are not.
func TestComponentsShownAsTextAreListed(t *testing.T) {
	dir := t.TempDir()
	src := "# Tabs\n\nimport Tabs from '@theme/Tabs';\n\n<Tabs>\n  <TabItem value=\"a\" label=\"A\">\n\nFirst.\n\n  </TabItem>\n</Tabs>\n\n" +
		"Some <kbd>Ctrl</kbd> and <BrowserWindow>inline</BrowserWindow>, <Tabs> again, `<Provider>` in code.\n\n" +
		"```ts title=\"Props<T> example\"\ntype A = Props<T>;\n```\n"
	if err := os.WriteFile(filepath.Join(dir, "tabs.mdx"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range b.Problems {
		got = append(got, p.String())
	}
	want := []string{"tabs.mdx:13: component <BrowserWindow> shown as its text"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("problems\n%q\nwant\n%q", got, want)
	}
	if !strings.Contains(b.Docs[0].HTML, "First.") || strings.Contains(b.Docs[0].HTML, "&lt;Tabs") || !strings.Contains(b.Docs[0].HTML, "type A = Props&lt;T&gt;;") {
		t.Errorf("the components' text should be shown, their markup not:\n%s", b.Docs[0].HTML)
	}
}

// TestMDXBlocksAndPartials checks the two ways Docusaurus docs embed MDX:
// an mdx-code-block fence is rendered, not shown as code, and imported
// partials are inlined where they are shown, beside the document or from
// the site; a missing one is reported.
func TestMDXBlocksAndPartials(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"docusaurus.config.js": "export default {title: 'Site'};\n",
		"docs/blocks.md": "# Blocks\n\n````mdx-code-block\nimport Tabs from '@theme/Tabs';\n\n<Tabs>\n<TabItem label=\"Shell\">\n\n```bash\nnpm run build\n```\n\n</TabItem>\n</Tabs>\n\n<details>\n<summary>More <b>options</b></summary>\n\nHidden *text*.\n\n</details>\n````\n\n" +
			"```js\n<Tabs>kept as code</Tabs>\n```\n",
		"docs/guide/setup.mdx":    "# Setup\n\nimport Install from './_install.mdx';\nimport Note from '@site/src/partials/_note.md';\nimport Gone from './_gone.mdx';\n\n<Install />\n\nBetween.\n\n<Note/>\n\n<Gone />\n",
		"docs/guide/_install.mdx": "---\ntitle: ignored\n---\nRun the **installer** first.\n\nimport Deeper from '../_deeper.md';\n\n<Deeper />\n",
		"docs/_deeper.md":         "Deeper text, [linking](./guide/setup.mdx#setup) from where it is.\n",
		"src/partials/_note.md":   ":::note\n\nA shared note.\n\n:::\n",
	})
	b, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Docs) != 2 {
		t.Fatalf("%d documents; the partials are not documents of their own", len(b.Docs))
	}
	html := map[string]string{}
	for _, d := range b.Docs {
		html[d.Path] = d.HTML
	}
	blocks := html["blocks.md"]
	for _, want := range []string{"<strong>Shell</strong>", `<code class="language-bash">npm run build`, "&lt;Tabs&gt;kept as code",
		"<details>\n<summary>More options</summary>\n<p>Hidden <em>text</em>.</p>\n</details>"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("no %q in\n%s", want, blocks)
		}
	}
	if strings.Contains(blocks, "import Tabs") || strings.Contains(blocks, "mdx-code-block") {
		t.Errorf("the mdx-code-block is shown as code:\n%s", blocks)
	}
	setup := html["guide/setup.mdx"]
	install, between, note := strings.Index(setup, "<strong>installer</strong>"), strings.Index(setup, "Between."), strings.Index(setup, "A shared note.")
	if !(install >= 0 && between > install && note > between) || !strings.Contains(setup, `Deeper text, <a href="/docs/guide/setup#setup" rel="nofollow">linking</a>`) {
		t.Errorf("the partials are not inlined in place:\n%s", setup)
	}
	if strings.Contains(setup, "ignored") {
		t.Errorf("a partial's front matter is shown:\n%s", setup)
	}
	if len(b.Problems) != 1 || b.Problems[0].String() != "guide/setup.mdx:5: imported document ./_gone.mdx not found" {
		t.Errorf("problems %v", b.Problems)
	}
}

// TestTablesGetAFrame checks that each table is framed, to scroll on its
// own, and that its cells of prose, and only those, are marked.
func TestTablesGetAFrame(t *testing.T) {
	long := strings.Repeat("words of a long description ", 4)
	src := "# T\n\n| Name | Description |\n| --- | --- |\n| `x` | " + long + " |\n| `y` | Short. |\n"
	out := newRenderer().render([]byte(src), "t.md", "T", resolvers{})
	for _, want := range []string{`<div class="table-scroll"><table>`, "</table></div>", `<td class="long">` + strings.TrimSpace(long) + "</td>", `<td>Short.</td>`, "<td><code>x</code></td>"} {
		if !strings.Contains(out.html, want) {
			t.Errorf("no %s in\n%s", want, out.html)
		}
	}
}

// TestLinksThatLeadNowhereAreListed checks the links a reader would follow
// to nothing: to a page the book lacks, or to a heading its page lacks;
// and that explicit anchors (<a id>, <a name>) and headings count.
func TestLinksThatLeadNowhereAreListed(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"a.md": "# A\n\n[fine](/docs/b#kept), [named](/docs/b#old-name), [by id](./b#raw-id), [here](#a), " +
			"[no page](/docs/c), [no heading](./b#gone), [elsewhere](https://example.com/docs/x).\n",
		"b.md": "# B\n\n## Kept\n\n<a name=\"old-name\"></a>Text <a id=\"raw-id\"></a> more.\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range b.Problems {
		got = append(got, p.String())
	}
	want := "a.md:3: link /docs/c leads to no page of the book|a.md:3: link ./b#gone leads to no heading #gone of /docs/b"
	if strings.Join(got, "|") != want {
		t.Errorf("problems\n%q\nwant\n%q", got, want)
	}
}

// TestEscapedHeadingIDs checks the explicit heading id written with an
// escaped brace, as MDX-safe Docusaurus docs write it.
func TestEscapedHeadingIDs(t *testing.T) {
	for _, dialect := range []int{dialectMarkdown, dialectMDX} {
		out := newRenderer().render([]byte(reduce("# T\n\n### `useThing` \\{#useThing}\n\nText.\n\n## Plain {#plain-id}\n", dialect)), "t.md", "T", resolvers{})
		for _, want := range []string{`<h3 id="useThing"><code>useThing</code></h3>`, `<h2 id="plain-id">Plain</h2>`} {
			if !strings.Contains(out.html, want) {
				t.Errorf("dialect %d: no %s in\n%s", dialect, want, out.html)
			}
		}
	}
}

// TestJSXTheWayRealDocsWriteIt checks tags whose attributes hold nested
// braces and arrows, tags over several lines, and import statements inside
// components or indented blocks: none of it may be shown as text.
func TestJSXTheWayRealDocsWriteIt(t *testing.T) {
	src := "# T\n\n" +
		"<Tabs defaultValue=\"apple\" values={[\n  {label: 'Apple', value: 'apple'},\n  {label: 'Orange', value: 'orange'},\n]}>\n" +
		"<TabItem value=\"apple\" attributes={{className: styles.red}}>\n\nAn apple.\n\n</TabItem>\n</Tabs>\n\n" +
		"<Tabs>\n  <TabItem value=\"a\" label=\"Apple\">This is an apple</TabItem>\n  <TabItem value=\"o\" label=\"Orange\">This is an orange</TabItem>\n</Tabs>\n\n" +
		"<TOCInline\n  toc={toc.filter((node) => node.level === 2 || node.level > 3)}\n  minHeadingLevel={2}\n/>\n\n" +
		"<BrowserWindow>\n\nimport DocCardList from '@theme/DocCardList';\n\nInside the window.\n\n</BrowserWindow>\n\n" +
		"- A list item:\n\n  ```mdx-code-block\n  import CodeBlock from '@theme/CodeBlock';\n\n  Inside the block.\n  ```\n\n" +
		"import Tabs from '@theme/Tabs'; import TabItem from '@theme/TabItem';\n\nThe end, where a < b and c > d.\n"
	out := newRenderer().render([]byte(reduce(src, dialectMDX)), "t.mdx", "T", resolvers{})
	for _, gone := range []string{"values=", "{label", "className", "toc.filter", "minHeadingLevel", "import", "@theme"} {
		if strings.Contains(out.html, gone) {
			t.Errorf("%q is shown:\n%s", gone, out.html)
		}
	}
	for _, kept := range []string{"An apple.", "Inside the window.", "Inside the block.", "The end, where a &lt; b and c &gt; d.",
		"<p><strong>Apple</strong></p>\n<p>This is an apple</p>\n<p><strong>Orange</strong></p>\n<p>This is an orange</p>"} {
		if !strings.Contains(out.html, kept) {
			t.Errorf("%q is missing:\n%s", kept, out.html)
		}
	}
}
