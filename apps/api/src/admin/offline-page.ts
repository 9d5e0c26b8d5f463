import type { RequestHandler } from 'express';

/** bull-board's page links Google Fonts for its typeface; its CSS falls back to the system's. */
const EXTERNAL_FONT_LINK = /<link\b[^>]*\bhref="https:\/\/fonts\.(?:googleapis|gstatic)\.com[^"]*"[^>]*>\s*/g;

/**
 * Drops the dashboard page's links to outside hosts, so an operator's browser (often on a
 * network without internet, and always with the admin password in hand) asks nothing of anyone
 * but this server. Only HTML answers are touched; the API and static assets pass as they are.
 */
export function withoutExternalFonts(): RequestHandler {
  return (_req, res, next) => {
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      const html = typeof body === 'string' && /^text\/html/.test(String(res.get('content-type') ?? 'text/html'));
      return send(html ? (body as string).replace(EXTERNAL_FONT_LINK, '') : body);
    };
    next();
  };
}
