// Signing in from a one-time link, and the pages for a link that no longer works and for a
// session that has ended: each says how to get a new link.
import { html, useEffect, useRef, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { signIn } from './api.js';
import { SIGN_IN_PATH } from './boot.js';
import { t } from './i18n.js';
import { useTitle } from './ui.js';

export const SIGNED_OUT_PATH = '/console/signed-out';

/**
 * The secret of a sign-in link, taken from the address bar at once: the address bar (and so
 * the history, and a screenshot) never keeps it longer than the page takes to start.
 */
export function takeSignInSecret() {
  const secret = location.hash.slice(1);
  history.replaceState(null, '', SIGN_IN_PATH);
  return secret;
}

function NewLinkHelp() {
  return html`
    <p>${t('newLinkHelp')}</p>
    <pre><code>roster console-link --tenant ${t('yourSlug')}</code></pre>
  `;
}

const LINK_PROBLEMS = {
  LINK_USED: 'linkUsed',
  LINK_EXPIRED: 'linkExpired',
  LINK_UNKNOWN: 'linkUnknown',
};

/** Trades `secret` for a session; on success the console opens on the users list. */
export function SignInScreen({ secret }) {
  const [problem, setProblem] = useState(secret ? null : 'LINK_UNKNOWN');
  const started = useRef(false);
  useTitle(problem ? t('linkNoLongerWorks') : t('signingIn'));
  useEffect(() => {
    if (started.current || !secret) return;
    started.current = true;
    signIn(secret)
      .then(({ session, error }) => {
        if (session) location.replace('/console/users');
        else setProblem(error);
      })
      .catch(() => setProblem('NETWORK'));
  }, [secret]);

  if (!problem) {
    return html`<h1 tabindex="-1">${t('signingIn')}</h1><p aria-live="polite">${t('signingInText')}</p>`;
  }
  if (problem === 'NETWORK') {
    return html`<h1 tabindex="-1">${t('signInFailed')}</h1><p role="alert">${t('networkError')}</p>`;
  }
  return html`
    <h1 tabindex="-1">${t('linkNoLongerWorks')}</h1>
    <p>${t(LINK_PROBLEMS[problem] ?? 'linkUnknown')}</p>
    <${NewLinkHelp} />
  `;
}

/** Shown when not signed in: after Sign out, or when the session was revoked or expired. */
export function SignedOutScreen() {
  useTitle(t('signedOutHeading'));
  return html`
    <h1 tabindex="-1">${t('signedOutHeading')}</h1>
    <p>${t('signedOutText')}</p>
    <${NewLinkHelp} />
  `;
}
