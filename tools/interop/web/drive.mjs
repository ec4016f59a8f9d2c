// Drives two headless Chromium browsers through chromedriver's WebDriver HTTP API (W3C WebDriver, no client library):
// each opens phone.html (JsSIP), registers over WSS with the pool, then alice calls bob, sends him a MESSAGE and tries
// to park a WebRTC call; last, bob's browser subscribes to an orbit's dialog state while sipp parks a call there. Prints one line per result, "RESULT<TAB>name<TAB>pass|fail<TAB>detail", for run-web.sh.
// Every wait is bounded. Environment: DRIVER (chromedriver URL), PAGE (file:// URL of phone.html), WSS (the pool's
// wss:// URL), SPKI (base64 SHA-256 of the lab certificate's public key), PROFILES (a directory for browser profiles),
// ADMIN (the pool's admin API, to read /registrations), ORBIT (the orbit whose lamp bob's browser watches) and PARK_CMD
// (a shell command that parks a call on that orbit and retrieves it: run-park-sipp.sh against the same pool).

import { execFile } from 'node:child_process';

const { DRIVER, PAGE, WSS, SPKI, PROFILES, ADMIN, PARK_CMD } = process.env;
const ORBIT = process.env.ORBIT || '7000';
const DOMAIN = process.env.DOMAIN || 'callpark.lab';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function result(name, ok, detail) {
  console.log(`RESULT\t${name}\t${ok ? 'pass' : 'fail'}\t${String(detail).replace(/[\t\r\n]+/g, ' ')}`);
}

async function webdriver(method, path, body) {
  const response = await fetch(`${DRIVER}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${json.value && json.value.message ? json.value.message.split('\n')[0] : response.status}`);
  return json.value;
}

async function openBrowser(name) {
  const args = [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    `--user-data-dir=${PROFILES}/${name}`,
    // Trust exactly the lab certificate's key, nothing else (Chromium honours this with a user data directory).
    `--ignore-certificate-errors-spki-list=${SPKI}`,
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    // WebRTC between the two browsers on 127.0.0.1 (Chromium leaves loopback out of ICE by default).
    '--allow-loopback-in-peer-connection',
    '--allow-file-access-from-files',
  ];
  const session = await webdriver('POST', '/session', {
    capabilities: { alwaysMatch: { browserName: 'chrome', 'goog:chromeOptions': { binary: CHROMIUM, args } } },
  });
  const id = session.sessionId;
  await webdriver('POST', `/session/${id}/timeouts`, { script: 30_000, pageLoad: 30_000 });
  await webdriver('POST', `/session/${id}/url`, { url: PAGE });
  // phone(name, 'method', args...) runs window.phone.method(...args) in that browser and returns what it resolved to.
  const run = async (method, ...params) => {
    const value = await webdriver('POST', `/session/${id}/execute/async`, {
      script: `const done = arguments[arguments.length - 1];
        const [method, params] = arguments;
        Promise.resolve().then(() => window.phone[method](...params))
          .then((value) => done({ ok: true, value }), (e) => done({ ok: false, error: String(e && e.message || e) }));`,
      args: [method, params],
    });
    if (!value.ok) throw new Error(`${name}.${method}: ${value.error}`);
    return value.value;
  };
  const read = (expression) => webdriver('POST', `/session/${id}/execute/sync`, { script: `return ${expression};`, args: [] });
  return { name, id, run, read, close: () => webdriver('DELETE', `/session/${id}`).catch(() => {}) };
}

async function until(what, check, seconds) {
  const end = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < end) {
    last = await check();
    if (last && last.ok) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  return { ...(last || {}), ok: false, why: `${what}: not within ${seconds} s` };
}

// The lamp's state in a dialog-info body: the <state> of the orbit's <dialog>, or 'terminated' when there is none.
function lamp(body) {
  const state = /<state[^>]*>\s*([a-z]+)\s*</.exec(body);
  return state ? state[1] : /<dialog-info\b/.test(body) ? 'terminated' : 'unreadable';
}

async function blf(browser) {
  const target = `sip:${ORBIT}@${DOMAIN}`;
  // sipp registers this user too (run-park-sipp.sh): without a binding the page gets none of its calls, only the
  // NOTIFYs of its subscription on its WebSocket.
  await browser.run('unregister');
  const first = await browser.run('subscribe', target);
  const states = async () => (await browser.read('window.phone.notifies')).map((n) => lamp(n.body));
  let seen = await states();
  if (!first.ok || seen[0] !== 'terminated') {
    result('web-blf', false, `SUBSCRIBE ${target}: ${first.ok ? `first NOTIFY says ${seen[0]}, not terminated` : `subscription ended (JsSIP code ${first.terminated})`}`);
    return;
  }
  // The park flow runs outside the browser (sipp); it must end within its own bound.
  const park = await new Promise((resolve) => {
    execFile('bash', ['-c', PARK_CMD], { timeout: 45_000 }, (error, stdout) => resolve({ code: error ? error.code ?? 'killed' : 0, stdout }));
  });
  // Lamp sequence after the first NOTIFY: confirmed (parked) somewhere, then terminated (free) after it.
  const check = await until('lamp parked then free', async () => {
    seen = await states();
    const parked = seen.indexOf('confirmed', 1);
    return { ok: parked > 0 && seen.indexOf('terminated', parked) > parked };
  }, 10);
  const notifies = await browser.read('window.phone.notifies');
  const types = [...new Set(notifies.map((n) => n.contentType))].join(', ');
  const typed = notifies.every((n) => n.contentType === 'application/dialog-info+xml');
  const orbit = (park.stdout.match(/X-Park-Orbit: [0-9]+/) || [])[0];
  result('web-blf', check.ok && typed && park.code === 0,
    `${browser.name}'s JsSIP Subscriber on ${target} (Event: dialog, pool's digest challenge answered): lamp ${seen.join(' -> ')} `
    + `over ${notifies.length} NOTIFYs (${types}); sipp parked a call there and retrieved it (${orbit || 'no X-Park-Orbit seen'}, exit ${park.code})`
    + `${check.ok ? '' : `; ${check.why}`}`);
  await browser.run('unsubscribe');
}

