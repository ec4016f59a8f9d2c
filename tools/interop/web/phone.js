// A browser softphone for the interop test: JsSIP over secure WebSocket (RFC 7118) to a SipCallPark pool.
// Bundled by esbuild (run-web.sh) and loaded by phone.html; drive.mjs calls window.phone through WebDriver.
// Media is WebRTC between the two browsers themselves; only 127.0.0.1 ICE candidates are offered, so nothing
// leaves the loopback interface.
import JsSIP from 'jssip';

const log = [];
const received = [];
let ua = null;
let current = null;

function note(text) {
  log.push(`${new Date().toISOString()} ${text}`);
}

// Keep only loopback candidates (host and the c= line stay as the browser wrote them; ICE decides the path).
function loopbackOnly(sdp) {
  return sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:') || / 127\.0\.0\.1 /.test(line))
    .join('\r\n');
}

const pcConfig = { iceServers: [] };

function watch(session) {
  current = session;
  session.on('sdp', (e) => {
    if (e.originator === 'local') e.sdp = loopbackOnly(e.sdp);
  });
  session.on('confirmed', () => note('call confirmed'));
  session.on('ended', (e) => note(`call ended: ${e.cause}`));
  session.on('failed', (e) => note(`call failed: ${e.cause}`));
}

function register({ url, user, password, domain }) {
  return new Promise((resolve, reject) => {
    const socket = new JsSIP.WebSocketInterface(url);
    ua = new JsSIP.UA({
      sockets: [socket],
      uri: `sip:${user}@${domain}`,
      authorization_user: user,
      password,
      realm: domain,
      register: true,
      register_expires: 300,
      session_timers: false,
      user_agent: 'SipCallPark interop (JsSIP in Chromium)',
    });
    ua.on('connected', () => note(`connected to ${url}`));
    ua.on('disconnected', () => note('disconnected'));
    ua.on('registered', (e) => {
      note('registered');
      resolve({ status: e.response.status_code, contact: e.response.getHeader('Contact') });
    });
    ua.on('registrationFailed', (e) => {
      note(`registration failed: ${e.cause}`);
      reject(new Error(`registration failed: ${e.cause} ${e.response ? e.response.status_code : ''}`));
    });
    ua.on('newRTCSession', (e) => {
      if (e.originator !== 'remote') return;
      note(`incoming call from ${e.request.from.uri}`);
      watch(e.session);
      e.session.answer({ mediaConstraints: { audio: true, video: false }, pcConfig });
    });
    ua.on('newMessage', (e) => {
      if (e.originator !== 'remote') return;
      received.push({ from: String(e.request.from.uri), body: e.request.body, contentType: e.request.getHeader('Content-Type') });
      note(`MESSAGE from ${e.request.from.uri}`);
    });
    ua.start();
  });
}

// Calls target; resolves when the call is confirmed or has failed, with what the far end answered.
function call(target) {
  return new Promise((resolve) => {
    const session = ua.call(target, {
      mediaConstraints: { audio: true, video: false },
      pcConfig,
      eventHandlers: {
        confirmed: () => resolve({ status: 'confirmed' }),
        failed: (e) => {
          const response = e.message && e.message.status_code ? e.message : null;
          resolve({
            status: 'failed',
            cause: e.cause,
            code: response ? response.status_code : null,
            warning: response ? response.getHeader('Warning') || null : null,
          });
        },
      },
    });
    watch(session);
  });
}

// "address:port" of an ICE candidate's stats (older Chromium names the address "ip"), or null when not reported.
function where(candidate) {
  const address = candidate && (candidate.address || candidate.ip);
  return address ? `${address}:${candidate.port}` : null;
}

// True once ICE connected and audio RTP arrived from the other browser over loopback; bounded by the caller.
async function media() {
  if (!current || !current.connection) return { ok: false, why: 'no call' };
  const pc = current.connection;
  const stats = await pc.getStats();
  let packets = 0;
  let pair = null;
  const byId = new Map();
  stats.forEach((s) => byId.set(s.id, s));
  stats.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') packets += s.packetsReceived || 0;
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
  });
  const remote = pair ? byId.get(pair.remoteCandidateId) : null;
  const local = pair ? byId.get(pair.localCandidateId) : null;
  return {
    ok: pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed',
    ice: pc.iceConnectionState,
    packets,
    local: where(local),
    remote: where(remote),
  };
}

function hangup() {
  if (current && !current.isEnded()) current.terminate();
}

function ended() {
  return !current || current.isEnded();
}

function message(target, text) {
  return new Promise((resolve) => {
    ua.sendMessage(target, text, {
      eventHandlers: {
        succeeded: (e) => resolve({ status: e.response.status_code }),
        failed: (e) => resolve({ status: e.response ? e.response.status_code : null, cause: e.cause }),
      },
    });
  });
}

// Orbit lamp (RFC 6665 + RFC 4235): a dialog-event subscription to an orbit with JsSIP's Subscriber; the pool's 407
// is answered with the registered credentials. Every NOTIFY is kept in `notifies` (in order) for drive.mjs to read.
const notifies = [];
let subscriber = null;

// Subscribes to target (sip:<orbit>@domain); resolves once the first NOTIFY arrived or the subscription ended.
function subscribe(target) {
  return new Promise((resolve) => {
    let accepted = null;
    subscriber = ua.subscribe(target, 'dialog', 'application/dialog-info+xml', { expires: 300 });
    subscriber.on('accepted', () => {
      accepted = true;
      note(`SUBSCRIBE ${target} accepted`);
    });
    subscriber.on('notify', (isFinal, request, body, contentType) => {
      notifies.push({
        body: body || '',
        contentType: contentType || null,
        subscriptionState: request.getHeader('Subscription-State'),
        final: isFinal,
      });
      note(`NOTIFY ${notifies.length} (${request.getHeader('Subscription-State')})`);
      resolve({ ok: true, accepted });
    });
    subscriber.on('terminated', (code, reason) => {
      note(`subscription terminated: code ${code} ${reason || ''}`);
      resolve({ ok: false, accepted, terminated: code });
    });
    subscriber.subscribe();
  });
}

// Drops the registration (the WebSocket stays): calls to this user then stop forking to the page.
function unregister() {
  return new Promise((resolve) => {
    ua.once('unregistered', (e) => resolve({ status: e && e.response ? e.response.status_code : null }));
    ua.unregister();
  });
}

function unsubscribe() {
  if (subscriber) subscriber.terminate();
}

function stop() {
  if (ua) ua.stop();
}

window.phone = { register, call, media, hangup, ended, message, subscribe, unsubscribe, unregister, notifies, received, log, stop };
