/**
 * A text/plain intake takes its options as query parameters, `callback_url` among them, and a
 * receiver's URL often carries its own secret (a token in the path or query). Request lines
 * keep the parameter's name and drop its value. The query parser decodes names, so an encoded
 * `callback%5Furl` is the same parameter and is matched too.
 */
const CALLBACK_PARAM = /([?&]callback(?:_|%5f)url=)[^&#]*/gi;

export const REDACTED = '[redacted]';

export function urlForLog(url: string): string {
  // Most request lines (reads, polls) carry no such parameter: skip the regex for them.
  if (!/callback(?:_|%5f)url/i.test(url)) return url;
  return url.replace(CALLBACK_PARAM, `$1${REDACTED}`);
}
