// Lectern's assistant on any site: <script src="https://lectern.example/static/widget.js"
// data-lectern="https://lectern.example" defer></script>. Optional:
// data-page="/docs/…" (else the page's own path, following navigation),
// data-theme="light|dark|auto" (auto: the site's html[data-theme], else the OS),
// data-position="left" (the button and panel on the left),
// data-links="site" (citations open the site's own pages, under
// data-docs-path, "/docs" by default, in the same tab; else Lectern's reader).
// Loads the shared chat module and its style sheet from that origin; the
// assistant lives in a shadow root, apart from the site's styles and ids.
(function () {
  var script = document.currentScript;
  if (!script || window.__lecternWidget) return;
  window.__lecternWidget = true;
  var origin;
  try {
    origin = new URL(script.getAttribute("data-lectern") || script.src).origin;
  } catch (e) {
    return;
  }
  // docsPath: "" is a site whose docs are its whole site ("/hive/frames").
  function docsPath(p) { return p === null ? "/docs" : p; }
  import(origin + "/static/chat.js")
    .then(function (m) {
      m.mountWidget({
        origin: origin,
        css: origin + "/static/chat.css",
        page: script.getAttribute("data-page") || "",
        theme: script.getAttribute("data-theme") || "auto",
        position: script.getAttribute("data-position") || "right",
        siteDocs: script.getAttribute("data-links") === "site" ? docsPath(script.getAttribute("data-docs-path")) : null,
      });
    })
    .catch(function (e) { console.warn("Lectern: the assistant could not load", e); });
})();
