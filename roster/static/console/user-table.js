// The users table: one page's rows (never more: a million users are paged, not rendered), the
// sort buttons in the headers and a checkbox per row and for the page.
import { html, useEffect, useRef } from './vendor/htm-3.1.1/standalone.module.js';
import { formatDateTime, t } from './i18n.js';
import { Link } from './router.js';

const SORTABLE = [
  ['username', 'colUsername'],
  ['firstName', 'colName'],
  ['email', 'colEmail'],
];

function SortHeader({ field, label, sort, onSort }) {
  const active = sort.replace(/^-/, '') === field;
  const descending = active && sort.startsWith('-');
  const ariaSort = active ? (descending ? 'descending' : 'ascending') : undefined;
  const next = active && !descending ? `-${field}` : field;
  return html`
    <th scope="col" aria-sort=${ariaSort}>
      <button type="button" class="sort" onClick=${() => onSort(next)}>
        ${label}
        <span class="sort-mark" aria-hidden="true">${active ? (descending ? '▼' : '▲') : '↕'}</span>
      </button>
    </th>
  `;
}

function PageCheckbox({ rows, selection, onSelectPage }) {
  const box = useRef(null);
  const chosen = rows.filter((row) => selection.has(row.id)).length;
  const all = rows.length > 0 && chosen === rows.length;
  useEffect(() => {
    box.current.indeterminate = chosen > 0 && !all;
  });
  return html`
    <input
      ref=${box}
      type="checkbox"
      aria-label=${t('selectPage')}
      checked=${all}
      disabled=${rows.length === 0}
      onChange=${(event) => onSelectPage(event.currentTarget.checked)}
    />
  `;
}

export function RolesList({ roles }) {
  if (!roles.length) return html`<span class="muted">${t('noRoles')}</span>`;
  return html`
    <ul class="roles">
      ${roles.map((r) => html`<li key=${`${r.platform.id}:${r.role}`}>${r.platform.name}: ${r.role}</li>`)}
    </ul>
  `;
}

export function StatusBadge({ status }) {
  const active = status === 'ACTIVE';
  return html`<span class=${active ? 'badge badge-active' : 'badge badge-disabled'}>
    ${active ? t('userActive') : t('statusDisabled')}
  </span>`;
}

function Row({ user, selected, onSelect }) {
  return html`
    <tr class=${selected ? 'selected' : ''}>
      <td class="check">
        <input
          type="checkbox"
          aria-label=${t('selectUser', user.username)}
          checked=${selected}
          onChange=${(event) => onSelect(user, event.currentTarget.checked)}
        />
      </td>
      <td>
        <${Link} href=${`/console/users/${encodeURIComponent(user.id)}`}>${user.username}<//>
      </td>
      <td>${user.firstName} ${user.lastName}</td>
      <td class="email">${user.email}</td>
      <td><${StatusBadge} status=${user.status} /></td>
      <td><${RolesList} roles=${user.roles} /></td>
      <td class="date">${formatDateTime(user.updatedAt)}</td>
    </tr>
  `;
}

/** The table of `rows`; `selection` is a Map of id to user. */
export function UserTable({ rows, loading, sort, onSort, selection, onSelect, onSelectPage }) {
  return html`
    <div class="table-wrap">
      <table class="users" aria-busy=${loading ? 'true' : 'false'}>
        <caption class="visually-hidden">${t('usersTableCaption')}</caption>
        <thead>
          <tr>
            <th scope="col" class="check">
              <${PageCheckbox} rows=${rows} selection=${selection} onSelectPage=${onSelectPage} />
            </th>
            ${SORTABLE.map(
              ([field, key]) =>
                html`<${SortHeader} key=${field} field=${field} label=${t(key)} sort=${sort} onSort=${onSort} />`,
            )}
            <th scope="col">${t('colStatus')}</th>
            <th scope="col">${t('colRoles')}</th>
            <${SortHeader} field="updatedAt" label=${t('colUpdated')} sort=${sort} onSort=${onSort} />
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (user) =>
              html`<${Row} key=${user.id} user=${user} selected=${selection.has(user.id)} onSelect=${onSelect} />`,
          )}
          ${!loading &&
          rows.length === 0 &&
          html`<tr><td colspan="7" class="empty">${t('noUsersMatch')}</td></tr>`}
        </tbody>
      </table>
    </div>
  `;
}
