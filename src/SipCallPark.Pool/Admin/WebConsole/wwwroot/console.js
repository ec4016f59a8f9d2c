// SipCallPark web console (docs/design.md §8 "Web console"). Live data arrives only over server-sent events;
// every value from the pool is written with textContent (never as HTML), since SIP header values are anyone's text.
'use strict';

const SipConsole = (() => {
  const TOKEN_KEY = 'sipcallpark.adminToken';
  const MAX_LAMPS = 500;
  const state = { orbits: new Map(), ranges: [], registrations: new Map(), pools: [], timeline: [], samples: [], self: '', interval: 5 };
  const $ = id => document.getElementById(id);

  /** Creates an element with text (never HTML) and optional class. */
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  class AuthError extends Error {}

  function authHeaders() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    return token ? { Authorization: 'Bearer ' + token } : {};
  }

  /** Trades the token for a one-time stream ticket (EventSource cannot send the Authorization header). */
  async function ticket() {
    const r = await fetch('/console/tickets', { method: 'POST', headers: authHeaders(), cache: 'no-store', credentials: 'omit' });
    if (r.status === 401) throw new AuthError('the pool refused the token');
    if (!r.ok) throw new Error('ticket request failed: HTTP ' + r.status);
    return (await r.json()).ticket;
  }

  /** An event stream that reconnects (new ticket, fresh snapshot) with a bounded backoff. */
  function openStream(path, handlers, onOpen) {
    let delay = 1000, source = null, stopped = false;
    async function connect() {
      if (stopped) return;
      let t;
      try {
        t = await ticket();
      } catch (e) {
        if (e instanceof AuthError) { showLogin('The pool refused the token.'); return; }
        setConnection('cannot reach the pool; retrying');
        setTimeout(connect, delay); delay = Math.min(delay * 2, 15000);
        return;
      }
      const sep = path.includes('?') ? '&' : '?';
      source = new EventSource(path + sep + 'ticket=' + encodeURIComponent(t));
      source.onopen = () => { delay = 1000; if (onOpen) onOpen(); };
      for (const [name, handle] of Object.entries(handlers)) {
        source.addEventListener(name, ev => {
          let data;
          try { data = JSON.parse(ev.data); } catch { return; }
          handle(data);
        });
      }
      source.onerror = () => {
        source.close();
        if (stopped) return;
        setConnection('connection lost; reconnecting');
        setTimeout(connect, delay); delay = Math.min(delay * 2, 15000);
      };
    }
    connect();
    return { stop() { stopped = true; if (source) source.close(); } };
  }

  function setConnection(text) { $('connection').textContent = text; }

  // ---- sign in ----------------------------------------------------------------------------------------------------

  let streams = [];

  function showLogin(message) {
    for (const s of streams) s.stop();
    streams = [];
    sessionStorage.removeItem(TOKEN_KEY);
    $('console').hidden = true;
    $('forget').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    setConnection('not connected');
    $('token').focus();
  }

  async function start() {
    try {
      await ticket();          // checks the token (or that the pool needs none) before showing anything
    } catch (e) {
      showLogin(e instanceof AuthError ? (sessionStorage.getItem(TOKEN_KEY) ? 'The pool refused the token.' : '') : 'Cannot reach the pool.');
      return;
    }
    $('login').hidden = true;
    $('console').hidden = false;
    $('forget').hidden = !sessionStorage.getItem(TOKEN_KEY);
    streams.push(openStream('/events', {
      snapshot: applySnapshot, orbit: onOrbit, registration: onRegistration, dr: onDr, metrics: onSample,
    }, () => setConnection('live')));
    for (const hook of SipConsole.onStart) streams.push(hook());
  }

  function init() {
    $('login-form').addEventListener('submit', ev => {
      ev.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $('token').value);
      $('token').value = '';
      start();
    });
    $('forget').addEventListener('click', () => showLogin('Token forgotten.'));
    $('orbit-grid').addEventListener('keydown', moveFocus);
    setInterval(tick, 1000);   // redraws the clocks only; the data comes from the stream
    start();
  }

  // ---- snapshot and events ----------------------------------------------------------------------------------------

  function applySnapshot(s) {
    state.self = s.status.pool;
    $('pool-name').textContent = '— ' + s.status.pool + ' (' + s.status.domain + ')';
    state.ranges = s.orbitRanges || [];
    state.orbits = new Map((s.parked || []).map(p => [p.orbit, p]));
    state.registrations = new Map();
    for (const r of s.registrations || []) addRegistration(r);
    state.pools = s.status.dr || [];
    state.timeline = s.drTimeline || [];
    state.samples = s.metrics || [];
    state.interval = s.metricsIntervalSeconds || 5;
    drawOrbits(); drawRegistrations(); drawDr(); drawCharts();
  }

  function onOrbit(e) {
    if (e.call) state.orbits.set(e.orbit, e.call); else state.orbits.delete(e.orbit);
    drawLamp(e.orbit);
    const who = e.call ? e.call.parkedParty : '';
    log(e.at, 'orbit ' + e.orbit + ': ' + ({ parked: 'parked', timeout: 'timed out, ringing back', backOnOrbit: 'back on the orbit',
      retrieved: 'retrieved', orbitFree: 'free' }[e.kind] || e.kind) + (who ? ' (' + who + ')' : ''));
  }

  function addRegistration(r) {
    const list = state.registrations.get(r.aor) || [];
    list.push(Object.assign({ until: Date.now() + r.expiresInSeconds * 1000 }, r));
    state.registrations.set(r.aor, list);
  }

  function onRegistration(e) {
    state.registrations.delete(e.aor);
    for (const r of e.bindings) addRegistration(r);
    drawRegistrations();
    log(e.at, e.bindings.length ? e.aor + ' registered (' + e.bindings.length + ' contact' + (e.bindings.length > 1 ? 's' : '') + ')' : e.aor + ' unregistered');
  }

  function onDr(e) {
    state.pools = e.pools;
    state.timeline.push(e.transition);
    if (state.timeline.length > 100) state.timeline.shift();
    drawDr();
    log(e.transition.at, 'DR ' + e.transition.pool + ': ' + e.transition.from + ' → ' + e.transition.to + ' (' + e.transition.reason + ')');
  }

  function onSample(s) {
    state.samples.push(s);
    const keep = Math.max(1, Math.round(900 / state.interval));
    while (state.samples.length > keep) state.samples.shift();
    drawCharts();
  }

  function log(at, text) {
    const list = $('event-log');
    list.prepend(el('li', time(at) + '  ' + text));
    while (list.children.length > 50) list.lastChild.remove();
  }

  // ---- orbits ------------------------------------------------------------------------------------------------------

  /** The orbit numbers of a range such as 7000-7099 or *100-*199 (same length and prefix at both ends). */
  function expand(range) {
    const m = /^([*#]?)(\d+)-\1(\d+)$/.exec(range.trim());
    if (!m) return [];
    const out = [];
    for (let n = Number(m[2]); n <= Number(m[3]) && out.length <= MAX_LAMPS; n++) out.push(m[1] + String(n).padStart(m[2].length, '0'));
    return out;
  }

  function lampOrbits() {
    let all = [];
    for (const r of state.ranges) all = all.concat(expand(r));
    const note = all.length > MAX_LAMPS ? 'More than ' + MAX_LAMPS + ' orbits: only occupied orbits are shown.' : '';
    if (note) all = [];
    for (const o of state.orbits.keys()) if (!all.includes(o)) all.push(o);
    all.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
    $('orbit-note').textContent = note;
    return all;
  }

  function drawOrbits() {
    const grid = $('orbit-grid');
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.orbit : null;
    grid.replaceChildren();
    for (const o of lampOrbits()) {
      const b = el('button', null, 'lamp');
      b.type = 'button';
      b.dataset.orbit = o;
      b.tabIndex = -1;
      b.addEventListener('click', () => unpark(o));
      grid.append(b);
      fillLamp(b);
    }
    const first = (focused && grid.querySelector('[data-orbit="' + CSS.escape(focused) + '"]')) || grid.firstElementChild;
    if (first) { first.tabIndex = 0; if (focused) first.focus(); }
  }

  function drawLamp(orbit) {
    const b = $('orbit-grid').querySelector('[data-orbit="' + CSS.escape(orbit) + '"]');
    if (b) fillLamp(b); else drawOrbits();
  }

  function fillLamp(b) {
    const call = state.orbits.get(b.dataset.orbit);
    const ringing = call && call.state === 'RingingBack';
    const kind = !call ? 'free' : ringing ? 'ringing' : 'parked';
    const label = { free: 'free', parked: 'parked', ringing: 'ringing back' }[kind];
    b.className = 'lamp ' + kind;
    b.dataset.state = kind;
    const head = el('span', null, 'num');
    head.append(el('span', { free: '○', parked: '●', ringing: '☎' }[kind], 'icon'), document.createTextNode(b.dataset.orbit));
    const parts = [head, el('span', label, 'detail state')];
    let aria = 'Orbit ' + b.dataset.orbit + ': ' + label;
    if (call) {
      parts.push(el('span', call.parkedParty, 'detail party'), el('span', 'by ' + call.parker, 'detail parker'), el('span', '', 'detail clock'));
      aria += ', ' + call.parkedParty + ' parked by ' + call.parker + '. Press Enter to unpark.';
    }
    b.replaceChildren(...parts);
    b.setAttribute('aria-label', aria);
    b.title = aria;
    fillClock(b, call);
  }

  function fillClock(b, call) {
    const clock = b.querySelector('.clock');
    if (!clock || !call) return;
    const parked = duration(Date.now() - Date.parse(call.since));
    clock.textContent = call.timeoutDue
      ? parked + ' parked, rings back in ' + duration(Date.parse(call.timeoutDue) - Date.now())
      : parked + ' parked';
  }

  function moveFocus(ev) {
    const lamps = [...$('orbit-grid').children];
    const i = lamps.indexOf(document.activeElement);
    if (i < 0) return;
    const columns = Math.max(1, Math.round($('orbit-grid').clientWidth / lamps[0].offsetWidth));
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, ArrowDown: i + columns, ArrowUp: i - columns, Home: 0, End: lamps.length - 1 }[ev.key];
    if (to === undefined) return;
    ev.preventDefault();
    const target = lamps[Math.max(0, Math.min(lamps.length - 1, to))];
    lamps[i].tabIndex = -1;
    target.tabIndex = 0;
    target.focus();
  }

  async function unpark(orbit) {
    const call = state.orbits.get(orbit);
    if (!call) return;
    if (!window.confirm('Unpark orbit ' + orbit + '? ' + call.parkedParty + ' gets BYE and ' + call.parker + ' a message.')) return;
    const r = await command('DELETE', '/parked/' + encodeURIComponent(orbit));
    log(new Date().toISOString(), 'unpark ' + orbit + ': ' + r);
  }

  /** An operator command with the token in the header; answers the pool's message. */
  async function command(method, path, body) {
    const headers = Object.assign({ 'Content-Type': 'application/json' }, authHeaders());
    const r = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined, cache: 'no-store', credentials: 'omit' });
    let message = 'HTTP ' + r.status;
    try { const j = await r.json(); message = j.message || j.error || message; } catch { /* not JSON */ }
    if (r.status === 401) showLogin('The pool refused the token.');
    return message;
  }

  // ---- registrations -------------------------------------------------------------------------------------------------

  function drawRegistrations() {
    const rows = [];
    const aors = [...state.registrations.keys()].sort();
    for (const aor of aors) {
      for (const r of state.registrations.get(aor)) {
        const tr = el('tr');
        tr.dataset.aor = aor;
        const transport = (r.target || r.source || '').split(':')[0] || '—';
        tr.append(el('td', aor), el('td', r.contact), el('td', transport), el('td', r.mode), el('td', '', 'expiry'));
        tr.lastChild.dataset.until = String(r.until);
        rows.push(tr);
      }
    }
    $('registration-rows').replaceChildren(...rows);
    $('registration-count').textContent = '(' + rows.length + ')';
    tickRegistrations();
  }

  function tickRegistrations() {
    let expired = false;
    for (const td of $('registration-rows').querySelectorAll('td.expiry')) {
      const left = Number(td.dataset.until) - Date.now();
      td.textContent = left > 0 ? duration(left) : 'expired';
      expired = expired || left <= 0;
    }
    if (expired) {
      for (const [aor, list] of state.registrations) {
        const live = list.filter(r => r.until > Date.now());
        if (live.length) state.registrations.set(aor, live); else state.registrations.delete(aor);
      }
      drawRegistrations();
    }
  }

  // ---- disaster recovery ----------------------------------------------------------------------------------------------

  const SEED = { Normal: 'normal', Outage: 'when the outage occurs', FailingOver: 'during failover', FailedOver: 'failover complete', FailingBack: 'during failback' };

  function drawDr() {
    const cards = state.pools.map(p => {
      const card = el('article', null, 'pool');
      card.dataset.pool = p.pool;
      card.append(el('h3', p.pool + (p.pool === state.self ? ' (this pool)' : ' (partner)')));
      const dl = el('dl');
      const phase = el('dd', p.phase + ' — ' + (SEED[p.phase] || p.phase), 'phase phase-' + p.phase);
      phase.dataset.phase = p.phase;
      const since = el('dd', '', 'since');
      since.dataset.since = p.since || '';
      dl.append(el('dt', 'Phase'), phase, el('dt', 'Health'), el('dd', p.healthy === true ? '✔ answering' : p.healthy === false ? '✖ not answering' : '— (not probed by this pool)'),
        el('dt', 'Time in phase'), since, el('dt', 'Backup'), el('dd', p.backupPool || '—'));
      card.append(dl);
      for (const [verb, label] of [['failover', 'Fail over'], ['failback', 'Fail back']]) {
        const b = el('button', label + ' ' + p.pool);
        b.type = 'button';
        b.addEventListener('click', async () => {
          if (!window.confirm(label + ' ' + p.pool + '? This changes where its users are served.')) return;
          $('dr-result').textContent = verb + ' ' + p.pool + ': ' + await command('POST', '/dr/' + verb, { pool: p.pool });
        });
        card.append(b, document.createTextNode(' '));
      }
      return card;
    });
    $('dr-pools').replaceChildren(...cards);
    $('dr-timeline').replaceChildren(...state.timeline.slice().reverse().map(t =>
      el('li', time(t.at) + '  ' + t.pool + ': ' + t.from + ' → ' + t.to + ' (' + (t.seed || SEED[t.to] || t.to) + ') — ' + t.reason)));
    tickDr();
  }

  function tickDr() {
    for (const dd of $('dr-pools').querySelectorAll('dd.since')) {
      dd.textContent = dd.dataset.since ? duration(Date.now() - Date.parse(dd.dataset.since)) : '—';
    }
  }

  // ---- metrics ----------------------------------------------------------------------------------------------------------

  const CHARTS = [
    ['requestsPerSecond', 'Requests/s', v => v.toFixed(1)],
    ['parked', 'Parked calls', v => String(v)],
    ['rtpStreams', 'RTP streams', v => String(v)],
    ['rssBytes', 'RSS', v => (v / 1048576).toFixed(0) + ' MiB'],
  ];

  function drawCharts() {
    const NS = 'http://www.w3.org/2000/svg';
    const W = 300, H = 80, span = 900;
    const now = state.samples.length ? Date.parse(state.samples[state.samples.length - 1].at) : Date.now();
    $('charts').replaceChildren(...CHARTS.map(([key, title, show]) => {
      const box = el('figure', null, 'chart');
      const values = state.samples.map(s => s[key]);
      const last = values.length ? show(values[values.length - 1]) : '—';
      const head = el('h3', title);
      head.append(el('span', last, 'now'));
      const svg = document.createElementNS(NS, 'svg');
      svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
      svg.setAttribute('role', 'img');
      svg.setAttribute('aria-label', title + ' over the last 15 minutes, now ' + last);
      const max = Math.max(1, ...values);
      const points = state.samples.map(s => {
        const x = W - (now - Date.parse(s.at)) / 1000 / span * W;
        return x.toFixed(1) + ',' + (H - 4 - s[key] / max * (H - 12)).toFixed(1);
      }).join(' ');
      const axis = document.createElementNS(NS, 'line');
      for (const [a, v] of [['x1', 0], ['y1', H - 4], ['x2', W], ['y2', H - 4]]) axis.setAttribute(a, v);
      axis.setAttribute('class', 'axis');
      const line = document.createElementNS(NS, 'polyline');
      line.setAttribute('points', points);
      const top = document.createElementNS(NS, 'text');
      top.setAttribute('x', 2); top.setAttribute('y', 10); top.setAttribute('font-size', 9);
      top.textContent = 'max ' + show(max);
      svg.append(axis, line, top);
      if (points) {   // the newest sample as a dot, so that even one sample shows
        const [x, y] = points.split(' ').pop().split(',');
        const dot = document.createElementNS(NS, 'circle');
        dot.setAttribute('cx', x); dot.setAttribute('cy', y); dot.setAttribute('r', 2.5);
        svg.append(dot);
      }
      box.append(head, svg);
      return box;
    }));
  }

  // ---- clocks --------------------------------------------------------------------------------------------------------

  function tick() {
    for (const b of $('orbit-grid').querySelectorAll('.lamp.parked, .lamp.ringing')) fillClock(b, state.orbits.get(b.dataset.orbit));
    tickRegistrations();
    tickDr();
  }

  function duration(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
    return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + r + 's';
  }

  function time(iso) {
    const d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleTimeString();
  }

  document.addEventListener('DOMContentLoaded', init);
  return { el, openStream, command, authHeaders, time, onStart: [] };
})();
