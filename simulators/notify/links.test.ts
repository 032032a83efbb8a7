import { describe, expect, it } from 'vitest';
import { extractLinks, stringsIn } from './links.ts';

describe('extractLinks', () => {
  it('anchors first (entities decoded), then URLs in the HTML text, then the text part', () => {
    const links = extractLinks({
      html: '<p>Hi <A HREF="https://app.test/invite?t=1&amp;org=2">join</A>, or paste https://app.test/manual.</p>',
      text: 'Join: https://app.test/invite?t=1&org=2 or reset at http://localhost:3000/reset?token=abc_DEF-1.',
    });
    expect(links).toEqual([
      'https://app.test/invite?t=1&org=2',
      'https://app.test/manual',
      'http://localhost:3000/reset?token=abc_DEF-1',
    ]);
  });

  it('keeps http(s) links only: no mailto, tel, bare domains or fragments', () => {
    const links = extractLinks({
      html: '<a href="mailto:help@app.test">mail</a><a href="tel:+1555">call</a><a href="#top">top</a>',
      text: 'See app.test or write to help@app.test; (https://app.test/a) works.',
    });
    expect(links).toEqual(['https://app.test/a']);
  });

  it("finds the links in a template's data, however deep", () => {
    const data = { user: { name: 'Ann' }, actions: [{ url: 'https://app.test/verify/1' }], n: 3 };
    expect(stringsIn(data)).toEqual(['Ann', 'https://app.test/verify/1']);
    expect(extractLinks({ extra: stringsIn(data) })).toEqual(['https://app.test/verify/1']);
  });
});
