// docusaurus-plugin-lectern: adds Lectern's reading assistant to every page
// of a Docusaurus site. The assistant follows the site's theme and its
// client-side navigation by itself; this plugin names the Lectern server
// and points citations at the site's own pages.
//
//   plugins: [['docusaurus-plugin-lectern', {url: 'https://lectern.example'}]]
//
// Options: url (required), links ('site', the default: citations open the
// site's pages; 'lectern': Lectern's reader), docsPath (where the site
// serves the docs Lectern reads; the docs plugin's routeBasePath by
// default), theme ('auto', 'light' or 'dark'), position ('right' or
// 'left').

function docsRoute(context) {
  const presets = context.siteConfig.presets || [];
  for (const p of presets) {
    if (Array.isArray(p) && /classic/.test(String(p[0])) && p[1] && p[1].docs && p[1].docs.routeBasePath != null) {
      return p[1].docs.routeBasePath;
    }
  }
  return 'docs';
}

module.exports = function lecternPlugin(context, options = {}) {
  const url = String(options.url || '').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(url)) {
    throw new Error(
      "docusaurus-plugin-lectern: give the address of your Lectern server, e.g. plugins: [['docusaurus-plugin-lectern', {url: 'https://lectern.example'}]]",
    );
  }
  const links = options.links || 'site';
  const docsPath =
    options.docsPath || ('/' + [context.baseUrl, docsRoute(context)].join('/').split('/').filter(Boolean).join('/')).replace(/^\/$/, '');
  return {
    name: 'docusaurus-plugin-lectern',
    injectHtmlTags() {
      return {
        postBodyTags: [
          {
            tagName: 'script',
            attributes: {
              src: `${url}/static/widget.js`,
              'data-lectern': url,
              'data-links': links,
              'data-docs-path': docsPath,
              'data-theme': options.theme || 'auto',
              'data-position': options.position || 'right',
              defer: true,
            },
          },
        ],
      };
    },
  };
};
