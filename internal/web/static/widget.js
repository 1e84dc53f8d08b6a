// Lectern's assistant on any site: <script src="https://lectern.example/static/widget.js"
// data-lectern="https://lectern.example" defer></script> (optional data-page="/docs/…").
// Loads the style sheet and the shared chat module from that origin.
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
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = origin + "/static/chat.css";
  document.head.appendChild(css);
  import(origin + "/static/chat.js")
    .then(function (m) { m.mountWidget({ origin: origin, page: script.getAttribute("data-page") || "" }); })
    .catch(function (e) { console.warn("Lectern: the assistant could not load", e); });
})();
