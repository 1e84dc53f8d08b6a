// A small Docusaurus site of our own, for the plugin's end-to-end test:
// Lectern serves it as its book, and the plugin adds the assistant to its
// pages. LECTERN_URL is the Lectern server the build points at.
module.exports = {
  title: 'The Beekeeper\'s Notebook',
  url: 'http://127.0.0.1',
  baseUrl: '/',
  onBrokenLinks: 'throw',
  i18n: {defaultLocale: 'en', locales: ['en']},
  presets: [
    ['classic', {docs: {routeBasePath: '/', sidebarPath: require.resolve('./sidebars.js')}, blog: false, theme: {customCss: require.resolve('./src/css/custom.css')}}],
  ],
  plugins: [['docusaurus-plugin-lectern', {url: process.env.LECTERN_URL || 'http://127.0.0.1:8080'}]],
  themeConfig: {
    navbar: {title: 'Beekeeper\'s Notebook', items: [{type: 'docSidebar', sidebarId: 'notebook', label: 'Notebook', position: 'left'}]},
    colorMode: {respectPrefersColorScheme: false},
  },
};
