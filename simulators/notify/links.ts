// The links in a message, so a test reaches an invite or reset link in one property instead of
// parsing mail. HTML is parsed properly (htmlparser2: entities decoded, `href` of every anchor,
// in document order) and text is scanned with linkify-it, which knows where a URL ends before
// trailing punctuation. Only http(s) links are kept: `mailto:` and `tel:` are not where tests go.
import { Parser } from 'htmlparser2';
import { LinkifyIt } from 'linkify-it';

// only links written with their scheme: `example.com` in prose is not a link a test follows
const linkify = new LinkifyIt({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false });

/**
 * Links found in the HTML part (anchors first, then URLs in its text), the text part, and any
 * other strings (a template's data), without duplicates, in that order.
 * @example extractLinks({ text: 'Join: https://app.test/invite?t=1.' }) // ['https://app.test/invite?t=1']
 */
export function extractLinks(parts: {
  html?: string | null;
  text?: string | null;
  extra?: string[];
}): string[] {
  const found = new Set<string>();
  const keep = (url: string) => {
    if (/^https?:\/\//i.test(url)) found.add(url);
  };
  if (parts.html) for (const url of linksInHtml(parts.html)) keep(url);
  for (const text of [parts.text, ...(parts.extra ?? [])]) {
    if (text) for (const match of linkify.match(text) ?? []) keep(match.url);
  }
  return [...found];
}

function linksInHtml(html: string): string[] {
  const hrefs: string[] = [];
  let text = '';
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if ((name === 'a' || name === 'area') && attributes.href) hrefs.push(attributes.href.trim());
      },
      ontext(chunk) {
        text += chunk;
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  // a URL written as text in the HTML (not an anchor) is still a link a reader would follow
  const inText = (linkify.match(text) ?? []).map((match) => match.url);
  return [...hrefs, ...inText];
}

/** Every string value in a template's data, however deep: where its links are. */
export function stringsIn(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsIn(item, into);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) stringsIn(item, into);
  return into;
}
