// What the snapshot and import tests read from a page: a confirmation form's hidden fields.

/** The hidden fields of the form posting to `action` on a page, by name (entities decoded). */
export function formFields(html: string, action: string): Record<string, string> {
  const at = html.indexOf(`action="${action}"`);
  if (at < 0) throw new Error(`No form posting to ${action}`);
  const form = html.slice(at, html.indexOf('</form>', at));
  const out: Record<string, string> = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
    out[m[1] as string] = (m[2] as string)
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&');
  return out;
}
