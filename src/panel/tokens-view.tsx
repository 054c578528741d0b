import type { UserError } from '../base/errors.js';
import { isExpired, type ApiToken } from '../tokens/tokens.js';
import type { PanelSessionDoc } from '../tokens/panel-logins.js';
import { CsrfField, Page, Time } from './layout.js';
import { ErrorText } from './next-step.js';

// The API tokens pages (routes in tokens.tsx): the list with the create form, the token shown
// once, the revoke confirmation and its answer.

/** What the create form was sent with, to show it again after a refusal. */
export interface CreateForm {
  name: string;
  access: string;
  sensitive: boolean;
  scope: string;
  expires: string;
}

export const EMPTY_FORM: CreateForm = { name: '', access: 'read', sensitive: false, scope: '', expires: '' };

const scopeText = (t: ApiToken) => t.scope ?? 'every scope';
const expiryText = (t: ApiToken) => (t.expiresAt ? (isExpired(t) ? 'expired' : 'expires') : 'never');

function TokenFacts({ t }: { t: ApiToken }) {
  return (
    <dl class="tk-facts">
      <dt>Access</dt>
      <dd>{t.access}</dd>
      <dt>Scope</dt>
      <dd>{scopeText(t)}</dd>
      <dt>Sensitive values</dt>
      <dd>{t.sensitive ? 'in clear' : 'masked'}</dd>
      <dt>Expires</dt>
      <dd>{t.expiresAt ? <Time at={t.expiresAt} /> : 'never (until revoked)'}</dd>
    </dl>
  );
}