const browsers = [];
let status = 0;
try {
  const alice = await openBrowser('alice');
  browsers.push(alice);
  const bob = await openBrowser('bob');
  browsers.push(bob);

  // 1. Both register over WSS (digest challenge answered by JsSIP).
  let registered = false;
  try {
    const [a, b] = await Promise.all([
      alice.run('register', { url: WSS, user: 'alice', password: 'alice-lab-pw', domain: DOMAIN }),
      bob.run('register', { url: WSS, user: 'bob', password: 'bob-lab-pw', domain: DOMAIN }),
    ]);
    // The pool's view: both bindings came over a secure WebSocket (their source is the browser's connection).
    const bindings = await fetch(`${ADMIN}/registrations`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.json()).catch(() => []);
    const sources = bindings.filter((x) => /^wss:127\.0\.0\.1:/.test(x.source || '')).map((x) => `${x.aor} ${x.source}`);
    registered = a.status === 200 && b.status === 200;
    result('web-wss-register', registered && sources.length >= 2,
      `alice ${a.status} (Contact ${a.contact}), bob ${b.status} over ${WSS}; /registrations: ${sources.join(', ') || JSON.stringify(bindings)}`);
  } catch (e) {
    result('web-wss-register', false, e.message);
  }

  if (registered) {
    // 2. alice calls bob through the pool; bob answers; media flows browser to browser over loopback.
    const answer = await alice.run('call', `sip:bob@${DOMAIN}`);
    if (answer.status === 'confirmed') {
      const a = await until('alice media', () => alice.run('media').then((m) => ({ ...m, ok: m.ok && m.packets > 0 })), 20);
      const b = await until('bob media', () => bob.run('media').then((m) => ({ ...m, ok: m.ok && m.packets > 0 })), 20);
      // The selected pair's addresses (a side may not report them yet): every one reported is loopback, alice's are.
      const pairs = [a.local, a.remote, b.local, b.remote];
      const loopback = typeof a.local === 'string' && typeof a.remote === 'string'
        && pairs.every((x) => x == null || x.startsWith('127.0.0.1:'));
      result('web-wss-call', a.ok && b.ok && loopback,
        `confirmed; ICE alice ${a.ice} (${a.local} -> ${a.remote}, ${a.packets} RTP packets in), bob ${b.ice} (${b.local} -> ${b.remote}, ${b.packets} in)${a.why ? `; ${a.why}` : ''}${b.why ? `; ${b.why}` : ''}`);
      await alice.run('hangup');
      const gone = await until('bob hung up', () => bob.run('ended').then((x) => ({ ok: x })), 10);
      result('web-wss-hangup', gone.ok, gone.ok ? "alice's BYE ended bob's call" : gone.why);
    } else {
      result('web-wss-call', false, `alice's call ${answer.status}: ${answer.cause} ${answer.code || ''}`);
    }

    // 3. A MESSAGE from alice reaches bob's browser through the pool.
    const text = `hello from alice ${Date.now()}`;
    const sent = await alice.run('message', `sip:bob@${DOMAIN}`, text);
    const got = await until('MESSAGE at bob', () => bob.read('window.phone.received').then((list) => ({ ok: list.some((m) => m.body === text), list })), 10);
    result('web-wss-message', sent.status >= 200 && sent.status < 300 && got.ok,
      `alice's MESSAGE answered ${sent.status}${sent.cause ? ` (${sent.cause})` : ''}; bob's page ${got.ok ? 'received the text' : `did not receive it (${JSON.stringify(got.list)})`}`);

    // 4. A WebRTC offer to the park service gets 488 with the Warning the docs promise.
    const park = await alice.run('call', `sip:park@${DOMAIN}`);
    const warned = typeof park.warning === 'string' && park.warning.includes('parking WebRTC calls needs DTLS-SRTP');
    result('web-park-webrtc-488', park.status === 'failed' && park.code === 488 && warned,
      `park answered ${park.code ?? park.status} (${park.cause}), Warning: ${park.warning}`);

    // 5. bob's browser watches an orbit's lamp (Event: dialog); sipp parks a call there and retrieves it (PARK_CMD).
    await blf(bob);
  }
} catch (e) {
  result('web-driver', false, e.message);
  status = 1;
} finally {
  for (const b of browsers) {
    try {
      const log = await b.read('window.phone.log');
      console.error(`--- ${b.name}'s page log\n${log.join('\n')}`);
      await b.run('stop');
    } catch {
      // The browser may already be gone; its session is closed below either way.
    }
    await b.close();
  }
}
process.exit(status);
