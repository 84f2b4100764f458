// stocksync dashboard. Reads the JSON API every few seconds (same origin; the session cookie
// authenticates) and draws it with DOM calls: text goes in through textContent and text nodes
// only, never as HTML. No framework, no build step, nothing loaded from elsewhere.
'use strict';

(() => {
  const REFRESH_MS = 3000;       // the normal pace
  const BUSY_REFRESH_MS = 1000;  // while a job waits or runs
  const LINKS_PER_PAGE = 25;
  const JOBS_SHOWN = 8;
  const SALES_SHOWN = 20;
  const LEDGER_PER_PAGE = 50;
  const JOB_STATES = ['enqueued', 'running', 'succeeded', 'failed', 'cancelled'];

  const POS = { square: 'Square', hiboutik: 'Hiboutik', lightspeed: 'Lightspeed' };
  const KIND = {
    sync_all: 'Sync of every account',
    reconcile: 'Reconciliation',
    reconcile_dry_run: 'Drift check (dry run)',
  };
  const JOB_STATE = {
    enqueued: ['Waiting', 'idle'], running: ['Running', 'warn'], succeeded: ['Succeeded', 'ok'],
    failed: ['Failed', 'bad'], cancelled: ['Cancelled', 'idle'],
  };
  const REASON = {
    registered: 'Linked to the shop item',
    web_sale: 'Sold on the web shop',
    web_return: 'Returned on the web shop',
    sale_confirmed: 'Web sale recorded on the POS',
    sale_refused: 'The POS refused a web sale: units given back',
    sale_retried: 'A dead sale was retried',
    pos_count: 'New count from the POS',
    pos_gone: 'The product is gone from the POS',
  };

  const itemMatch = location.pathname.match(/^\/dashboard\/items\/([^/]+)\/?$/);
  const view = {
    itemId: itemMatch ? decodeURIComponent(itemMatch[1]) : null,
    linksPage: 1,
    jobState: '',
    ledgerPage: 1,
  };
  const drawn = {};          // section name → JSON of what it shows, to redraw only changes
  let timer = null;
  let refreshing = false;    // one refresh at a time; a call meanwhile asks for one more
  let again = false;
  let lastOk = null;
  let signedOut = false;
  let busy = false;          // a job waits or runs, or a sale is on its way: refresh faster
  let fastUntil = 0;         // and for a few seconds after any action
  let noticeTimer = null;

  // ---------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id);

  /** An element with attributes (`text`, `class`, `on<event>` are special) and children. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = String(value);
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Whether `data` differs from what section `key` last drew. */
  function changed(key, data) {
    const json = JSON.stringify(data);
    if (drawn[key] === json) return false;
    drawn[key] = json;
    return true;
  }

  class HttpError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(path, method = 'GET') {
    let response;
    try {
      response = await fetch(path, {
        method, credentials: 'same-origin', cache: 'no-store',
        headers: { Accept: 'application/json' },
      });
    } catch (err) {
      throw new HttpError(0, 'stocksync does not answer');
    }
    if (response.status === 204) return null;
    let body = null;
    try { body = await response.json(); } catch (err) { body = null; }
    if (!response.ok) {
      const message = body && body.error_message ? body.error_message : `HTTP ${response.status}`;
      throw new HttpError(response.status, message);
    }
    return body;
  }

  const number = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString());
  const signed = (n) => (n > 0 ? `+${n}` : n < 0 ? `−${-n}` : '0');
  const clock = (date) => date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

  function relative(iso) {
    const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
    const abs = Math.abs(seconds);
    let text;
    if (abs < 5) return seconds > 0 ? 'in a moment' : 'just now';
    if (abs < 60) text = `${abs} s`;
    else if (abs < 3600) text = `${Math.round(abs / 60)} min`;
    else if (abs < 86400) text = `${Math.round(abs / 3600)} h`;
    else return new Date(iso).toLocaleString();
    return seconds > 0 ? `in ${text}` : `${text} ago`;
  }

  /** A <time> that says "2 min ago" (kept current) and shows the full date on hover. */
  function when(iso) {
    if (!iso) return el('span', { class: 'muted', text: 'never' });
    return el('time', {
      datetime: iso, 'data-rel': '', title: new Date(iso).toLocaleString(), text: relative(iso),
    });
  }

  function retickTimes() {
    for (const node of document.querySelectorAll('time[data-rel]')) node.textContent = relative(node.dateTime);
  }

  function badge(text, tone) { return el('span', { class: `badge ${tone}`, text }); }

  function empty(text) { return el('p', { class: 'empty', text }); }

  /** Says how an action went, for a few seconds. */
  function notice(text, failed) {
    const box = $('notice');
    box.className = failed ? 'problem' : 'notice';
    box.setAttribute('role', failed ? 'alert' : 'status');
    box.textContent = text;
    box.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { box.hidden = true; }, 8000);
  }

  /** Says why the page cannot show current data (`null`: it can). */
  function problem(parts) {
    const box = $('problem');
    const text = (parts || []).map((p) => (p instanceof Node ? p.textContent : p)).join('');
    if (box.textContent === text && box.hidden === !parts) return;
    box.replaceChildren(...(parts || []));
    box.hidden = !parts;
  }

  /** Runs an action from a button: disabled meanwhile, its outcome said in plain words. */
  async function act(button, action, done) {
    button.disabled = true;
    try {
      await action();
      notice(done);
      fastUntil = Date.now() + 5000;
    } catch (err) {
      if (err.status === 401) return signOut();
      notice(`That did not work: ${err.message}`, true);
    } finally {
      button.disabled = false;
    }
    refresh();
  }

  // ---------------------------------------------------------------- refresh loop

  async function refresh() {
    if (refreshing) { again = true; return; }
    clearTimeout(timer);
    if (signedOut) return;
    refreshing = true;
    try {
      await refreshOnce();
    } finally {
      refreshing = false;
    }
    if (signedOut) return;
    if (again) { again = false; refresh(); return; }
    timer = setTimeout(refresh, busy || Date.now() < fastUntil ? BUSY_REFRESH_MS : REFRESH_MS);
  }

  async function refreshOnce() {
    if (!document.hidden) {
      try {
        if (view.itemId) await refreshItem(); else await refreshOverview();
        lastOk = new Date();
        problem(null);
        $('refreshed').classList.remove('stale');
        $('refreshed').textContent = `Updated ${clock(lastOk)}, live`;
      } catch (err) {
        if (err.status === 401) return signOut();
        if ((err.status === 404 || err.status === 400) && view.itemId) {
          $('refreshed').textContent = `Checked ${clock(new Date())}`;
          problem([`There is no link ${view.itemId}: it may have been removed. `, el('a', { href: '/dashboard' }, 'Back to all stock')]);
          return;
        }
        const since = lastOk ? ` Showing what was known at ${clock(lastOk)}.` : '';
        problem([`Could not refresh: ${err.message}.${since} Trying again…`]);
        $('refreshed').classList.add('stale');
      }
      retickTimes();
    }
  }

  function signOut() {
    signedOut = true;
    clearTimeout(timer);
    $('refreshed').classList.add('stale');
    $('refreshed').textContent = lastOk ? `Last updated ${clock(lastOk)}` : 'Not loaded';
    problem([
      'You are signed out (the API key may have changed). ',
      el('a', { href: '/dashboard/login', id: 'login-again' }, 'Log in again'),
    ]);
  }

  async function refreshOverview() {
    const jobs = `/api/jobs?per_page=${JOBS_SHOWN}${view.jobState ? `&state=${view.jobState}` : ''}`;
    const [status, links, jobList, accepted, dead, ...counts] = await Promise.all([
      api('/api/synchronizer'),
      api(`/dashboard/data/links?page=${view.linksPage}&per_page=${LINKS_PER_PAGE}`),
      api(jobs),
      api(`/api/sales?state=accepted&per_page=${SALES_SHOWN}`),
      api(`/api/sales?state=dead&per_page=${SALES_SHOWN}`),
      ...JOB_STATES.map((state) => api(`/api/jobs?per_page=1&state=${state}`)),
    ]);
    const byState = Object.fromEntries(JOB_STATES.map((state, i) => [state, counts[i].total]));
    busy = byState.enqueued + byState.running + status.pending_sales > 0;
    drawHeader(status);
    if (changed('summary', [status, links.total, dead.total, byState])) drawSummary(status, links.total, dead.total, byState);
    if (changed('accounts', status)) drawAccounts(status);
    if (changed('links', links)) drawLinks(links);
    if (changed('sales', [accepted, dead])) drawSales(accepted, dead);
    if (changed('jobs', [jobList, byState, view.jobState])) drawJobs(jobList, byState);
  }

  async function refreshItem() {
    const id = encodeURIComponent(view.itemId);
    drawHeader(await api('/api/synchronizer'));
    const [link, history] = await Promise.all([
      api(`/dashboard/data/links/${id}`),
      api(`/api/items/${id}/history?page=${view.ledgerPage}&per_page=${LEDGER_PER_PAGE}`),
    ]);
    if (changed('item', link)) drawItem(link);
    if (changed('ledger', history)) drawLedger(history);
  }

  // ---------------------------------------------------------------- the overview

  function drawHeader(status) {
    const pill = $('run-state');
    pill.className = `pill ${status.running ? 'ok' : 'idle'}`;
    pill.textContent = status.running ? 'Running' : 'Stopped';
    $('start').hidden = status.running;
    $('stop').hidden = !status.running;
  }

  function tile(value, label, attention, target) {
    return el(target ? 'a' : 'div', { class: `tile${attention ? ' attention' : ''}`, href: target ? `#${target}` : null },
      el('div', { class: 'value' }, value), el('div', { class: 'label', text: label }));
  }

  function drawSummary(status, links, dead, byState) {
    const failing = status.accounts.filter((a) => a.last_sync && !a.last_sync.ok).length;
    $('summary').replaceChildren(
      el('h2', { id: 'h-summary', class: 'visually-hidden', text: 'Summary' }),
      tile(status.running ? (status.next_run ? when(status.next_run) : 'on') : 'Stopped',
        status.running ? 'next sync' : 'syncs paused: press Start', !status.running),
      tile(number(failing), 'accounts with errors', failing > 0, 'h-accounts'),
      tile(number(status.pending_sales), 'web sales on their way', false, 'h-sales'),
      tile(number(dead), 'dead sales waiting for you', dead > 0, 'h-sales'),
      tile(number(byState.failed), 'failed jobs', byState.failed > 0, 'h-jobs'),
      tile(number(links), 'links kept in step', false, 'h-links'),
    );
  }

  function health(last) {
    if (!last) return badge('Not synced yet', 'idle');
    return last.ok ? badge('Healthy', 'ok') : badge('Error', 'bad');
  }

  function callsFacts(account) {
    const facts = [];
    const calls = `${number(account.calls)} since stocksync started` +
      (account.rate_limited ? `, ${number(account.rate_limited)} refused for going too fast` : '');
    if (account.budget) {
      const { used, limit } = account.budget;
      const share = limit > 0 ? Math.min(1, used / limit) : 1;
      const tone = share >= 0.9 ? ' bad' : share >= 0.7 ? ' warn' : '';
      const bar = el('span');
      bar.style.width = `${(share * 100).toFixed(1)}%`;
      facts.push(el('dt', { text: 'API budget' }), el('dd', {},
        el('div', {
          class: `gauge${tone}`, role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': limit,
          'aria-valuenow': used, 'aria-label': 'API calls used this month',
        }, bar),
        `${number(used)} of ${number(limit)} calls this month (${used > 0 && share < 0.01 ? 'under\u00a01' : Math.round(share * 100)}\u00a0%)`));
    }
    facts.push(el('dt', { text: 'API calls' }), el('dd', { text: calls }));
    return facts;
  }

  function drawAccounts(status) {
    const cards = status.accounts.map((account) => el('article', { class: 'card', 'data-account': account.account_id },
      el('div', { class: 'card-head' },
        el('strong', { text: account.account_id }), health(account.last_sync)),
      el('div', { class: 'muted small', text: POS[account.type] || account.type }),
      account.last_sync ? el('p', { class: 'message', text: account.last_sync.message }) : null,
      el('dl', { class: 'facts' },
        el('dt', { text: 'Last sync' }), el('dd', {}, account.last_sync ? when(account.last_sync.at) : 'never'),
        el('dt', { text: 'Next sync' }), el('dd', {}, status.running && status.next_run ? when(status.next_run) : 'stopped'),
        ...callsFacts(account))));
    $('accounts').replaceChildren(...(cards.length ? cards : [empty('No POS account is configured.')]));
  }

  function drift(link) {
    if (link.drift === null) return el('span', { class: 'muted', text: 'not read yet' });
    if (link.drift === 0) return el('span', { class: 'muted', text: 'in step' });
    const why = link.dead_sales > 0 ? ` (${link.dead_sales} dead sale${link.dead_sales > 1 ? 's' : ''})` : '';
    return badge(`${signed(link.drift)}${why}`, link.dead_sales > 0 ? 'warn' : 'bad');
  }

  function cell(label, field, content, extra) {
    return el('td', { 'data-label': label, 'data-field': field, class: extra || null }, content);
  }

  function drawLinks(page) {
    const box = $('links');
    if (!page.links.length) {
      box.replaceChildren(empty(page.total ? 'No links on this page.' : 'No links yet: register items with POST /api/items.'));
    } else {
      const head = ['Name', 'Shop item', 'POS item', 'Account', 'Shop qty', 'POS qty', 'On its way', 'Drift'];
      const rows = page.links.map((link) => el('tr', { 'data-link-id': link.id },
        cell('Name', 'name', el('a', { href: `/dashboard/items/${encodeURIComponent(link.id)}` }, link.name || `Link ${link.id}`), 'name'),
        cell('Shop item', 'item_ecommerce_id', link.item_ecommerce_id),
        cell('POS item', 'item_pos_id', link.item_pos_id),
        cell('Account', 'account_id', link.account_id),
        cell('Shop qty', 'quantity', number(link.quantity), 'num'),
        cell('POS qty', 'pos_quantity', number(link.pos_quantity), 'num'),
        cell('On its way', 'in_flight', number(link.in_flight), 'num'),
        cell('Drift', 'drift', drift(link), 'num')));
      box.replaceChildren(el('div', { class: 'table-box' }, el('table', {},
        el('thead', {}, el('tr', {}, head.map((h, i) => el('th', { scope: 'col', class: i >= 4 ? 'num' : null, text: h })))),
        el('tbody', {}, rows))));
    }
    pager($('links-pager'), page, 'links', (p) => { view.linksPage = p; refresh(); });
  }

  function pager(box, page, nouns, go) {
    const pages = Math.max(1, Math.ceil(page.total / page.per_page));
    if (pages <= 1) return box.replaceChildren();
    box.replaceChildren(
      el('button', { type: 'button', class: 'small', disabled: page.page <= 1, onclick: () => go(page.page - 1) }, '← Previous'),
      el('span', { class: 'muted small', text: `Page ${page.page} of ${pages} (${number(page.total)} ${nouns})` }),
      el('button', { type: 'button', class: 'small', disabled: page.page >= pages, onclick: () => go(page.page + 1) }, 'Next →'));
  }

  function nextTry(iso) {
    if (!iso || new Date(iso).getTime() <= Date.now()) return 'sending';
    return ['next try ', when(iso)];
  }

  function saleRow(sale) {
    const what = [`${sale.kind === 'return' ? 'Return' : 'Sale'} of ${sale.delta} × `,
      sale.link_id === null || sale.link_id === undefined ? `shop item ${sale.item_ecommerce_id}`
        : el('a', { href: `/dashboard/items/${encodeURIComponent(sale.link_id)}` }, `shop item ${sale.item_ecommerce_id}`)];
    const details = [
      `${sale.account_id || 'no account'} · POS item ${sale.item_pos_id || '—'} · ${sale.attempts} attempt${sale.attempts === 1 ? '' : 's'}`,
    ];
    if (sale.last_error) details.push(`Last error: ${sale.last_error}`);
    if (sale.units_given_back) details.push('Its units were given back to the shop.');
    const buttons = sale.state === 'dead'
      ? el('button', {
        type: 'button', class: 'small', 'aria-label': `Retry sale ${sale.id}`,
        onclick: (e) => act(e.currentTarget, () => api(`/api/sales/${encodeURIComponent(sale.id)}/retry`, 'POST'), 'Sale put back on its way to the POS.'),
      }, 'Retry')
      : el('span', { class: 'muted small' }, nextTry(sale.next_attempt_at));
    return el('li', { class: 'row', 'data-sale-id': sale.id, 'data-state': sale.state },
      el('div', {}, el('span', { class: 'what' }, what), ' ', el('span', { class: 'muted small' }, when(sale.created_at))),
      el('div', { class: 'buttons' }, buttons),
      el('div', { class: 'detail' }, details.map((d) => el('div', { text: d }))));
  }

  function drawSales(accepted, dead) {
    const list = (page, none) => (page.sales.length
      ? [el('ul', { class: 'rows' }, page.sales.map(saleRow)),
        page.total > page.sales.length ? el('p', { class: 'muted small', text: `and ${number(page.total - page.sales.length)} more` }) : null]
      : [empty(none)]).filter(Boolean);
    $('sales-accepted').replaceChildren(...list(accepted, 'None: every web sale is on its POS.'));
    $('sales-dead').replaceChildren(...list(dead, 'None: no sale needs you.'));
  }

  function jobOutcome(job) {
    if (job.error) return job.error;
    const accounts = job.result && Array.isArray(job.result.accounts) ? job.result.accounts : null;
    if (accounts) {
      const count = (key) => accounts.reduce((n, a) => n + ((a.report && a.report[key]) || []).length, 0);
      const drifted = count('drifted');
      const missing = count('missing');
      const verb = job.result.dry_run ? 'differ' : 'differed (fixed)';
      return `${drifted} link${drifted === 1 ? '' : 's'} ${verb}, ${missing} missing on the POS. ${job.summary || ''}`;
    }
    return job.summary || '';
  }

  function jobRow(job) {
    const [label, tone] = JOB_STATE[job.state] || [job.state, 'idle'];
    const buttons = [];
    if (job.state === 'failed' || job.state === 'cancelled') {
      buttons.push(el('button', {
        type: 'button', class: 'small', 'aria-label': `Retry job ${job.id}`,
        onclick: (e) => act(e.currentTarget, () => api(`/api/jobs/${encodeURIComponent(job.id)}/retry`, 'POST'), 'Job asked again.'),
      }, 'Retry'));
    }
    if (job.state === 'enqueued') {
      buttons.push(el('button', {
        type: 'button', class: 'small', 'aria-label': `Cancel job ${job.id}`,
        onclick: (e) => act(e.currentTarget, () => api(`/api/jobs/${encodeURIComponent(job.id)}`, 'DELETE'), 'Job cancelled.'),
      }, 'Cancel'));
    }
    const times = job.finished_at ? ['finished ', when(job.finished_at)]
      : job.started_at ? ['started ', when(job.started_at)] : ['asked ', when(job.created_at)];
    return el('li', { class: 'row', 'data-job-id': job.id, 'data-state': job.state },
      el('div', {}, el('span', { class: 'what', text: KIND[job.kind] || job.kind }), ' ',
        badge(label, tone), ' ', el('span', { class: 'muted small' }, times)),
      el('div', { class: 'buttons' }, buttons),
      jobOutcome(job) ? el('div', { class: 'detail', text: jobOutcome(job) }) : null);
  }

  function drawJobs(page, byState) {
    const chip = (state, label, count) => el('button', {
      type: 'button', class: 'small', 'aria-pressed': String(view.jobState === state),
      onclick: () => { view.jobState = state; refresh(); },
    }, count === null ? label : `${label} (${number(count)})`);
    $('job-states').replaceChildren(chip('', 'All', null),
      ...JOB_STATES.map((state) => chip(state, JOB_STATE[state][0], byState[state])));
    $('jobs').replaceChildren(page.jobs.length
      ? el('ul', { class: 'rows' }, page.jobs.map(jobRow))
      : empty(view.jobState ? 'No job in this state.' : 'No job yet: press Sync now.'));
  }

  // ---------------------------------------------------------------- one item

  const units = (n) => `${n} unit${n === 1 ? '' : 's'}`;

  /** "Why is this item at 3?", in one or two sentences. */
  function explain(link) {
    const q = link.quantity;
    if (link.pos_quantity === null) {
      return `The POS has not been read for this item since it was linked. The shop may sell ${q}.`;
    }
    const expected = link.pos_quantity - link.in_flight;
    const onTheWay = link.in_flight > 0
      ? `, and ${units(link.in_flight)} sold online ${link.in_flight === 1 ? 'is' : 'are'} not on the POS yet`
      : '';
    let text;
    if (!link.drift) {
      text = link.in_flight > 0
        ? `The POS counted ${link.pos_quantity}${onTheWay}: the shop may sell ${link.pos_quantity} − ${link.in_flight} = ${q}.`
        : `The POS counted ${link.pos_quantity}, and no web sale is on its way to it: the shop may sell ${q}.`;
    } else if (link.dead_sales > 0) {
      const n = link.dead_sales;
      text = `The POS counted ${link.pos_quantity}${onTheWay}. ${n} web sale${n === 1 ? '' : 's'} could not be recorded on the POS (dead): `
        + `${n === 1 ? 'its' : 'their'} units stay sold online, so the shop has ${q} instead of ${expected} until you retry ${n === 1 ? 'it' : 'them'} (under Web sales).`;
    } else {
      text = `The POS counted ${link.pos_quantity}${onTheWay}, so the shop should have ${expected}, but it has ${q}. `
        + 'The next sync or a reconciliation brings it in line.';
    }
    if (link.limit_quantity > 0) text += ` Web sales stop at ${link.limit_quantity}.`;
    return text;
  }

  function drawItem(link) {
    document.title = `${link.name || `Link ${link.id}`} · stocksync`;
    const last = link.last_sync;
    $('item').replaceChildren(el('div', { class: 'item-head', 'data-link-id': link.id },
      el('h1', { text: link.name || `Link ${link.id}` }),
      el('p', { class: 'muted', text: `Shop item ${link.item_ecommerce_id} · POS item ${link.item_pos_id} on ${link.account_id}` +
        (link.account_type ? ` (${POS[link.account_type] || link.account_type})` : '') }),
      el('p', {}, el('span', { class: 'big', id: 'item-quantity', text: number(link.quantity) }), ' in the shop'),
      el('p', { class: 'why', id: 'item-why', text: explain(link) }),
      el('dl', { class: 'facts' },
        el('dt', { text: 'POS count' }), el('dd', {}, number(link.pos_quantity), link.observed_at ? [' · read ', when(link.observed_at)] : ''),
        el('dt', { text: 'On its way to the POS' }), el('dd', { text: number(link.in_flight) }),
        el('dt', { text: 'Dead sales' }), el('dd', { text: number(link.dead_sales) }),
        el('dt', { text: 'Web sales stop at' }), el('dd', { text: number(link.limit_quantity) }),
        el('dt', { text: 'Primary link' }), el('dd', { text: link.primary ? 'yes: its item\'s web sales come here first' : 'no' }),
        el('dt', { text: 'Account\'s last sync' }), el('dd', {}, last ? [last.ok ? 'ok, ' : 'failed, ', when(last.at), ` · ${last.message}`] : 'never'),
        link.account_configured ? null : [el('dt', { text: 'Account' }), el('dd', { text: 'no longer configured' })])));
  }

  function drawLedger(history) {
    const entries = history.entries.map((entry) => {
      const tone = entry.change > 0 ? 'up' : entry.change < 0 ? 'down' : 'same';
      return el('li', { 'data-reason': entry.reason },
        el('span', { class: `change ${tone}`, text: signed(entry.change) }),
        el('span', {}, el('span', { class: 'reason', text: REASON[entry.reason] || entry.reason }),
          el('span', { class: 'muted', text: ` · ${entry.quantity_before} → ${entry.quantity_after}` })),
        el('span', { class: 'detail', text: entry.detail || '' }),
        el('span', {}, when(entry.at), entry.sale_id ? el('span', { class: 'muted small', text: ` · sale ${entry.sale_id}` }) : null));
    });
    $('ledger').replaceChildren(...(entries.length ? entries : [el('li', { text: 'No movement recorded yet.' })]));
    pager($('ledger-pager'), history, 'entries', (p) => { view.ledgerPage = p; refresh(); });
  }

  // ---------------------------------------------------------------- start

  function start() {
    if (document.body.dataset.auth !== 'key') $('logout').hidden = true;
    $('overview-view').hidden = Boolean(view.itemId);
    $('item-view').hidden = !view.itemId;
    $('sync-now').addEventListener('click', (e) => act(e.currentTarget,
      () => api('/api/synchronizer/forceUpdate', 'POST'), 'Sync asked: it runs in a moment (see Jobs).'));
    $('dry-run').addEventListener('click', (e) => act(e.currentTarget,
      () => api('/api/synchronizer/reconcile?dry_run=true', 'POST'), 'Drift check asked: its result shows under Jobs.'));
    $('start').addEventListener('click', (e) => act(e.currentTarget,
      () => api('/api/synchronizer/start', 'POST'), 'Started: syncs run on schedule.'));
    $('stop').addEventListener('click', (e) => act(e.currentTarget,
      () => api('/api/synchronizer/stop', 'POST'), 'Stopped: no scheduled sync until you press Start.'));
    document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
    refresh();
  }

  start();
})();