export function TokensPage(p: {
  session: PanelSessionDoc;
  tokens: ApiToken[];
  environments: readonly string[];
  form?: CreateForm | undefined;
  error?: UserError | undefined;
  created?: { token: string; record: ApiToken } | undefined;
}) {
  return (
    <Page title="API tokens" session={p.session} current="/panel/tokens">
      <p class="hint">
        Tokens let programs use the HTTP API (<code>Authorization: Bearer &lt;token&gt;</code>). Each one is
        shown once, when it is created; only a hash of it is kept.
      </p>
      {p.created && <Created created={p.created} />}
      <CreateCard
        session={p.session}
        form={p.form ?? EMPTY_FORM}
        error={p.error}
        environments={p.environments}
      />
      <section class="card" aria-labelledby="tk-list-h">
        <h2 id="tk-list-h">Active tokens</h2>
        {p.tokens.length === 0 ? (
          <p>No active API tokens. Create one above.</p>
        ) : (
          <div class="scroll">
            <table class="db-stack tk-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Access</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Sensitive values</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {p.tokens.map((t) => (
                  <tr>
                    <th scope="row">
                      <code>{t.name}</code>
                    </th>
                    <td data-label="Access">{t.access}</td>
                    <td data-label="Scope">{scopeText(t)}</td>
                    <td data-label="Sensitive values">{t.sensitive ? 'in clear' : 'masked'}</td>
                    <td data-label="Created">
                      <Time at={t.createdAt} />
                      <p class="hint">by {t.createdBy.tag}</p>
                    </td>
                    <td data-label="Last used">
                      <Time at={t.lastUsedAt} />
                    </td>
                    <td data-label="Expires" class={t.expiresAt && isExpired(t) ? 'error' : undefined}>
                      {t.expiresAt ? (
                        <>
                          {expiryText(t)} <Time at={t.expiresAt} />
                        </>
                      ) : (
                        'never'
                      )}
                    </td>
                    <td>
                      <a class="tk-revoke" href={`/panel/tokens/revoke?name=${encodeURIComponent(t.name)}`}>
                        Revoke<span class="sr-only"> {t.name}</span>
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <p class="hint">Revoked tokens are not listed; their names are free for new tokens.</p>
      </section>
    </Page>
  );
}

function Created({ created }: { created: { token: string; record: ApiToken } }) {
  const { token, record } = created;
  return (
    <section class="card tk-created" aria-labelledby="tk-created-h" role="status">
      <h2 id="tk-created-h">Token {record.name} created</h2>
      <p>
        <strong>Shown this once only: copy it now.</strong> It is not stored in clear and cannot be shown
        again.
      </p>
      <label for="tk-secret">Token text</label>
      <input
        id="tk-secret"
        class="tk-secret"
        type="text"
        readonly
        value={token}
        autocomplete="off"
        spellcheck={false}
      />
      <TokenFacts t={record} />
    </section>
  );
}

function CreateCard(p: {
  session: PanelSessionDoc;
  form: CreateForm;
  error: UserError | undefined;
  environments: readonly string[];
}) {
  const { form, error } = p;
  return (
    <section class="card" aria-labelledby="tk-create-h">
      <h2 id="tk-create-h">Create a token</h2>
      {error && (
        <p class="error" role="alert">
          <ErrorText err={error} />
        </p>
      )}
      <form method="post" action="/panel/tokens" class="tk-form">
        <CsrfField session={p.session} />
        <div class="tk-field">
          <label for="tk-name">Name</label>
          <input
            id="tk-name"
            name="name"
            required
            maxLength={32}
            value={form.name}
            aria-describedby="tk-name-hint"
          />
          <p class="hint" id="tk-name-hint">
            2-32 lower-case letters, digits, - or _ (e.g. ci-deploy)
          </p>
        </div>
        <fieldset class="tk-field">
          <legend>Access</legend>
          <label>
            <input type="radio" name="access" value="read" checked={form.access !== 'write'} /> read: view
            values
          </label>
          <label>
            <input type="radio" name="access" value="write" checked={form.access === 'write'} /> write: also
            change them
          </label>
        </fieldset>
        <div class="tk-field">
          <label for="tk-scope">Scope</label>
          <input
            id="tk-scope"
            name="scope"
            maxLength={40}
            value={form.scope}
            list="tk-scopes"
            placeholder="global"
            aria-describedby="tk-scope-hint"
          />
          <datalist id="tk-scopes">
            <option value="global" />
            {p.environments.map((e) => (
              <option value={`env:${e}`} />
            ))}
            {p.session.guildId && <option value={`guild:${p.session.guildId}`} />}
          </datalist>
          <p class="hint" id="tk-scope-hint">
            Only this scope: env:&lt;name&gt; or guild:&lt;server id&gt; (default: every scope)
          </p>
        </div>
        <div class="tk-field">
          <label for="tk-expires">Expires after</label>
          <input
            id="tk-expires"
            name="expires"
            maxLength={12}
            value={form.expires}
            placeholder="90d"
            aria-describedby="tk-expires-hint"
          />
          <p class="hint" id="tk-expires-hint">
            1h to 366d, e.g. 90d (default: until revoked)
          </p>
        </div>
        <div class="tk-field">
          <label>
            <input type="checkbox" name="sensitive" value="1" checked={form.sensitive} /> May read sensitive
            values in clear (default: masked)
          </label>
        </div>
        <button type="submit">Create token</button>
      </form>
    </section>
  );
}

export function RevokePage({ session, token }: { session: PanelSessionDoc; token: ApiToken }) {
  return (
    <Page title={`Revoke token ${token.name}?`} session={session} current="/panel/tokens">
      <section class="card" aria-labelledby="tk-revoke-h">
        <h2 id="tk-revoke-h">Requests with it are refused from then on</h2>
        <TokenFacts t={token} />
        <p>
          Created by {token.createdBy.tag}, <Time at={token.createdAt} />; last used{' '}
          <Time at={token.lastUsedAt} />.
        </p>
        <form method="post" action="/panel/tokens/revoke" class="tk-actions">
          <CsrfField session={session} />
          <input type="hidden" name="name" value={token.name} />
          <input type="hidden" name="confirm" value="1" />
          <button type="submit" class="danger">
            Revoke {token.name}
          </button>
          <a href="/panel/tokens">Cancel</a>
        </form>
      </section>
    </Page>
  );
}

export function RevokedPage({ session, token }: { session: PanelSessionDoc; token: ApiToken }) {
  return (
    <Page title={`Token ${token.name} revoked`} session={session} current="/panel/tokens">
      <section class="card" role="status" aria-labelledby="tk-revoked-h">
        <h2 id="tk-revoked-h">Revoked</h2>
        <p>Requests with it are refused from now on. Its name is free for a new token.</p>
        <TokenFacts t={token} />
        <p>
          <a href="/panel/tokens">Back to the tokens</a>
        </p>
      </section>
    </Page>
  );
}
