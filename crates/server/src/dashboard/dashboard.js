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
  const JOB_STATES = ['scheduled', 'enqueued', 'running', 'succeeded', 'failed', 'dead', 'cancelled'];

  const POS = { square: 'Square', hiboutik: 'Hiboutik', lightspeed: 'Lightspeed' };
  const KIND = {
    sync_all: 'Sync of every account',
    reconcile: 'Reconciliation',
    reconcile_dry_run: 'Drift check (dry run)',
    read_items: 'Webhook read',
  };
  const JOB_STATE = {
    scheduled: ['Scheduled', 'warn'], enqueued: ['Waiting', 'idle'], running: ['Running', 'warn'],
    succeeded: ['Succeeded', 'ok'], failed: ['Failed', 'bad'], dead: ['Dead', 'bad'],
    cancelled: ['Cancelled', 'idle'],
  };
  const SHOP = { woocommerce: 'WooCommerce', shopify: 'Shopify', prestashop: 'PrestaShop' };
  const SHOP_HEALTH = { ok: ['Healthy', 'ok'], behind: ['Behind', 'warn'], failing: ['Error', 'bad'] };
  const SHOP_EVENT = {
    oversold: 'Oversold', unlinked: 'Item not linked', unmanaged: 'Stock not tracked by the shop',
    refused: 'Write refused by the shop',
  };
  const SHOP_EVENTS_SHOWN = 5;
  const SCHEDULE_PATH = '/api/synchronizer/schedule';
  const ITEMS_SHOWN = 6;     // products named in a webhook read's row
  const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
  const CRON_NICKNAMES = {
    '@yearly': 'once a year', '@annually': 'once a year', '@monthly': 'once a month',
    '@weekly': 'once a week', '@daily': 'every day at midnight', '@midnight': 'every day at midnight',
    '@hourly': 'every hour',
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
  let lastStatus = null;     // the synchronizer's status last drawn (the schedule form reads it)
  let cronPrefilled = false; // the CRON field was filled with the schedule in force once

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

  /** The session's CSRF token, written into the page by the server: sent with every change. */
  const CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';

  /** Calls the JSON API; `body` (when given) goes as JSON. Throws `HttpError` with the
   * server's `error_message` when the answer is not a success. */
  async function api(path, method = 'GET', body = undefined) {
    const init = {
      method, credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json' },
    };
    if (method !== 'GET' && CSRF) init.headers['X-CSRF-Token'] = CSRF;
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      throw new HttpError(0, 'stocksync does not answer');
    }
    if (response.status === 204) return null;
    let answer = null;
    try { answer = await response.json(); } catch (err) { answer = null; }
    if (!response.ok) {
      const message = answer && answer.error_message ? answer.error_message : `HTTP ${response.status}`;
      throw new HttpError(response.status, message);
    }
    return answer;
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

  /** "14:05", or with the day when it is not within the next or last 20 hours (this
   * browser's time, like every time on the page). */
  function clockAt(iso) {
    const date = new Date(iso);
    const far = Math.abs(date.getTime() - Date.now()) > 20 * 3600 * 1000;
    return date.toLocaleString([], far
      ? { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }
      : { hour: '2-digit', minute: '2-digit' });
  }

  /** "1 Dec": the day an instant falls on in UTC (a budget month ends at midnight UTC). */
  function dayOf(iso) {
    return new Date(iso).toLocaleDateString([], { day: 'numeric', month: 'short', timeZone: 'UTC' });
  }

  /** A length of time in words: "40 s", "42 min", "3 h 12 min", "2 days 4 h". */
  function span(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 90) return `${s} s`;
    const minutes = Math.round(s / 60);
    if (minutes < 90) return `${minutes} min`;
    const [hours, min] = [Math.floor(minutes / 60), minutes % 60];
    if (hours < 48) return min ? `${hours} h ${min} min` : `${hours} h`;
    const [days, h] = [Math.floor(hours / 24), hours % 24];
    return h ? `${days} days ${h} h` : `${days} days`;
  }

  const plural = (n, noun) => `${number(n)} ${noun}${n === 1 ? '' : 's'}`;
  const hhmm = (h, m) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;

  /** The common CRON expressions in words ("every 5 minutes", "every day at 03:00");
   * `null` for the others, which are then shown as they are. */
  function cronWords(expression) {
    const text = String(expression || '').trim();
    if (CRON_NICKNAMES[text.toLowerCase()]) return CRON_NICKNAMES[text.toLowerCase()];
    const fields = text.split(/\s+/);
    if (fields.length !== 5) return null;
    const [min, hour, dom, month, dow] = fields;
    if (dom !== '*' || month !== '*') return null;
    const int = (f) => (/^\d{1,2}$/.test(f) && Number(f) < 60 ? Number(f) : null);
    const step = (f) => { const m = f.match(/^\*\/(\d{1,2})$/); return m ? Number(m[1]) : null; };
    const range = (f) => { const m = f.match(/^(\d{1,2})-(\d{1,2})$/); return m ? [Number(m[1]), Number(m[2])] : null; };
    let days = '';
    if (dow === '1-5' || /^mon-fri$/i.test(dow)) days = ' on weekdays';
    else if (dow === '1-6' || /^mon-sat$/i.test(dow)) days = ', Monday to Saturday';
    else if (int(dow) !== null && int(dow) <= 7) days = ` on ${WEEKDAYS[int(dow)]}s`;
    else if (dow !== '*') return null;
    const often = min === '*' || step(min) === 1 ? 'every minute'
      : step(min) ? `every ${step(min)} minutes` : null;
    if (hour === '*') {
      if (often) return often + days;
      if (int(min) === 0) return `every hour, on the hour${days}`;
      if (int(min) !== null) return `every hour at :${String(int(min)).padStart(2, '0')}${days}`;
      return null;
    }
    if (range(hour)) {
      const [from, to] = range(hour);
      if (often) return `${often} from ${hhmm(from, 0)} to ${hhmm(to, 59)}${days}`;
      if (int(min) !== null) return `every hour from ${hhmm(from, int(min))} to ${hhmm(to, int(min))}${days}`;
      return null;
    }
    if (int(min) === null) return null;
    if (step(hour)) {
      const at = int(min) === 0 ? ', on the hour' : ` at :${String(int(min)).padStart(2, '0')}`;
      return `every ${step(hour) === 1 ? 'hour' : `${step(hour)} hours`}${at}${days}`;
    }
    if (int(hour) !== null) return days ? `at ${hhmm(int(hour), int(min))}${days}` : `every day at ${hhmm(int(hour), int(min))}`;
    return null;
  }

  /** A schedule as people read it: its words (when known), then the expression itself. */
  function cronText(expression, fromHere) {
    const words = cronWords(expression);
    return el('span', { class: 'cron-text' },
      words ? `${words} ` : null,
      el('code', { class: 'cron', text: expression }),
      fromHere ? el('span', { class: 'muted', text: ' (set here)' }) : null);
  }

  function retickTimes() {
    for (const node of document.querySelectorAll('time[data-rel]')) node.textContent = relative(node.dateTime);
  }

  function badge(text, tone) { return el('span', { class: `badge ${tone}`, text }); }

  function empty(text) { return el('p', { class: 'empty', text }); }

  /** Shows `text` in the message box `id`, as a problem when `failed`. */
  function say(id, text, failed) {
    const box = $(id);
    box.className = failed ? 'problem' : 'notice';
    box.setAttribute('role', failed ? 'alert' : 'status');
    box.textContent = text;
    box.hidden = false;
    return box;
  }

  /** Says how an action went, for a few seconds. */
  function notice(text, failed) {
    const box = say('notice', text, failed);
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
    const [status, shop, links, jobList, accepted, dead, ...counts] = await Promise.all([
      api('/api/synchronizer'),
      shopStatus(),
      api(`/dashboard/data/links?page=${view.linksPage}&per_page=${LINKS_PER_PAGE}`),
      api(jobs),
      api(`/api/sales?state=accepted&per_page=${SALES_SHOWN}`),
      api(`/api/sales?state=dead&per_page=${SALES_SHOWN}`),
      ...JOB_STATES.map((state) => api(`/api/jobs?per_page=1&state=${state}`)),
    ]);
    const byState = Object.fromEntries(JOB_STATES.map((state, i) => [state, counts[i].total]));
    busy = byState.enqueued + byState.running + status.pending_sales > 0;
    lastStatus = status;
    drawHeader(status);
    if (changed('summary', [status, links.total, dead.total, byState])) drawSummary(status, links.total, dead.total, byState);
    if (changed('schedule', status)) drawSchedule(status);
    if (changed('accounts', status)) drawAccounts(status);
    if (changed('shop', shop)) drawShop(shop);
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
      tile(number(byState.failed + byState.dead), 'failed jobs', byState.failed + byState.dead > 0, 'h-jobs'),
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

  /** The account's schedule and its next tick, as `dt`/`dd` pairs. */
  function scheduleFacts(account, status) {
    const schedule = account.schedule;
    const next = schedule ? schedule.next_run : status.next_run;
    const facts = [];
    if (schedule) {
      facts.push(el('dt', { text: 'Schedule' }),
        el('dd', { 'data-field': 'schedule' }, cronText(schedule.cron, schedule.source === 'api')));
    }
    let nextText;
    if (!status.running) nextText = 'none while stopped';
    else if (next) nextText = [clockAt(next), ' (', when(next), ')'];
    else nextText = 'none planned';
    facts.push(el('dt', { text: 'Next sync' }), el('dd', { 'data-field': 'next-sync' }, nextText));
    return facts;
  }

  /** Short notes under an account's facts: ticks skipped, and the monthly budget's pace. */
  function scheduleNotes(account) {
    const notes = [];
    const schedule = account.schedule || {};
    if (schedule.skipped_overlap > 0) {
      notes.push(el('p', {
        class: 'note', 'data-field': 'skipped-overlap',
        text: `${plural(schedule.skipped_overlap, 'tick')} skipped because the previous sync was still running.`,
      }));
    }
    const spacing = account.poll_spacing;
    if (spacing) {
      const until = dayOf(spacing.month_end);
      const spent = spacing.polls_left <= 0;
      let text = spent
        ? `Monthly budget spent: no more polls until ${until}; webhooks keep stock current.`
        : `Monthly budget: polls at least every ${span(spacing.min_gap_seconds)} so it lasts until ${until} (webhooks fill the gaps).`;
      if (schedule.skipped_budget > 0) text += ` ${plural(schedule.skipped_budget, 'tick')} skipped for the budget.`;
      notes.push(el('p', {
        class: `note${spent ? ' warn' : ''}`, 'data-field': 'poll-spacing',
        title: spent ? null : `${number(spacing.polls_left)} polls left this month`, text,
      }));
    }
    return notes;
  }

  function drawAccounts(status) {
    const cards = status.accounts.map((account) => el('article', { class: 'card', 'data-account': account.account_id },
      el('div', { class: 'card-head' },
        el('strong', { text: account.account_id }), health(account.last_sync)),
      el('div', { class: 'muted small', text: POS[account.type] || account.type }),
      account.last_sync ? el('p', { class: 'message', text: account.last_sync.message }) : null,
      el('dl', { class: 'facts' },
        el('dt', { text: 'Last sync' }), el('dd', {}, account.last_sync ? when(account.last_sync.at) : 'never'),
        ...scheduleFacts(account, status),
        ...callsFacts(account)),
      scheduleNotes(account)));
    $('accounts').replaceChildren(...(cards.length ? cards : [empty('No POS account is configured.')]));
  }

  // ---------------------------------------------------------------- the web shop

  /** The shop platform's state; `null` when none is configured (the route answers 404). */
  async function shopStatus() {
    try {
      return await api('/api/shop');
    } catch (err) {
      if (err.status === 404) return null;
      throw err;
    }
  }

  /** The shop as a card like an account's; the section is hidden without a shop. */
  function drawShop(shop) {
    $('shop-section').hidden = !shop;
    if (!shop) { $('shop').replaceChildren(); return; }
    const [label, tone] = SHOP_HEALTH[shop.health] || [shop.health, 'idle'];
    const { pushes, orders, events } = shop;
    const shown = shop.recent_events.slice(0, SHOP_EVENTS_SHOWN);
    $('shop').replaceChildren(el('article', { class: 'card', 'data-shop': shop.kind },
      el('div', { class: 'card-head' },
        el('strong', { text: SHOP[shop.kind] || shop.kind }), badge(label, tone)),
      el('div', { class: 'muted small', 'data-field': 'address', text: shop.base_url }),
      orders.last_error ? el('p', { class: 'message', 'data-field': 'poll-error', text: orders.last_error }) : null,
      el('dl', { class: 'facts' },
        el('dt', { text: 'Last order read' }), el('dd', { 'data-field': 'last-order' }, when(orders.last_order_at)),
        el('dt', { text: 'Orders polled' }), el('dd', { 'data-field': 'last-poll' }, when(orders.last_poll_at)),
        el('dt', { text: 'Webhooks' }), el('dd', { text: shop.webhooks === 'signed' ? 'on, signed' : 'off: orders are polled' }),
        el('dt', { text: 'Items kept' }), el('dd', { 'data-field': 'items', text: number(pushes.items) }),
        el('dt', { text: 'Waiting to be written' }), el('dd', { 'data-field': 'due' },
          number(pushes.due), pushes.oldest_due_at ? [' (oldest ', when(pushes.oldest_due_at), ')'] : null),
        el('dt', { text: 'Failing writes' }), el('dd', { 'data-field': 'failing', text: number(pushes.failing) }),
        el('dt', { text: 'Not tracked by the shop' }), el('dd', { 'data-field': 'unmanaged', text: number(pushes.unmanaged) }),
        el('dt', { text: 'Oversold lines' }), el('dd', { 'data-field': 'oversold', text: number(events.oversold) })),
      shown.length
        ? el('ol', { class: 'shop-events', 'data-field': 'events', 'aria-label': 'Latest shop events' },
          ...shown.map((event) => el('li', { 'data-event-kind': event.kind },
            el('strong', { text: SHOP_EVENT[event.kind] || event.kind }), ' · ', when(event.at),
            event.order_id ? ` · order ${event.order_id}` : null,
            el('div', { text: event.detail }))))
        : null));
  }

  // ---------------------------------------------------------------- the schedule

  /** The CRON expression in force for the form's choice ('' = the default of every account). */
  function cronInForce(accountId) {
    if (!lastStatus) return '';
    if (!accountId) return lastStatus.cron || '';
    const account = lastStatus.accounts.find((a) => a.account_id === accountId);
    return account && account.schedule ? account.schedule.cron : '';
  }

  /** What the schedule panel says, and the form's account choices (the form itself stays as
   * the person left it: a refresh never changes what they are typing). */
  function drawSchedule(status) {
    const select = $('schedule-account');
    const choices = status.accounts.map((a) => [a.account_id, a.type]);
    if (changed('schedule-choices', choices)) {
      const chosen = select.value;
      select.replaceChildren(el('option', { value: '', text: 'All accounts' }),
        ...status.accounts.map((a) => el('option', { value: a.account_id, text: `${a.account_id} (${POS[a.type] || a.type})` })));
      select.value = choices.some(([id]) => id === chosen) ? chosen : '';
    }
    if (!cronPrefilled) {
      cronPrefilled = true;
      if (!$('schedule-cron').value) $('schedule-cron').value = cronInForce(select.value);
    }
    const own = status.accounts.filter((a) => a.schedule && a.schedule.cron !== status.cron);
    const browserZone = (() => {
      try { return Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (err) { return null; }
    })();
    const zone = status.time_zone || 'UTC';
    const facts = [
      el('dt', { text: 'Every account' }), el('dd', { 'data-field': 'default-cron' }, status.cron ? cronText(status.cron, status.cron_source === 'api') : '—',
        own.length ? el('span', { class: 'muted', text: ` · own schedule: ${own.map((a) => a.account_id).join(', ')}` }) : null),
      el('dt', { text: 'Reconciliation' }), el('dd', {}, status.reconcile_cron ? cronText(status.reconcile_cron) : '—',
        status.running && status.next_reconcile ? [' · next ', clockAt(status.next_reconcile)] : null),
      el('dt', { text: 'Time zone' }), el('dd', { 'data-field': 'time-zone' }, zone,
        browserZone && browserZone !== zone
          ? el('span', { class: 'muted', text: ` (schedules are read there; times on this page are this device's, ${browserZone})` })
          : null),
    ];
    $('schedule-info').replaceChildren(...facts);
  }

  /** Says how a schedule change went, under the form, until the next change. */
  function scheduleMessage(text, failed) {
    say('schedule-message', text, failed);
  }

  /** Sends `cron` (`null`: back to the configuration's) for the chosen account or all. */
  async function changeSchedule(cron) {
    const accountId = $('schedule-account').value;
    const buttons = [$('schedule-save'), $('schedule-reset')];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const answer = await api(SCHEDULE_PATH, 'PUT', accountId ? { account_id: accountId, cron } : { cron });
      const now = accountId ? answer.accounts[accountId] : { cron: answer.cron, source: answer.cron_source };
      const words = cronWords(now.cron);
      const said = words ? `${words} (${now.cron})` : now.cron;
      let text;
      if (cron === null) {
        text = `${accountId || 'Every account'} is back to the configured schedule: ${said}.`;
      } else {
        text = `Saved: ${accountId || 'every account'} syncs ${said}.`;
      }
      if (!accountId) {
        const others = Object.entries(answer.accounts || {}).filter(([, s]) => s.cron !== now.cron).map(([id]) => id);
        if (others.length) {
          text += ` ${others.join(', ')} ${others.length === 1 ? 'keeps its' : 'keep their'} own: choose ${others.length === 1 ? 'it' : 'one'} under "For" to change it.`;
        }
      }
      $('schedule-cron').value = now.cron;
      scheduleMessage(text, false);
      fastUntil = Date.now() + 5000;
    } catch (err) {
      if (err.status === 401) return signOut();
      scheduleMessage(`Not saved: ${err.message}`, true);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
    refresh();
  }

  function startScheduleForm() {
    const field = $('schedule-cron');
    $('schedule-account').addEventListener('change', (e) => {
      field.value = cronInForce(e.currentTarget.value);
      $('schedule-message').hidden = true;
    });
    $('schedule-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const cron = field.value.trim().replace(/\s+/g, ' ');
      if (!cron) {
        scheduleMessage('Type a CRON expression first (five fields, such as */5 * * * *), or press Reset to go back to the configured schedule.', true);
        field.focus();
        return;
      }
      changeSchedule(cron);
    });
    $('schedule-reset').addEventListener('click', () => changeSchedule(null));
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

  /** The products a webhook read names ("12, 40/3 and 5 more"). */
  function jobItems(job) {
    if (!Array.isArray(job.items) || !job.items.length) return '';
    const names = job.items.slice(0, ITEMS_SHOWN).map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
    const more = job.items.length - names.length;
    return `${job.items.length === 1 ? 'Product' : 'Products'} ${names.join(', ')}${more > 0 ? ` and ${number(more)} more` : ''}`;
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

  /** A worker's name made short: "host:pid #n" from "host:pid:random/n" (in full on hover). */
  function shortWorker(worker) {
    const slash = worker.lastIndexOf('/');
    const [proc, n] = slash < 0 ? [worker, null] : [worker.slice(0, slash), worker.slice(slash + 1)];
    const parts = proc.split(':');
    let host = parts.length >= 3 ? parts.slice(0, -2).join(':') : proc;
    if (host.length > 18) host = `${host.slice(0, 17)}…`;
    const pid = parts.length >= 3 ? `:${parts[parts.length - 2]}` : '';
    return `${host}${pid}${n ? ` #${n}` : ''}`;
  }

  function jobTitle(job) {
    if (job.kind === 'sync_all' && job.account_id) return `Sync of ${job.account_id}`;
    const kind = KIND[job.kind] || job.kind;
    return job.account_id ? `${kind} on ${job.account_id}` : kind;
  }

  /** When and where a job ran, or when it runs again. */
  function jobTimes(job) {
    const parts = [];
    if (job.state === 'scheduled' && job.run_at) {
      parts.push(el('span', { class: 'due', 'data-field': 'retry' },
        `retry at ${clockAt(job.run_at)}, attempt ${job.attempts + 1}`));
    } else if (job.finished_at) {
      parts.push('finished ', when(job.finished_at));
    } else if (job.started_at) {
      parts.push('started ', when(job.started_at));
    } else {
      parts.push('asked ', when(job.created_at));
    }
    if (job.scheduled) parts.push(' · by the schedule');
    if (job.worker) {
      parts.push(' · ', el('span', { 'data-field': 'worker', title: `worker ${job.worker}` },
        `${job.state === 'running' ? 'on' : 'ran on'} ${shortWorker(job.worker)}`));
    }
    if (job.state === 'dead') parts.push(` · gave up after ${plural(job.attempts, 'attempt')}`);
    else if (job.attempts > 1 && job.state !== 'scheduled') parts.push(` · ${plural(job.attempts, 'attempt')}`);
    if (job.state === 'running' && job.lease_until && new Date(job.lease_until).getTime() < Date.now()) {
      parts.push(' · its worker stopped answering: another takes it over');
    }
    return parts;
  }

  function jobRow(job) {
    const [label, tone] = JOB_STATE[job.state] || [job.state, 'idle'];
    const buttons = [];
    if (job.state === 'failed' || job.state === 'dead' || job.state === 'cancelled') {
      buttons.push(el('button', {
        type: 'button', class: 'small', 'aria-label': `Retry job ${job.id}`,
        onclick: (e) => act(e.currentTarget, () => api(`/api/jobs/${encodeURIComponent(job.id)}/retry`, 'POST'), 'Job asked again.'),
      }, 'Retry'));
    }
    if (job.state === 'enqueued' || job.state === 'scheduled') {
      buttons.push(el('button', {
        type: 'button', class: 'small', 'aria-label': `Cancel job ${job.id}`,
        onclick: (e) => act(e.currentTarget, () => api(`/api/jobs/${encodeURIComponent(job.id)}`, 'DELETE'), 'Job cancelled.'),
      }, 'Cancel'));
    }
    const details = [jobItems(job), jobOutcome(job)].filter(Boolean);
    return el('li', { class: `row${job.state === 'dead' ? ' dead' : ''}`, 'data-job-id': job.id, 'data-state': job.state, 'data-kind': job.kind, 'data-job-account': job.account_id || '' },
      el('div', {}, el('span', { class: 'what', text: jobTitle(job) }), ' ',
        badge(label, tone), ' ', el('span', { class: 'muted small' }, jobTimes(job))),
      el('div', { class: 'buttons' }, buttons),
      details.map((d) => el('div', { class: 'detail', text: d })));
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
    startScheduleForm();
    document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
    refresh();
  }

  start();
})();
