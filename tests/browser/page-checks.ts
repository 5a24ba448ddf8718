// Checks run inside the page (page.evaluate): each function is self-contained, as Playwright serialises it.

/** The page's own words in the Chinese UI: every English word that is not an identifier, unit or proper name. */
export function englishWords(): string[] {
  const ALLOW = new Set(['p50', 'p99', 'CPU', 'GPU', 'GiB', 'English', 'ms', 'PUE', 'Esc', 'CSV']);
  // Every rendered text node of the page, one by one (joined with spaces: adjacent labels do not run together).
  // The node's own wording (marked lang=en: reasons no pattern translates) and the raw view are not the page's words.
  const parts: string[] = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const parent = n.parentElement;
    if (!parent || parent.closest('[lang="en"], script, style, title, [hidden]')) continue;
    if (!parent.checkVisibility()) continue;
    parts.push(n.textContent ?? '');
  }
  // Options of a closed select are not rendered, but a reviewer opens them: they count too.
  for (const o of document.querySelectorAll('option')) parts.push(o.textContent ?? '');
  const text = parts.join(' ');
  const cleaned = text
    .replace(/https?:\/\/\S+/g, ' ')
    // identifiers: node prefixes, object identifiers (CPN.31/JB-…), tenants (account@origin), cluster/provider ids
    .replace(/\S*@CPN[\w.]*/g, ' ')
    .replace(/(?<![A-Za-z])CPN(?:\.\w+)*(?:\/[\w-]+)?/g, ' ')
    .replace(/\b(?:JB|CL|PV|ND|APP)-[\w-]+/g, ' ')
    .replace(/\b\d+\.C\d{3}\b|\bC\d{3}\b/g, ' ');
  // Each word with the text around it, so that a failure says where it is.
  return [...cleaned.matchAll(/[A-Za-z][A-Za-z-]+/g)]
    .filter((m) => !ALLOW.has(m[0]))
    .map((m) => `${m[0]} in "${cleaned.slice(Math.max(0, m.index - 30), m.index + 30).replace(/\s+/g, ' ')}"`);
}

/** Bounding boxes of the page's labels (SVG texts, legends, headings, tabs, header items) that overlap or leave the viewport. */
export function labelProblems(): string[] {
  const vw = window.innerWidth;
  const vh = window.innerHeight;
  const labels = [
    ...document.querySelectorAll<Element>(
      'svg text, .legend, .view > h2, #side .tabs button, #header > *, #side h2, #timeline h3, #status',
    ),
  ]
    .filter((e) => (e.textContent ?? '').trim() !== '')
    .map((e) => ({ e, r: e.getBoundingClientRect() }))
    .filter(({ r }) => r.width > 0 && r.height > 0);
  const name = (e: Element) => {
    const cls = e.getAttribute('class');
    return `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${cls ? `.${cls}` : ''} "${(e.textContent ?? '').trim().slice(0, 24)}"`;
  };
  const problems: string[] = [];
  for (const { e, r } of labels)
    if (r.left < -0.5 || r.top < -0.5 || r.right > vw + 0.5 || r.bottom > vh + 0.5)
      problems.push(`${name(e)} leaves the ${vw}×${vh} viewport`);
  // Labels in the scrolling side column are measured where they are; only visible ones count.
  for (let i = 0; i < labels.length; i++)
    for (let j = i + 1; j < labels.length; j++) {
      const a = labels[i]!;
      const b = labels[j]!;
      if (a.e.contains(b.e) || b.e.contains(a.e)) continue;
      const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (w > 1 && h > 1) problems.push(`${name(a.e)} overlaps ${name(b.e)}`);
    }
  return problems;
}
