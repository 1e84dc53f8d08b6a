import type {Config} from '@docusaurus/types';
import {themes as prismThemes} from 'prism-react-renderer';

const config: Config = {
  title: 'Lantern Handbook',
  tagline: 'Keeping the light on',
  url: 'https://lantern.example',
  baseUrl: '/',
  i18n: {defaultLocale: 'en', locales: ['en']},
  presets: [
    [
      'classic',
      {
        docs: {
          sidebarPath: './sidebars.ts',
          editUrl: 'https://example.com/edit/',
        },
        theme: {customCss: require.resolve('./src/custom.css')},
      },
    ],
  ],
  themeConfig: {
    prism: {theme: prismThemes.github},
    navbar: {
      items: [
        {type: 'docSidebar', sidebarId: 'handbook', label: 'Handbook'},
        {type: 'docSidebar', sidebarId: 'reference', label: 'API reference'},
      ],
    },
  },
};

export default config;
