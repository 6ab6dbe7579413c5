// The users list's way to the Export screen: the list's search and filters go in the address,
// and the selection with them (in the address when it is short, else handed over in memory).
import { html, useEffect } from './vendor/htm-3.1.1/standalone.module.js';
import { t } from './i18n.js';
import { MAX_IDS_IN_URL } from './list-state.js';
import { Link } from './router.js';
import { EXPORT_PATH } from './screens.js';

let handedOver = [];

/** The Export screen's address for the list at `listSearch` with `ids` selected. */
function exportUrl(listSearch, ids) {
  const params = new URLSearchParams(listSearch);
  params.delete('after');
  params.delete('before');
  if (ids.length && ids.length <= MAX_IDS_IN_URL) params.set('selected', ids.join(','));
  const query = params.toString();
  return query ? `${EXPORT_PATH}?${query}` : EXPORT_PATH;
}

/** The selection the Export screen at `search` exports: from its address, or handed over. */
export function selectedIds(search) {
  const inUrl = new URLSearchParams(search).get('selected');
  return inUrl ? inUrl.split(',').filter(Boolean) : handedOver;
}

/** "Export to CSV…": the Export screen for the list at `search` with `ids` selected. */
export function ExportLink({ search, ids }) {
  useEffect(() => {
    handedOver = ids.length > MAX_IDS_IN_URL ? ids : [];
  });
  return html`<${Link} class="button" href=${exportUrl(search, ids)}>${t('exportOptions')}<//>`;
}
