package book

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/lectern/lectern/internal/jsconfig"
)

// siteConfig is what Lectern reads of a Docusaurus site's configuration.
type siteConfig struct {
	title    string
	tagline  string
	locale   string // i18n.defaultLocale
	docsPath string // the docs plugin's path, relative to the site
	// sidebarPath is the sidebars module, relative to the site; "" when
	// the site names none (then a sidebars file at the root is looked
	// for); noSidebars when it turns them off (the folders give the order).
	sidebarPath string
	noSidebars  bool
	// sidebarLabels are the navbar's labels of the sidebars, by id.
	sidebarLabels map[string]string
	// staticDirectories are the folders served at the site's root; nil
	// means Docusaurus's default, static.
	staticDirectories []string
	// routeBasePath is where the site serves its docs: "docs" unless the
	// config says otherwise; "" when they are the whole site.
	routeBasePath string
	// siteURL is where the site is published (url and baseUrl), for the
	// links to its pages the book does not have; "" when unknown.
	siteURL string
}

// staticDirs are the folders of the site whose files are served at its
// root ("/img/logo.png" is static/img/logo.png).
func (c siteConfig) staticDirs() []string {
	if c.staticDirectories == nil {
		return []string{"static"}
	}
	return c.staticDirectories
}

var configNames = []string{"docusaurus.config.js", "docusaurus.config.ts", "docusaurus.config.mjs", "docusaurus.config.cjs", "docusaurus.config.mts"}

// docusaurusSite reports whether fsys is a Docusaurus site (a config file
// beside its docs folder) and reads its configuration: by running it, and
// when that fails (which is reported), by looking for its title and
// default locale in the text.
func (l *loader) docusaurusSite(fsys fs.FS) (siteConfig, bool) {
	for _, name := range configNames {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			continue
		}
		c := siteConfig{docsPath: "docs", routeBasePath: "docs"}
		v, err := jsconfig.Eval(context.Background(), fsys, name, l.opt.ScriptLimits, l.opt.Scripts)
		if o, ok := v.(*jsconfig.Object); err == nil && ok {
			c.read(o)
		} else {
			if err == nil {
				err = fmt.Errorf("its export is not an object")
			}
			l.problems = append(l.problems, Problem{File: name, What: "read by pattern, as it could not be run: " + scriptError(err)})
			if m := configTitle.FindSubmatch(b); m != nil {
				c.title = string(m[2])
			}
			if m := configLocale.FindSubmatch(b); m != nil {
				c.locale = string(m[1])
			}
		}
		if fs.ValidPath(c.docsPath) {
			if fi, err := fs.Stat(fsys, c.docsPath); err != nil || !fi.IsDir() {
				return siteConfig{}, false
			}
		}
		return c, true
	}
	return siteConfig{}, false
}

// scriptError is what a report says of a failed run: jsconfig's message
// without its package prefix.
func scriptError(err error) string {
	return strings.TrimPrefix(err.Error(), "jsconfig: ")
}

// read takes what Lectern uses from an evaluated configuration.
func (c *siteConfig) read(o *jsconfig.Object) {
	c.title, c.tagline = o.String("title"), o.String("tagline")
	if u, err := url.Parse(o.String("url")); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		c.siteURL = strings.TrimSuffix(u.Scheme+"://"+u.Host+"/"+strings.Trim(o.String("baseUrl"), "/"), "/")
	}
	if i18n, ok := o.Get("i18n").(*jsconfig.Object); ok {
		if l := i18n.String("defaultLocale"); validLocale(l) {
			c.locale = l
		}
	}
	if docs := docsOptions(o); docs != nil {
		if p := path.Clean(docs.String("path")); p != "." && !path.IsAbs(p) {
			c.docsPath = p // may be above the site: "../docs"
		}
		if rb, ok := docs.Get("routeBasePath").(string); ok {
			c.routeBasePath = strings.Trim(rb, "/")
		}
		switch sp := docs.Get("sidebarPath").(type) {
		case string:
			if p := path.Clean(strings.TrimPrefix(sp, "/")); fs.ValidPath(p) {
				c.sidebarPath = p
			}
		case bool:
			c.noSidebars = !sp
		}
	}
	if dirs, ok := o.Get("staticDirectories").([]any); ok {
		c.staticDirectories = []string{}
		for _, d := range dirs {
			if d, ok := d.(string); ok && fs.ValidPath(path.Clean(d)) {
				c.staticDirectories = append(c.staticDirectories, path.Clean(d))
			}
		}
	}
	c.sidebarLabels = map[string]string{}
	if theme, ok := o.Get("themeConfig").(*jsconfig.Object); ok {
		if navbar, ok := theme.Get("navbar").(*jsconfig.Object); ok {
			items, _ := navbar.Get("items").([]any)
			for _, it := range items {
				if it, ok := it.(*jsconfig.Object); ok && it.String("type") == "docSidebar" && it.String("label") != "" {
					c.sidebarLabels[it.String("sidebarId")] = it.String("label")
				}
			}
		}
	}
}

// docsOptions finds the options of the default docs plugin: in the
// classic preset (["classic", {docs: {…}}]) or among the plugins
// (["@docusaurus/plugin-content-docs", {…}] without an id).
func docsOptions(o *jsconfig.Object) *jsconfig.Object {
	entries := func(key string) [][2]any {
		list, _ := o.Get(key).([]any)
		var out [][2]any
		for _, e := range list {
			if pair, ok := e.([]any); ok && len(pair) == 2 {
				out = append(out, [2]any{pair[0], pair[1]})
			}
		}
		return out
	}
	for _, e := range entries("presets") {
		name, _ := e[0].(string)
		opts, _ := e[1].(*jsconfig.Object)
		if strings.Contains(name, "classic") {
			if docs, ok := opts.Get("docs").(*jsconfig.Object); ok {
				return docs
			}
		}
	}
	for _, e := range entries("plugins") {
		name, _ := e[0].(string)
		opts, _ := e[1].(*jsconfig.Object)
		if strings.Contains(name, "content-docs") && (opts.String("id") == "" || opts.String("id") == "default") {
			return opts
		}
	}
	return nil
}

// sidebarsFile is the site's sidebars module, "" if it has none.
func (c siteConfig) sidebarsFile(site fs.FS) string {
	if c.noSidebars || site == nil {
		return ""
	}
	names := []string{"sidebars.js", "sidebars.ts", "sidebars.mjs", "sidebars.cjs", "sidebars.json"}
	if c.sidebarPath != "" {
		names = []string{c.sidebarPath}
	}
	for _, n := range names {
		if fi, err := fs.Stat(site, n); err == nil && fi.Mode().IsRegular() {
			return n
		}
	}
	return ""
}

// validLocale reports whether a locale is a plain tag ("es", "pt-BR"), not
// a path.
func validLocale(l string) bool {
	return configLocale.MatchString("defaultLocale: '"+l+"'") && !strings.ContainsAny(l, "/\\.")
}

var configLocale = regexp.MustCompile(`defaultLocale\s*:\s*['"` + "`" + `]([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)['"` + "`" + `]`)

var configTitle = regexp.MustCompile(`(?m)^\s*title\s*:\s*(['"` + "`" + `])([^'"` + "`" + `\n]{1,200})(['"` + "`" + `])`)
