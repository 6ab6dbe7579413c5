// Download links the API gives (an export's file, an import's error report) as the page uses
// them: on its own origin, and downloaded without leaving the page.

/**
 * The API's link (made on PUBLIC_URL) on the page's own origin, the same server: a browser
 * downloads a cross-origin link only by navigating to it, and the console may be open under
 * another name of the host than PUBLIC_URL's.
 */
export function sameOrigin(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

/** Starts the browser's download of `url` (the link stays on the page as well). */
export function download(url) {
  const link = document.createElement('a');
  link.href = url;
  link.download = '';
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
}
