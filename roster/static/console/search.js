// The advanced search form, which edits the list's filters (kept in the address: list-state.js).
import { html, useEffect, useState } from './vendor/htm-3.1.1/standalone.module.js';
import { t } from './i18n.js';
import { MAX_IDS_IN_URL } from './list-state.js';
import { Field, SelectField, useId } from './ui.js';

const yesNoOptions = () => [
  ['', t('any')],
  ['yes', t('yes')],
  ['no', t('no')],
];

/**
 * The advanced search form: every UserFilter field but status (the list's own control).
 * `onApply(filter)` with the new filter; `selectedIds` offers "only the selected users".
 */
export function AdvancedSearch({ id, filter, platforms, selectedIds, onApply, onClear }) {
  const [draft, setDraft] = useState(filter);
  useEffect(() => setDraft(filter), [filter]);
  const set = (name) => (value) => setDraft((old) => ({ ...old, [name]: value }));
  const roleListId = useId('roles');
  const chosen = platforms.find((p) => p.key === draft.platform);
  const roles = [...new Set((chosen ? [chosen] : platforms).flatMap((p) => p.roles))].sort();
  const onlySelected = draft.ids.length > 0;
  const toggleOnlySelected = (event) =>
    setDraft((old) => ({ ...old, ids: event.currentTarget.checked ? selectedIds : [] }));
  const submit = (event) => {
    event.preventDefault();
    onApply(draft);
  };
  return html`
    <section id=${id} class="advanced" aria-labelledby=${`${id}-heading`}>
      <h2 id=${`${id}-heading`}>${t('advancedSearch')}</h2>
      <form onSubmit=${submit} class="advanced-form">
        <${SelectField}
          label=${t('platform')}
          value=${draft.platform}
          onChange=${set('platform')}
          options=${[['', t('anyPlatform')], ...platforms.map((p) => [p.key, p.name])]}
        />
        <${Field} label=${t('role')} value=${draft.role} onInput=${set('role')} list=${roleListId} />
        <datalist id=${roleListId}>${roles.map((r) => html`<option value=${r} />`)}</datalist>
        <${Field}
          label=${t('emailDomain')}
          value=${draft.emailDomain}
          onInput=${set('emailDomain')}
          placeholder="example.org"
        />
        <${Field}
          label=${t('filterLanguage')}
          value=${draft.language}
          onInput=${set('language')}
          placeholder="es"
        />
        <${Field} label=${t('createdFrom')} type="date" value=${draft.createdFrom} onInput=${set('createdFrom')} />
        <${Field} label=${t('createdTo')} type="date" value=${draft.createdTo} onInput=${set('createdTo')} />
        <${Field} label=${t('updatedFrom')} type="date" value=${draft.updatedFrom} onInput=${set('updatedFrom')} />
        <${Field} label=${t('updatedTo')} type="date" value=${draft.updatedTo} onInput=${set('updatedTo')} />
        <${SelectField}
          label=${t('welcomeEmailSent')}
          value=${draft.welcomeEmailSent}
          onChange=${set('welcomeEmailSent')}
          options=${yesNoOptions()}
        />
        <${SelectField}
          label=${t('hasPassword')}
          value=${draft.hasPassword}
          onChange=${set('hasPassword')}
          options=${yesNoOptions()}
        />
        <div class="field field-check">
          <input
            type="checkbox"
            id=${`${id}-only-selected`}
            checked=${onlySelected}
            disabled=${!onlySelected && (!selectedIds.length || selectedIds.length > MAX_IDS_IN_URL)}
            onChange=${toggleOnlySelected}
          />
          <label for=${`${id}-only-selected`}>
            ${t('onlySelected', onlySelected ? draft.ids.length : selectedIds.length)}
          </label>
        </div>
        <div class="form-buttons">
          <button type="submit" class="primary">${t('applyFilters')}</button>
          <button type="button" onClick=${onClear}>${t('clearFilters')}</button>
        </div>
      </form>
    </section>
  `;
}
