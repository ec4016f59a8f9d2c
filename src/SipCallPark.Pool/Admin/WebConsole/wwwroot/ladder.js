// The SIP ladder of the web console: the live trace (/trace?body=true) grouped by Call-ID, the last N dialogs drawn
// as one sequence diagram (like sngrep's call flow). Every text from the wire goes into SVG <text> with textContent.
'use strict';

(() => {
  const NS = 'http://www.w3.org/2000/svg';
  const MAX_DIALOGS = 200, MAX_PROBES = 50, MAX_PER_DIALOG = 200, MAX_DRAWN = 600;
  // Call-ID -> messages, oldest dialog first (a Map keeps insertion order). OPTIONS-only exchanges (the pools' health
  // probes, several a second) are kept apart, so they never push the calls out and show only when asked for.
  const dialogs = new Map(), probes = new Map();
  let selected = null, dropped = 0, redraw = 0;
  const $ = id => document.getElementById(id);

  /** "udp:127.0.0.1:5060" or "127.0.0.1:5060" -> "127.0.0.1:5060". */
  const bare = a => (a || '').replace(/^(udp|tcp|tls|ws|wss):/i, '');

  const isOptions = m => / OPTIONS$/.test(m.cSeq || '');

  function onSip(m) {
    const id = m.callId || '(no Call-ID)';
    let list = dialogs.get(id) || probes.get(id);
    if (list && !isOptions(m) && probes.has(id)) { probes.delete(id); dialogs.set(id, list); }
    if (!list) {
      list = [];
      const map = isOptions(m) ? probes : dialogs;
      map.set(id, list);
      const max = map === probes ? MAX_PROBES : MAX_DIALOGS;
      while (map.size > max) map.delete(map.keys().next().value);
    }
    list.push(m);
    if (list.length > MAX_PER_DIALOG) list.shift();
    if (dialogs.has(id) || $('ladder-options').checked) schedule();
  }

  function schedule() {
    if (!redraw) redraw = setTimeout(() => { redraw = 0; draw(); }, 100);
  }

  /** The dialogs passing the filter, the last N of them, and their messages in time order. */
  function shown() {
    const user = $('ladder-user').value.trim().toLowerCase();
    const callId = $('ladder-callid').value.trim();
    const count = Number($('ladder-count').value) || 10;
    const all = new Map([...($('ladder-options').checked ? probes : []), ...dialogs]);
    const ids = [...all.keys()].filter(id => {
      const list = all.get(id);
      if (callId && !id.includes(callId)) return false;
      if (user && !list.some(m => (m.fromUser || '').toLowerCase() === user || (m.toUser || '').toLowerCase() === user)) return false;
      return true;
    }).slice(-count);
    const messages = ids.flatMap(id => all.get(id)).sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    return { ids, messages: messages.slice(-MAX_DRAWN) };
  }

  function draw() {
    const { ids, messages } = shown();
    $('ladder-status').textContent = messages.length
      ? messages.length + ' messages of ' + ids.length + ' dialogs' + (dropped ? ' (' + dropped + ' lost: the console read too slowly)' : '')
      : 'No SIP messages yet' + (dialogs.size || probes.size ? ' match the filter.' : '.');
    const columns = [];
    const column = a => { const i = columns.indexOf(a); if (i >= 0) return i; columns.push(a); return columns.length - 1; };
    for (const m of messages) { column(bare(m.local)); column(bare(m.remote)); }
    const left = 80, colW = 210, rowH = 26, top = 40, W = left + Math.max(1, columns.length) * colW, H = top + messages.length * rowH + 10;
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('width', W); svg.setAttribute('height', H);
    svg.setAttribute('aria-label', 'SIP ladder');
    svg.setAttribute('role', 'list');
    columns.forEach((a, i) => {
      const x = left + i * colW + colW / 2;
      svg.append(node('text', { x, y: 16, 'text-anchor': 'middle', 'font-weight': 'bold' }, a));
      svg.append(node('line', { x1: x, y1: 24, x2: x, y2: H, class: 'life' }));
    });
    messages.forEach((m, i) => {
      const from = m.direction === 'in' ? bare(m.remote) : bare(m.local);
      const to = m.direction === 'in' ? bare(m.local) : bare(m.remote);
      const x1 = left + column(from) * colW + colW / 2, x2 = left + column(to) * colW + colW / 2, y = top + i * rowH + 14;
      const isResponse = /^SIP\/2\.0 /.test(m.firstLine);
      const label = isResponse ? m.firstLine.slice(8) : m.firstLine.split(' ')[0];
      const g = node('g', { class: 'msg' + (isResponse ? ' response' : '') + (m === selected ? ' selected' : ''), tabindex: 0, role: 'listitem' });
      g.setAttribute('aria-label', label + ' from ' + from + ' to ' + to + ', Call-ID ' + (m.callId || 'none'));
      g.dataset.method = label;
      g.dataset.callId = m.callId || '';
      g.append(node('rect', { x: 0, y: y - 14, width: W, height: rowH - 2, class: 'hit' }));
      g.append(node('text', { x: 4, y: y - 2, 'font-size': 10, fill: '#5e5e5a' }, SipConsole.time(m.time)));
      g.append(node('line', { x1, y1: y, x2, y2: y, class: 'arrow' }));
      const dir = x2 >= x1 ? 1 : -1;
      g.append(node('polygon', { points: x2 + ',' + y + ' ' + (x2 - 7 * dir) + ',' + (y - 4) + ' ' + (x2 - 7 * dir) + ',' + (y + 4) }));
      g.append(node('text', { x: (x1 + x2) / 2, y: y - 4, 'text-anchor': 'middle', class: 'label' }, label));
      g.addEventListener('click', () => select(m));
      g.addEventListener('keydown', ev => {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); select(m); }
        if (ev.key === 'ArrowDown' && g.nextElementSibling) { ev.preventDefault(); g.nextElementSibling.focus(); }
        if (ev.key === 'ArrowUp' && g.previousElementSibling && g.previousElementSibling.classList.contains('msg')) { ev.preventDefault(); g.previousElementSibling.focus(); }
      });
      svg.append(g);
    });
    const focusedIndex = [...$('ladder-diagram').querySelectorAll('.msg')].indexOf(document.activeElement);
    $('ladder-diagram').replaceChildren(svg);
    if (focusedIndex >= 0) { const again = svg.querySelectorAll('.msg')[focusedIndex]; if (again) again.focus(); }
  }

  function node(tag, attrs, text) {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function select(m) {
    selected = m;
    $('ladder-message').textContent = (m.direction === 'in' ? 'received from ' + bare(m.remote) : 'sent to ' + bare(m.remote)) + ' over ' + m.transport +
      ' at ' + m.time + '\n\n' + (m.text || m.firstLine);
    for (const g of $('ladder-diagram').querySelectorAll('.msg.selected')) g.classList.remove('selected');
    schedule();
  }

  // ---- pcap of what is shown (IPv4/UDP framing, LINKTYPE_RAW; TCP and TLS messages written as UDP) --------------------

  function pcap(messages) {
    const enc = new TextEncoder();
    const parts = [];
    const header = new DataView(new ArrayBuffer(24));
    header.setUint32(0, 0xa1b2c3d4, true); header.setUint16(4, 2, true); header.setUint16(6, 4, true);
    header.setUint32(16, 65535, true); header.setUint32(20, 101, true);
    parts.push(header.buffer);
    for (const m of messages) {
      const from = endpoint(m.direction === 'in' ? m.remote : m.local), to = endpoint(m.direction === 'in' ? m.local : m.remote);
      if (!from || !to) continue;
      const payload = enc.encode(m.text || m.firstLine + '\r\n\r\n');
      const length = 28 + payload.length;
      if (length > 65535) continue;
      const packet = new Uint8Array(16 + length);
      const v = new DataView(packet.buffer);
      const ms = Date.parse(m.time);
      v.setUint32(0, Math.floor(ms / 1000), true); v.setUint32(4, (ms % 1000) * 1000, true);
      v.setUint32(8, length, true); v.setUint32(12, length, true);
      v.setUint8(16, 0x45); v.setUint16(18, length); v.setUint8(24, 64); v.setUint8(25, 17);
      from.ip.forEach((b, i) => v.setUint8(28 + i, b)); to.ip.forEach((b, i) => v.setUint8(32 + i, b));
      let sum = 0;
      for (let i = 16; i < 36; i += 2) sum += v.getUint16(i);
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      v.setUint16(26, ~sum & 0xffff);
      v.setUint16(36, from.port); v.setUint16(38, to.port); v.setUint16(40, 8 + payload.length);
      packet.set(payload, 44);
      parts.push(packet);
    }
    return new Blob(parts, { type: 'application/vnd.tcpdump.pcap' });
  }

  function endpoint(text) {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+):(\d+)$/.exec(bare(text));
    return m ? { ip: [m[1], m[2], m[3], m[4]].map(Number), port: Number(m[5]) } : null;
  }

  function download() {
    const url = URL.createObjectURL(pcap(shown().messages));
    const a = document.createElement('a');
    a.href = url; a.download = 'sipcallpark-ladder.pcap';
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  document.addEventListener('DOMContentLoaded', () => {
    for (const id of ['ladder-user', 'ladder-callid', 'ladder-count', 'ladder-options']) $(id).addEventListener('input', schedule);
    $('ladder-filter').addEventListener('submit', ev => ev.preventDefault());
    $('ladder-pcap').addEventListener('click', download);
    $('ladder-clear').addEventListener('click', () => { dialogs.clear(); probes.clear(); selected = null; dropped = 0; draw(); });
    draw();
  });

  SipConsole.onStart.push(() => SipConsole.openStream('/trace?body=true', { sip: onSip, dropped: d => { dropped += d.count; schedule(); } }));
})();
