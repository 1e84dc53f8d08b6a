export const extraLinks = [
  {type: 'link', label: 'Lantern makers', href: 'https://lantern.example/makers'},
  {type: 'link', label: 'Bad link', href: 'javascript:alert(1)'},
];
